import type { PathSegment } from './definition-problem';
import { isJsonObject } from './json-value';

/**
 * A best-effort view of one step of an *unvalidated* document, so that structural checks
 * (ids, DAG, expressions) can run and report alongside zod's schema problems instead of
 * after them. Fields that are malformed are left undefined: zod reports those.
 */
export interface LooseStep {
  readonly id: string | undefined;
  readonly type: string;
  readonly path: readonly PathSegment[];
  /** Undefined when absent or malformed (then the default, previous step, is assumed). */
  readonly dependsOn: readonly string[] | undefined;
  readonly raw: Readonly<Record<string, unknown>>;
  /** Body of a loop step (empty for other types). */
  readonly body: readonly LooseStep[];
  /** Id of the enclosing loop, undefined at the top level. */
  readonly loopId: string | undefined;
}

/** Extracts the loose step tree of a raw definition document; never throws. */
export function looseSteps(document: unknown): LooseStep[] {
  if (!isJsonObject(document)) return [];
  return looseLevel(document['steps'], ['steps'], undefined);
}

function looseLevel(value: unknown, path: readonly PathSegment[], loopId: string | undefined): LooseStep[] {
  if (!Array.isArray(value)) return [];
  const steps: LooseStep[] = [];
  value.forEach((raw: unknown, index) => {
    if (!isJsonObject(raw)) return;
    const stepPath = [...path, index];
    const id = typeof raw['id'] === 'string' ? raw['id'] : undefined;
    const type = typeof raw['type'] === 'string' ? raw['type'] : 'task';
    const rawDeps = raw['dependsOn'];
    const dependsOn = Array.isArray(rawDeps) && rawDeps.every((dep) => typeof dep === 'string') ? (rawDeps as string[]) : undefined;
    const body = type === 'loop' ? looseLevel(raw['steps'], [...stepPath, 'steps'], id) : [];
    steps.push({ id, type, path: stepPath, dependsOn, raw, body, loopId });
  });
  return steps;
}

/** Every loose step of the tree, depth-first in declaration order. */
export function flattenLooseSteps(steps: readonly LooseStep[]): LooseStep[] {
  return steps.flatMap((step) => [step, ...flattenLooseSteps(step.body)]);
}
