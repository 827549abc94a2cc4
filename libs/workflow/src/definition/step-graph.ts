import type { StepDefinition, WorkflowDefinition } from './definition.schema';
import type { PathSegment } from './definition-problem';

/**
 * Where one step sits in a definition. A "level" is the top-level step list (`loopId`
 * undefined) or the body of one loop step (`loopId` = that loop's id); `dependsOn` only ever
 * names steps of the same level.
 */
export interface StepLocation {
  readonly step: StepDefinition;
  /** Id of the enclosing loop, undefined at the top level. */
  readonly loopId: string | undefined;
  /** Position within its level (declaration order, used to break ties deterministically). */
  readonly index: number;
  /** JSON Pointer segments of the step inside the definition document. */
  readonly path: readonly PathSegment[];
  /** Resolved dependencies: explicit `dependsOn`, else the previous step of the level, else none. */
  readonly dependsOn: readonly string[];
}

/**
 * The resolved dependency DAG of a definition. Built only from a definition that passed
 * `validateDefinition` (ids unique, dependencies known, same level and acyclic); every query
 * is deterministic (ties are broken by declaration order).
 */
export interface StepGraph {
  /** Every step, including loop bodies, keyed by id. */
  readonly locations: ReadonlyMap<string, StepLocation>;
  /** Ids of a level in a topological order (declaration order among ready steps). */
  topologicalOrder(loopId?: string): readonly string[];
  /** Resolved direct dependencies of a step. */
  dependenciesOf(stepId: string): readonly string[];
  /** Steps of the same level that list `stepId` among their resolved dependencies, in declaration order. */
  dependentsOf(stepId: string): readonly string[];
  /** Steps of a level with no dependencies, in declaration order. */
  rootsOf(loopId?: string): readonly string[];
  /**
   * Steps whose `steps.<id>` entry is settled and visible when `stepId` starts: its transitive
   * dependencies at its own level and the upstream of every enclosing loop (not the loop
   * itself). Body steps of a loop are visible only inside that loop (and in its `until`);
   * outside it they are read through the loop's output, `steps.<loop>.output.<bodyStepId>`.
   */
  upstreamOf(stepId: string): ReadonlySet<string>;
  /** Ids of the steps of a level, declaration order. */
  levelOf(loopId?: string): readonly string[];
}

/** The dependencies a step gets when it does not declare `dependsOn`: the previous step of its level. */
export function defaultDependencies(levelIds: readonly string[], index: number): string[] {
  return index === 0 ? [] : [levelIds[index - 1]];
}

/** Kahn's algorithm over one level with declaration-order tie-breaks; returns undefined if the level has a cycle. */
export function topologicalSort(ids: readonly string[], dependenciesOf: (id: string) => readonly string[]): string[] | undefined {
  const position = new Map(ids.map((id, index) => [id, index]));
  const remaining = new Map(ids.map((id) => [id, dependenciesOf(id).filter((dep) => position.has(dep)).length]));
  const dependents = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const id of ids) for (const dep of dependenciesOf(id)) dependents.get(dep)?.push(id);
  const ready = ids.filter((id) => remaining.get(id) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
    const next = ready.shift() as string;
    order.push(next);
    for (const dependent of dependents.get(next) ?? []) {
      const left = (remaining.get(dependent) ?? 0) - 1;
      remaining.set(dependent, left);
      if (left === 0) ready.push(dependent);
    }
  }
  return order.length === ids.length ? order : undefined;
}

/** Builds the graph of a validated definition. Throws only on a definition that did not pass validation. */
export function buildStepGraph(definition: WorkflowDefinition): StepGraph {
  const locations = new Map<string, StepLocation>();
  const levels = new Map<string | undefined, string[]>();

  const visit = (steps: readonly StepDefinition[], loopId: string | undefined, basePath: readonly PathSegment[]): void => {
    const ids = steps.map((step) => step.id);
    levels.set(loopId, ids);
    steps.forEach((step, index) => {
      const path = [...basePath, index];
      locations.set(step.id, { step, loopId, index, path, dependsOn: step.dependsOn ?? defaultDependencies(ids, index) });
      if (step.type === 'loop') visit(step.steps, step.id, [...path, 'steps']);
    });
  };
  visit(definition.steps, undefined, ['steps']);

  const orders = new Map<string | undefined, string[]>();
  for (const [loopId, ids] of levels) {
    const order = topologicalSort(ids, (id) => locations.get(id)?.dependsOn ?? []);
    if (order === undefined) throw new Error(`buildStepGraph: dependsOn cycle in level ${loopId ?? '(top)'}; validate the definition first`);
    orders.set(loopId, order);
  }

  const location = (stepId: string): StepLocation => {
    const found = locations.get(stepId);
    if (found === undefined) throw new Error(`buildStepGraph: unknown step id ${stepId}`);
    return found;
  };

  const upstreamCache = new Map<string, ReadonlySet<string>>();
  const upstreamOf = (stepId: string): ReadonlySet<string> => {
    const cached = upstreamCache.get(stepId);
    if (cached !== undefined) return cached;
    const result = new Set<string>();
    const own = location(stepId);
    const stack = [...own.dependsOn];
    while (stack.length > 0) {
      const dep = stack.pop() as string;
      if (result.has(dep)) continue;
      result.add(dep);
      stack.push(...location(dep).dependsOn);
    }
    if (own.loopId !== undefined) for (const id of upstreamOf(own.loopId)) result.add(id);
    upstreamCache.set(stepId, result);
    return result;
  };

  return {
    locations,
    topologicalOrder: (loopId) => orders.get(loopId) ?? [],
    dependenciesOf: (stepId) => location(stepId).dependsOn,
    dependentsOf: (stepId) => {
      const own = location(stepId);
      return (levels.get(own.loopId) ?? []).filter((id) => location(id).dependsOn.includes(stepId));
    },
    rootsOf: (loopId) => (levels.get(loopId) ?? []).filter((id) => location(id).dependsOn.length === 0),
    upstreamOf,
    levelOf: (loopId) => levels.get(loopId) ?? [],
  };
}
