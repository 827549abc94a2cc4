import type { NodeId } from '@flotilla/raft';
import type { KvInput, KvOperation, KvOutput } from '../linearizability/kv-register-model';

/** An operation a client has invoked and not yet seen the outcome of. */
export interface PendingOperation {
  readonly opId: number;
  readonly request: number;
  readonly input: KvInput;
  readonly node: NodeId;
  /** History time of the invocation. */
  readonly call: number;
  /** Read context (`client#request`) for reads. */
  readonly ctx: string;
}

/**
 * The clients' side of the history: invocations and their outcomes on one totally ordered
 * clock (a sequence number bumped on every recorded event, so no two events tie).
 *
 * Outcome rules: an acknowledged write or answered read is complete; a write whose outcome is
 * unknown (timeout, node crash) is kept with `ret = Infinity`; a read that got no answer
 * is dropped (it had no effect); a request refused before entering Raft is dropped.
 */
export class ClientHistory {
  private clock = 0;
  private readonly ops: KvOperation[] = [];
  private nextOpId = 0;

  /** A fresh, strictly increasing history time. */
  now(): number {
    return ++this.clock;
  }

  newOpId(): number {
    return this.nextOpId++;
  }

  complete(client: string, op: PendingOperation, output: KvOutput): void {
    this.ops.push({ id: op.opId, clientId: client, input: op.input, output, call: op.call, ret: this.now() });
  }

  /** The write may or may not have taken effect. Reads with unknown outcome are not recorded. */
  unknown(client: string, op: PendingOperation): void {
    if (op.input.kind === 'put') this.ops.push({ id: op.opId, clientId: client, input: op.input, output: undefined, call: op.call, ret: Infinity });
  }

  get operations(): readonly KvOperation[] {
    return this.ops;
  }
}

/** One simulated client: at most one operation outstanding, with a guess of who leads. */
export class SimClient {
  pending: PendingOperation | null = null;
  leaderGuess: NodeId | null = null;
  private nextRequest = 1;
  /** Generation of the outstanding op, so stale timeout events are ignored. */
  attempt = 0;

  constructor(readonly id: string) {}

  newRequest(): number {
    return this.nextRequest++;
  }
}
