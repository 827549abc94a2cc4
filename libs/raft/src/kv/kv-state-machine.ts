import { Packr } from 'msgpackr';
import type { ApplyContext, StateMachine } from '../node/state-machine';
import { decodeKvCommand, type KvApplyResult } from './kv-commands';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/**
 * Deterministic in-memory key-value state machine. `apply` depends only on the current map
 * and the command; `snapshot()` lists the pairs in insertion order, so replicas that applied
 * the same history (directly or through a restored snapshot) have equal snapshots byte for byte.
 */
export class KvStateMachine implements StateMachine {
  private readonly map = new Map<string, string>();
  private lastApplied = 0;

  apply(command: Uint8Array, ctx: ApplyContext): KvApplyResult {
    const cmd = decodeKvCommand(command);
    const previous = this.map.get(cmd.key);
    if (cmd.op === 'put') this.map.set(cmd.key, cmd.value);
    else this.map.delete(cmd.key);
    this.lastApplied = ctx.index;
    return previous === undefined ? { index: ctx.index } : { index: ctx.index, previous };
  }

  snapshot(): Uint8Array {
    // Pairs in the map's insertion order, which is a function of the applied history (and of
    // the snapshot a replica restored, which carries that order): replicas at the same index
    // produce identical snapshots without sorting every key on each snapshot.
    const pairs: string[] = new Array<string>(2 * this.map.size);
    let i = 0;
    for (const [k, v] of this.map) {
      pairs[i++] = k;
      pairs[i++] = v;
    }
    return packr.pack({ lastApplied: this.lastApplied, pairs });
  }

  restore(snapshot: Uint8Array): void {
    this.map.clear();
    this.lastApplied = 0;
    if (snapshot.byteLength === 0) return;
    const v = packr.unpack(snapshot) as { lastApplied: number; pairs: string[] };
    for (let i = 0; i + 1 < v.pairs.length; i += 2) this.map.set(v.pairs[i], v.pairs[i + 1]);
    this.lastApplied = v.lastApplied;
  }

  get(key: string): string | undefined {
    return this.map.get(key);
  }

  get size(): number {
    return this.map.size;
  }

  /** Index of the last command applied (0 after restoring an empty snapshot). */
  get appliedIndex(): number {
    return this.lastApplied;
  }
}
