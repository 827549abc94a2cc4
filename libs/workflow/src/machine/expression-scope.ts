import type { JsonValue } from '../definition/json-value';
import type { RunContext } from './apply-context';
import { iterationScopes } from './definition-lookup';
import type { RunExpressionContext, StepExpressionContext } from '../expressions';
import type { ExpressionEnv } from './expression-port';
import type { StepState } from './run-state';

/**
 * The `{input, steps, run}` view an expression evaluated in scope `prefix` sees.
 * `steps.<id>` is present once that step has started (absent while `pending`). Step ids are
 * unique across the definition, so every id names one instance: a top-level step itself; a
 * loop body step its latest started instance in the loop's current (or last) iteration or,
 * if not started there yet, in the closest earlier iteration — so `reason` sees the previous
 * iteration's `act`, and steps after a loop see its last iteration. `run.iteration` is the
 * innermost enclosing iteration of `prefix` (0 outside loops). Only this run's data is read
 * (per-run decomposition).
 */
export function expressionEnv(ctx: RunContext, prefix: string, extra?: { item: JsonValue; index: number }): ExpressionEnv {
  const steps: Record<string, StepExpressionContext> = {};
  const resolved = new Map<string, { key: string; iteration?: number } | null>();
  const resolve = (id: string): { key: string; iteration?: number } | null => {
    const cached = resolved.get(id);
    if (cached !== undefined) return cached;
    let found: { key: string; iteration?: number } | null = null;
    const location = ctx.graph.locations.get(id);
    if (location !== undefined) {
      if (location.loopId === undefined) found = ctx.run.data.steps[id] === undefined ? null : { key: id };
      else {
        const parent = resolve(location.loopId);
        const loop = parent === null ? undefined : ctx.run.data.steps[parent.key];
        if (parent !== null && loop?.iteration !== undefined) {
          for (let iteration = loop.iteration; iteration >= 0 && found === null; iteration--) {
            const key = `${parent.key}/${iteration}/${id}`;
            const state = ctx.run.data.steps[key];
            if (state !== undefined && state.status !== 'pending') found = { key, iteration };
          }
        }
      }
    }
    resolved.set(id, found);
    return found;
  };
  for (const id of ctx.graph.locations.keys()) {
    const instance = resolve(id);
    const state = instance === null ? undefined : ctx.run.data.steps[instance.key];
    if (instance !== null && state !== undefined && state.status !== 'pending') steps[id] = stepView(state, instance.iteration);
  }
  const scopes = iterationScopes(prefix);
  const iteration = scopes.length === 0 ? 0 : scopes[scopes.length - 1].iteration;
  const run = ctx.run;
  const runView: RunExpressionContext = {
    id: run.runId,
    workflow: run.workflow,
    version: run.version,
    generation: run.generation,
    rollbacks: run.rollbacks.length,
    autoRollbacks: run.autoRollbacks,
    lastFailure:
      run.lastFailure === undefined
        ? null
        : {
            stepKey: run.lastFailure.stepKey,
            ...(run.lastFailure.itemIndex === undefined ? {} : { itemIndex: run.lastFailure.itemIndex }),
            message: run.lastFailure.error.message,
            errorType: run.lastFailure.error.errorType,
          },
    iteration,
  };
  const env: ExpressionEnv = { input: run.data.input, steps, run: runView };
  return extra === undefined ? env : { ...env, item: extra.item, index: extra.index };
}

/** `steps.<id>` of a started step: every field present (`null` when not applicable). */
function stepView(state: StepState, iteration: number | undefined): StepExpressionContext {
  const view: StepExpressionContext = {
    status: state.status,
    output: state.status === 'completed' && state.output !== undefined ? state.output : null,
    error: state.error === undefined ? null : { message: state.error.message, errorType: state.error.errorType },
    attempts: state.attempt,
  };
  if (iteration !== undefined) view.iteration = iteration;
  return view;
}
