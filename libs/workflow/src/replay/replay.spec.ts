import { describe, expect, it } from 'vitest';
import { WorkflowHarness } from '../testing/workflow-harness';
import type { HistoryRecord } from '../machine/apply';
import { replay } from './replay';

const def = {
  name: 'rp',
  defaults: { retry: { maxAttempts: 2, backoff: { initialMs: 10 } } },
  checkpointEvery: 2,
  steps: [
    { id: 'a', task: 'a', checkpoint: true },
    { id: 'm', type: 'map', items: 'steps.a.output.list', task: 'm', maxConcurrency: 2 },
    { id: 'wait', type: 'signal', signal: 'go' },
    { id: 'z', task: 'z', input: { all: '${steps.m.output}', sig: '${steps.wait.output}' } },
  ],
};

function recordedRun(): { h: WorkflowHarness; history: HistoryRecord[] } {
  const h = new WorkflowHarness();
  h.register(def);
  h.start('r', 'rp', { q: 1 });
  h.started('r', 'a');
  h.complete('r', 'a', { list: [1, 2, 3] });
  h.fail('r', 'm', { message: 'x' }, 0);
  h.fireNextTimer('r', 'retry');
  h.complete('r', 'm', 'one', { itemIndex: 0 });
  h.complete('r', 'm', 'two', { itemIndex: 1 });
  h.send({ type: 'StepCompleted', runId: 'r', stepKey: 'm', itemIndex: 1, attempt: 1, generation: 1, output: 'late duplicate' });
  h.complete('r', 'm', 'three', { itemIndex: 2 });
  h.send({ type: 'TakeCheckpoint', runId: 'r', label: 'manual' });
  h.send({ type: 'RollbackRun', runId: 'r', checkpointId: 'cp-2', reason: 'redo map', actor: 'op' });
  h.complete('r', 'm', 'uno', { itemIndex: 0 });
  h.complete('r', 'm', 'dos', { itemIndex: 1 });
  h.complete('r', 'm', 'tres', { itemIndex: 2 });
  h.signal('r', 'go', { ok: 1 });
  h.complete('r', 'z', 'done');
  return { h, history: h.history('r') };
}

describe('replay', () => {
  it('verifies a recorded history and reproduces the live state hash', () => {
    const { h, history } = recordedRun();
    expect(h.run('r').status).toBe('completed');
    const result = replay(def, history);
    expect(result).toEqual({ verified: true, commands: history.length, chainHash: h.run('r').history.head, stateHash: history.at(-1)!.stateHash });
  });

  it('reports the index of a tampered command (one changed output)', () => {
    const { history } = recordedRun();
    const index = history.findIndex((entry) => entry.command.type === 'StepCompleted' && entry.command.output === 'two');
    const tampered = history.map((entry, i) => (i === index ? { ...entry, command: { ...entry.command, output: 'TWO' } } : entry));
    const result = replay(def, tampered);
    expect(result.verified).toBe(false);
    if (result.verified) return;
    expect(result.divergence).toMatchObject({ index: history[index].seq, kind: 'chain' });
    expect(result.divergence.index).toBe(index + 1);
  });

  it('reports a recorded state hash that does not match', () => {
    const { history } = recordedRun();
    const forged = history.map((entry, i) => (i === 5 ? { ...entry, stateHash: '0'.repeat(64) } : entry));
    const result = replay(def, forged);
    expect(result).toMatchObject({ verified: false, divergence: { index: 6, kind: 'state' } });
  });

  it('detects a different definition', () => {
    const { history } = recordedRun();
    const other = { ...def, steps: def.steps.map((s) => (s.id === 'z' ? { ...s, task: 'zz' } : s)) };
    const result = replay(other, history);
    expect(result.verified).toBe(false);
    if (!result.verified) expect(result.divergence).toMatchObject({ index: 1, kind: 'state' });
  });

  it('verifies a forked run given the source checkpoint data', () => {
    const { h } = recordedRun();
    h.send({ type: 'ForkRun', runId: 'f', sourceRunId: 'r', checkpointId: 'cp-2', reason: 'what if', actor: 'op' });
    h.complete('f', 'm', 1, { itemIndex: 0 });
    const base = h.run('r').checkpoints.find((c) => c.id === 'cp-2')!.data;
    expect(replay(def, h.history('f'), { forkBase: base }).verified).toBe(true);
    expect(replay(def, h.history('f'))).toMatchObject({ verified: false, divergence: { kind: 'fork_base' } });
  });
});
