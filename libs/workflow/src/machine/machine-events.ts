import type { CommandType } from '../commands/command.schema';

/** Why a valid command had no effect. Persisted values: never rename. */
export type IgnoredReason =
  | 'unknown_run'
  | 'run_archived'
  | 'run_finished'
  | 'run_not_active'
  | 'run_exists'
  | 'duplicate_idempotency_key'
  | 'stale_generation'
  | 'stale_attempt'
  | 'unknown_step'
  | 'step_not_active'
  | 'stale_timer'
  | 'no_pending_rollback'
  | 'stale_compensation';

/** Why a command was refused (it was well-formed but not acceptable). Persisted values. */
export type RejectedReason =
  | 'invalid_command'
  | 'invalid_definition'
  | 'unknown_workflow'
  | 'unknown_version'
  | 'invalid_input'
  | 'unknown_checkpoint'
  | 'checkpoint_not_in_lineage'
  | 'irreversible_effects'
  | 'invalid_patch'
  | 'run_not_finished'
  | 'invalid_budget'
  | 'internal_error';

/**
 * What happened when a command was applied, for the projector and the API. Ignored and
 * rejected commands still enter the addressed run's history chain (nothing is erased).
 */
export type MachineEvent =
  | { type: 'applied'; command: CommandType; runId?: string }
  | { type: 'ignored'; command: CommandType; runId?: string; reason: IgnoredReason; detail: string }
  | { type: 'rejected'; command: CommandType | 'unknown'; runId?: string; reason: RejectedReason; detail: string; problems?: Array<{ path: string; message: string }> }
  | { type: 'workflow-registered'; name: string; version: number }
  | { type: 'run-started'; runId: string; workflow: string; version: number }
  | { type: 'checkpoint-taken'; runId: string; checkpointId: string; stateHash: string }
  | { type: 'rollback-started'; runId: string; checkpointId: string; generation: number }
  | { type: 'rollback-restored'; runId: string; checkpointId: string; generation: number; restoredStateHash: string }
  | { type: 'run-forked'; runId: string; sourceRunId: string; checkpointId: string }
  | { type: 'run-status'; runId: string; status: string };
