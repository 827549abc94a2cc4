import type { PendingFailure, RunContext } from './apply-context';
import { lastCheckpointInLineage } from './checkpoints';
import { beginRollback } from './rollback';
import { failRun } from './run-outcome';
import { advance, settleRunStatus } from './scheduler';

/**
 * Run-level failure policy for a step that failed after its retries. With `onFailure` and
 * fewer than `maxRollbacks` automatic rollbacks so far, rolls back to the last checkpoint on
 * the current branch (never across irreversible effects: that fails the run instead);
 * otherwise the run fails. `lastFailure` and the rollback count are recorded first, so the
 * next attempts see them in their dispatch context (`ctx.rollbacks`, `ctx.lastFailure`).
 */
export function handleRunFailure(ctx: RunContext, failure: PendingFailure): void {
  const run = ctx.run;
  run.lastFailure = {
    stepKey: failure.stepKey,
    ...(failure.itemIndex === undefined ? {} : { itemIndex: failure.itemIndex }),
    error: failure.error,
    generation: run.generation,
    at: ctx.at,
  };
  const where = failure.itemIndex === undefined ? failure.stepKey : `${failure.stepKey}[${failure.itemIndex}]`;
  const stepError = { message: `step ${where} failed: ${failure.error.message}`, errorType: failure.error.errorType, retryable: false };
  const policy = ctx.definition.onFailure;
  if (policy !== undefined && run.autoRollbacks < policy.maxRollbacks) {
    const checkpoint = lastCheckpointInLineage(run.data, run.checkpoints);
    if (checkpoint !== undefined) {
      run.autoRollbacks++;
      const outcome = beginRollback(ctx, {
        checkpointId: checkpoint.id,
        reason: `automatic rollback ${run.autoRollbacks}/${policy.maxRollbacks}: ${stepError.message}`,
        actor: 'system',
        force: false,
        automatic: true,
      });
      if (outcome.ok) return;
      run.autoRollbacks--;
      return failRun(ctx, { ...stepError, message: `${stepError.message} (automatic rollback refused: ${outcome.detail})` });
    }
  }
  failRun(ctx, stepError);
}

/**
 * Brings the run to rest after a command: advance, hand any top-level step failure to the
 * run-level policy (which may roll back and resume), repeat, then derive running/waiting.
 * Terminates: every automatic rollback increments `autoRollbacks`, which is bounded.
 */
export function settle(ctx: RunContext): void {
  for (;;) {
    advance(ctx);
    const failure = ctx.pendingFailure;
    if (failure === undefined) break;
    ctx.pendingFailure = undefined;
    if (ctx.run.status === 'running' || ctx.run.status === 'waiting' || ctx.run.status === 'pending') handleRunFailure(ctx, failure);
  }
  settleRunStatus(ctx);
}
