import type { LinearizabilityResult, Operation, SequentialModel } from './history';

/** Options of {@link checkLinearizability}. */
export interface CheckOptions {
  /** Give up (verdict `unknown`) after this many search steps in one partition. Default 5,000,000. */
  readonly maxSteps?: number;
}

/**
 * Checks a history for linearizability with the Wing & Gong search as improved by Lowe
 * ("just-in-time linearization" plus a memo of (linearized set, state) pairs), the algorithm
 * Knossos and Porcupine use. The history is first split by `model.partition` when given.
 *
 * Soundness: a `linearizable` verdict comes with an (implicit) witness order that respects
 * real time and the sequential model; `not-linearizable` means the exhaustive search (minus
 * memoized repeats, which are equivalent states) found none.
 */
export function checkLinearizability<S, I, O>(
  model: SequentialModel<S, I, O>,
  ops: readonly Operation<I, O>[],
  options: CheckOptions = {},
): LinearizabilityResult<I, O> {
  const maxSteps = options.maxSteps ?? 5_000_000;
  const parts = model.partition ? model.partition(ops) : [ops.slice()];
  let explored = 0;
  for (const part of parts) {
    const r = checkPartition(model, part, maxSteps);
    explored += r.explored;
    if (r.kind === 'unknown') return { kind: 'unknown', explored, reason: r.reason };
    if (r.kind === 'not-linearizable') return { ...r, explored };
  }
  return { kind: 'linearizable', explored };
}

/** A node of the doubly linked list of call/return events, stored in parallel arrays. */
interface EventList {
  readonly isCall: boolean[];
  readonly op: number[];
  /** For a call event: index of its return event. */
  readonly match: number[];
  readonly prev: number[];
  readonly next: number[];
}

const HEAD = 0;

function buildEventList<I, O>(ops: readonly Operation<I, O>[]): EventList {
  const events: Array<{ time: number; isCall: boolean; op: number }> = [];
  ops.forEach((o, i) => {
    if (!(o.ret >= o.call)) throw new RangeError(`operation ${o.id} returns (${o.ret}) before its call (${o.call})`);
    events.push({ time: o.call, isCall: true, op: i }, { time: o.ret, isCall: false, op: i });
  });
  // Calls before returns at equal times: treats touching operations as concurrent (permissive).
  events.sort((x, y) => x.time - y.time || (x.isCall === y.isCall ? x.op - y.op : x.isCall ? -1 : 1));
  const n = events.length + 1; // slot 0 is the head sentinel
  const list: EventList = {
    isCall: new Array<boolean>(n).fill(false),
    op: new Array<number>(n).fill(-1),
    match: new Array<number>(n).fill(-1),
    prev: new Array<number>(n).fill(-1),
    next: new Array<number>(n).fill(-1),
  };
  const callSlot = new Array<number>(ops.length).fill(-1);
  events.forEach((e, k) => {
    const slot = k + 1;
    list.isCall[slot] = e.isCall;
    list.op[slot] = e.op;
    list.prev[slot] = slot - 1;
    list.next[slot] = slot + 1 < n ? slot + 1 : -1;
    if (e.isCall) callSlot[e.op] = slot;
    else list.match[callSlot[e.op]] = slot;
  });
  list.next[HEAD] = n > 1 ? 1 : -1;
  return list;
}

function lift(list: EventList, call: number): void {
  const ret = list.match[call];
  list.next[list.prev[call]] = list.next[call];
  if (list.next[call] !== -1) list.prev[list.next[call]] = list.prev[call];
  list.next[list.prev[ret]] = list.next[ret];
  if (list.next[ret] !== -1) list.prev[list.next[ret]] = list.prev[ret];
}

function unlift(list: EventList, call: number): void {
  const ret = list.match[call];
  list.next[list.prev[ret]] = ret;
  if (list.next[ret] !== -1) list.prev[list.next[ret]] = ret;
  list.next[list.prev[call]] = call;
  if (list.next[call] !== -1) list.prev[list.next[call]] = call;
}

type PartitionResult<I, O> =
  | { kind: 'linearizable'; explored: number }
  | { kind: 'not-linearizable'; explored: number; partition: Operation<I, O>[]; longestLinearizedPrefix: Operation<I, O>[] }
  | { kind: 'unknown'; explored: number; reason: string };

function checkPartition<S, I, O>(model: SequentialModel<S, I, O>, ops: Operation<I, O>[], maxSteps: number): PartitionResult<I, O> {
  if (ops.length === 0) return { kind: 'linearizable', explored: 0 };
  const list = buildEventList(ops);
  const words = Math.ceil(ops.length / 32);
  const linearized = new Uint32Array(words);
  const memo = new Set<string>();
  const stack: Array<{ call: number; state: S }> = [];
  let longest: number[] = [];
  let state = model.init();
  let entry = list.next[HEAD];
  let explored = 0;

  while (list.next[HEAD] !== -1) {
    if (++explored > maxSteps) return { kind: 'unknown', explored, reason: `search exceeded ${maxSteps} steps on ${ops.length} operations` };
    if (list.isCall[entry]) {
      const opIndex = list.op[entry];
      const op = ops[opIndex];
      const nextState = model.step(state, op.input, op.output);
      let advanced = false;
      if (nextState !== undefined) {
        linearized[opIndex >>> 5] ^= 1 << (opIndex & 31);
        const key = `${linearized.join(',')}|${model.stateKey(nextState)}`;
        if (!memo.has(key)) {
          memo.add(key);
          stack.push({ call: entry, state });
          state = nextState;
          lift(list, entry);
          entry = list.next[HEAD];
          advanced = true;
          if (stack.length > longest.length) longest = stack.map((s) => list.op[s.call]);
        } else {
          linearized[opIndex >>> 5] ^= 1 << (opIndex & 31);
        }
      }
      if (!advanced) entry = list.next[entry];
    } else {
      // A return event is reached before its call was linearized: backtrack.
      const top = stack.pop();
      if (top === undefined) {
        return {
          kind: 'not-linearizable',
          explored,
          partition: ops,
          longestLinearizedPrefix: longest.map((i) => ops[i]),
        };
      }
      const opIndex = list.op[top.call];
      linearized[opIndex >>> 5] ^= 1 << (opIndex & 31);
      state = top.state;
      unlift(list, top.call);
      entry = list.next[top.call];
    }
  }
  return { kind: 'linearizable', explored };
}
