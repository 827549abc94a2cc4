import { Packr } from 'msgpackr';
import type { ApplyContext, StateMachine } from '../node/state-machine';
import { decodeKvCommand, type KvApplyResult } from './kv-commands';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/**
 * Deterministic in-memory key-value state machine. `apply` depends only on the current map
 * and the command; `snapshot()` is the sorted list of pairs, so equal states have equal
 * snapshots byte for byte.
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
    // The default sort orders strings by UTF-16 code units, exactly as `<` does, without a
    // JS comparator call per comparison.
    const keys = [...this.map.keys()].sort();
    const pairs = keys.map((k) => [k, this.map.get(k) as string] as const);
    return packr.pack({ lastApplied: this.lastApplied, pairs });
  }

  restore(snapshot: Uint8Array): void {
    this.map.clear();
    this.lastApplied = 0;
    if (snapshot.byteLength === 0) return;
    const v = packr.unpack(snapshot) as { lastApplied: number; pairs: [string, string][] };
    for (const [k, val] of v.pairs) this.map.set(k, val);
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
