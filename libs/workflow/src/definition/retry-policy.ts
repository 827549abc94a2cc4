import { createHash } from 'node:crypto';
import type { Compensation, RetryPolicyInput, TaskLikeStepDefinition, WorkflowDefinition } from './definition.schema';

/**
 * A fully resolved retry policy: every field set. Resolution order, field by field:
 * the step's `retry` → the workflow's `defaults.retry` → `BUILT_IN_RETRY_POLICY`.
 */
export interface RetryPolicy {
  /** Total attempts including the first; attempt numbers are 1-based. */
  readonly maxAttempts: number;
  readonly backoff: {
    readonly initialMs: number;
    readonly multiplier: number;
    readonly maxMs: number;
    /** Fraction in [0, 1] of each delay that jitter may remove. */
    readonly jitter: number;
  };
  /** Failure `errorType`s that are never retried. */
  readonly nonRetryableErrors: readonly string[];
}

/** The retry policy used where neither the step nor the workflow defaults set a field. */
export const BUILT_IN_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  backoff: { initialMs: 1000, multiplier: 2, maxMs: 60_000, jitter: 0.2 },
  nonRetryableErrors: [],
};

/** Queue used by task steps when neither the step nor `defaults.queue` names one. */
export const DEFAULT_QUEUE = 'default';

/** Attempt timeout used when neither the step nor `defaults.timeoutMs` sets one (5 minutes). */
export const DEFAULT_TASK_TIMEOUT_MS = 5 * 60 * 1000;

/** Merges retry policies field by field; earlier arguments win. Pure. */
export function resolveRetryPolicy(...layers: ReadonlyArray<RetryPolicyInput | undefined>): RetryPolicy {
  const pick = <T>(read: (layer: RetryPolicyInput) => T | undefined, fallback: T): T => {
    for (const layer of layers) {
      const value = layer === undefined ? undefined : read(layer);
      if (value !== undefined) return value;
    }
    return fallback;
  };
  const builtIn = BUILT_IN_RETRY_POLICY;
  return {
    maxAttempts: pick((l) => l.maxAttempts, builtIn.maxAttempts),
    backoff: {
      initialMs: pick((l) => l.backoff?.initialMs, builtIn.backoff.initialMs),
      multiplier: pick((l) => l.backoff?.multiplier, builtIn.backoff.multiplier),
      maxMs: pick((l) => l.backoff?.maxMs, builtIn.backoff.maxMs),
      jitter: pick((l) => l.backoff?.jitter, builtIn.backoff.jitter),
    },
    nonRetryableErrors: pick((l) => l.nonRetryableErrors, builtIn.nonRetryableErrors),
  };
}

/** Everything the dispatcher needs to run one attempt of a task or map step, resolved against defaults. */
export interface ResolvedTaskSettings {
  readonly task: string;
  readonly queue: string;
  readonly timeoutMs: number;
  /** Unset: no heartbeat deadline, only `timeoutMs`. */
  readonly heartbeatTimeoutMs: number | undefined;
  readonly retry: RetryPolicy;
}

/** Resolves queue, timeouts and retry of a task/map step: step value → `defaults` → built-in. */
export function resolveTaskSettings(definition: WorkflowDefinition, step: TaskLikeStepDefinition): ResolvedTaskSettings {
  const defaults = definition.defaults;
  return {
    task: step.task,
    queue: step.queue ?? defaults?.queue ?? DEFAULT_QUEUE,
    timeoutMs: step.timeoutMs ?? defaults?.timeoutMs ?? DEFAULT_TASK_TIMEOUT_MS,
    heartbeatTimeoutMs: step.heartbeatTimeoutMs ?? defaults?.heartbeatTimeoutMs,
    retry: resolveRetryPolicy(step.retry, defaults?.retry),
  };
}

/** Resolves the settings of a step's compensation task; unset fields fall back to the step's own settings. */
export function resolveCompensationSettings(
  definition: WorkflowDefinition,
  step: TaskLikeStepDefinition,
  compensation: Compensation,
): ResolvedTaskSettings {
  const stepSettings = resolveTaskSettings(definition, step);
  return {
    task: compensation.task,
    queue: compensation.queue ?? stepSettings.queue,
    timeoutMs: compensation.timeoutMs ?? stepSettings.timeoutMs,
    heartbeatTimeoutMs: stepSettings.heartbeatTimeoutMs,
    retry: resolveRetryPolicy(compensation.retry, step.retry, definition.defaults?.retry),
  };
}

/**
 * True if a failed `attempt` (1-based) may be followed by another one: attempts remain and the
 * failure's `errorType` is not listed as non-retryable. A failure marked non-retryable by the
 * worker (`retryable === false`) is never retried.
 */
export function shouldRetry(policy: RetryPolicy, attempt: number, errorType?: string, retryable = true): boolean {
  if (!retryable) return false;
  if (errorType !== undefined && policy.nonRetryableErrors.includes(errorType)) return false;
  return attempt < policy.maxAttempts;
}

/** The conventional jitter seed of an attempt: identical on every node and in every replay. */
export function jitterSeed(runId: string, stepId: string, generation: number, attempt: number, itemKey?: string): string {
  return [runId, stepId, itemKey ?? '', String(generation), String(attempt)].join('/');
}

/**
 * A deterministic number in [0, 1) derived from `seed` (first 48 bits of SHA-256).
 * Same seed ⇒ same number on every platform.
 */
export function unitIntervalFromSeed(seed: string): number {
  const digest = createHash('sha256').update(seed, 'utf8').digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * Delay in whole ms to wait after failed attempt `attempt` (1-based) before the next one.
 *
 * base = min(maxMs, initialMs · multiplier^(attempt−1)); delay = floor(base · (1 − jitter · u))
 * with u = unitIntervalFromSeed(jitterSeed). Invariants: 0 ≤ delay ≤ min(base, maxMs); the
 * delay is a pure function of its arguments (no clock, no randomness), so the leader that arms
 * the timer and every replay agree on it.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, seed: string): number {
  const { initialMs, multiplier, maxMs, jitter } = policy.backoff;
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const uncapped = initialMs === 0 ? 0 : initialMs * Math.pow(multiplier, exponent);
  const base = Number.isFinite(uncapped) ? Math.min(maxMs, uncapped) : maxMs;
  const delay = Math.floor(base * (1 - jitter * unitIntervalFromSeed(seed)));
  return Math.max(0, Math.min(delay, maxMs));
}
