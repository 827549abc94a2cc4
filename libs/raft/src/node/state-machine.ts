/** Position of the entry being applied, for state machines that record it. */
export interface ApplyContext {
  readonly index: number;
  readonly term: number;
}

/**
 * The replicated application (hashicorp/raft's FSM). The driver calls it on every node, in
 * log order, exactly once per committed command of the current incarnation's history.
 *
 * Contract: `apply` must be deterministic — same state and command ⇒ same new state and
 * result, on every node — and synchronous. `snapshot()` captures the state after the last
 * applied command; `restore(bytes)` replaces the whole state with a snapshot's.
 */
export interface StateMachine {
  apply(command: Uint8Array, ctx: ApplyContext): unknown;
  snapshot(): Uint8Array;
  restore(snapshot: Uint8Array): void;
}
