import type { StepError } from '../commands/command.schema';
import type { JsonValue } from '../definition/json-value';
import type { LoopStepDefinition, MapStepDefinition } from '../definition/definition.schema';
import type { PendingFailure, RunContext } from './apply-context';
import { isBudgetPaused } from './budget';
import { takeCheckpoint } from './checkpoints';
import { parentLoopKey, scopePrefix, stepDefinition } from './definition-lookup';
import { evaluateCondition, evaluateList, renderTemplate } from './expression-port';
import { expressionEnv } from './expression-scope';
import { scheduleAttempt } from './leaf-lifecycle';
import type { StepState } from './run-state';
import { armTimer, cancelLeafTimers } from './timers';
import { abandonLeafJob } from './run-outcome';
import { mutableStep, ownStep, writeStep } from './step-access';

/** Statuses after which a step no longer blocks its dependents. */
export function isStepDone(step: StepState | undefined): boolean {
  return step !== undefined && (step.status === 'completed' || step.status === 'skipped');
}

/** Creates the `pending` instances of one level (top level: prefix ''; loop iteration: `loopKey/i/`). */
export function createLevelSteps(ctx: RunContext, loopId: string | undefined, prefix: string): void {
  for (const id of ctx.graph.levelOf(loopId)) {
    const definition = stepDefinition(ctx, id);
    if (definition === undefined) continue;
    writeStep(ctx, prefix + id, { key: prefix + id, stepId: id, type: definition.type, status: 'pending', attempt: 0, generation: ctx.run.generation });
    ownStep(ctx, prefix + id);
  }
}

function expressionError(message: string): StepError {
  return { message, errorType: 'expression_error', retryable: false };
}

/**
 * Starts a pending step whose dependencies are done: evaluates `when` (false ⇒ `skipped`),
 * then starts it by type. An expression error fails the step with a clear message; it never
 * throws out of apply.
 */
export function startStep(ctx: RunContext, step: StepState): void {
  const definition = stepDefinition(ctx, step.stepId);
  if (definition === undefined) return failStep(ctx, step, { message: `unknown step ${step.stepId}`, errorType: 'internal_error', retryable: false });
  const prefix = scopePrefix(step.key);
  if (definition.when !== undefined) {
    const guard = evaluateCondition(definition.when, expressionEnv(ctx, prefix));
    if (!guard.ok) return failStep(ctx, step, expressionError(`when of step ${step.key}: ${guard.message}`));
    if (!guard.value) {
      step.status = 'skipped';
      step.finishedAt = ctx.at;
      return;
    }
  }
  step.startedAt = ctx.at;
  switch (definition.type) {
    case 'task': {
      const input = renderTemplate(definition.input, expressionEnv(ctx, prefix));
      if (!input.ok) return failStep(ctx, step, expressionError(`input of step ${step.key}: ${input.message}`));
      step.input = input.value;
      return scheduleAttempt(ctx, step, undefined, 1);
    }
    case 'sleep':
      step.status = 'running';
      step.dueAt = ctx.at + definition.durationMs;
      armTimer(ctx, 'sleep', step.key, undefined, definition.durationMs);
      return;
    case 'signal':
      return startSignal(ctx, step, definition.signal, definition.timeoutMs);
    case 'map':
      return startMap(ctx, step, definition, prefix);
    case 'loop':
      step.status = 'running';
      step.iteration = 0;
      createLevelSteps(ctx, definition.id, `${step.key}/0/`);
      return;
  }
}

function startSignal(ctx: RunContext, step: StepState, signal: string, timeoutMs: number | undefined): void {
  step.status = 'running';
  const buffered = ctx.run.signalBuffer.findIndex((entry) => entry.signal === signal);
  if (buffered >= 0) {
    const [entry] = ctx.run.signalBuffer.splice(buffered, 1);
    step.signalAt = entry.at;
    completeStep(ctx, step, entry.payload);
    return;
  }
  if (timeoutMs !== undefined) {
    step.dueAt = ctx.at + timeoutMs;
    armTimer(ctx, 'signal-timeout', step.key, undefined, timeoutMs);
  }
}

/** Delivers a signal to a waiting signal step. */
export function deliverSignal(ctx: RunContext, step: StepState, payload: JsonValue): void {
  cancelLeafTimers(ctx, step.key, undefined);
  step.signalAt = ctx.at;
  completeStep(ctx, step, payload);
}

function startMap(ctx: RunContext, step: StepState, definition: MapStepDefinition, prefix: string): void {
  const items = evaluateList(definition.items, expressionEnv(ctx, prefix));
  if (!items.ok) return failStep(ctx, step, expressionError(`items of step ${step.key}: ${items.message}`));
  step.status = 'running';
  step.items = items.value.map((item) => ({ item, status: 'pending', attempt: 0, generation: ctx.run.generation }));
  if (step.items.length === 0) return completeStep(ctx, step, []);
  fillMap(ctx, step);
}

/**
 * Starts pending map items in index order while fewer than `maxConcurrency` items are in
 * flight (scheduled, running or waiting for a retry). Invariant: in-flight items ≤ maxConcurrency.
 * Returns true if it started any item.
 */
export function fillMap(ctx: RunContext, shared: StepState): boolean {
  const definition = stepDefinition(ctx, shared.stepId);
  if (definition?.type !== 'map' || shared.items === undefined || shared.status !== 'running' || isBudgetPaused(ctx.run)) return false;
  let inFlight = shared.items.filter((item) => item.status === 'scheduled' || item.status === 'running').length;
  if (inFlight >= definition.maxConcurrency || !shared.items.some((item) => item.status === 'pending')) return false;
  const step = mutableStep(ctx, shared.key) ?? shared;
  if (step.items === undefined) return false;
  let started = false;
  for (let index = 0; index < step.items.length && inFlight < definition.maxConcurrency; index++) {
    const item = step.items[index];
    if (item.status !== 'pending') continue;
    const env = expressionEnv(ctx, scopePrefix(step.key), { item: item.item, index });
    const input = definition.input === undefined ? { ok: true as const, value: item.item } : renderTemplate(definition.input, env);
    if (!input.ok) {
      failStep(ctx, step, expressionError(`input of step ${step.key} item ${index}: ${input.message}`));
      return true;
    }
    item.input = input.value;
    scheduleAttempt(ctx, step, index, 1);
    inFlight++;
    started = true;
  }
  return started;
}

/** After an item completed: fan in (outputs in item order) when all are done, else start more items. */
export function onMapItemCompleted(ctx: RunContext, step: StepState, itemIndex: number): void {
  const item = step.items?.[itemIndex];
  if (item === undefined || step.items === undefined) return;
  item.completionSeq = ++ctx.run.completionSeq;
  ctx.run.data.completions.push({ seq: item.completionSeq, stepKey: step.key, itemIndex });
  if (step.items.every((entry) => entry.status === 'completed')) {
    completeStep(ctx, step, step.items.map((entry) => entry.output ?? null));
    return;
  }
  fillMap(ctx, step);
}

/**
 * Marks a step completed, appends it to the completion order and takes the checkpoints it
 * triggers (`checkpoint: true`, or every `checkpointEvery` completed steps).
 */
export function completeStep(ctx: RunContext, step: StepState, output: JsonValue): void {
  step.status = 'completed';
  step.output = output;
  step.finishedAt = ctx.at;
  delete step.error;
  step.completionSeq = ++ctx.run.completionSeq;
  ctx.run.data.completions.push({ seq: step.completionSeq, stepKey: step.key });
  ctx.run.data.completedSinceCheckpoint++;
  const definition = stepDefinition(ctx, step.stepId);
  const every = ctx.definition.checkpointEvery;
  if (definition?.checkpoint === true) takeCheckpoint(ctx, 'step', { afterStep: step.key });
  else if (every !== undefined && ctx.run.data.completedSinceCheckpoint >= every) takeCheckpoint(ctx, 'every', { afterStep: step.key });
}

/**
 * Marks a step failed and propagates: a failed step inside a loop iteration fails the loop; a
 * failed top-level step becomes the run's pending failure (handled by the run-level policy:
 * automatic rollback or run failure) and stops the current advance pass. The pending failure
 * keeps the root cause (innermost step, map item and original error) for `lastFailure`.
 */
export function failStep(ctx: RunContext, step: StepState, error: StepError, rootCause?: PendingFailure): void {
  const cause = rootCause ?? { stepKey: step.key, error };
  step.status = 'failed';
  step.error = error;
  step.finishedAt = ctx.at;
  cancelLeafTimers(ctx, step.key, 'all');
  for (const [index, item] of (step.items ?? []).entries()) {
    if (item.status === 'scheduled' || item.status === 'running') abandonLeafJob(ctx, step, index);
  }
  const parent = parentLoopKey(step.key);
  if (parent !== undefined) {
    const loop = mutableStep(ctx, parent);
    if (loop !== undefined && loop.status === 'running') {
      failStep(ctx, loop, { message: `step ${step.key} failed: ${error.message}`, errorType: error.errorType, retryable: false }, cause);
      return;
    }
  }
  ctx.pendingFailure ??= cause;
}

/**
 * Ends the current iteration of a running loop once every body step is done: evaluates
 * `until`, then completes the loop, starts the next iteration, or applies `onMaxIterations`.
 * Returns true if the loop changed.
 */
export function advanceLoopIteration(ctx: RunContext, shared: StepState, definition: LoopStepDefinition): boolean {
  const iteration = shared.iteration ?? 0;
  const prefix = `${shared.key}/${iteration}/`;
  if (!ctx.graph.levelOf(definition.id).every((id) => isStepDone(ctx.run.data.steps[prefix + id]))) return false;
  const step = mutableStep(ctx, shared.key) ?? shared;
  const until = evaluateCondition(definition.until, expressionEnv(ctx, prefix));
  if (!until.ok) {
    failStep(ctx, step, expressionError(`until of step ${step.key}: ${until.message}`));
    return true;
  }
  // The loop's output: the body outputs of its last iteration, by step id.
  const lastOutputs = (): JsonValue => {
    const outputs: Record<string, JsonValue> = {};
    for (const id of ctx.graph.levelOf(definition.id)) outputs[id] = ctx.run.data.steps[prefix + id]?.output ?? null;
    return outputs;
  };
  if (until.value) {
    completeStep(ctx, step, lastOutputs());
    return true;
  }
  if (iteration + 1 >= definition.maxIterations) {
    if (definition.onMaxIterations === 'complete') {
      step.exhausted = true;
      completeStep(ctx, step, lastOutputs());
    } else failStep(ctx, step, { message: `loop ${step.key} reached maxIterations (${definition.maxIterations}) before until held`, errorType: 'loop_exhausted', retryable: false });
    return true;
  }
  step.iteration = iteration + 1;
  createLevelSteps(ctx, definition.id, `${step.key}/${iteration + 1}/`);
  return true;
}
