import type { Entry, NodeId } from '@flotilla/raft';
import type { KvInput, KvOperation } from '../linearizability/kv-register-model';
import { TICK } from './fault-profile';
import type { SafetyInvariants } from './invariants';
import { encodePut, type KvPutCommand } from './kv-state-machine';
import { ClientHistory, SimClient, type PendingOperation } from './sim-clients';
import type { SeededRandom } from './seeded-random';
import type { SimWorld } from './sim-world';

/** Client request timeout range: after it, the outcome is unknown. */
const MIN_CLIENT_TIMEOUT = 8 * TICK;
const MAX_CLIENT_TIMEOUT = 30 * TICK;

/**
 * The simulated clients: each has at most one operation outstanding, sends it to the node it
 * believes leads (sometimes to a random node), follows leader hints when refused, and gives up
 * after a timeout. Records the history the linearizability check judges:
 * a write is acknowledged when it is applied on the node it was proposed to; a read is
 * answered when the node that took it has applied up to its ReadIndex.
 */
export class ClientDriver {
  readonly clients: SimClient[];
  readonly history = new ClientHistory();
  /** The liveness phase's client, once it exists (no timeouts: the phase has its own bound). */
  probe: SimClient | null = null;
  /** Called when the probe client's write is acknowledged. */
  onProbeAcknowledged: () => void = () => undefined;

  constructor(
    private readonly world: SimWorld,
    private readonly random: SeededRandom,
    private readonly invariants: SafetyInvariants,
    readonly keys: readonly string[],
    count: number,
  ) {
    this.clients = Array.from({ length: count }, (_, i) => new SimClient(`c${i + 1}`));
  }

  /** Schedules every client's first operation. */
  start(): void {
    this.clients.forEach((_, i) => this.world.queue.push(this.random.range(1, 5 * TICK), { k: 'client', client: i }));
  }

  /** A client's turn: invoke a random operation unless one is outstanding or the faults are over. */
  act(i: number): void {
    const c = this.clients[i];
    if (c.pending || !this.world.faultsActive) return;
    const r = this.random;
    const key = r.pick(this.keys);
    const input: KvInput = r.chance(0.5) ? { kind: 'put', key, value: `${c.id}-${c.newRequest()}` } : { kind: 'get', key };
    if (!this.invoke(c, i, input)) {
      // Refused before entering Raft: try another node soon.
      this.world.schedule(r.range(1, 3) * TICK, { k: 'client', client: i });
    }
  }

  /** Submits an operation; returns false if it was refused before entering Raft (no history). */
  invoke(c: SimClient, clientIndex: number, input: KvInput): boolean {
    const w = this.world;
    const r = this.random;
    const node = c.leaderGuess !== null && r.chance(0.7) ? c.leaderGuess : r.pick(w.activeIds());
    const host = w.hosts[w.indexOf(node)];
    const request = c.newRequest();
    const ctx = `${c.id}#${request}`;
    // Pending before submission: an answer may come back synchronously (e.g. a read served
    // from the local commit index).
    const op: PendingOperation = { opId: this.history.newOpId(), request, input, node, call: this.history.now(), ctx };
    c.pending = op;
    if (w.log) w.note(`${c.id} invokes ${input.kind}(${input.key}${input.kind === 'put' ? `, ${input.value}` : ''}) at ${node} (${host.role} t${host.term})`);
    const refusal =
      input.kind === 'put' ? host.proposePut(encodePut({ client: c.id, request, key: input.key, value: input.value }), ctx) : host.requestRead(ctx, input.key);
    if (refusal !== null) {
      // Refused before entering Raft: no effect, not part of the history.
      c.pending = null;
      c.leaderGuess = host.leaderHint ?? r.pick(w.activeIds());
      return false;
    }
    c.attempt++;
    if (clientIndex >= 0 && c.pending === op) w.schedule(r.range(MIN_CLIENT_TIMEOUT, MAX_CLIENT_TIMEOUT), { k: 'timeout', client: clientIndex, attempt: c.attempt });
    return true;
  }

  timeout(i: number, attempt: number): void {
    const c = this.clients[i];
    if (c.pending && c.attempt === attempt) this.giveUp(c, 'timeout');
  }

  /** A node crashed: requests outstanding there have an unknown outcome (writes) or none (reads). */
  abandonRequestsAt(node: NodeId): void {
    this.clients.forEach((c) => {
      if (c.pending && c.pending.node === node) this.giveUp(c, 'crash');
    });
  }

  /** The probe's node lost leadership before answering: its outcome is unknown. */
  abandonProbe(): void {
    const probe = this.probe;
    const pending = probe?.pending;
    if (!probe || !pending) return;
    probe.pending = null;
    this.history.unknown(probe.id, pending);
  }

  /** End of the run: whatever is still outstanding has an unknown outcome. Returns the history. */
  finish(): readonly KvOperation[] {
    for (const c of [...this.clients, ...(this.probe ? [this.probe] : [])]) {
      const op = c.pending;
      if (op) {
        c.pending = null;
        this.history.unknown(c.id, op);
      }
    }
    return this.history.operations;
  }

  /** A request held by a paused node was refused when it resumed: no effect, not in the history. */
  onRequestRefused(node: NodeId, ctx: string): void {
    const c = this.find(ctx.slice(0, ctx.indexOf('#')));
    const op = c?.pending;
    if (!c || !op || op.ctx !== ctx || op.node !== node) return;
    c.pending = null;
    c.leaderGuess = this.world.hosts[this.world.indexOf(node)].leaderHint;
    this.world.note(`${c.id}'s ${ctx} was refused by ${node} after its pause`);
    if (c === this.probe) return;
    this.reschedule(c);
  }

  onWriteApplied(node: NodeId, cmd: KvPutCommand, entry: Entry): void {
    const c = this.find(cmd.client);
    const op = c?.pending;
    if (!c || !op || op.request !== cmd.request || op.node !== node) return;
    if (this.replyLost(c)) return;
    this.invariants.onAcknowledge({ index: entry.index, term: entry.term, client: cmd.client, request: cmd.request });
    c.pending = null;
    this.history.complete(c.id, op, 'ok');
    if (this.world.log) this.world.note(`${c.id} put(${op.input.key}) acknowledged by ${node} at index ${entry.index} term ${entry.term}`);
    this.world.stats.writesAcknowledged++;
    if (c === this.probe) this.onProbeAcknowledged();
    else this.reschedule(c);
  }

  onReadServed(node: NodeId, ctx: string, value: string | null): void {
    const c = this.find(ctx.slice(0, ctx.indexOf('#')));
    const op = c?.pending;
    if (!c || !op || op.ctx !== ctx || op.node !== node) return;
    if (this.replyLost(c)) return;
    c.pending = null;
    this.history.complete(c.id, op, value);
    if (this.world.log) this.world.note(`${c.id} get(${op.input.key}) → ${value} from ${node}`);
    this.world.stats.readsServed++;
    this.world.trace.addString(value ?? '∅');
    this.reschedule(c);
  }

  /** The reply never reaches the client (during the fault phase): it will time out, outcome unknown. */
  private replyLost(c: SimClient): boolean {
    if (c === this.probe || !this.world.faultsActive || !this.random.chance(this.world.profile.responseLossRate)) return false;
    this.world.note(`reply to ${c.id} lost`);
    return true;
  }

  private giveUp(c: SimClient, why: string): void {
    const op = c.pending;
    if (!op) return;
    c.pending = null;
    c.leaderGuess = null;
    this.history.unknown(c.id, op);
    if (op.input.kind === 'put') this.world.stats.writesUnknown++;
    this.world.note(`${c.id} gives up on ${op.ctx} (${why})`);
    this.reschedule(c);
  }

  private reschedule(c: SimClient): void {
    const i = this.clients.indexOf(c);
    if (i >= 0) this.world.schedule(this.random.range(0, 3) * TICK + 1, { k: 'client', client: i });
  }

  private find(id: string): SimClient | undefined {
    if (this.probe && id === this.probe.id) return this.probe;
    return this.clients.find((c) => c.id === id);
  }
}
