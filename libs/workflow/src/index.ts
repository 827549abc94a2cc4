/**
 * @flotilla/workflow — the deterministic workflow engine core: definitions (schema,
 * validation, step graph, retry policy), CEL expressions and templates, the command set, the
 * run state machine (`apply`), rollback plans, hashing, replay verification and snapshots.
 * Pure: no clock, randomness, environment or IO anywhere in this library.
 */
export * from './definition';
export * from './expressions';
export * from './commands';
export * from './hashing';
export { apply, applyInPlace, type ApplyResult, type HistoryRecord, type ApplyMeta } from './machine/apply';
export { RunStateMachine } from './machine/run-state-machine';
export { initialMachineState } from './machine/machine-state';
export { planRollback, type RollbackPlan, type RollbackPlanOutcome, type DiscardedStep, type PlannedCompensation, type IrreversibleEffect } from './machine/plan-rollback';
export { runStateHash, runDataHash, stepStateHash } from './machine/run-hash';
export { reconcileEffects } from './machine/reconcile';
export type * from './machine/effects';
export type * from './machine/machine-events';
export type * from './machine/run-state';
export { TERMINAL_RUN_STATUSES } from './machine/run-state';
export * from './replay';
export * from './snapshot';
