import type { z } from 'zod';
import { WorkflowDefinitionSchema, type StepDefinition, type WorkflowDefinition } from './definition.schema';
import { toJsonPointer, type DefinitionProblem, type PathSegment } from './definition-problem';
import { checkDefinitionExpressions } from './expression-checks';
import { checkInputSchemaDocument } from './input-schema';
import { isJsonObject, withoutNegativeZero, type JsonValue } from './json-value';
import { looseSteps } from './loose-steps';
import { defaultDependencies } from './step-graph';
import { checkDependencies, checkDocumentDepth, checkDuplicateIds, checkEffects, checkSize } from './structure-checks';

/** Outcome of `validateDefinition`: the normalised definition, or every problem found. */
export type DefinitionValidationResult =
  | { readonly ok: true; readonly definition: WorkflowDefinition }
  | { readonly ok: false; readonly problems: readonly DefinitionProblem[] };

/**
 * Validates a submitted workflow definition and normalises it.
 *
 * Never throws, whatever `document` is. On rejection, `problems` lists (sorted by path) every problem found in
 * one pass — schema violations (zod), duplicate/unknown step ids, `dependsOn` cycles and
 * out-of-level dependencies, effect/compensate mismatches, CEL syntax and type errors, unknown
 * variables and `steps.<id>` references to missing or not-upstream steps, unsupported
 * `inputSchema` keywords — each with the JSON Pointer of the offending field.
 *
 * On success the returned definition has every schema default filled in, `effect:
 * "compensable"` on steps that declare `compensate` without an effect, and an explicit
 * `dependsOn` on every step (the previous step of its level by default, `[]` for the first).
 * Normalisation is idempotent: validating the returned definition again returns it unchanged.
 */
export function validateDefinition(document: unknown): DefinitionValidationResult {
  const tooDeep = checkDocumentDepth(document);
  if (tooDeep.length > 0) return { ok: false, problems: tooDeep };
  const prepared = withImpliedEffects(document);
  const parsed = WorkflowDefinitionSchema.safeParse(prepared);
  const steps = looseSteps(prepared);
  const problems: DefinitionProblem[] = [
    ...(parsed.success ? [] : parsed.error.issues.flatMap(zodIssueToProblems)),
    ...checkSize(steps),
    ...checkDuplicateIds(steps),
    ...checkDependencies(steps),
    ...checkEffects(steps),
    ...checkInputSchemaDocument(isJsonObject(prepared) ? prepared['inputSchema'] : undefined),
  ];
  // Expression checks need a sound step tree to resolve `steps.<id>` references.
  const structureSound = problems.every((problem) => !['duplicate_step_id', 'dependency_cycle', 'too_large'].includes(problem.code));
  if (structureSound) {
    const field = (name: string): JsonValue | undefined => (isJsonObject(prepared) ? (prepared[name] as JsonValue | undefined) : undefined);
    // A malformed inputSchema is reported above; expressions are then checked without it.
    const inputSchema = problems.some((problem) => problem.code === 'invalid_input_schema') ? undefined : field('inputSchema');
    problems.push(...checkDefinitionExpressions(steps, field('output'), inputSchema));
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems: sortByPath(dedupe(problems)) };
  const definition = withoutNegativeZero(parsed.data);
  return { ok: true, definition: { ...definition, steps: withExplicitDependencies(definition.steps) } };
}

/** Throws an Error listing every problem; for tests, examples and trusted fixtures only. */
export function parseDefinitionOrThrow(document: unknown): WorkflowDefinition {
  const result = validateDefinition(document);
  if (result.ok) return result.definition;
  throw new Error(`invalid workflow definition:\n${result.problems.map((problem) => `  ${problem.path || '/'}: ${problem.message}`).join('\n')}`);
}

function zodIssueToProblems(issue: z.core.$ZodIssue): DefinitionProblem[] {
  const base = issue.path.map((segment): PathSegment => (typeof segment === 'number' ? segment : String(segment)));
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => ({ path: toJsonPointer([...base, key]), code: 'schema', message: `unknown field "${key}"` }));
  return [{ path: toJsonPointer(base), code: 'schema', message: issue.message }];
}

/** Stable sort by JSON Pointer, array indices compared numerically, so problems read in document order. */
function sortByPath(problems: DefinitionProblem[]): DefinitionProblem[] {
  const segments = (path: string): string[] => (path === '' ? [] : path.slice(1).split('/'));
  const compare = (a: string, b: string): number => {
    const left = segments(a);
    const right = segments(b);
    for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
      if (left[index] === right[index]) continue;
      const bothNumeric = /^\d+$/.test(left[index]) && /^\d+$/.test(right[index]);
      if (bothNumeric) return Number(left[index]) - Number(right[index]);
      return left[index] < right[index] ? -1 : 1;
    }
    return left.length - right.length;
  };
  return problems.map((problem, index) => ({ problem, index })).sort((a, b) => compare(a.problem.path, b.problem.path) || a.index - b.index).map(({ problem }) => problem);
}

function dedupe(problems: readonly DefinitionProblem[]): DefinitionProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.path}\u0000${problem.code}\u0000${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Copies the document, adding `effect: "compensable"` to task/map steps that declare `compensate` but no `effect`. */
function withImpliedEffects(document: unknown): unknown {
  if (!isJsonObject(document) || !Array.isArray(document['steps'])) return document;
  return { ...document, steps: impliedEffectsInLevel(document['steps']) };
}

function impliedEffectsInLevel(steps: readonly unknown[]): unknown[] {
  return steps.map((step) => {
    if (!isJsonObject(step)) return step;
    let result: Record<string, unknown> = step;
    const runsTask = step['type'] === undefined || step['type'] === 'task' || step['type'] === 'map';
    if (runsTask && step['compensate'] !== undefined && step['effect'] === undefined) result = { ...result, effect: 'compensable' };
    if (step['type'] === 'loop' && Array.isArray(step['steps'])) result = { ...result, steps: impliedEffectsInLevel(step['steps']) };
    return result;
  });
}

function withExplicitDependencies(steps: readonly StepDefinition[]): StepDefinition[] {
  const ids = steps.map((step) => step.id);
  return steps.map((step, index): StepDefinition => {
    const dependsOn = step.dependsOn ?? defaultDependencies(ids, index);
    return step.type === 'loop' ? { ...step, dependsOn, steps: withExplicitDependencies(step.steps) } : { ...step, dependsOn };
  });
}
