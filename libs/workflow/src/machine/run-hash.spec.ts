import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apply, applyInPlace } from './apply';
import { adoptRun, cloneRun, initialMachineState, revertAdoptedRun } from './machine-state';
import { deriveCompletions, deriveSteps, noteStepWrite, runDataHash, runDataHashFromScratch, runStateHash, runStateHashFromScratch } from './run-hash';
import type { CompletionRecord, MachineState, RunData, StepState } from './run-state';

// fast-check prints the seed and the shrunk counterexample on failure.

const step = (key: string, status: StepState['status'], attempt: number): StepState => ({ key, stepId: key.split('/').pop() ?? key, type: 'task', status, attempt, generation: 1 });

type Op = { kind: 'write'; key: number; status: StepState['status']; attempt: number } | { kind: 'complete'; key: number } | { kind: 'commit' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), key: fc.nat({ max: 30 }), status: fc.constantFrom<StepState['status']>('pending', 'running', 'completed'), attempt: fc.nat({ max: 3 }) }),
  fc.record({ kind: fc.constant('complete' as const), key: fc.nat({ max: 30 }) }),
  fc.record({ kind: fc.constant('commit' as const) }),
);

describe('incremental run data hash', () => {
  it('equals the hash computed from nothing after any sequence of derived copies, writes and appends', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        // committed versions are derived copies of their predecessor, written only through noteStepWrite
        let data: RunData = { input: null, steps: {}, completions: [], completedSinceCheckpoint: 0 };
        let seq = 0;
        const fresh = (): RunData => {
          const next: RunData = { ...data, steps: { ...data.steps }, completions: data.completions.slice() };
          deriveSteps(next.steps, data.steps);
          deriveCompletions(next.completions, data.completions);
          return next;
        };
        let draft = fresh();
        for (const entry of ops) {
          if (entry.kind === 'commit') {
            expect(runDataHash(draft)).toBe(runDataHashFromScratch(draft));
            data = draft;
            draft = fresh();
          } else if (entry.kind === 'write') {
            const key = `l/${entry.key}/b`;
            noteStepWrite(draft.steps, key);
            draft.steps[key] = step(key, entry.status, entry.attempt);
            // a mid-apply hash (as a checkpoint takes) must not freeze the digest
            if (entry.attempt === 3) expect(runDataHash(draft)).toBe(runDataHashFromScratch(draft));
          } else {
            draft.completions.push({ seq: ++seq, stepKey: `l/${entry.key}/b` } satisfies CompletionRecord);
          }
        }
        expect(runDataHash(draft)).toBe(runDataHashFromScratch(draft));
        // and the predecessor still hashes as when it was committed
        expect(runDataHash(data)).toBe(runDataHashFromScratch(data));
      }),
      { numRuns: 200 },
    );
  });

  it('does not depend on key order or on how the data was built', () => {
    const a: RunData = { input: { x: 1 }, steps: { a: step('a', 'completed', 1), b: step('b', 'pending', 0) }, completions: [{ seq: 1, stepKey: 'a' }], completedSinceCheckpoint: 1 };
    const b: RunData = { completedSinceCheckpoint: 1, completions: [{ stepKey: 'a', seq: 1 }], steps: { b: step('b', 'pending', 0), a: step('a', 'completed', 1) }, input: { x: 1 } };
    expect(runDataHash(a)).toBe(runDataHash(b));
    const changed: RunData = { ...a, steps: { ...a.steps, b: step('b', 'running', 1) } };
    expect(runDataHash(changed)).not.toBe(runDataHash(a));
    const reordered: RunData = { ...a, completions: [{ seq: 2, stepKey: 'b' }, { seq: 1, stepKey: 'a' }] };
    const ordered: RunData = { ...a, completions: [{ seq: 1, stepKey: 'a' }, { seq: 2, stepKey: 'b' }] };
    expect(runDataHash(reordered)).not.toBe(runDataHash(ordered));
  });
});

const T0 = 1_700_000_000_000;
const loopDefinition = { name: 'long-loop', steps: [{ id: 'l', type: 'loop', until: 'false', maxIterations: 1000, onMaxIterations: 'complete', steps: [{ id: 'b', task: 'b' }] }] };

function longRun(iterations: number): { state: MachineState; index: number } {
  let state = apply(initialMachineState(), { type: 'RegisterWorkflow', definition: loopDefinition, at: T0 }, { logIndex: 1 }).state;
  let index = 1;
  const send = (command: Record<string, unknown>): void => {
    index++;
    state = apply(state, { ...command, at: T0 + index }, { logIndex: index }).state;
  };
  send({ type: 'StartRun', runId: 'r', workflow: 'long-loop' });
  for (let i = 0; i < iterations; i++) {
    send({ type: 'StepAttemptStarted', runId: 'r', stepKey: `l/${i}/b`, attempt: 1, generation: 1 });
    send({ type: 'StepCompleted', runId: 'r', stepKey: `l/${i}/b`, attempt: 1, generation: 1, output: { i } });
  }
  return { state, index };
}

describe('in-place apply', () => {
  it('shares the run-sized containers with the committed run and records the same hashes as the pure apply', () => {
    const { state, index } = longRun(20);
    const before = state.runs.r;
    const command = { type: 'StepAttemptStarted', runId: 'r', stepKey: 'l/20/b', attempt: 1, generation: 1, at: T0 + index + 1 };
    const pure = apply(state, command, { logIndex: index + 1 });
    expect(pure.state.runs.r.data.steps).not.toBe(before.data.steps); // the pure apply copies (input untouched)
    expect(before.data.steps['l/20/b'].status).toBe('scheduled');
    const owned: MachineState = { ...state, runs: { ...state.runs } };
    const inPlace = applyInPlace(owned, command, { logIndex: index + 1 });
    expect(owned.runs.r.data.steps).toBe(before.data.steps); // shared, changed in place
    expect(owned.runs.r.data.steps['l/20/b'].status).toBe('running');
    expect(inPlace.record?.stateHash).toBe(pure.record?.stateHash);
    expect(runStateHashFromScratch(owned.runs.r)).toBe(pure.record?.stateHash);
  });

  it('revertAdoptedRun puts the shared step record and lists back exactly (internal-error path)', () => {
    const { state } = longRun(5);
    const run = cloneRun(state.runs.r);
    const hashBefore = runStateHash(run);
    const snapshot = JSON.stringify(run);
    const { draft, undo } = adoptRun(run);
    // what an apply does through writeStep / pushes before failing half-way
    for (const key of ['l/5/b', 'l/2/b']) {
      undo.stepsBefore.set(key, draft.data.steps[key]);
      noteStepWrite(draft.data.steps, key);
      draft.data.steps[key] = step(key, 'running', 9);
    }
    draft.data.completions.push({ seq: 99, stepKey: 'l/5/b' });
    expect(runStateHash({ ...run, data: draft.data })).toBe(runStateHashFromScratch({ ...run, data: draft.data }));
    revertAdoptedRun(undo);
    expect(JSON.stringify(run)).toBe(snapshot);
    expect(runStateHash(run)).toBe(hashBefore);
    expect(runStateHashFromScratch(run)).toBe(hashBefore);
  });
});
