import type { RunContext } from './apply-context';
import { cloneJson } from './machine-state';
import { checkpointId } from './ids';
import { deriveCompletions, deriveSteps, noteStepWrite, runDataHash } from './run-hash';
import type { Checkpoint, CheckpointReason, LeafState, RunData, StepState } from './run-state';

/**
 * Takes an immutable checkpoint of the run's data at the current log index, with its state hash.
 * The captured data is normalised for restore: attempts, sleeps and signal waits that are in
 * flight at capture time are reset to `pending` (map items likewise), so restoring a checkpoint
 * re-executes exactly the work that had not completed when it was taken.
 */
export function takeCheckpoint(ctx: RunContext, reason: CheckpointReason, options: { label?: string; afterStep?: string } = {}): Checkpoint {
  const run = ctx.run;
  run.data.completedSinceCheckpoint = 0;
  // Structural sharing: settled step objects are shared with the checkpoint; from now on they
  // are frozen for this apply too (any later change copies them first, see mutableStep).
  ctx.ownedSteps.clear();
  ctx.ownsAllSteps = false;
  // The checkpoint's record starts as a copy of the run's (its digest derived, not recomputed:
  // only the normalised in-flight entries are re-hashed), so hashing it costs O(changed steps).
  const source = run.data.steps;
  const steps: RunData['steps'] = { ...source };
  deriveSteps(steps, source);
  for (const key of Object.keys(source)) {
    const normalised = normalisedStep(source[key]);
    if (normalised === source[key]) continue;
    noteStepWrite(steps, key);
    steps[key] = normalised;
  }
  const completions = run.data.completions.slice();
  deriveCompletions(completions, run.data.completions);
  const data: RunData = { input: run.data.input, steps, completions, completedSinceCheckpoint: 0 };
  run.checkpointSeq++;
  const checkpoint: Checkpoint = {
    id: checkpointId(run.checkpointSeq),
    reason,
    ...(options.label === undefined ? {} : { label: options.label }),
    ...(options.afterStep === undefined ? {} : { afterStep: options.afterStep }),
    logIndex: ctx.meta.logIndex,
    ...(ctx.meta.term === undefined ? {} : { term: ctx.meta.term }),
    at: ctx.at,
    generation: run.generation,
    stateHash: runDataHash(data),
    data,
  };
  run.checkpoints.push(checkpoint);
  ctx.events.push({ type: 'checkpoint-taken', runId: run.runId, checkpointId: checkpoint.id, stateHash: checkpoint.stateHash });
  return checkpoint;
}

/** The step as a checkpoint stores it: the same object when settled, a normalised copy when in flight. */
function normalisedStep(step: StepState): StepState {
  const inFlight = step.status === 'scheduled' || step.status === 'running';
  if (!inFlight || step.type === 'loop') return step;
  const copy = cloneJson(step);
  normaliseStep(copy);
  return copy;
}

/** Resets an in-flight leaf or wait (or a map's in-flight items) to `pending`, in place. */
function normaliseStep(step: StepState): void {
  if (step.type === 'map') {
    if (step.status === 'scheduled' || step.status === 'running') {
      step.items?.forEach((item) => {
        if (item.status === 'scheduled' || item.status === 'running' || item.status === 'failed') resetLeaf(item);
      });
    }
    return;
  }
  if (step.type === 'loop') return;
  if (step.status === 'scheduled' || step.status === 'running') {
    resetLeaf(step);
    delete step.dueAt;
    delete step.signalAt;
    delete step.input;
  }
}

function resetLeaf(leaf: LeafState): void {
  leaf.status = 'pending';
  leaf.attempt = 0;
  delete leaf.jobId;
  delete leaf.held;
  delete leaf.retryAt;
  delete leaf.scheduledAt;
  delete leaf.dispatchedAt;
  delete leaf.startedAt;
  delete leaf.lastHeartbeatAt;
  delete leaf.failures;
  delete leaf.error;
  delete leaf.usage;
}

/** The checkpoint with `id`, if the run has one. */
export function findCheckpoint(checkpoints: readonly Checkpoint[], id: string): Checkpoint | undefined {
  return checkpoints.find((checkpoint) => checkpoint.id === id);
}

/**
 * True when the checkpoint lies on the run's current branch: its completion list is a prefix of
 * the run's (a checkpoint of a rolled-back branch is not a valid rollback target).
 */
export function isInLineage(data: RunData, checkpoint: Checkpoint): boolean {
  const own = data.completions;
  const theirs = checkpoint.data.completions;
  if (theirs.length > own.length) return false;
  for (let i = 0; i < theirs.length; i++) if (theirs[i].seq !== own[i].seq) return false;
  return true;
}

/** The most recent checkpoint on the current branch (the start checkpoint always qualifies). */
export function lastCheckpointInLineage(data: RunData, checkpoints: readonly Checkpoint[]): Checkpoint | undefined {
  for (let i = checkpoints.length - 1; i >= 0; i--) if (isInLineage(data, checkpoints[i])) return checkpoints[i];
  return undefined;
}
