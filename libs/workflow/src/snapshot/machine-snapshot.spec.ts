import { describe, expect, it } from 'vitest';
import { apply } from '../machine/apply';
import { WorkflowHarness } from '../testing/workflow-harness';
import { machineStateHash, restoreMachine, snapshotMachine, snapshotMachineJson } from './machine-snapshot';
import { RunStateMachine } from '../machine/run-state-machine';

describe('machine snapshot', () => {
  it('round-trips the state (same hash) and snapshot + suffix equals the full log', () => {
    const h = new WorkflowHarness();
    h.register({ name: 'w', steps: [{ id: 'a', task: 'a' }, { id: 's', type: 'sleep', durationMs: 5 }, { id: 'b', task: 'b' }] });
    h.start('r1', 'w');
    h.start('r2', 'w');
    h.complete('r1', 'a', { deep: [1, { x: null }] });
    const snap = snapshotMachine(h.state);
    const restored = restoreMachine(snap);
    expect(restored.ok).toBe(true);
    if (!restored.ok) return;
    expect(machineStateHash(restored.state)).toBe(machineStateHash(h.state));
    expect(JSON.parse(snapshotMachineJson(restored.state))).toEqual(JSON.parse(snapshotMachineJson(h.state)));
    const suffix = [
      { type: 'StepCompleted', runId: 'r2', stepKey: 'a', attempt: 1, generation: 1, output: 2, at: h.now },
      { type: 'TimerFired', runId: 'r1', timerId: Object.keys(h.run('r1').timers)[0], at: h.now + 10 },
    ];
    let fromSnapshot = restored.state;
    for (const command of suffix) {
      h.send(command as never);
      fromSnapshot = apply(fromSnapshot, command, { logIndex: h.logIndex, term: 1 }).state;
    }
    expect(machineStateHash(fromSnapshot)).toBe(machineStateHash(h.state));
  });

  it('rejects a corrupt snapshot without throwing', () => {
    expect(restoreMachine(new Uint8Array([1, 2, 3]))).toMatchObject({ ok: false });
    const machine = new RunStateMachine();
    const bytes = machine.snapshot();
    bytes[bytes.length - 1] ^= 0xff;
    expect(() => restoreMachine(bytes)).not.toThrow();
  });

  it('RunStateMachine applies in place with the same result as the pure reducer', () => {
    const h = new WorkflowHarness();
    const machine = new RunStateMachine();
    const commands = [
      { type: 'RegisterWorkflow', definition: { name: 'w', steps: [{ id: 'a', task: 'a' }] }, at: 1 },
      { type: 'StartRun', runId: 'r', workflow: 'w', at: 2 },
      { type: 'StepCompleted', runId: 'r', stepKey: 'a', attempt: 1, generation: 1, output: 'x', at: 3 },
    ];
    for (const command of commands) {
      h.send(command as never);
      machine.apply(command, { logIndex: h.logIndex, term: 1 });
    }
    expect(machine.hash()).toBe(machineStateHash(h.state));
    const copy = new RunStateMachine();
    expect(copy.restore(machine.snapshot())).toBe(true);
    expect(copy.hash()).toBe(machine.hash());
  });
});
