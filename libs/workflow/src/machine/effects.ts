import type { JsonValue } from '../definition/json-value';
import type { FailureRecord, RunStatus, TimerKind } from './run-state';

/**
 * What the leader must do after a command is applied. Effects are data; leader services
 * perform them idempotently (followers and replays discard them). Every effect is re-derivable
 * from the state (in-flight attempts, `timers`, pending compensations), so a new leader
 * reconciles from state instead of from lost effects.
 */
export type Effect = DispatchEffect | ArmTimerEffect | CancelTimerEffect | CompensateEffect | AbandonJobEffect | RunFinishedEffect;

/** Context a task handler sees (`ctx`): rollbacks so far and the failure that caused the last one. */
export interface AttemptContext {
  readonly attempt: number;
  readonly generation: number;
  readonly rollbacks: number;
  readonly autoRollbacks: number;
  readonly lastFailure?: FailureRecord;
}

/** Add a BullMQ job for one attempt; `jobId` is deterministic so re-dispatch is harmless. */
export interface DispatchEffect {
  readonly type: 'dispatch';
  readonly runId: string;
  readonly stepKey: string;
  readonly stepId: string;
  readonly itemIndex?: number;
  readonly attempt: number;
  readonly generation: number;
  readonly jobId: string;
  readonly task: string;
  readonly queue: string;
  readonly input: JsonValue;
  readonly timeoutMs: number;
  readonly heartbeatTimeoutMs?: number;
  /** Stable per attempt: the handler's key for at-least-once side effects. */
  readonly idempotencyKey: string;
  readonly context: AttemptContext;
}

/** Arm (or re-arm: same id ⇒ same timer) a durable timer at an absolute due time. */
export interface ArmTimerEffect {
  readonly type: 'arm-timer';
  readonly runId: string;
  readonly timerId: string;
  readonly dueAt: number;
  readonly kind: TimerKind;
}

export interface CancelTimerEffect {
  readonly type: 'cancel-timer';
  readonly runId: string;
  readonly timerId: string;
}

/** Run one compensation task of a rollback (one at a time, reverse completion order). */
export interface CompensateEffect {
  readonly type: 'compensate';
  readonly runId: string;
  readonly stepKey: string;
  readonly stepId: string;
  readonly itemIndex?: number;
  readonly generation: number;
  readonly attempt: number;
  readonly jobId: string;
  readonly task: string;
  readonly queue: string;
  readonly input: JsonValue;
  readonly timeoutMs: number;
  readonly idempotencyKey: string;
}

/** Best effort: an in-flight job whose result will be ignored (fenced generation, finished run). */
export interface AbandonJobEffect {
  readonly type: 'abandon-job';
  readonly runId: string;
  readonly jobId: string;
  readonly queue?: string;
}

/** The run reached a terminal status (for waiters on the run's result). */
export interface RunFinishedEffect {
  readonly type: 'run-finished';
  readonly runId: string;
  readonly status: RunStatus;
}
