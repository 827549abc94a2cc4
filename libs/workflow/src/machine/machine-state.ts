import { deriveCheckpoints, deriveCompletions, deriveSteps, forgetListDigest, noteStepWrite } from './run-hash';
import type { Checkpoint, CompletionRecord, MachineState, RunState, StepState } from './run-state';

/** The state before the first command: nothing registered, no runs. */
export function initialMachineState(): MachineState {
  return { stateVersion: 1, workflows: {}, runs: {}, idempotencyKeys: {}, archivedRuns: {}, archivedWatermark: 0 };
}

/**
 * A private copy of a run for one apply: every container the machine mutates in place is
 * copied (records, lists, the pending rollback); step objects, checkpoints, rollback records,
 * timers and completion records are shared — steps are copied on first write
 * (`mutableStep`), rollback records are replaced (`updateRollbackRecord`), the others are
 * immutable once created.
 */
export function cloneRun(run: RunState): RunState {
  const draft: RunState = {
    ...run,
    data: { ...run.data, steps: { ...run.data.steps }, completions: run.data.completions.slice() },
    timers: { ...run.timers },
    signalBuffer: run.signalBuffer.slice(),
    checkpoints: run.checkpoints.slice(),
    rollbacks: run.rollbacks.slice(),
    budgetChanges: run.budgetChanges.slice(),
    ...(run.pendingRollback === undefined ? {} : { pendingRollback: cloneJson(run.pendingRollback) }),
  };
  // The copies start with the originals' digests; the run hash then costs O(what the apply changed).
  deriveSteps(draft.data.steps, run.data.steps);
  deriveCompletions(draft.data.completions, run.data.completions);
  deriveCheckpoints(draft.checkpoints, run.checkpoints);
  return draft;
}

/**
 * The draft of a run for one in-place apply (`applyInPlace` / `RunStateMachine`): the run-sized
 * containers — the step record, the completion list and the checkpoint list — are shared with
 * `run` and changed in place (O(what the command touches) instead of O(step instances)); the
 * small ones are copied as in `cloneRun`. Only for states the caller owns: `run` must not be
 * read afterwards (it is replaced by the draft). Step objects stay copy-on-write. A failed apply
 * is undone with `revertAdoptedRun`.
 */
export function adoptRun(run: RunState): { draft: RunState; undo: RunUndo } {
  const draft: RunState = {
    ...run,
    data: { ...run.data },
    timers: { ...run.timers },
    signalBuffer: run.signalBuffer.slice(),
    rollbacks: run.rollbacks.slice(),
    budgetChanges: run.budgetChanges.slice(),
    ...(run.pendingRollback === undefined ? {} : { pendingRollback: cloneJson(run.pendingRollback) }),
  };
  const undo: RunUndo = { steps: run.data.steps, completions: run.data.completions, completionsLength: run.data.completions.length, checkpoints: run.checkpoints, checkpointsLength: run.checkpoints.length, stepsBefore: new Map() };
  return { draft, undo };
}

/** What `revertAdoptedRun` needs to put shared containers back as they were before the apply. */
export interface RunUndo {
  readonly steps: Record<string, StepState>;
  readonly completions: CompletionRecord[];
  readonly completionsLength: number;
  readonly checkpoints: Checkpoint[];
  readonly checkpointsLength: number;
  /** Step key → value before its first write in this apply (`undefined`: the key was absent). */
  readonly stepsBefore: Map<string, StepState | undefined>;
}

/** Restores the containers an in-place apply shared with the run (after an internal error). */
export function revertAdoptedRun(undo: RunUndo): void {
  for (const [key, before] of undo.stepsBefore) {
    noteStepWrite(undo.steps, key);
    if (before === undefined) delete undo.steps[key];
    else undo.steps[key] = before;
  }
  undo.completions.length = undo.completionsLength;
  undo.checkpoints.length = undo.checkpointsLength;
  forgetListDigest(undo.completions);
  forgetListDigest(undo.checkpoints);
}

/** Deep copy of plain JSON-shaped data (faster than structuredClone for it); `undefined` members are dropped. */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneJson(value[i] as unknown);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const member = record[key];
    if (member === undefined) continue;
    // An own "__proto__" key (legal in JSON) must stay data, not become the prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: cloneJson(member), enumerable: true, writable: true, configurable: true });
    else out[key] = cloneJson(member);
  }
  return out as T;
}

/** Copy-on-write access to the machine state: the pure `apply` copies only the records it touches. */
export interface StateWriter {
  readonly state: MachineState;
  /** True when the state belongs to the caller and runs may be changed in place (`adoptRun`). */
  readonly inPlace: boolean;
  setRun(run: RunState): void;
  deleteRun(runId: string): void;
  setIdempotencyKey(key: string, runId: string): void;
  setArchivedRun(runId: string, tombstone: MachineState['archivedRuns'][string]): void;
  update(change: Partial<Pick<MachineState, 'workflows' | 'archivedWatermark'>>): void;
}

/** Writer for the pure `apply`: the input state is never mutated. */
export function copyOnWriteWriter(base: MachineState): StateWriter & { result(): MachineState } {
  let runs: Record<string, RunState> | undefined;
  let idempotencyKeys: Record<string, string> | undefined;
  let archivedRuns: MachineState['archivedRuns'] | undefined;
  let changes: Partial<MachineState> = {};
  const writer = {
    inPlace: false,
    get state(): MachineState {
      return {
        ...base,
        ...changes,
        ...(runs === undefined ? {} : { runs }),
        ...(idempotencyKeys === undefined ? {} : { idempotencyKeys }),
        ...(archivedRuns === undefined ? {} : { archivedRuns }),
      };
    },
    setIdempotencyKey(key: string, runId: string): void {
      idempotencyKeys ??= { ...base.idempotencyKeys };
      idempotencyKeys[key] = runId;
    },
    setArchivedRun(runId: string, tombstone: MachineState['archivedRuns'][string]): void {
      archivedRuns ??= { ...base.archivedRuns };
      archivedRuns[runId] = tombstone;
    },
    setRun(run: RunState): void {
      runs ??= { ...base.runs };
      runs[run.runId] = run;
    },
    deleteRun(runId: string): void {
      runs ??= { ...base.runs };
      delete runs[runId];
    },
    update(change: Partial<MachineState>): void {
      changes = { ...changes, ...change };
    },
    result(): MachineState {
      return writer.state;
    },
  };
  return writer;
}

/** Writer that mutates a state the caller owns (used by `RunStateMachine` on the server's hot path). */
export function inPlaceWriter(state: MachineState): StateWriter {
  const mutable = state as { -readonly [K in keyof MachineState]: MachineState[K] };
  return {
    state,
    inPlace: true,
    setRun: (run) => {
      mutable.runs[run.runId] = run;
    },
    deleteRun: (runId) => {
      delete mutable.runs[runId];
    },
    setIdempotencyKey: (key, runId) => {
      (mutable.idempotencyKeys as Record<string, string>)[key] = runId;
    },
    setArchivedRun: (runId, tombstone) => {
      (mutable.archivedRuns as MachineState['archivedRuns'])[runId] = tombstone;
    },
    update: (change) => {
      Object.assign(mutable, change);
    },
  };
}
