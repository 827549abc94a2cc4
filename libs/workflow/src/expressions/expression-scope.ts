import type { JsonValue } from '../definition/json-value';

/**
 * What `steps.<id>` holds for a step that has started (absent for steps that have not).
 * All fields are always present (`null` when not applicable) so expressions never trip over a
 * missing field; for a loop body step it is the latest iteration's entry; for a map step
 * `output` is the list of item outputs in item order.
 */
export type StepExpressionContext = {
  status: string;
  output: JsonValue;
  error: JsonValue;
  attempts: number;
  /** Loop iteration the entry belongs to (body steps only). */
  iteration?: number;
};

/**
 * What `run` holds. `iteration` is the 0-based iteration of the innermost enclosing loop
 * (0 outside loops); `rollbacks` counts rollbacks of this run so far and `lastFailure` is the
 * failure that triggered the latest automatic rollback (`null` if none), so a segment retried
 * after a rollback can change strategy.
 */
export type RunExpressionContext = {
  id: string;
  workflow: string;
  version: number;
  generation: number;
  rollbacks: number;
  /** Automatic (onFailure) rollbacks so far; bounded by `onFailure.maxRollbacks`. */
  autoRollbacks: number;
  lastFailure: JsonValue;
  iteration: number;
};

/** Field names of `StepExpressionContext`, checked statically in `steps.<id>.<field>`. */
export const STEP_CONTEXT_FIELDS: readonly string[] = ['status', 'output', 'error', 'attempts', 'iteration'];
/** Field names of `RunExpressionContext`, checked statically in `run.<field>`. */
export const RUN_CONTEXT_FIELDS: readonly string[] = ['id', 'workflow', 'version', 'generation', 'rollbacks', 'autoRollbacks', 'lastFailure', 'iteration'];

/**
 * The variables an expression is evaluated over. `item` and `index` exist only while rendering
 * the input of one map item (the element and its 0-based position). `steps` and `run` are
 * typed loosely (any JSON) so state machines can build them directly from their state; their
 * recommended shapes are `StepExpressionContext` and `RunExpressionContext`, whose field names
 * are what registration-time checks accept in `steps.<id>.<field>` and `run.<field>`.
 *
 * Invariant: a scope is built solely from replicated run state, so the same log yields the
 * same scope — and the same expression results — on every node.
 */
export type ExpressionScope = {
  readonly input: JsonValue;
  readonly steps: { readonly [stepId: string]: JsonValue } | { readonly [stepId: string]: StepExpressionContext };
  readonly run: { readonly [field: string]: JsonValue } | RunExpressionContext;
  readonly item?: JsonValue;
  readonly index?: number;
};

/** Variables every expression may use. */
export const BASE_VARIABLES: readonly string[] = ['input', 'steps', 'run'];
/** Extra variables available only in the input template of a map step. */
export const MAP_ITEM_VARIABLES: readonly string[] = ['item', 'index'];
