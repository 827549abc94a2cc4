import type { StepError, Usage } from '../commands/command.schema';
import { backoffDelay, jitterSeed, resolveTaskSettings, shouldRetry } from '../definition/retry-policy';
import type { JsonValue } from '../definition/json-value';
import type { TaskLikeStepDefinition, WorkflowDefinition } from '../definition/definition.schema';
import type { RunContext } from './apply-context';
import { isBudgetPaused, recordUsage } from './budget';
import { isTaskLike, stepDefinition } from './definition-lookup';
import { attemptJobId } from './ids';
import type { DispatchEffect } from './effects';
import type { LeafState, RunState, StepState } from './run-state';
import { armTimer, cancelLeafTimers } from './timers';

/**
 * Attempt lifecycle of a task leaf (a task step, or one item of a map step):
 * `scheduled` (dispatch effect + timeout timer) → `running` (StepAttemptStarted) →
 * `completed` | retry (`scheduled` with `retryAt`, retry timer) | `failed`.
 * Invariant: at most one attempt of a leaf is current; results of any other attempt or
 * generation are ignored by the caller before reaching here.
 */
export function leafOf(step: StepState, itemIndex: number | undefined): LeafState | undefined {
  return itemIndex === undefined ? step : step.items?.[itemIndex];
}

/** True when the leaf's current attempt is out (dispatched or held) and awaiting a result. */
export function isLeafAwaitingResult(leaf: LeafState): boolean {
  return (leaf.status === 'scheduled' || leaf.status === 'running') && leaf.retryAt === undefined && leaf.held !== true;
}

/** Schedules attempt `attempt` of a leaf in the current generation; dispatches unless the run is budget-paused. */
export function scheduleAttempt(ctx: RunContext, step: StepState, itemIndex: number | undefined, attempt: number): void {
  const leaf = leafOf(step, itemIndex);
  if (leaf === undefined) return;
  leaf.status = 'scheduled';
  leaf.attempt = attempt;
  leaf.generation = ctx.run.generation;
  leaf.jobId = attemptJobId(ctx.run.runId, step.key, itemIndex, ctx.run.generation, attempt);
  leaf.scheduledAt = ctx.at;
  delete leaf.retryAt;
  delete leaf.dispatchedAt;
  delete leaf.startedAt;
  delete leaf.lastHeartbeatAt;
  if (isBudgetPaused(ctx.run)) leaf.held = true;
  else dispatchLeaf(ctx, step, itemIndex);
}

/** Emits the dispatch effect of the leaf's current attempt and arms its timeout. */
export function dispatchLeaf(ctx: RunContext, step: StepState, itemIndex: number | undefined): void {
  const leaf = leafOf(step, itemIndex);
  const definition = stepDefinition(ctx, step.stepId);
  if (leaf === undefined || !isTaskLike(definition) || leaf.jobId === undefined) return;
  delete leaf.held;
  const effect = dispatchEffectFor(ctx.run, ctx.definition, definition, step, itemIndex);
  if (effect === undefined) return;
  ctx.effects.push(effect);
  armTimer(ctx, 'step-timeout', step.key, itemIndex, effect.timeoutMs, leaf.attempt);
}

/**
 * The dispatch effect of a leaf's current attempt, derived from state alone — the same value
 * whether emitted by `apply` or re-derived by a new leader reconciling in-flight attempts.
 */
export function dispatchEffectFor(
  run: RunState,
  workflow: WorkflowDefinition,
  definition: TaskLikeStepDefinition,
  step: StepState,
  itemIndex: number | undefined,
): DispatchEffect | undefined {
  const leaf = leafOf(step, itemIndex);
  if (leaf?.jobId === undefined) return undefined;
  const settings = resolveTaskSettings(workflow, definition);
  return {
    type: 'dispatch',
    runId: run.runId,
    stepKey: step.key,
    stepId: step.stepId,
    ...(itemIndex === undefined ? {} : { itemIndex }),
    attempt: leaf.attempt,
    generation: leaf.generation,
    jobId: leaf.jobId,
    task: settings.task,
    queue: settings.queue,
    input: leaf.input ?? null,
    timeoutMs: settings.timeoutMs,
    ...(settings.heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeoutMs: settings.heartbeatTimeoutMs }),
    idempotencyKey: leaf.jobId,
    context: {
      attempt: leaf.attempt,
      generation: leaf.generation,
      rollbacks: run.rollbacks.length,
      autoRollbacks: run.autoRollbacks,
      ...(run.lastFailure === undefined ? {} : { lastFailure: run.lastFailure }),
    },
  };
}

/** StepAttemptStarted: the worker picked the attempt up; arms the heartbeat deadline if configured. */
export function markLeafStarted(ctx: RunContext, step: StepState, itemIndex: number | undefined): void {
  const leaf = leafOf(step, itemIndex);
  if (leaf === undefined) return;
  leaf.status = 'running';
  leaf.startedAt = ctx.at;
  if (step.type === 'map' && step.status !== 'running') step.status = 'running';
  armHeartbeat(ctx, step, itemIndex);
}

/** StepHeartbeat: records liveness and pushes the heartbeat deadline out. */
export function recordHeartbeat(ctx: RunContext, step: StepState, itemIndex: number | undefined): void {
  const leaf = leafOf(step, itemIndex);
  if (leaf === undefined) return;
  leaf.lastHeartbeatAt = ctx.at;
  armHeartbeat(ctx, step, itemIndex);
}

function armHeartbeat(ctx: RunContext, step: StepState, itemIndex: number | undefined): void {
  const definition = stepDefinition(ctx, step.stepId);
  const leaf = leafOf(step, itemIndex);
  if (!isTaskLike(definition) || leaf === undefined) return;
  const heartbeat = resolveTaskSettings(ctx.definition, definition).heartbeatTimeoutMs;
  if (heartbeat !== undefined) armTimer(ctx, 'heartbeat-timeout', step.key, itemIndex, heartbeat, leaf.attempt);
}

/** Records a successful result of the leaf's current attempt. The caller completes the step / map. */
export function completeLeaf(ctx: RunContext, step: StepState, itemIndex: number | undefined, output: JsonValue, usage: Usage | undefined): void {
  const leaf = leafOf(step, itemIndex);
  if (leaf === undefined) return;
  cancelLeafTimers(ctx, step.key, itemIndex);
  recordUsage(ctx, leaf, usage);
  leaf.status = 'completed';
  leaf.output = output;
  leaf.finishedAt = ctx.at;
  delete leaf.error;
}

/**
 * A failed (or timed out) attempt: retries with deterministic backoff while the policy allows,
 * otherwise marks the leaf failed. Returns true when the leaf is now permanently failed.
 */
export function failLeafAttempt(ctx: RunContext, step: StepState, itemIndex: number | undefined, error: StepError, usage?: Usage): boolean {
  const leaf = leafOf(step, itemIndex);
  const definition = stepDefinition(ctx, step.stepId);
  if (leaf === undefined || !isTaskLike(definition)) return true;
  cancelLeafTimers(ctx, step.key, itemIndex);
  recordUsage(ctx, leaf, usage);
  leaf.failures = [...(leaf.failures ?? []), error];
  leaf.error = error;
  const policy = resolveTaskSettings(ctx.definition, definition).retry;
  if (shouldRetry(policy, leaf.attempt, error.errorType, error.retryable ?? true)) {
    const seed = jitterSeed(ctx.run.runId, step.key, leaf.generation, leaf.attempt, itemIndex === undefined ? undefined : String(itemIndex));
    const delay = backoffDelay(policy, leaf.attempt, seed);
    leaf.retryAt = ctx.at + delay;
    armTimer(ctx, 'retry', step.key, itemIndex, delay, leaf.attempt);
    return false;
  }
  leaf.status = 'failed';
  leaf.finishedAt = ctx.at;
  return true;
}
