import type { JsonPatchOperation, StepError, Usage } from '../commands/command.schema';
import type { JsonValue } from '../definition/json-value';
import type { WorkflowDefinition } from '../definition/definition.schema';

/**
 * The replicated state of the workflow state machine. Invariants (DESIGN.md invariants 2–4):
 * - plain JSON data only (no Map, class instance, undefined-bearing arrays, functions), so a
 *   snapshot is its canonical JSON or msgpack and its hash is `hashJson(state)`;
 * - a pure function of the commands applied so far (`apply` reads no clock, random, env or IO);
 * - per-run decomposition: `runs[id]` depends only on its pinned definition and the commands
 *   addressed to `id`; nothing in a `RunState` refers to another run's mutable data.
 */
export interface MachineState {
  /** Schema version of this state shape (bumped with an upgrade path on incompatible change). */
  readonly stateVersion: 1;
  /** Registered definitions: name → version (as decimal string) → parsed definition. */
  readonly workflows: Record<string, WorkflowVersions>;
  /** Live (not archived) runs by id. */
  readonly runs: Record<string, RunState>;
  /** Idempotency key (scoped by workflow name as `name\u0000key`) → run id. Survives archiving. */
  readonly idempotencyKeys: Record<string, string>;
  /** Archived runs: id → final status and final state hash (their full state is in Postgres). */
  readonly archivedRuns: Record<string, ArchivedRun>;
  /** Highest log index the projector reported as archived (monotonic). */
  readonly archivedWatermark: number;
}

export interface WorkflowVersions {
  readonly latest: number;
  readonly versions: Record<string, RegisteredWorkflow>;
}

export interface RegisteredWorkflow {
  readonly name: string;
  readonly version: number;
  readonly definition: WorkflowDefinition;
  /** hashJson(definition): runs record it so replay can check it got the same definition. */
  readonly definitionHash: string;
  readonly registeredAt: number;
}

export interface ArchivedRun {
  readonly status: RunStatus;
  readonly stateHash: string;
  readonly archivedAt: number;
}

/** Run statuses (persisted values: never rename). */
export type RunStatus = 'pending' | 'running' | 'waiting' | 'rolling_back' | 'completed' | 'failed' | 'cancelled';
/** Step statuses (persisted values: never rename). */
export type StepStatus = 'pending' | 'scheduled' | 'running' | 'completed' | 'failed' | 'skipped' | 'compensated' | 'rolled_back';

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

/** Token and cost totals. */
export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  cost: number;
}

/**
 * One run. Split in two parts:
 * - `data`: what a checkpoint captures and a rollback restores (input, step states, completions);
 * - everything else: run-lifetime facts that a rollback must not erase (generation, checkpoints,
 *   rollback records, total spend, history chain head, buffered signals, timers).
 */
export interface RunState {
  readonly runId: string;
  readonly workflow: string;
  readonly version: number;
  readonly definitionHash: string;
  status: RunStatus;
  /** Fencing token: results, timers and compensations of older generations are ignored. Starts at 1. */
  generation: number;
  createdAt: number;
  updatedAt: number;
  data: RunData;
  /** Active timers by id (absolute due times from command timestamps); a fired id not here is stale. */
  timers: Record<string, TimerState>;
  /** Signals received and not yet consumed by a signal step, oldest first. */
  signalBuffer: BufferedSignal[];
  checkpoints: Checkpoint[];
  /** Monotonic counter behind checkpoint ids `cp-<n>`. */
  checkpointSeq: number;
  /** Monotonic counter of completions across all branches (never restored). */
  completionSeq: number;
  rollbacks: RollbackRecord[];
  /** Rollback in progress (status `rolling_back`). */
  pendingRollback?: PendingRollback;
  /** Number of automatic (onFailure) rollbacks so far; bounded by `onFailure.maxRollbacks`. */
  autoRollbacks: number;
  /** The last step failure that failed the run or triggered an automatic rollback. */
  lastFailure?: FailureRecord;
  /** Set when the run failed, was cancelled, or a compensation failed. */
  error?: StepError;
  output?: JsonValue;
  /** Spend across every branch (a rollback does not refund tokens). */
  usage: UsageTotals;
  /** Effective budget (the definition's, raised by RaiseBudget). */
  budget?: { maxTokens?: number; maxCost?: number };
  /** Why the run is `waiting` when it is not simply waiting for a signal or sleep. */
  waitReason?: 'budget_exceeded';
  budgetChanges: BudgetChange[];
  forkedFrom?: { runId: string; checkpointId: string; checkpointStateHash: string; reason: string; actor: string };
  cancel?: { reason: string; actor: string; at: number };
  /** Head of the history hash chain and number of commands in it. */
  history: { length: number; head: string };
  /** Commands addressed to this run that were recorded but had no effect. */
  ignoredCommands: number;
}

/** The restorable part of a run: what checkpoints capture. */
export interface RunData {
  input: JsonValue;
  /** Step instances by key (`id`, or `loopKey/iteration/id` inside loops). */
  steps: Record<string, StepState>;
  /** Completions in order (lineage: a checkpoint is reachable iff its list is a prefix of this one). */
  completions: CompletionRecord[];
  /** Completed steps since the last checkpoint (drives `checkpointEvery`). */
  completedSinceCheckpoint: number;
}

export interface CompletionRecord {
  seq: number;
  stepKey: string;
  itemIndex?: number;
}

/** Per-attempt bookkeeping of a task leaf: a task step or one map item. */
export interface LeafState {
  status: StepStatus;
  /** Current attempt (1-based; 0 before the first). */
  attempt: number;
  /** Generation the current attempt was scheduled in. */
  generation: number;
  jobId?: string;
  input?: JsonValue;
  output?: JsonValue;
  error?: StepError;
  usage?: UsageTotals;
  /** The attempt is due but held back (budget pause); dispatched when the run resumes. */
  held?: boolean;
  /** A retry timer is pending for the next attempt. */
  retryAt?: number;
  scheduledAt?: number;
  dispatchedAt?: number;
  startedAt?: number;
  lastHeartbeatAt?: number;
  finishedAt?: number;
  completionSeq?: number;
  /** Failures of earlier attempts of this leaf in this branch. */
  failures?: StepError[];
}

export interface MapItemState extends LeafState {
  item: JsonValue;
}

export interface StepState extends LeafState {
  key: string;
  stepId: string;
  type: 'task' | 'sleep' | 'signal' | 'map' | 'loop';
  /** Map: the evaluated list and one leaf per element. */
  items?: MapItemState[];
  /** Loop: index of the current (or last) iteration. */
  iteration?: number;
  /** Loop: completed because `maxIterations` ran out (`onMaxIterations: complete`), not because `until` held. */
  exhausted?: boolean;
  /** Sleep/signal: absolute due time of its timer. */
  dueAt?: number;
  /** Signal: payload received. */
  signalAt?: number;
}

export type TimerKind = 'retry' | 'step-timeout' | 'heartbeat-timeout' | 'sleep' | 'signal-timeout' | 'compensation-timeout' | 'compensation-retry';

export interface TimerState {
  kind: TimerKind;
  dueAt: number;
  stepKey: string;
  itemIndex?: number;
  attempt?: number;
  generation: number;
}

export interface BufferedSignal {
  signal: string;
  payload: JsonValue;
  at: number;
}

export type CheckpointReason = 'start' | 'step' | 'every' | 'manual' | 'fork';

/** An immutable copy of a run's data at a log index. */
export interface Checkpoint {
  readonly id: string;
  readonly reason: CheckpointReason;
  readonly label?: string;
  /** Step key whose completion triggered it (reason `step`/`every`). */
  readonly afterStep?: string;
  readonly logIndex: number;
  readonly term?: number;
  readonly at: number;
  readonly generation: number;
  /** runDataHash(data). */
  readonly stateHash: string;
  readonly data: RunData;
}

export interface FailureRecord {
  stepKey: string;
  itemIndex?: number;
  error: StepError;
  generation: number;
  at: number;
}

export interface CompensationTask {
  stepKey: string;
  itemIndex?: number;
  stepId: string;
  task: string;
  queue: string;
  status: 'pending' | 'running' | 'completed' | 'failed';
  /** Current attempt (1-based once dispatched). */
  attempt: number;
  /** A retry timer is pending for the next attempt. */
  retryAt?: number;
  jobId?: string;
  error?: StepError;
}

export interface PendingRollback {
  checkpointId: string;
  compensations: CompensationTask[];
  patch?: JsonPatchOperation[];
}

export interface RollbackRecord {
  generation: number;
  checkpointId: string;
  actor: string;
  reason: string;
  force: boolean;
  automatic: boolean;
  patch?: JsonPatchOperation[];
  at: number;
  logIndex: number;
  status: 'compensating' | 'restored' | 'compensation_failed' | 'superseded';
  /** Step states whose results were discarded (the rolled-back branch stays visible). */
  discarded: Array<{ stepKey: string; status: StepStatus; output?: JsonValue; error?: StepError; items?: Array<{ status: StepStatus; output?: JsonValue }> }>;
  compensations: Array<{ stepKey: string; itemIndex?: number; task: string }>;
  irreversible: Array<{ stepKey: string; task: string }>;
  /** runDataHash(restored data) right after restore and patch, before execution resumed. */
  restoredStateHash?: string;
}

export interface BudgetChange {
  maxTokens?: number;
  maxCost?: number;
  reason: string;
  actor: string;
  at: number;
}

export type { Usage };
