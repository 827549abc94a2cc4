import { MAX_DOCUMENT_DEPTH, MAX_LOOP_DEPTH, MAX_STEPS } from './definition.schema';
import { toJsonPointer, type DefinitionProblem } from './definition-problem';
import { flattenLooseSteps, type LooseStep } from './loose-steps';
import { defaultDependencies, topologicalSort } from './step-graph';

/**
 * Step ids must be unique across the whole definition, loop bodies included (CEL reads every
 * output as `steps.<id>`). Reports every occurrence after the first, pointing at its `id`.
 */
export function checkDuplicateIds(steps: readonly LooseStep[]): DefinitionProblem[] {
  const firstSeen = new Map<string, string>();
  const problems: DefinitionProblem[] = [];
  for (const step of flattenLooseSteps(steps)) {
    if (step.id === undefined) continue;
    const first = firstSeen.get(step.id);
    if (first === undefined) firstSeen.set(step.id, toJsonPointer(step.path));
    else
      problems.push({
        path: toJsonPointer([...step.path, 'id']),
        code: 'duplicate_step_id',
        message: `duplicate step id "${step.id}" (first declared at ${first})`,
      });
  }
  return problems;
}

/**
 * `dependsOn` of every level: each id must exist, belong to the same level (loop bodies are
 * their own level) and not be the step itself; each level must be acyclic. Each cycle is
 * reported once, at the `dependsOn` of its first step in declaration order.
 */
export function checkDependencies(steps: readonly LooseStep[]): DefinitionProblem[] {
  const allIds = new Set(flattenLooseSteps(steps).flatMap((step) => (step.id === undefined ? [] : [step.id])));
  const problems: DefinitionProblem[] = [];
  const checkLevel = (level: readonly LooseStep[]): void => {
    const levelIds = level.flatMap((step) => (step.id === undefined ? [] : [step.id]));
    const levelSet = new Set(levelIds);
    const resolved = new Map<string, string[]>();
    level.forEach((step, index) => {
      if (step.dependsOn === undefined) {
        if (step.id !== undefined) resolved.set(step.id, defaultDependencies(level.map((s) => s.id ?? ''), index).filter((id) => id !== ''));
        return;
      }
      step.dependsOn.forEach((dep, depIndex) => {
        const path = toJsonPointer([...step.path, 'dependsOn', depIndex]);
        if (step.dependsOn?.indexOf(dep) !== depIndex) problems.push({ path, code: 'duplicate_dependency', message: `"${dep}" is listed twice in dependsOn` });
        else if (dep === step.id) problems.push({ path, code: 'self_dependency', message: `step "${dep}" cannot depend on itself` });
        else if (!allIds.has(dep)) problems.push({ path, code: 'unknown_dependency', message: `dependsOn names unknown step "${dep}"` });
        else if (!levelSet.has(dep))
          problems.push({
            path,
            code: 'dependency_out_of_scope',
            message: `dependsOn names "${dep}", which is not a sibling at this level; a step inside a loop body can only depend on steps of the same body (make the loop depend on outer steps instead)`,
          });
      });
      if (step.id !== undefined) resolved.set(step.id, step.dependsOn.filter((dep) => dep !== step.id && levelSet.has(dep)));
    });
    if (topologicalSort(levelIds, (id) => resolved.get(id) ?? []) === undefined) {
      for (const cycle of findCycles(levelIds, (id) => resolved.get(id) ?? [])) {
        const first = level.find((step) => step.id === cycle[0]);
        problems.push({
          path: toJsonPointer([...(first?.path ?? []), 'dependsOn']),
          code: 'dependency_cycle',
          message: `dependsOn cycle: ${[...cycle, cycle[0]].join(' → ')} (→ reads "depends on")`,
        });
      }
    }
    for (const step of level) checkLevel(step.body);
  };
  checkLevel(steps);
  return problems;
}

/**
 * Elementary cycles found by DFS, each reported once and rotated to start at its earliest
 * declared step. Not every elementary cycle of a dense graph is listed, but every level that has
 * a cycle yields at least one.
 */
export function findCycles(ids: readonly string[], dependenciesOf: (id: string) => readonly string[]): string[][] {
  const position = new Map(ids.map((id, index) => [id, index]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const cycles: string[][] = [];
  const visit = (id: string): void => {
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of dependenciesOf(id)) {
      if (!position.has(dep)) continue;
      const depState = state.get(dep);
      if (depState === 'visiting') {
        const cycle = stack.slice(stack.indexOf(dep));
        const start = cycle.reduce((best, candidate, index) => ((position.get(candidate) ?? 0) < (position.get(cycle[best]) ?? 0) ? index : best), 0);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        const key = rotated.join('\u0000');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(rotated);
        }
      } else if (depState === undefined) visit(dep);
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of ids) if (state.get(id) === undefined) visit(id);
  return cycles;
}

/**
 * Effects and compensations agree: `effect: "compensable"` requires `compensate`, and a
 * `compensate` on a step whose effect is explicitly something else is contradictory (it would
 * never run). Steps that are not task/map cannot declare either (zod rejects the keys).
 */
export function checkEffects(steps: readonly LooseStep[]): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  for (const step of flattenLooseSteps(steps)) {
    if (step.type !== 'task' && step.type !== 'map') continue;
    const effect = step.raw['effect'];
    const hasCompensate = step.raw['compensate'] !== undefined;
    if (effect === 'compensable' && !hasCompensate)
      problems.push({ path: toJsonPointer([...step.path, 'compensate']), code: 'missing_compensate', message: 'effect "compensable" requires a compensate task' });
    if (hasCompensate && typeof effect === 'string' && effect !== 'compensable')
      problems.push({
        path: toJsonPointer([...step.path, 'effect']),
        code: 'effect_mismatch',
        message: `a step with compensate must have effect "compensable" (or omit effect), not "${effect}"`,
      });
  }
  return problems;
}

/**
 * Depth of a JSON value, computed iteratively (so it cannot overflow the stack itself), stopping
 * early once `limit` is exceeded. A scalar has depth 0.
 */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof current !== 'object' || current === null) continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(current)) stack.push({ value: child, depth: depth + 1 });
  }
  return false;
}

/** Rejects documents nested deeper than `MAX_DOCUMENT_DEPTH` before any recursive check runs. */
export function checkDocumentDepth(document: unknown): DefinitionProblem[] {
  return jsonDepthExceeds(document, MAX_DOCUMENT_DEPTH)
    ? [{ path: '', code: 'too_large', message: `the definition is nested deeper than ${MAX_DOCUMENT_DEPTH} levels` }]
    : [];
}

/** At most `MAX_STEPS` steps in total and loops nested at most `MAX_LOOP_DEPTH` deep. */
export function checkSize(steps: readonly LooseStep[]): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const total = flattenLooseSteps(steps).length;
  if (total > MAX_STEPS) problems.push({ path: '/steps', code: 'too_large', message: `a definition may hold at most ${MAX_STEPS} steps, this one has ${total}` });
  const visit = (level: readonly LooseStep[], depth: number): void => {
    for (const step of level) {
      if (step.type !== 'loop') continue;
      if (depth + 1 > MAX_LOOP_DEPTH) {
        problems.push({ path: toJsonPointer(step.path), code: 'too_large', message: `loops may be nested at most ${MAX_LOOP_DEPTH} deep` });
        continue;
      }
      visit(step.body, depth + 1);
    }
  };
  visit(steps, 0);
  return problems;
}
