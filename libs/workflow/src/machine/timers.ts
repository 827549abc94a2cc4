import type { RunContext } from './apply-context';
import { timerId } from './ids';
import type { TimerKind, TimerState } from './run-state';

/**
 * Arms (or re-arms) a timer: recorded in `run.timers` with an absolute due time and emitted as
 * an effect. Invariant: `run.timers` is exactly the set of timers whose firing still matters;
 * a `TimerFired` for any other id is stale and ignored.
 */
export function armTimer(ctx: RunContext, kind: TimerKind, stepKey: string, itemIndex: number | undefined, delayMs: number, attempt?: number): string {
  const id = timerId(ctx.run.runId, kind, stepKey, itemIndex, ctx.run.generation, attempt);
  const timer: TimerState = { kind, dueAt: ctx.at + delayMs, stepKey, generation: ctx.run.generation };
  if (itemIndex !== undefined) timer.itemIndex = itemIndex;
  if (attempt !== undefined) timer.attempt = attempt;
  ctx.run.timers[id] = timer;
  ctx.effects.push({ type: 'arm-timer', runId: ctx.run.runId, timerId: id, dueAt: timer.dueAt, kind });
  return id;
}

/** Cancels every active timer matching `predicate` (deterministic order: sorted ids). */
export function cancelTimersWhere(ctx: RunContext, predicate: (timer: TimerState) => boolean): void {
  for (const id of Object.keys(ctx.run.timers).sort()) {
    if (predicate(ctx.run.timers[id])) {
      delete ctx.run.timers[id];
      ctx.effects.push({ type: 'cancel-timer', runId: ctx.run.runId, timerId: id });
    }
  }
}

/** Cancels the timers of one leaf (a task step or one map item), or of a whole step when `itemIndex` is 'all'. */
export function cancelLeafTimers(ctx: RunContext, stepKey: string, itemIndex: number | undefined | 'all'): void {
  cancelTimersWhere(ctx, (timer) => timer.stepKey === stepKey && (itemIndex === 'all' || timer.itemIndex === itemIndex));
}

export function cancelAllTimers(ctx: RunContext): void {
  cancelTimersWhere(ctx, () => true);
}
