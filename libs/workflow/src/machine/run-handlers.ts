import type { CommandOf } from '../commands/command.schema';
import type { RunContext } from './apply-context';
import { budgetExceeded, isBudgetPaused } from './budget';
import { takeCheckpoint } from './checkpoints';
import { parentLoopKey, stepDefinition } from './definition-lookup';
import { completeLeaf, dispatchLeaf, failLeafAttempt, isLeafAwaitingResult, leafOf, markLeafStarted, recordHeartbeat, scheduleAttempt } from './leaf-lifecycle';
import type { IgnoredReason, RejectedReason } from './machine-events';
import { beginRollback, completeCompensation, continueRollback, dispatchCompensation, failCompensationAttempt, supersedeOpenRollbacks } from './rollback';
import { abandonAllInFlight } from './run-outcome';
import { settle } from './run-failure';
import { TERMINAL_RUN_STATUSES, type StepState, type TimerState } from './run-state';
import { completeStep, deliverSignal, failStep, onMapItemCompleted } from './step-lifecycle';
import { cancelAllTimers } from './timers';
import { mutableStep } from './step-access';
import { forEachActiveStep } from './scheduler';

type AttemptCommand = CommandOf<'StepAttemptDispatched' | 'StepAttemptStarted' | 'StepHeartbeat' | 'StepCompleted' | 'StepFailed' | 'StepTimedOut'>;

/** Records a valid command that had no effect (stale, late or inapplicable); it still enters the run's chain. */
export function ignore(ctx: RunContext, command: { type: AttemptCommand['type'] | string }, reason: IgnoredReason, detail: string): void {
  ctx.run.ignoredCommands++;
  ctx.events.push({ type: 'ignored', command: command.type as never, runId: ctx.run.runId, reason, detail });
}

/** Records a refused command (well-formed, not acceptable); it still enters the run's chain. */
export function reject(ctx: RunContext, command: { type: string }, reason: RejectedReason, detail: string): void {
  ctx.run.ignoredCommands++;
  ctx.events.push({ type: 'rejected', command: command.type as never, runId: ctx.run.runId, reason, detail });
}

function applied(ctx: RunContext, command: { type: string }): void {
  ctx.events.push({ type: 'applied', command: command.type as never, runId: ctx.run.runId });
}

function isFinished(ctx: RunContext): boolean {
  return TERMINAL_RUN_STATUSES.includes(ctx.run.status);
}

/**
 * Finds the leaf a result addresses, or says why the result is stale (invariant 3: only the
 * first result of the current attempt in the current generation is applied).
 */
function resolveAttempt(ctx: RunContext, command: AttemptCommand): { step: StepState } | { reason: IgnoredReason; detail: string } {
  if (isFinished(ctx)) return { reason: 'run_finished', detail: `run is ${ctx.run.status}` };
  if (command.generation !== ctx.run.generation) return { reason: 'stale_generation', detail: `generation ${command.generation}, run is at ${ctx.run.generation}` };
  const step = ctx.run.data.steps[command.stepKey];
  if (step === undefined) return { reason: 'unknown_step', detail: `no step ${command.stepKey}` };
  const leaf = leafOf(step, command.itemIndex);
  if (leaf === undefined || (step.type !== 'task' && step.type !== 'map') || (step.type === 'map') !== (command.itemIndex !== undefined))
    return { reason: 'unknown_step', detail: `no task leaf ${command.stepKey}${command.itemIndex === undefined ? '' : `[${command.itemIndex}]`}` };
  if (leaf.attempt !== command.attempt || leaf.generation !== command.generation)
    return { reason: 'stale_attempt', detail: `attempt ${command.attempt}, current attempt is ${leaf.attempt}` };
  if (!isLeafAwaitingResult(leaf)) return { reason: 'step_not_active', detail: `attempt ${command.attempt} is ${leaf.retryAt === undefined ? leaf.status : 'already failed'}` };
  return { step };
}

/** Attempt lifecycle commands: applied only to the current attempt of the current generation of an active leaf. */
export function onAttemptCommand(ctx: RunContext, command: AttemptCommand): void {
  const resolved = resolveAttempt(ctx, command);
  if ('reason' in resolved) return ignore(ctx, command, resolved.reason, resolved.detail);
  const step = mutableStep(ctx, resolved.step.key) ?? resolved.step;
  const itemIndex = command.itemIndex;
  switch (command.type) {
    case 'StepAttemptDispatched': {
      const leaf = leafOf(step, itemIndex);
      if (leaf !== undefined) leaf.dispatchedAt = command.at;
      break;
    }
    case 'StepAttemptStarted':
      markLeafStarted(ctx, step, itemIndex);
      break;
    case 'StepHeartbeat':
      recordHeartbeat(ctx, step, itemIndex);
      break;
    case 'StepCompleted':
      completeLeaf(ctx, step, itemIndex, command.output, command.usage);
      if (itemIndex === undefined) completeStep(ctx, step, command.output);
      else onMapItemCompleted(ctx, step, itemIndex);
      break;
    case 'StepFailed':
      onLeafFailure(ctx, step, itemIndex, command.error, command.usage);
      break;
    case 'StepTimedOut':
      onLeafFailure(ctx, step, itemIndex, { message: `attempt ${command.attempt} timed out`, errorType: 'timeout' });
      break;
  }
  applied(ctx, command);
  settle(ctx);
}

function onLeafFailure(ctx: RunContext, step: StepState, itemIndex: number | undefined, error: CommandOf<'StepFailed'>['error'], usage?: CommandOf<'StepFailed'>['usage']): void {
  if (!failLeafAttempt(ctx, step, itemIndex, error, usage)) return;
  if (itemIndex === undefined) failStep(ctx, step, error);
  else failStep(ctx, step, { message: `item ${itemIndex} failed: ${error.message}`, errorType: error.errorType, retryable: false }, { stepKey: step.key, itemIndex, error });
}

/** A durable timer fired: applied only if it is still armed in `run.timers` (otherwise stale). */
export function onTimerFired(ctx: RunContext, command: CommandOf<'TimerFired'>): void {
  const timer = ctx.run.timers[command.timerId];
  if (timer === undefined || isFinished(ctx)) return ignore(ctx, command, 'stale_timer', `timer ${command.timerId} is not armed`);
  delete ctx.run.timers[command.timerId];
  if (timer.kind === 'compensation-timeout' || timer.kind === 'compensation-retry') return onCompensationTimer(ctx, command, timer);
  const step = mutableStep(ctx, timer.stepKey);
  const leaf = step === undefined ? undefined : leafOf(step, timer.itemIndex);
  if (step === undefined || leaf === undefined) return ignore(ctx, command, 'stale_timer', `timer ${command.timerId} has no step`);
  switch (timer.kind) {
    case 'retry':
      if (leaf.retryAt === undefined || leaf.attempt !== timer.attempt) return ignore(ctx, command, 'stale_timer', 'no retry pending');
      scheduleAttempt(ctx, step, timer.itemIndex, leaf.attempt + 1);
      break;
    case 'step-timeout':
    case 'heartbeat-timeout': {
      if (!isLeafAwaitingResult(leaf) || leaf.attempt !== timer.attempt) return ignore(ctx, command, 'stale_timer', 'attempt no longer active');
      const what = timer.kind === 'step-timeout' ? 'timed out' : 'missed its heartbeat deadline';
      onLeafFailure(ctx, step, timer.itemIndex, { message: `attempt ${leaf.attempt} of ${step.key} ${what}`, errorType: timer.kind === 'step-timeout' ? 'timeout' : 'heartbeat_timeout' });
      break;
    }
    case 'sleep':
      if (step.status !== 'running') return ignore(ctx, command, 'stale_timer', 'sleep not running');
      completeStep(ctx, step, null);
      break;
    case 'signal-timeout': {
      if (step.status !== 'running') return ignore(ctx, command, 'stale_timer', 'signal wait not running');
      const definition = stepDefinition(ctx, step.stepId);
      const signal = definition?.type === 'signal' ? definition.signal : '?';
      failStep(ctx, step, { message: `no signal ${signal} received within the step timeout`, errorType: 'signal_timeout', retryable: false });
      break;
    }
  }
  applied(ctx, command);
  settle(ctx);
}

function onCompensationTimer(ctx: RunContext, command: CommandOf<'TimerFired'>, timer: TimerState): void {
  const task = ctx.run.pendingRollback?.compensations.find((entry) => entry.status === 'running' && entry.stepKey === timer.stepKey && entry.itemIndex === timer.itemIndex);
  if (task === undefined || task.attempt !== timer.attempt || ctx.run.status !== 'rolling_back') return ignore(ctx, command, 'stale_timer', 'no such compensation attempt');
  if (timer.kind === 'compensation-retry') {
    if (task.retryAt === undefined) return ignore(ctx, command, 'stale_timer', 'no compensation retry pending');
    dispatchCompensation(ctx, task, task.attempt + 1);
  } else {
    if (task.retryAt !== undefined) return ignore(ctx, command, 'stale_timer', 'compensation attempt already failed');
    failCompensationAttempt(ctx, task, { message: `compensation attempt ${task.attempt} timed out`, errorType: 'timeout' });
  }
  applied(ctx, command);
  if (ctx.run.status !== 'rolling_back') settle(ctx);
}

/** Delivers a signal to the first waiting signal step of that name (sorted keys), else buffers it. */
export function onSignalReceived(ctx: RunContext, command: CommandOf<'SignalReceived'>): void {
  if (isFinished(ctx)) return ignore(ctx, command, 'run_finished', `run is ${ctx.run.status}`);
  // Waiting signal steps only exist in the active scope (see forEachActiveStep): the first by key order wins.
  let waiting: StepState | undefined;
  if (ctx.run.status !== 'rolling_back') {
    forEachActiveStep(ctx, (step) => {
      if (step.type !== 'signal' || step.status !== 'running') return;
      if (waiting !== undefined && waiting.key < step.key) return;
      const definition = stepDefinition(ctx, step.stepId);
      if (definition?.type === 'signal' && definition.signal === command.signal && isInActiveScope(ctx, step.key)) waiting = step;
    });
  }
  const target = waiting === undefined ? undefined : mutableStep(ctx, waiting.key);
  if (target === undefined) ctx.run.signalBuffer.push({ signal: command.signal, payload: command.payload, at: command.at });
  else deliverSignal(ctx, target, command.payload);
  applied(ctx, command);
  settle(ctx);
}

function isInActiveScope(ctx: RunContext, key: string): boolean {
  const parent = parentLoopKey(key);
  return parent === undefined || ctx.run.data.steps[parent]?.status === 'running';
}

/** Cancels a non-terminal run: timers cancelled, in-flight work abandoned, open rollbacks superseded. */
export function onCancelRun(ctx: RunContext, command: CommandOf<'CancelRun'>): void {
  if (isFinished(ctx)) return ignore(ctx, command, 'run_finished', `run is ${ctx.run.status}`);
  abandonAllInFlight(ctx);
  cancelAllTimers(ctx);
  supersedeOpenRollbacks(ctx);
  delete ctx.run.pendingRollback;
  delete ctx.run.waitReason;
  ctx.run.status = 'cancelled';
  ctx.run.cancel = { reason: command.reason, actor: command.actor, at: command.at };
  ctx.effects.push({ type: 'run-finished', runId: ctx.run.runId, status: 'cancelled' });
  ctx.events.push({ type: 'run-status', runId: ctx.run.runId, status: 'cancelled' });
  applied(ctx, command);
}

/** On-demand checkpoint of an active run (not while rolling back or finished). */
export function onTakeCheckpoint(ctx: RunContext, command: CommandOf<'TakeCheckpoint'>): void {
  if (ctx.run.status !== 'running' && ctx.run.status !== 'waiting' && ctx.run.status !== 'pending')
    return ignore(ctx, command, 'run_not_active', `cannot checkpoint a run that is ${ctx.run.status}`);
  takeCheckpoint(ctx, 'manual', command.label === undefined ? {} : { label: command.label });
  applied(ctx, command);
}

/** Operator rollback (see `beginRollback`); a refusal is recorded as rejected with its reason. */
export function onRollbackRun(ctx: RunContext, command: CommandOf<'RollbackRun'>): void {
  const outcome = beginRollback(ctx, {
    checkpointId: command.checkpointId,
    ...(command.patch === undefined ? {} : { patch: command.patch }),
    reason: command.reason,
    actor: command.actor,
    force: command.force,
    automatic: false,
  });
  if (!outcome.ok) return reject(ctx, command, outcome.reason, outcome.detail);
  applied(ctx, command);
  settle(ctx);
}

/** Result of the running compensation attempt of the current generation; anything else is stale. */
export function onCompensationResult(ctx: RunContext, command: CommandOf<'CompensationCompleted' | 'CompensationFailed'>): void {
  const pending = ctx.run.pendingRollback;
  if (pending === undefined || ctx.run.status !== 'rolling_back') return ignore(ctx, command, 'no_pending_rollback', 'no rollback in progress');
  if (command.generation !== ctx.run.generation) return ignore(ctx, command, 'stale_generation', `generation ${command.generation}, run is at ${ctx.run.generation}`);
  const task = pending.compensations.find((entry) => entry.status === 'running' && entry.stepKey === command.stepKey && entry.itemIndex === command.itemIndex);
  if (task === undefined || task.attempt !== command.attempt || task.retryAt !== undefined)
    return ignore(ctx, command, 'stale_compensation', `no running compensation attempt ${command.attempt} for ${command.stepKey}`);
  if (command.type === 'CompensationCompleted') completeCompensation(ctx, task);
  else failCompensationAttempt(ctx, task, command.error);
  applied(ctx, command);
  if (ctx.run.status !== 'rolling_back') settle(ctx);
}

/** Sets new budget limits (recorded with actor and reason); resumes a budget-paused run that is back under budget. */
export function onRaiseBudget(ctx: RunContext, command: CommandOf<'RaiseBudget'>): void {
  if (isFinished(ctx)) return ignore(ctx, command, 'run_finished', `run is ${ctx.run.status}`);
  if (command.maxTokens === undefined && command.maxCost === undefined) return reject(ctx, command, 'invalid_budget', 'give maxTokens or maxCost');
  const budget = { ...(ctx.run.budget ?? {}) };
  if (command.maxTokens !== undefined) budget.maxTokens = command.maxTokens;
  if (command.maxCost !== undefined) budget.maxCost = command.maxCost;
  ctx.run.budget = budget;
  ctx.run.budgetChanges.push({
    ...(command.maxTokens === undefined ? {} : { maxTokens: command.maxTokens }),
    ...(command.maxCost === undefined ? {} : { maxCost: command.maxCost }),
    reason: command.reason,
    actor: command.actor,
    at: command.at,
  });
  if (isBudgetPaused(ctx.run) && !budgetExceeded(ctx.run)) {
    delete ctx.run.waitReason;
    releaseHeldAttempts(ctx);
  } else if (!isBudgetPaused(ctx.run) && budgetExceeded(ctx.run) && ctx.run.status !== 'rolling_back') ctx.run.waitReason = 'budget_exceeded';
  applied(ctx, command);
  if (ctx.run.status !== 'rolling_back') settle(ctx);
  else continueRollback(ctx);
}

/** Dispatches attempts that were held while the run was paused for budget (sorted keys: deterministic). */
function releaseHeldAttempts(ctx: RunContext): void {
  for (const key of Object.keys(ctx.run.data.steps).sort()) {
    const shared = ctx.run.data.steps[key];
    if (shared.held !== true && !(shared.items ?? []).some((item) => item.held === true)) continue;
    const step = mutableStep(ctx, key) ?? shared;
    if (step.held === true) dispatchLeaf(ctx, step, undefined);
    step.items?.forEach((item, index) => {
      if (item.held === true) dispatchLeaf(ctx, step, index);
    });
  }
}
