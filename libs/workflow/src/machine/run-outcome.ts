import type { StepError } from '../commands/command.schema';
import type { RunContext } from './apply-context';
import { expressionEnv } from './expression-scope';
import { renderTemplate } from './expression-port';
import { leafOf } from './leaf-lifecycle';
import type { StepState } from './run-state';
import { cancelAllTimers } from './timers';

/** Best-effort removal of a leaf's in-flight job: its result will be ignored anyway. */
export function abandonLeafJob(ctx: RunContext, step: StepState, itemIndex: number | undefined): void {
  const leaf = leafOf(step, itemIndex);
  if (leaf?.jobId === undefined || leaf.held === true) return;
  ctx.effects.push({ type: 'abandon-job', runId: ctx.run.runId, jobId: leaf.jobId });
}

/** Emits abandon-job for every in-flight attempt and the running compensation (sorted keys: deterministic). */
export function abandonAllInFlight(ctx: RunContext): void {
  for (const key of Object.keys(ctx.run.data.steps).sort()) {
    const step = ctx.run.data.steps[key];
    if (step.type === 'task' && (step.status === 'scheduled' || step.status === 'running') && step.retryAt === undefined) abandonLeafJob(ctx, step, undefined);
    if (step.type === 'map' && step.items !== undefined) {
      step.items.forEach((item, index) => {
        if ((item.status === 'scheduled' || item.status === 'running') && item.retryAt === undefined) abandonLeafJob(ctx, step, index);
      });
    }
  }
  const running = ctx.run.pendingRollback?.compensations.find((entry) => entry.status === 'running');
  if (running?.jobId !== undefined) ctx.effects.push({ type: 'abandon-job', runId: ctx.run.runId, jobId: running.jobId });
}

/** Terminal: failed. Cancels timers and abandons in-flight work. */
export function failRun(ctx: RunContext, error: StepError): void {
  abandonAllInFlight(ctx);
  cancelAllTimers(ctx);
  ctx.run.status = 'failed';
  ctx.run.error = error;
  delete ctx.run.waitReason;
  ctx.effects.push({ type: 'run-finished', runId: ctx.run.runId, status: 'failed' });
  ctx.events.push({ type: 'run-status', runId: ctx.run.runId, status: 'failed' });
}

/**
 * Terminal: completed. Output: the definition's `output` template over `{input, steps, run}`,
 * else the output of the last completed top-level step. An output expression error fails the run.
 */
export function completeRun(ctx: RunContext): void {
  let output = null as StepState['output'];
  if (ctx.definition.output !== undefined) {
    const rendered = renderTemplate(ctx.definition.output, expressionEnv(ctx, ''));
    if (!rendered.ok) return failRun(ctx, { message: `run output: ${rendered.message}`, errorType: 'expression_error', retryable: false });
    output = rendered.value;
  } else {
    const topLevel = new Set(ctx.graph.levelOf(undefined));
    for (let i = ctx.run.data.completions.length - 1; i >= 0; i--) {
      const record = ctx.run.data.completions[i];
      if (record.itemIndex === undefined && topLevel.has(record.stepKey)) {
        output = ctx.run.data.steps[record.stepKey]?.output ?? null;
        break;
      }
    }
  }
  cancelAllTimers(ctx);
  ctx.run.status = 'completed';
  ctx.run.output = output ?? null;
  delete ctx.run.waitReason;
  ctx.effects.push({ type: 'run-finished', runId: ctx.run.runId, status: 'completed' });
  ctx.events.push({ type: 'run-status', runId: ctx.run.runId, status: 'completed' });
}
