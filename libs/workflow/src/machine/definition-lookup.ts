import { buildStepGraph, type StepGraph } from '../definition/step-graph';
import type { StepDefinition, TaskLikeStepDefinition, WorkflowDefinition } from '../definition/definition.schema';
import type { RunContext } from './apply-context';

const graphs = new WeakMap<WorkflowDefinition, StepGraph>();

/** The step graph of a (validated) definition, memoised per definition object. Pure. */
export function graphOf(definition: WorkflowDefinition): StepGraph {
  let graph = graphs.get(definition);
  if (graph === undefined) {
    graph = buildStepGraph(definition);
    graphs.set(definition, graph);
  }
  return graph;
}

/** The definition of a step by id (ids are unique across the whole definition, loop bodies included). */
export function stepDefinition(ctx: RunContext, stepId: string): StepDefinition | undefined {
  return ctx.graph.locations.get(stepId)?.step;
}

export function isTaskLike(step: StepDefinition | undefined): step is TaskLikeStepDefinition {
  return step !== undefined && (step.type === 'task' || step.type === 'map');
}

/**
 * Step keys: `id` at the top level, `loopKey/iteration/id` inside a loop iteration.
 * `scopePrefix('a/0/b')` is `'a/0/'`; `scopePrefix('a')` is `''`.
 */
export function scopePrefix(stepKey: string): string {
  const cut = stepKey.lastIndexOf('/');
  return cut < 0 ? '' : stepKey.slice(0, cut + 1);
}

/** The key of the loop step whose iteration contains `stepKey`, or undefined at the top level. */
export function parentLoopKey(stepKey: string): string | undefined {
  const segments = stepKey.split('/');
  if (segments.length < 3) return undefined;
  return segments.slice(0, -2).join('/');
}

/** Enclosing iteration scopes of a prefix, outermost first: `[{loopId, prefix}]`. */
export function iterationScopes(prefix: string): Array<{ loopId: string; iteration: number; prefix: string }> {
  if (prefix === '') return [];
  const segments = prefix.slice(0, -1).split('/');
  const scopes: Array<{ loopId: string; iteration: number; prefix: string }> = [];
  for (let i = 0; i + 1 < segments.length; i += 2) {
    scopes.push({ loopId: segments[i], iteration: Number(segments[i + 1]), prefix: segments.slice(0, i + 2).join('/') + '/' });
  }
  return scopes;
}
