/**
 * A completed client operation in a concurrent history, as a linearizability checker sees it.
 *
 * `call` and `ret` are points on one totally ordered clock (the simulator uses a global event
 * sequence number); operation A precedes B in real time iff `A.ret < B.call`. An operation
 * whose outcome is unknown (the client timed out, the node crashed) has `ret = Infinity` and
 * `output = undefined`: it may have taken effect at any point after its call, or never.
 */
export interface Operation<I, O> {
  readonly id: number;
  readonly clientId: string;
  readonly input: I;
  /** The observed result, or `undefined` when the outcome is unknown. */
  readonly output: O | undefined;
  readonly call: number;
  readonly ret: number;
}

/**
 * A sequential specification. `step` returns the state after applying `input` to `state` if
 * that step can produce `output` (for an unknown output: any output), or `undefined` if the
 * step is illegal. `stateKey` must be injective on reachable states (it keys the memo table).
 */
export interface SequentialModel<S, I, O> {
  init(): S;
  step(state: S, input: I, output: O | undefined): S | undefined;
  stateKey(state: S): string;
  /**
   * Optional P-compositionality (Herlihy & Wing): split the history into independent
   * sub-histories (e.g. one per key) that are each checked alone; the history is linearizable
   * iff every part is.
   */
  partition?(ops: readonly Operation<I, O>[]): Operation<I, O>[][];
  describe?(op: Operation<I, O>): string;
}

/** Verdict of a linearizability check. */
export type LinearizabilityResult<I, O> =
  | { readonly kind: 'linearizable'; readonly explored: number }
  | {
      readonly kind: 'not-linearizable';
      readonly explored: number;
      /** The operations of the first sub-history that has no linearization. */
      readonly partition: readonly Operation<I, O>[];
      /** The longest prefix of operations the search managed to linearize in that partition. */
      readonly longestLinearizedPrefix: readonly Operation<I, O>[];
    }
  | { readonly kind: 'unknown'; readonly explored: number; readonly reason: string };
