import type { Operation, SequentialModel } from './history';

/** A client request against the replicated key-value register. */
export type KvInput = { readonly kind: 'put'; readonly key: string; readonly value: string } | { readonly kind: 'get'; readonly key: string };

/** A `get` returns the current value (`null` for a never-written key); a `put` returns `'ok'`. */
export type KvOutput = string | null;

export type KvOperation = Operation<KvInput, KvOutput>;

/**
 * Sequential specification of one register per key: `put` sets it, `get` must return the
 * latest value put. Partitioned by key (each key is an independent register), which keeps
 * the search small.
 */
export const kvRegisterModel: SequentialModel<KvOutput, KvInput, KvOutput> = {
  init: () => null,
  step(state, input, output) {
    if (input.kind === 'put') return input.value;
    if (output === undefined) return state; // a read whose outcome is unknown constrains nothing
    return output === state ? state : undefined;
  },
  stateKey: (state) => (state === null ? '\u0000' : state),
  partition(ops) {
    const byKey = new Map<string, KvOperation[]>();
    for (const op of ops) {
      const list = byKey.get(op.input.key);
      if (list) list.push(op);
      else byKey.set(op.input.key, [op]);
    }
    return [...byKey.values()].map(boundUnknownWrites);
  },
  describe(op) {
    const when = `[${op.call}, ${op.ret === Infinity ? '∞' : op.ret}]`;
    if (op.input.kind === 'put') return `${op.clientId} put(${op.input.key}, ${op.input.value})${op.output === undefined ? ' (outcome unknown)' : ''} ${when}`;
    return `${op.clientId} get(${op.input.key}) → ${op.output === undefined ? '?' : JSON.stringify(op.output)} ${when}`;
  },
};

/**
 * Shrinks the search space of one key's history without changing its verdict, for writes of
 * values that no other write uses:
 * - a write with unknown outcome whose value no read returned is dropped — if some
 *   linearization includes it, removing it leaves every read's state unchanged (no read falls
 *   between it and the next write, or that read would have returned its value);
 * - a write with unknown outcome whose value a read returned must take effect before that
 *   read returns, so its `ret` is bounded by the earliest such read's `ret`.
 * Unknown writes otherwise stay concurrent with everything after them, which is what makes
 * the search explode.
 */
export function boundUnknownWrites(ops: KvOperation[]): KvOperation[] {
  const writesOfValue = new Map<string, number>();
  const firstObservedReturn = new Map<string, number>();
  for (const op of ops) {
    if (op.input.kind === 'put') writesOfValue.set(op.input.value, (writesOfValue.get(op.input.value) ?? 0) + 1);
    else if (typeof op.output === 'string') firstObservedReturn.set(op.output, Math.min(firstObservedReturn.get(op.output) ?? Infinity, op.ret));
  }
  const out: KvOperation[] = [];
  for (const op of ops) {
    if (op.input.kind !== 'put' || op.output !== undefined || writesOfValue.get(op.input.value) !== 1) {
      out.push(op);
      continue;
    }
    const seenBy = firstObservedReturn.get(op.input.value);
    if (seenBy === undefined) continue;
    out.push(seenBy < op.ret ? { ...op, ret: Math.max(seenBy, op.call) } : op);
  }
  return out;
}
