import type { RunContext } from './apply-context';
import { cloneJson } from './machine-state';
import { noteStepWrite } from './run-hash';
import type { StepState } from './run-state';

/**
 * Copy-on-write access to step states. A run draft shares its step objects with the previous
 * state; any code that changes a step must obtain it here first, which replaces the shared
 * object by a private copy once per apply. Invariant: step objects reachable from a committed
 * state are never mutated (that is what lets `runStateHash` memoise them by identity).
 */
export function mutableStep(ctx: RunContext, key: string): StepState | undefined {
  const step = ctx.run.data.steps[key];
  if (step === undefined || ctx.ownsAllSteps || ctx.ownedSteps.has(key)) return step;
  const copy = cloneJson(step);
  writeStep(ctx, key, copy);
  ctx.ownedSteps.add(key);
  return copy;
}

/**
 * The only way the machine stores a step object in the run's step record: keeps the record's
 * incremental digest right (`noteStepWrite`) and, in place, the undo log of the apply.
 */
export function writeStep(ctx: RunContext, key: string, step: StepState): void {
  const steps = ctx.run.data.steps;
  noteStepWrite(steps, key);
  const undo = ctx.stepUndo;
  if (undo !== undefined && undo.steps === steps && !undo.before.has(key)) undo.before.set(key, steps[key]);
  steps[key] = step;
}

/** Records that `key` holds an object created during this apply (safe to mutate). */
export function ownStep(ctx: RunContext, key: string): void {
  ctx.ownedSteps.add(key);
}
