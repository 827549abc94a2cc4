import type { JsonPatchOperation, StepError } from '../commands/command.schema';
import type { JsonValue } from '../definition/json-value';
import { backoffDelay, jitterSeed, resolveCompensationSettings, shouldRetry } from '../definition/retry-policy';
import type { RunContext } from './apply-context';
import type { CompensateEffect } from './effects';
import { budgetExceeded } from './budget';
import { findCheckpoint } from './checkpoints';
import { isTaskLike, scopePrefix, stepDefinition } from './definition-lookup';
import { renderTemplate } from './expression-port';
import { expressionEnv } from './expression-scope';
import { compensationJobId } from './ids';
import type { RejectedReason } from './machine-events';
import { planRunRollback } from './plan-rollback';
import { abandonAllInFlight } from './run-outcome';
import type { CompensationTask, RollbackRecord } from './run-state';
import { patchRunData } from './run-data-patch';
import { runDataHash } from './run-hash';
import { mutableStep } from './step-access';
import { armTimer, cancelAllTimers, cancelTimersWhere } from './timers';

export interface RollbackRequest {
  readonly checkpointId: string;
  readonly patch?: JsonPatchOperation[];
  readonly reason: string;
  readonly actor: string;
  readonly force: boolean;
  readonly automatic: boolean;
}

export type RollbackOutcome = { ok: true } | { ok: false; reason: RejectedReason; detail: string };

/**
 * Starts a rollback (DESIGN.md "Rollback"). In order: plan (refused across irreversible effects
 * without `force`; refused for checkpoints of a rolled-back branch), validate the patch against
 * the checkpoint data, generation + 1 (every older attempt, timer and compensation is fenced),
 * cancel timers, abandon in-flight jobs, mark discarded steps `rolled_back`, then run the
 * compensations one at a time in reverse completion order (status `rolling_back`), then restore
 * the patched checkpoint data and resume. Everything is recorded in `run.rollbacks`.
 * On refusal nothing but the caller's event changes.
 */
export function beginRollback(ctx: RunContext, request: RollbackRequest): RollbackOutcome {
  const run = ctx.run;
  const planned = planRunRollback(run, ctx.definition, ctx.graph, request.checkpointId);
  if (!planned.ok) return { ok: false, reason: planned.reason === 'unknown_run' ? 'unknown_checkpoint' : planned.reason, detail: planned.detail };
  const plan = planned.plan;
  if (plan.requiresForce && !request.force) {
    const list = plan.irreversible.map((entry) => (entry.itemIndex === undefined ? entry.stepKey : `${entry.stepKey}[${entry.itemIndex}]`)).join(', ');
    return { ok: false, reason: 'irreversible_effects', detail: `rollback to ${request.checkpointId} crosses irreversible effects (${list}); resend with force and a reason` };
  }
  const checkpoint = findCheckpoint(run.checkpoints, request.checkpointId);
  if (checkpoint === undefined) return { ok: false, reason: 'unknown_checkpoint', detail: request.checkpointId };
  const patched = patchRunData(checkpoint.data, request.patch, ctx.graph);
  if (!patched.ok) return { ok: false, reason: 'invalid_patch', detail: patched.detail };

  supersedeOpenRollbacks(ctx);
  abandonAllInFlight(ctx);
  cancelAllTimers(ctx);
  run.generation++;
  const discarded: RollbackRecord['discarded'] = [];
  for (const entry of plan.discarded) {
    const step = mutableStep(ctx, entry.stepKey);
    if (step === undefined) continue;
    discarded.push({
      stepKey: entry.stepKey,
      status: step.status,
      ...(step.output === undefined ? {} : { output: step.output }),
      ...(step.error === undefined ? {} : { error: step.error }),
      ...(step.items === undefined ? {} : { items: step.items.map((item) => ({ status: item.status, ...(item.output === undefined ? {} : { output: item.output }) })) }),
    });
    if (step.status !== 'compensated') step.status = 'rolled_back';
  }
  const record: RollbackRecord = {
    generation: run.generation,
    checkpointId: request.checkpointId,
    actor: request.actor,
    reason: request.reason,
    force: request.force,
    automatic: request.automatic,
    ...(request.patch === undefined ? {} : { patch: request.patch }),
    at: ctx.at,
    logIndex: ctx.meta.logIndex,
    status: 'compensating',
    discarded,
    compensations: plan.compensations.map((entry) => ({ stepKey: entry.stepKey, ...(entry.itemIndex === undefined ? {} : { itemIndex: entry.itemIndex }), task: entry.task })),
    irreversible: plan.irreversible.map((entry) => ({ stepKey: entry.stepKey, task: entry.task })),
  };
  run.rollbacks.push(record);
  const compensations: CompensationTask[] = plan.compensations.map((entry) => ({
    stepKey: entry.stepKey,
    ...(entry.itemIndex === undefined ? {} : { itemIndex: entry.itemIndex }),
    stepId: entry.stepId,
    task: entry.task,
    queue: entry.queue,
    status: 'pending',
    attempt: 0,
  }));
  run.pendingRollback = { checkpointId: request.checkpointId, compensations, ...(request.patch === undefined ? {} : { patch: request.patch }) };
  run.status = 'rolling_back';
  delete run.waitReason;
  delete run.error;
  ctx.pendingFailure = undefined;
  ctx.events.push({ type: 'rollback-started', runId: run.runId, checkpointId: request.checkpointId, generation: run.generation });
  continueRollback(ctx);
  return { ok: true };
}

/**
 * Dispatches the next pending compensation, or restores when none is left. Compensations run
 * one at a time in plan order. No-op while one is out (or waits for its retry) or after one failed.
 */
export function continueRollback(ctx: RunContext): void {
  const pending = ctx.run.pendingRollback;
  if (pending === undefined) return;
  if (pending.compensations.some((entry) => entry.status === 'running' || entry.status === 'failed')) return;
  const next = pending.compensations.find((entry) => entry.status === 'pending');
  if (next === undefined) return restoreCheckpoint(ctx);
  dispatchCompensation(ctx, next, 1);
}

/** Emits attempt `attempt` of a compensation (input rendered from the compensated step) and arms its timeout. */
export function dispatchCompensation(ctx: RunContext, next: CompensationTask, attempt: number): void {
  next.attempt = attempt;
  const effect = compensationEffectFor(ctx, next);
  if (effect === undefined) {
    next.status = 'completed';
    return continueRollback(ctx);
  }
  if ('error' in effect) return failCompensation(ctx, next, effect.error);
  next.status = 'running';
  next.jobId = effect.jobId;
  delete next.retryAt;
  ctx.effects.push(effect);
  armTimer(ctx, 'compensation-timeout', effect.stepKey, next.itemIndex, effect.timeoutMs, attempt);
}

/**
 * The compensate effect of a compensation's current attempt, derived from state alone (also
 * used by a new leader to reconcile); undefined when the step no longer declares one, or the
 * input template's error.
 */
export function compensationEffectFor(ctx: RunContext, task: CompensationTask): CompensateEffect | { error: StepError } | undefined {
  const step = ctx.run.data.steps[task.stepKey];
  const definition = step === undefined ? undefined : stepDefinition(ctx, step.stepId);
  if (step === undefined || !isTaskLike(definition) || definition.compensate === undefined) return undefined;
  const leaf = task.itemIndex === undefined ? step : step.items?.[task.itemIndex];
  const compensate = definition.compensate;
  let input: JsonValue = { input: leaf?.input ?? null, output: leaf?.output ?? null };
  if (compensate.input !== undefined) {
    const env = expressionEnv(ctx, scopePrefix(step.key), task.itemIndex === undefined ? undefined : { item: step.items?.[task.itemIndex]?.item ?? null, index: task.itemIndex });
    const ownView = { status: step.status, attempts: leaf?.attempt ?? 0, output: leaf?.output ?? null, error: null };
    const rendered = renderTemplate(compensate.input, { ...env, steps: { ...env.steps, [step.stepId]: ownView } });
    if (!rendered.ok) return { error: { message: `compensation input of ${step.key}: ${rendered.message}`, errorType: 'expression_error', retryable: false } };
    input = rendered.value;
  }
  const settings = resolveCompensationSettings(ctx.definition, definition, compensate);
  const jobId = compensationJobId(ctx.run.runId, step.key, task.itemIndex, ctx.run.generation, task.attempt);
  return {
    type: 'compensate',
    runId: ctx.run.runId,
    stepKey: step.key,
    stepId: step.stepId,
    ...(task.itemIndex === undefined ? {} : { itemIndex: task.itemIndex }),
    generation: ctx.run.generation,
    attempt: task.attempt,
    jobId,
    task: settings.task,
    queue: settings.queue,
    input,
    timeoutMs: settings.timeoutMs,
    idempotencyKey: jobId,
  };
}

/** A compensation succeeded: the step (or map item) becomes `compensated`; the next one starts. */
export function completeCompensation(ctx: RunContext, task: CompensationTask): void {
  cancelCompensationTimers(ctx, task);
  task.status = 'completed';
  const step = mutableStep(ctx, task.stepKey);
  if (step !== undefined) {
    if (task.itemIndex === undefined) step.status = 'compensated';
    else {
      const item = step.items?.[task.itemIndex];
      if (item !== undefined) item.status = 'compensated';
      if (step.items?.every((entry) => entry.status !== 'completed')) step.status = 'compensated';
    }
  }
  continueRollback(ctx);
}

/**
 * A compensation attempt failed (or timed out): retried with deterministic backoff under the
 * compensation's retry policy (its own `retry`, else the step's, else the defaults); when
 * retries are exhausted the run stays `rolling_back` with a clear error (see `failCompensation`).
 */
export function failCompensationAttempt(ctx: RunContext, task: CompensationTask, error: StepError): void {
  cancelCompensationTimers(ctx, task);
  const step = ctx.run.data.steps[task.stepKey];
  const definition = step === undefined ? undefined : stepDefinition(ctx, step.stepId);
  if (isTaskLike(definition) && definition.compensate !== undefined) {
    const policy = resolveCompensationSettings(ctx.definition, definition, definition.compensate).retry;
    if (shouldRetry(policy, task.attempt, error.errorType, error.retryable ?? true)) {
      const seed = jitterSeed(ctx.run.runId, `${task.stepKey}#compensate`, ctx.run.generation, task.attempt, task.itemIndex === undefined ? undefined : String(task.itemIndex));
      const delay = backoffDelay(policy, task.attempt, seed);
      task.retryAt = ctx.at + delay;
      task.error = error;
      armTimer(ctx, 'compensation-retry', task.stepKey, task.itemIndex, delay, task.attempt);
      return;
    }
  }
  failCompensation(ctx, task, error);
}

function cancelCompensationTimers(ctx: RunContext, task: CompensationTask): void {
  cancelTimersWhere(ctx, (timer) => timer.stepKey === task.stepKey && timer.itemIndex === task.itemIndex && (timer.kind === 'compensation-timeout' || timer.kind === 'compensation-retry'));
}

/**
 * A compensation failed for good: the run stays `rolling_back` with a clear error. The operator
 * may send another RollbackRun (compensated steps are not compensated twice) or cancel the run.
 */
export function failCompensation(ctx: RunContext, task: CompensationTask, error: { message: string; errorType: string; retryable?: boolean }): void {
  task.status = 'failed';
  delete task.retryAt;
  task.error = { message: error.message, errorType: error.errorType, ...(error.retryable === undefined ? {} : { retryable: error.retryable }) };
  updateLastRollbackRecord(ctx, { status: 'compensation_failed' });
  const where = task.itemIndex === undefined ? task.stepKey : `${task.stepKey}[${task.itemIndex}]`;
  ctx.run.error = {
    message: `compensation ${task.task} of step ${where} failed: ${error.message}; the run stays rolling_back — retry the rollback or cancel the run`,
    errorType: 'compensation_failed',
    retryable: false,
  };
}

function restoreCheckpoint(ctx: RunContext): void {
  const run = ctx.run;
  const pending = run.pendingRollback;
  if (pending === undefined) return;
  const checkpoint = findCheckpoint(run.checkpoints, pending.checkpointId);
  const patched = checkpoint === undefined ? undefined : patchRunData(checkpoint.data, pending.patch, ctx.graph);
  if (patched === undefined || !patched.ok) {
    run.error = { message: `checkpoint ${pending.checkpointId} can no longer be restored`, errorType: 'internal_error', retryable: false };
    updateLastRollbackRecord(ctx, { status: 'compensation_failed' });
    return;
  }
  run.data = patched.data;
  // The restored objects are hashed now, so they are frozen like committed ones (copied on write).
  const restoredStateHash = runDataHash(patched.data);
  ctx.ownedSteps.clear();
  ctx.ownsAllSteps = false;
  updateLastRollbackRecord(ctx, { status: 'restored', restoredStateHash });
  delete run.pendingRollback;
  delete run.error;
  delete run.output;
  run.status = 'running';
  if (budgetExceeded(run)) run.waitReason = 'budget_exceeded';
  ctx.events.push({ type: 'rollback-restored', runId: run.runId, checkpointId: pending.checkpointId, generation: run.generation, restoredStateHash });
}

/** Rollback records are shared with earlier states: replace, never mutate. */
function updateLastRollbackRecord(ctx: RunContext, change: Partial<RollbackRecord>): void {
  const last = ctx.run.rollbacks.length - 1;
  if (last >= 0) ctx.run.rollbacks[last] = { ...ctx.run.rollbacks[last], ...change };
}

/** Marks rollbacks still compensating (or stuck on a failed compensation) as superseded. */
export function supersedeOpenRollbacks(ctx: RunContext): void {
  ctx.run.rollbacks.forEach((record, index) => {
    if (record.status === 'compensating' || record.status === 'compensation_failed') ctx.run.rollbacks[index] = { ...record, status: 'superseded' };
  });
}
