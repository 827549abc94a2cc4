import { resolveCompensationSettings, resolveTaskSettings } from '../definition/retry-policy';
import type { EffectKind, StepDefinition, WorkflowDefinition } from '../definition/definition.schema';
import type { StepGraph } from '../definition/step-graph';
import { findCheckpoint, isInLineage } from './checkpoints';
import { graphOf, isTaskLike } from './definition-lookup';
import type { RejectedReason } from './machine-events';
import type { Checkpoint, MachineState, RunState, StepState, StepStatus } from './run-state';

/** A step whose current result is discarded by a rollback. */
export interface DiscardedStep {
  readonly stepKey: string;
  readonly stepId: string;
  readonly type: StepState['type'];
  readonly status: StepStatus;
  readonly effect?: EffectKind;
  /** True when the step exists (unfinished) in the checkpoint and will run again once resumed (subject to its `when`). */
  readonly reexecute: boolean;
}

/** A compensation the rollback will run; `order` is 1-based execution order (reverse completion order). */
export interface PlannedCompensation {
  readonly order: number;
  readonly stepKey: string;
  readonly stepId: string;
  readonly itemIndex?: number;
  readonly task: string;
  readonly queue: string;
}

/** An irreversible effect that may have happened after the checkpoint and cannot be undone. */
export interface IrreversibleEffect {
  readonly stepKey: string;
  readonly stepId: string;
  readonly itemIndex?: number;
  readonly task: string;
  readonly status: StepStatus;
}

/**
 * What rolling `runId` back to `checkpointId` would do (a dry run; nothing changes):
 * discarded results, compensations in execution order, irreversible effects it cannot undo.
 * `requiresForce` is true iff `irreversible` is non-empty: such a rollback is refused unless
 * the command carries `force` (with its reason recorded).
 */
export interface RollbackPlan {
  readonly runId: string;
  readonly checkpointId: string;
  readonly checkpointStateHash: string;
  readonly fromGeneration: number;
  readonly toGeneration: number;
  readonly discarded: DiscardedStep[];
  readonly compensations: PlannedCompensation[];
  readonly irreversible: IrreversibleEffect[];
  readonly requiresForce: boolean;
}

export type RollbackPlanOutcome = { ok: true; plan: RollbackPlan } | { ok: false; reason: RejectedReason | 'unknown_run'; detail: string };

/** Dry run of a rollback against the machine state (REST `dryRun`). Pure; never throws. */
export function planRollback(state: MachineState, runId: string, checkpointId: string): RollbackPlanOutcome {
  const run = state.runs[runId];
  if (run === undefined) return { ok: false, reason: 'unknown_run', detail: `run ${runId} does not exist` };
  const definition = state.workflows[run.workflow]?.versions[String(run.version)]?.definition;
  if (definition === undefined) return { ok: false, reason: 'unknown_workflow', detail: `definition ${run.workflow} v${run.version} is missing` };
  return planRunRollback(run, definition, graphOf(definition), checkpointId);
}

/** Plans a rollback of one run (shared by `planRollback` and the RollbackRun command). */
export function planRunRollback(run: RunState, definition: WorkflowDefinition, graph: StepGraph, checkpointId: string): RollbackPlanOutcome {
  const checkpoint = findCheckpoint(run.checkpoints, checkpointId);
  if (checkpoint === undefined) return { ok: false, reason: 'unknown_checkpoint', detail: `run ${run.runId} has no checkpoint ${checkpointId}` };
  if (!isInLineage(run.data, checkpoint))
    return { ok: false, reason: 'checkpoint_not_in_lineage', detail: `checkpoint ${checkpointId} belongs to a rolled-back branch of run ${run.runId}` };
  const stepDef = (id: string): StepDefinition | undefined => graph.locations.get(id)?.step;
  const discarded = discardedSteps(run, checkpoint, stepDef);
  const irreversible = irreversibleEffects(run, checkpoint, discarded, definition, stepDef);
  return {
    ok: true,
    plan: {
      runId: run.runId,
      checkpointId,
      checkpointStateHash: checkpoint.stateHash,
      fromGeneration: run.generation,
      toGeneration: run.generation + 1,
      discarded,
      compensations: plannedCompensations(run, checkpoint, definition, stepDef),
      irreversible,
      requiresForce: irreversible.length > 0,
    },
  };
}

function isKept(current: StepState, before: StepState | undefined): boolean {
  return (
    before !== undefined &&
    before.status === current.status &&
    (current.status === 'completed' || current.status === 'skipped') &&
    before.completionSeq === current.completionSeq
  );
}

function discardedSteps(run: RunState, checkpoint: Checkpoint, stepDef: (id: string) => StepDefinition | undefined): DiscardedStep[] {
  const result: DiscardedStep[] = [];
  for (const key of Object.keys(run.data.steps).sort()) {
    const current = run.data.steps[key];
    if (current.status === 'pending' || isKept(current, checkpoint.data.steps[key])) continue;
    const definition = stepDef(current.stepId);
    result.push({
      stepKey: key,
      stepId: current.stepId,
      type: current.type,
      status: current.status,
      ...(isTaskLike(definition) ? { effect: definition.effect } : {}),
      reexecute: checkpoint.data.steps[key] !== undefined,
    });
  }
  return result;
}

function plannedCompensations(run: RunState, checkpoint: Checkpoint, definition: WorkflowDefinition, stepDef: (id: string) => StepDefinition | undefined): PlannedCompensation[] {
  const after = run.data.completions.slice(checkpoint.data.completions.length).reverse();
  const result: PlannedCompensation[] = [];
  for (const record of after) {
    const step = run.data.steps[record.stepKey];
    const def = step === undefined ? undefined : stepDef(step.stepId);
    if (step === undefined || !isTaskLike(def) || def.compensate === undefined) continue;
    if (def.type === 'map' && record.itemIndex === undefined) continue; // items carry the compensations
    const leaf = record.itemIndex === undefined ? step : step.items?.[record.itemIndex];
    if (leaf === undefined || leaf.status === 'compensated') continue;
    const settings = resolveCompensationSettings(definition, def, def.compensate);
    result.push({
      order: result.length + 1,
      stepKey: record.stepKey,
      stepId: step.stepId,
      ...(record.itemIndex === undefined ? {} : { itemIndex: record.itemIndex }),
      task: settings.task,
      queue: settings.queue,
    });
  }
  return result;
}

function irreversibleEffects(
  run: RunState,
  checkpoint: Checkpoint,
  discarded: readonly DiscardedStep[],
  definition: WorkflowDefinition,
  stepDef: (id: string) => StepDefinition | undefined,
): IrreversibleEffect[] {
  const result: IrreversibleEffect[] = [];
  for (const entry of discarded) {
    const def = stepDef(entry.stepId);
    if (!isTaskLike(def) || def.effect !== 'irreversible') continue;
    const step = run.data.steps[entry.stepKey];
    const task = resolveTaskSettings(definition, def).task;
    if (step.type === 'map') {
      const before = checkpoint.data.steps[entry.stepKey]?.items;
      (step.items ?? []).forEach((item, index) => {
        const kept = before?.[index]?.status === 'completed' && before[index].completionSeq === item.completionSeq;
        if (item.attempt > 0 && !kept) result.push({ stepKey: entry.stepKey, stepId: entry.stepId, itemIndex: index, task, status: item.status });
      });
    } else if (step.attempt > 0 && step.held !== true) {
      result.push({ stepKey: entry.stepKey, stepId: entry.stepId, task, status: step.status });
    }
  }
  return result;
}
