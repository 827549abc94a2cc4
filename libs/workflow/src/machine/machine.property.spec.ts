import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitraryDefinition } from '../definition/testing/arbitrary-definition';
import { validateDefinition } from '../definition/validate-definition';
import type { WorkflowDefinition } from '../definition/definition.schema';
import { replay } from '../replay/replay';
import { machineStateHash, restoreMachine, snapshotMachine, snapshotMachineJson } from '../snapshot/machine-snapshot';
import { DRIVER_ACTION_WEIGHTS, MachineDriver, RARE_DRIVER_ACTIONS, type DriverAction } from '../testing/machine-driver';
import { apply } from './apply';
import { runStateHash } from './run-hash';
import type { MachineState } from './run-state';

// fast-check prints the seed and the shrunk counterexample on failure; reproduce one with
// fc.assert(property, { seed, path }). Case counts here: 350 + 150 + 150 + 300 = 950; with the
// canonical-JSON properties (hashing/) the machine side alone runs > 1,300 generated cases.

const action = (kinds: readonly DriverAction['kind'][]): fc.Arbitrary<DriverAction> =>
  fc.record({ kind: fc.constantFrom(...kinds), pick: fc.nat({ max: 1000 }), flag: fc.boolean() });

const runInput = fc.record({
  items: fc.option(fc.array(fc.integer({ min: 0, max: 9 }).map((n) => n + 0.5), { maxLength: 4 }), { nil: undefined }),
  skip: fc.option(fc.array(fc.constantFrom('s1', 's2', 's3', 's4', 's5'), { maxLength: 2 }), { nil: undefined }),
}).map((input) => JSON.parse(JSON.stringify(input)) as Record<string, unknown>);

function parsed(document: unknown): WorkflowDefinition {
  const result = validateDefinition(document);
  if (!result.ok) throw new Error(`generated definition rejected: ${JSON.stringify(result.problems)}`);
  return result.definition;
}

describe('run state machine properties', () => {
  it('under arbitrary interleavings: invariants hold, runs terminate under fair scheduling, replay reproduces every state hash', () => {
    fc.assert(
      fc.property(
        arbitraryDefinition({ maxStepsPerLevel: 5 }),
        runInput,
        fc.array(action([...DRIVER_ACTION_WEIGHTS, ...RARE_DRIVER_ACTIONS]), { minLength: 20, maxLength: 80 }),
        (document, input, actions) => {
          const driver = new MachineDriver(parsed(document), document);
          driver.start('r1', input as never);
          driver.start('r2', {});
          for (const next of actions) driver.act(next);
          driver.driveToCompletion();
          for (const runId of Object.keys(driver.h.state.runs)) {
            const run = driver.h.state.runs[runId];
            expect(['completed', 'failed', 'cancelled']).toContain(run.status);
            const fork = driver.forks.find((f) => f.runId === runId);
            const result = replay(document, driver.h.history(runId), fork === undefined ? {} : { forkBase: fork.base });
            expect(result).toMatchObject({ verified: true, stateHash: runStateHash(run), chainHash: run.history.head });
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('the same holds for nested loops and map-heavy definitions', () => {
    fc.assert(
      fc.property(
        arbitraryDefinition({ maxStepsPerLevel: 3, maxLoopDepth: 2, weights: { loop: 3, map: 3, task: 3, sleep: 1, signal: 1 } }),
        fc.array(action([...DRIVER_ACTION_WEIGHTS, ...RARE_DRIVER_ACTIONS]), { minLength: 20, maxLength: 80 }),
        (document, actions) => {
          const driver = new MachineDriver(parsed(document), document);
          driver.start('r1', { items: [1.5, 2.5, 3.5, 4.5] });
          for (const next of actions) driver.act(next);
          driver.driveToCompletion();
          for (const runId of Object.keys(driver.h.state.runs)) {
            const run = driver.h.state.runs[runId];
            expect(['completed', 'failed', 'cancelled']).toContain(run.status);
            const fork = driver.forks.find((f) => f.runId === runId);
            expect(replay(document, driver.h.history(runId), fork === undefined ? {} : { forkBase: fork.base })).toMatchObject({ verified: true, stateHash: runStateHash(run) });
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('snapshot (msgpack or canonical JSON) + suffix equals the full log', () => {
    fc.assert(
      fc.property(
        arbitraryDefinition({ maxStepsPerLevel: 4 }),
        fc.array(action(DRIVER_ACTION_WEIGHTS), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        (document, actions, cutSeed) => {
          const driver = new MachineDriver(parsed(document), document);
          const commands: Array<{ command: unknown; logIndex: number }> = [];
          const original = driver.send.bind(driver);
          driver.send = (command) => {
            const result = original(command);
            commands.push({ command: driver.h.last === undefined ? command : { ...command, at: driver.h.now }, logIndex: driver.h.logIndex });
            return result;
          };
          driver.start('r1', {});
          for (const next of actions) driver.act(next);
          const cut = cutSeed % (commands.length + 1);
          // rebuild the state at the cut by applying the prefix, snapshot it, restore, apply the suffix
          const prefix = rebuild(document, commands.slice(0, cut));
          // odd seeds restore from canonical JSON (sorted keys): the machine must not depend on key order
          const restored = cutSeed % 2 === 0 ? restoreMachine(snapshotMachine(prefix)) : { ok: true as const, state: JSON.parse(snapshotMachineJson(prefix)) as MachineState };
          if (!restored.ok) throw new Error(restored.detail);
          let state = restored.state;
          for (const { command, logIndex } of commands.slice(cut)) state = apply(state, command, { logIndex, term: 1 }).state;
          expect(machineStateHash(state)).toBe(machineStateHash(driver.h.state));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('apply never throws on arbitrary well-typed commands against a live run', () => {
    const command = fc.oneof(
      fc.record({ type: fc.constant('StepCompleted'), runId: fc.constantFrom('r1', 'r2', 'nope'), stepKey: fc.constantFrom('s1', 's2', 's3', 's1/0/s2', 'zz'), itemIndex: fc.option(fc.nat(3), { nil: undefined }), attempt: fc.integer({ min: 1, max: 3 }), generation: fc.integer({ min: 1, max: 3 }), output: fc.jsonValue() }),
      fc.record({ type: fc.constant('TimerFired'), runId: fc.constantFrom('r1', 'nope'), timerId: fc.string() }),
      fc.record({ type: fc.constant('RollbackRun'), runId: fc.constant('r1'), checkpointId: fc.constantFrom('cp-1', 'cp-2', 'cp-9'), reason: fc.constant('x'), actor: fc.constant('y'), force: fc.boolean(), patch: fc.option(fc.array(fc.record({ op: fc.constantFrom('add', 'replace', 'remove'), path: fc.constantFrom('/steps/s1/output', '/input', '/steps/s1/status', '/steps', '/nope/x', ''), value: fc.jsonValue() })), { nil: undefined }) }),
      fc.record({ type: fc.constant('ForkRun'), runId: fc.constantFrom('f1', 'r1'), sourceRunId: fc.constantFrom('r1', 'x'), checkpointId: fc.constantFrom('cp-1', 'cp-2'), reason: fc.constant('x'), actor: fc.constant('y') }),
      fc.record({ type: fc.constant('SignalReceived'), runId: fc.constant('r1'), signal: fc.string({ minLength: 1 }), payload: fc.jsonValue() }),
      fc.record({ type: fc.constantFrom('CancelRun', 'TakeCheckpoint', 'ArchiveRun', 'RaiseBudget', 'CompensationCompleted'), runId: fc.constant('r1'), reason: fc.constant('x'), actor: fc.constant('y'), stepKey: fc.constant('s1'), generation: fc.integer({ min: 1, max: 3 }), maxTokens: fc.nat() }),
      fc.anything(),
    );
    fc.assert(
      fc.property(arbitraryDefinition({ maxStepsPerLevel: 3 }), fc.array(command, { maxLength: 25 }), (document, commands) => {
        const driver = new MachineDriver(parsed(document), document);
        driver.start('r1', {});
        for (const raw of commands) {
          const result = apply(driver.h.state, { ...(raw as object), at: driver.h.now }, { logIndex: 99 });
          for (const event of result.events) expect(event.type === 'rejected' && event.reason === 'internal_error').toBe(false);
          driver.h.state = result.state;
        }
      }),
      { numRuns: 300 },
    );
  });
});

function rebuild(document: unknown, commands: ReadonlyArray<{ command: unknown; logIndex: number }>): MachineState {
  let state = apply({ stateVersion: 1, workflows: {}, runs: {}, idempotencyKeys: {}, archivedRuns: {}, archivedWatermark: 0 }, { type: 'RegisterWorkflow', definition: document, at: 1_700_000_000_000 }, { logIndex: 1, term: 1 }).state;
  for (const { command, logIndex } of commands) state = apply(state, command, { logIndex, term: 1 }).state;
  return state;
}
