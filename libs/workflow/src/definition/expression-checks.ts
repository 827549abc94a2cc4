import { analyzeExpression, type StaticType } from '../expressions/expression-analysis';
import { BASE_VARIABLES, MAP_ITEM_VARIABLES, RUN_CONTEXT_FIELDS, STEP_CONTEXT_FIELDS } from '../expressions/expression-scope';
import { collectTemplateExpressions } from '../expressions/template';
import { MAX_EXPRESSION_LENGTH } from './definition.schema';
import { toJsonPointer, type DefinitionProblem, type PathSegment } from './definition-problem';
import type { JsonValue } from './json-value';
import { flattenLooseSteps, type LooseStep } from './loose-steps';
import { defaultDependencies } from './step-graph';

/** Where an expression sits and what it may read. */
interface ExpressionSite {
  readonly path: readonly PathSegment[];
  readonly source: string;
  /** Step ids whose entries are settled when the expression is evaluated. */
  readonly visibleSteps: ReadonlySet<string>;
  readonly variables: readonly string[];
  /** Result types accepted (`dyn` is always accepted). Undefined: any. */
  readonly expected: StaticType | undefined;
}

/**
 * Type-checks every CEL expression and `${…}` template of a (loosely parsed) definition:
 * syntax, unknown variables (`item`/`index` only inside map inputs), `steps.<id>` references to
 * missing steps or steps not upstream of the reader, unknown `steps.<id>.<field>` and
 * `run.<field>`, operator type errors, and result kinds (`when`/`until` must be bool, `items` a
 * list). Visibility (same as `StepGraph.upstreamOf`): a step's `when`, `input` and `items`
 * see its upstream steps; a loop's `until` also sees its whole body; a `compensate.input` also
 * sees the step itself; the workflow `output` sees every top-level step. Body steps are never
 * visible outside their loop: read them as `steps.<loop>.output.<id>`.
 */
export function checkDefinitionExpressions(steps: readonly LooseStep[], workflowOutput?: JsonValue, inputSchema?: JsonValue): DefinitionProblem[] {
  const all = flattenLooseSteps(steps);
  const allIds = new Set(all.flatMap((step) => (step.id === undefined ? [] : [step.id])));
  const upstream = looseUpstream(steps);
  const problems: DefinitionProblem[] = [];
  const sites: ExpressionSite[] = [];

  for (const step of all) {
    const visible = step.id === undefined ? new Set<string>() : (upstream.get(step.id) ?? new Set<string>());
    const raw = step.raw;
    if (typeof raw['when'] === 'string') sites.push({ path: [...step.path, 'when'], source: raw['when'], visibleSteps: visible, variables: BASE_VARIABLES, expected: 'bool' });
    if (step.type === 'map' && typeof raw['items'] === 'string')
      sites.push({ path: [...step.path, 'items'], source: raw['items'], visibleSteps: visible, variables: BASE_VARIABLES, expected: 'list' });
    if (step.type === 'loop' && typeof raw['until'] === 'string') {
      const withBody = new Set([...visible, ...flattenLooseSteps(step.body).flatMap((inner) => (inner.id === undefined ? [] : [inner.id]))]);
      sites.push({ path: [...step.path, 'until'], source: raw['until'], visibleSteps: withBody, variables: BASE_VARIABLES, expected: 'bool' });
    }
    if ((step.type === 'task' || step.type === 'map') && raw['input'] !== undefined) {
      const variables = step.type === 'map' ? [...BASE_VARIABLES, ...MAP_ITEM_VARIABLES] : BASE_VARIABLES;
      sites.push(...templateSites(raw['input'] as JsonValue, [...step.path, 'input'], visible, variables, problems));
    }
    const compensate = raw['compensate'];
    if (typeof compensate === 'object' && compensate !== null && !Array.isArray(compensate) && 'input' in compensate) {
      const withSelf = new Set([...visible, ...(step.id === undefined ? [] : [step.id])]);
      sites.push(...templateSites((compensate as { input: JsonValue }).input, [...step.path, 'compensate', 'input'], withSelf, BASE_VARIABLES, problems));
    }
  }
  const topLevelIds = new Set(steps.flatMap((step) => (step.id === undefined ? [] : [step.id])));
  if (workflowOutput !== undefined) sites.push(...templateSites(workflowOutput, ['output'], topLevelIds, BASE_VARIABLES, problems));

  const enclosingLoop = new Map(all.flatMap((step) => (step.id === undefined || step.loopId === undefined ? [] : [[step.id, step.loopId] as const])));
  for (const site of sites) problems.push(...checkSite(site, allIds, enclosingLoop, inputSchema));
  return problems;
}

function templateSites(
  template: JsonValue,
  basePath: readonly PathSegment[],
  visibleSteps: ReadonlySet<string>,
  variables: readonly string[],
  problems: DefinitionProblem[],
): ExpressionSite[] {
  const { expressions, errors } = collectTemplateExpressions(template);
  for (const error of errors) problems.push({ path: toJsonPointer(basePath) + error.path, code: 'expression_syntax', message: error.message });
  return expressions.map((expression) => ({ path: [...basePath, ...expression.path], source: expression.source, visibleSteps, variables, expected: undefined }));
}

function checkSite(
  site: ExpressionSite,
  allIds: ReadonlySet<string>,
  enclosingLoop: ReadonlyMap<string, string>,
  inputSchema: JsonValue | undefined,
): DefinitionProblem[] {
  const path = toJsonPointer(site.path);
  if (site.source.length > MAX_EXPRESSION_LENGTH)
    return [{ path, code: 'schema', message: `expression must be at most ${MAX_EXPRESSION_LENGTH} characters` }];
  const analysis = analyzeExpression(site.source, { inputSchema });
  if (!analysis.ok) return [{ path, code: 'expression_syntax', message: analysis.error.message }];
  const { freeIdentifiers, stepReferences, runFields, resultType, typeErrors } = analysis.value;
  const problems: DefinitionProblem[] = [];
  const where = `in "${site.source}"`;
  for (const name of freeIdentifiers) {
    if (site.variables.includes(name)) continue;
    const dashedId = [...allIds].find((id) => id.includes('-') && id.split('-').includes(name));
    const hint = MAP_ITEM_VARIABLES.includes(name)
      ? ' (item and index exist only in the input of a map step)'
      : dashedId !== undefined
        ? ` (CEL reads "-" as minus: write steps['${dashedId}'])`
        : '';
    problems.push({ path, code: 'unknown_variable', message: `unknown variable "${name}" ${where}; available: ${site.variables.join(', ')}${hint}` });
  }
  for (const reference of stepReferences) {
    if (!allIds.has(reference.stepId)) {
      problems.push({ path, code: 'unknown_step_reference', message: `steps.${reference.stepId} ${where} names no step of this workflow` });
      continue;
    }
    if (!reference.testOnly && !reference.guarded && !site.visibleSteps.has(reference.stepId)) {
      const loop = enclosingLoop.get(reference.stepId);
      const loopVisible = loop !== undefined && site.visibleSteps.has(loop);
      problems.push({
        path,
        code: 'unreachable_step_reference',
        message: loopVisible
          ? `steps.${reference.stepId} ${where} is inside loop "${loop}" and visible only there; read its last iteration as steps.${loop}.output.${reference.stepId}`
          : `steps.${reference.stepId} ${where} is not upstream of this expression, so its result may not exist yet; add it to dependsOn (directly or transitively) or test it with has(steps.${reference.stepId})`,
      });
    }
    if (reference.field !== undefined && !STEP_CONTEXT_FIELDS.includes(reference.field))
      problems.push({ path, code: 'unknown_variable', message: `steps.${reference.stepId}.${reference.field} ${where}: a step has only ${STEP_CONTEXT_FIELDS.join(', ')}` });
  }
  for (const field of runFields)
    if (!RUN_CONTEXT_FIELDS.includes(field)) problems.push({ path, code: 'unknown_variable', message: `run.${field} ${where}: run has only ${RUN_CONTEXT_FIELDS.join(', ')}` });
  for (const message of typeErrors) problems.push({ path, code: 'expression_type', message: `${message} ${where}` });
  if (site.expected !== undefined && resultType !== 'dyn' && resultType !== site.expected)
    problems.push({ path, code: 'expression_type', message: `"${site.source}" must evaluate to a ${site.expected}, but its type is ${resultType}` });
  return problems;
}

/**
 * Upstream sets over the loose tree (same rules as `StepGraph.upstreamOf`); tolerant of
 * unknown dependencies (ignored) and assumes no cycles (callers check structure first).
 */
function looseUpstream(steps: readonly LooseStep[]): Map<string, Set<string>> {
  const byId = new Map<string, LooseStep>();
  const deps = new Map<string, string[]>();
  const enclosing = new Map<string, string | undefined>();
  const visitLevel = (level: readonly LooseStep[]): void => {
    const ids = level.map((step) => step.id ?? '');
    const levelSet = new Set(ids);
    level.forEach((step, index) => {
      if (step.id === undefined) return;
      byId.set(step.id, step);
      enclosing.set(step.id, step.loopId);
      const declared = step.dependsOn ?? defaultDependencies(ids, index);
      deps.set(step.id, declared.filter((dep) => dep !== '' && dep !== step.id && levelSet.has(dep)));
      visitLevel(step.body);
    });
  };
  visitLevel(steps);

  const result = new Map<string, Set<string>>();
  const compute = (id: string, guard: Set<string>): Set<string> => {
    const cached = result.get(id);
    if (cached !== undefined) return cached;
    const upstream = new Set<string>();
    if (guard.has(id)) return upstream;
    guard.add(id);
    const stack = [...(deps.get(id) ?? [])];
    while (stack.length > 0) {
      const dep = stack.pop() as string;
      if (upstream.has(dep)) continue;
      upstream.add(dep);
      stack.push(...(deps.get(dep) ?? []));
    }
    const loopId = enclosing.get(id);
    if (loopId !== undefined) for (const outer of compute(loopId, guard)) upstream.add(outer);
    result.set(id, upstream);
    return upstream;
  };
  for (const id of byId.keys()) compute(id, new Set());
  return result;
}
