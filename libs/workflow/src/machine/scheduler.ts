import type { LoopStepDefinition } from '../definition/definition.schema';
import type { RunContext } from './apply-context';
import { isBudgetPaused } from './budget';
import { stepDefinition } from './definition-lookup';
import { completeRun } from './run-outcome';
import { advanceLoopIteration, fillMap, isStepDone, startStep } from './step-lifecycle';
import { mutableStep } from './step-access';
import { TERMINAL_RUN_STATUSES, type StepState } from './run-state';

/** Upper bound on scheduling passes per apply: far above any definition's nesting × width. */
const MAX_PASSES = 100_000;

function isAdvancing(ctx: RunContext): boolean {
  return ctx.pendingFailure === undefined && (ctx.run.status === 'running' || ctx.run.status === 'waiting' || ctx.run.status === 'pending');
}

/**
 * Drives the run forward until nothing more can start: pending steps whose dependencies are
 * done start (in topological order, declaration order among ties), maps fill free slots, loop
 * iterations end, and the run completes when every top-level step is done. Deterministic: it
 * iterates definition order, never object-key order of mutable maps.
 * Invariant: no step starts before all of its resolved dependencies are `completed`/`skipped`.
 */
export function advance(ctx: RunContext): void {
  for (let pass = 0; pass < MAX_PASSES && isAdvancing(ctx); pass++) {
    const progressed = advanceLevel(ctx, undefined, '');
    if (!isAdvancing(ctx)) return;
    const topLevel = ctx.graph.levelOf(undefined).map((id) => ctx.run.data.steps[id]);
    if (topLevel.every(isStepDone)) {
      completeRun(ctx);
      return;
    }
    if (!progressed) return;
  }
}

function advanceLevel(ctx: RunContext, loopId: string | undefined, prefix: string): boolean {
  let progressed = false;
  const paused = isBudgetPaused(ctx.run);
  for (const id of ctx.graph.topologicalOrder(loopId)) {
    if (!isAdvancing(ctx)) return true;
    const key = prefix + id;
    // Re-read the step after every action: starting or filling it replaces the shared object by a private copy.
    const pending = ctx.run.data.steps[key];
    if (pending === undefined) continue;
    if (pending.status === 'pending' && !paused) {
      const dependencies = ctx.graph.dependenciesOf(id);
      if (dependencies.every((dep) => isStepDone(ctx.run.data.steps[prefix + dep]))) {
        const step = mutableStep(ctx, key);
        if (step !== undefined) startStep(ctx, step);
        progressed = true;
      }
    }
    const map = ctx.run.data.steps[key];
    if (map.status === 'running' && map.type === 'map' && fillMap(ctx, map)) progressed = true;
    const loop = ctx.run.data.steps[key];
    if (loop.status === 'running' && loop.type === 'loop') {
      const definition = stepDefinition(ctx, id) as LoopStepDefinition;
      if (advanceLevel(ctx, id, `${key}/${loop.iteration ?? 0}/`)) progressed = true;
      const current = ctx.run.data.steps[key];
      if (isAdvancing(ctx) && current.status === 'running' && advanceLoopIteration(ctx, current, definition)) progressed = true;
    }
  }
  return progressed;
}

/**
 * Derives `running` vs `waiting` for an active run: `waiting` when paused for budget, or when
 * no task attempt is out and the run only waits for signals or sleeps.
 */
export function settleRunStatus(ctx: RunContext): void {
  const run = ctx.run;
  if (TERMINAL_RUN_STATUSES.includes(run.status) || run.status === 'rolling_back') return;
  if (isBudgetPaused(run)) {
    run.status = 'waiting';
    return;
  }
  let taskOut = false;
  let waits = false;
  forEachActiveStep(ctx, (step) => {
    if (step.status !== 'scheduled' && step.status !== 'running') return;
    if (step.type === 'task' || step.type === 'map') taskOut = true;
    else if (step.type === 'signal' || step.type === 'sleep') waits = true;
  });
  run.status = !taskOut && waits ? 'waiting' : 'running';
}

/**
 * Visits the step instances of the active scope, in definition order: the top level and,
 * recursively, the current iteration of every running loop. Cost O(definition size × loop
 * nesting), independent of how many iterations the run has been through.
 * Invariant relied upon (checked by the property tests): in a `running`/`waiting` run every
 * `scheduled`/`running` step lies in the active scope — a loop moves to its next iteration only
 * once every body step of the current one is done, and a rollback restores normalised data.
 */
export function forEachActiveStep(ctx: RunContext, visit: (step: StepState) => void): void {
  const walk = (loopId: string | undefined, prefix: string): void => {
    for (const id of ctx.graph.levelOf(loopId)) {
      const step = ctx.run.data.steps[prefix + id];
      if (step === undefined) continue;
      visit(step);
      if (step.type === 'loop' && step.status === 'running') walk(id, `${step.key}/${step.iteration ?? 0}/`);
    }
  };
  walk(undefined, '');
}
