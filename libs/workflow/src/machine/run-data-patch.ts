import { applyPatch } from 'fast-json-patch';
import { z } from 'zod';
import type { JsonPatchOperation } from '../commands/command.schema';
import type { StepGraph } from '../definition/step-graph';
import { JsonValueSchema } from '../definition/json-value';
import { cloneJson } from './machine-state';
import type { RunData } from './run-state';

const StepStatusSchema = z.enum(['pending', 'scheduled', 'running', 'completed', 'failed', 'skipped', 'compensated', 'rolled_back']);
const StepStateShape = z.looseObject({
  key: z.string(),
  stepId: z.string(),
  type: z.enum(['task', 'sleep', 'signal', 'map', 'loop']),
  status: StepStatusSchema,
  attempt: z.number().int().min(0),
  generation: z.number().int().min(1),
  output: JsonValueSchema.optional(),
  items: z.array(z.looseObject({ item: JsonValueSchema, status: StepStatusSchema, attempt: z.number().int().min(0) })).optional(),
});
const RunDataShape = z.strictObject({
  input: JsonValueSchema,
  steps: z.record(z.string(), StepStateShape),
  completions: z.array(z.strictObject({ seq: z.number().int().min(1), stepKey: z.string(), itemIndex: z.number().int().min(0).optional() })),
  completedSinceCheckpoint: z.number().int().min(0),
});

export type PatchOutcome = { ok: true; data: RunData } | { ok: false; detail: string };

/**
 * Applies an operator's RFC 6902 patch to a copy of checkpoint data and validates the result.
 *
 * The patch document is the checkpoint's `RunData`: `{input, steps: {<stepKey>: StepState},
 * completions, completedSinceCheckpoint}` — e.g. `replace /steps/classify/output/intent`.
 * Every operation is validated (fast-json-patch `validateOperation`, prototype changes banned)
 * and the patched data must keep the run-data shape: step entries keyed by their own key,
 * step ids and types matching the pinned definition, completions naming existing steps.
 * Never throws; never mutates `data`.
 */
export function patchRunData(data: RunData, patch: readonly JsonPatchOperation[] | undefined, graph: StepGraph): PatchOutcome {
  const copy = cloneJson(data);
  if (patch === undefined || patch.length === 0) return { ok: true, data: copy };
  let patched: unknown;
  try {
    patched = applyPatch(copy, patch, true, true, true).newDocument;
  } catch (error) {
    return { ok: false, detail: `patch does not apply: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` };
  }
  const shape = RunDataShape.safeParse(patched);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    return { ok: false, detail: `patched run data is invalid at /${issue.path.join('/')}: ${issue.message}` };
  }
  const result = patched as RunData;
  for (const key of Object.keys(result.steps)) {
    const step = result.steps[key];
    const location = graph.locations.get(step.stepId);
    if (step.key !== key) return { ok: false, detail: `patched step ${key} has key ${step.key}` };
    if (location === undefined || location.step.type !== step.type) return { ok: false, detail: `patched step ${key} does not match the definition` };
    const composite = step.type === 'map' || step.type === 'loop';
    if (!(step.status === 'pending' || step.status === 'completed' || step.status === 'skipped' || (composite && step.status === 'running')))
      return { ok: false, detail: `patched step ${key} has status ${step.status}; a restored step must be pending, completed or skipped` };
  }
  for (const record of result.completions) {
    if (result.steps[record.stepKey] === undefined) return { ok: false, detail: `completion names unknown step ${record.stepKey}` };
  }
  return { ok: true, data: result };
}
