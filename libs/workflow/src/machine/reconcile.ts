import type { ApplyMeta, RunContext } from './apply-context';
import { graphOf, isTaskLike } from './definition-lookup';
import type { Effect } from './effects';
import { dispatchEffectFor, isLeafAwaitingResult } from './leaf-lifecycle';
import { compensationEffectFor } from './rollback';
import { TERMINAL_RUN_STATUSES, type MachineState } from './run-state';

/**
 * Every effect a newly elected leader must (re)perform, derived from state alone: a dispatch for
 * every attempt awaiting its result, an arm-timer for every armed timer, a compensate for every
 * running compensation attempt. All are idempotent (deterministic job and timer ids), so
 * re-performing ones the old leader already did is harmless. Pure; runs sorted by id.
 */
export function reconcileEffects(state: MachineState): Effect[] {
  const effects: Effect[] = [];
  for (const runId of Object.keys(state.runs).sort()) {
    const run = state.runs[runId];
    if (TERMINAL_RUN_STATUSES.includes(run.status)) continue;
    const workflow = state.workflows[run.workflow]?.versions[String(run.version)]?.definition;
    if (workflow === undefined) continue;
    const graph = graphOf(workflow);
    if (run.status !== 'rolling_back') {
      for (const key of Object.keys(run.data.steps).sort()) {
        const step = run.data.steps[key];
        const definition = graph.locations.get(step.stepId)?.step;
        if (!isTaskLike(definition)) continue;
        const leaves = step.type === 'map' ? (step.items ?? []).map((item, index) => ({ leaf: item, index: index as number | undefined })) : [{ leaf: step, index: undefined }];
        for (const { leaf, index } of leaves) {
          if (!isLeafAwaitingResult(leaf)) continue;
          const effect = dispatchEffectFor(run, workflow, definition, step, index);
          if (effect !== undefined) effects.push(effect);
        }
      }
    }
    for (const timerId of Object.keys(run.timers).sort()) {
      const timer = run.timers[timerId];
      effects.push({ type: 'arm-timer', runId, timerId, dueAt: timer.dueAt, kind: timer.kind });
    }
    const running = run.pendingRollback?.compensations.find((task) => task.status === 'running' && task.retryAt === undefined);
    if (running !== undefined) {
      const meta: ApplyMeta = { logIndex: 0 };
      // A read-only context: compensationEffectFor only reads the run and the definition.
      const ctx: RunContext = { at: run.updatedAt, meta, run, definition: workflow, graph, effects: [], events: [], ownedSteps: new Set(), ownsAllSteps: false };
      const effect = compensationEffectFor(ctx, running);
      if (effect !== undefined && !('error' in effect)) effects.push(effect);
    }
  }
  return effects;
}
