import type { KvInput, KvOperation, KvOutput } from '@flotilla/testing';
import { KvConnectionError, KvRequestError } from '../../../../libs/raft/src/kv/kv-client';
import type { KvProcessCluster } from './kv-process-cluster';

/** What a run of the workload observed. */
export interface WorkloadResult {
  /** Shared-register operations, for the linearizability checker (unknown outcomes included). */
  history: KvOperation[];
  /** Unique keys whose put was acknowledged → value: every one must survive. */
  acked: Map<string, string>;
  /** Unique keys whose put outcome is unknown (timeout, connection lost). */
  maybe: Set<string>;
  /** [call, ret] of every acknowledged write, on the performance.now() clock. */
  ackedWrites: { call: number; ret: number; node: string }[];
  /** Writes refused for certain (no leader, dropped): never applied. */
  refused: number;
}

export interface WorkloadOptions {
  clients: number;
  sharedKeys: number;
  /** Node ids this client may talk to (re-read before every operation). */
  targets?: () => string[];
}

/**
 * Closed-loop clients doing a mix of unique-key puts (durability), shared-key puts and gets
 * (linearizability). Each client sticks to a node and follows `not-leader` hints, switching
 * node when its node is down. Times come from one clock (performance.now) in this process.
 */
export class Workload {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly result: WorkloadResult = { history: [], acked: new Map(), maybe: new Set(), ackedWrites: [], refused: 0 };
  private opId = 0;

  constructor(
    private readonly cluster: KvProcessCluster,
    private readonly opts: WorkloadOptions,
  ) {}

  start(): void {
    this.running = true;
    for (let c = 0; c < this.opts.clients; c++) this.loops.push(this.client(`c${c}`, c));
  }

  async stop(): Promise<WorkloadResult> {
    this.running = false;
    await Promise.all(this.loops);
    return this.result;
  }

  private targets(): string[] {
    return (this.opts.targets?.() ?? this.cluster.running()).filter((id) => this.cluster.isRunning(id));
  }

  private async client(name: string, index: number): Promise<void> {
    let node: string | undefined;
    let seq = 0;
    while (this.running) {
      const targets = this.targets();
      if (targets.length === 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      if (!node || !targets.includes(node)) node = targets[(index + seq) % targets.length];
      seq++;
      const kind = seq % 3;
      const sharedKey = `r${(index + seq) % this.opts.sharedKeys}`;
      const input: KvInput =
        kind === 0 ? { kind: 'put', key: `u-${name}-${seq}`, value: `${name}:${seq}` } : kind === 1 ? { kind: 'put', key: sharedKey, value: `${name}:${seq}` } : { kind: 'get', key: sharedKey };
      const call = performance.now();
      try {
        const client = this.cluster.client(node);
        let output: KvOutput;
        if (input.kind === 'put') {
          await client.put(input.key, input.value);
          output = 'ok';
          this.result.ackedWrites.push({ call, ret: performance.now(), node });
          if (kind === 0) this.result.acked.set(input.key, input.value);
        } else {
          output = await client.get(input.key);
        }
        if (kind !== 0) this.result.history.push({ id: this.opId++, clientId: name, input, output, call, ret: performance.now() });
      } catch (err) {
        const certain = err instanceof KvRequestError && (err.error.code === 'not-leader' || err.error.code === 'dropped' || err.error.code === 'bad-request');
        if (err instanceof KvRequestError && err.error.code === 'not-leader' && err.error.leader) node = err.error.leader;
        else node = undefined; // try another node next time
        if (input.kind === 'put') {
          if (certain) this.result.refused++;
          else {
            if (kind === 0) this.result.maybe.add(input.key);
            else this.result.history.push({ id: this.opId++, clientId: name, input, output: undefined, call, ret: Infinity });
          }
        }
        if (!(err instanceof KvRequestError) && !(err instanceof KvConnectionError) && !(err instanceof Error && /not running/.test(err.message))) throw err;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }
}

/** Reads every acknowledged unique key back (linearizably) through `read`, returning the keys that are missing or wrong. */
export async function lostWrites(acked: Map<string, string>, read: (key: string) => Promise<string | null>): Promise<string[]> {
  const lost: string[] = [];
  const keys = [...acked.keys()];
  for (let i = 0; i < keys.length; i += 200) {
    const batch = keys.slice(i, i + 200);
    const values = await Promise.all(batch.map((k) => read(k)));
    batch.forEach((k, j) => {
      if (values[j] !== acked.get(k)) lost.push(`${k}: expected ${acked.get(k)}, read ${values[j]}`);
    });
  }
  return lost;
}
