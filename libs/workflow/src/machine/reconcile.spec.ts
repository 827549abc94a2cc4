import { describe, expect, it } from 'vitest';
import { WorkflowHarness } from '../testing/workflow-harness';
import type { Effect } from './effects';
import { reconcileEffects } from './reconcile';

describe('reconcileEffects (new leader)', () => {
  it('re-derives exactly the outstanding dispatches, timers and compensation from state', () => {
    const h = new WorkflowHarness();
    h.register({
      name: 'rec',
      defaults: { retry: { maxAttempts: 1 } },
      steps: [
        { id: 'pay', task: 'pay', compensate: { task: 'unpay', input: { paid: '${steps.pay.output}' } } },
        { id: 'fan', type: 'map', items: '[1, 2, 3]', task: 'work', maxConcurrency: 2, dependsOn: [] },
        { id: 'nap', type: 'sleep', durationMs: 1000, dependsOn: [] },
      ],
    });
    h.start('a', 'rec');
    h.complete('a', 'fan', 'one', { itemIndex: 0 });
    h.start('b', 'rec');
    h.complete('b', 'pay', 42);
    h.send({ type: 'RollbackRun', runId: 'b', checkpointId: 'cp-1', reason: 'undo', actor: 'op', force: true });

    const effects = reconcileEffects(h.state);
    const dispatches = effects.filter((e) => e.type === 'dispatch');
    const outstanding = (runId: string) => {
      const latest = new Map<string, Effect>();
      for (const e of h.effects) if (e.type === 'dispatch' && e.runId === runId) latest.set(`${e.stepKey}#${e.itemIndex ?? ''}`, e);
      return latest;
    };
    // run a: pay in flight, fan items 1 and 2 in flight (item 0 done), in the order of sorted keys
    const expectedA = outstanding('a');
    expectedA.delete('fan#0');
    expect(dispatches.filter((d) => d.runId === 'a')).toEqual([expectedA.get('fan#1'), expectedA.get('fan#2'), expectedA.get('pay#')]);
    // run b is rolling back: no dispatch, its running compensation instead
    expect(dispatches.filter((d) => d.runId === 'b')).toEqual([]);
    const compensation = h.effects.filter((e) => e.type === 'compensate').at(-1);
    expect(effects.filter((e) => e.type === 'compensate')).toEqual([compensation]);
    expect(compensation).toMatchObject({ input: { paid: 42 } });
    // timers: exactly the armed ones, with their due times
    const timers = effects.filter((e) => e.type === 'arm-timer');
    for (const runId of ['a', 'b']) {
      const armed = h.run(runId).timers;
      expect(timers.filter((t) => t.runId === runId).map((t) => [t.timerId, t.dueAt])).toEqual(Object.keys(armed).sort().map((id) => [id, armed[id].dueAt]));
    }
    expect(timers.some((t) => t.kind === 'sleep' && t.runId === 'a')).toBe(true);
  });
});
