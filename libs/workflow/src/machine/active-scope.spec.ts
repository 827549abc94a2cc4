import { describe, expect, it } from 'vitest';
import { WorkflowHarness } from '../testing/workflow-harness';

// The run status (running vs waiting) and signal delivery only look at the active scope: the top
// level and the current iteration of each running loop. These pin down their results there.

describe('active scope: loop iterations', () => {
  const def = {
    name: 'gate-loop',
    steps: [{ id: 'l', type: 'loop', until: 'false', maxIterations: 3, onMaxIterations: 'complete', steps: [{ id: 't', task: 't' }, { id: 'gate', type: 'signal', signal: 'go' }] }],
  };

  it('is waiting while the current iteration waits for a signal, and delivers it to that iteration', () => {
    const h = new WorkflowHarness();
    h.register(def);
    h.start('r', 'gate-loop');
    for (let i = 0; i < 3; i++) {
      expect(h.run('r').status).toBe('running');
      h.started('r', `l/${i}/t`);
      h.complete('r', `l/${i}/t`, i);
      expect(h.run('r').data.steps[`l/${i}/gate`].status).toBe('running');
      expect(h.run('r').status).toBe('waiting');
      h.signal('r', 'go', { i });
      expect(h.run('r').data.steps[`l/${i}/gate`]).toMatchObject({ status: 'completed', output: { i } });
      expect(h.run('r').signalBuffer).toEqual([]);
    }
    expect(h.run('r').status).toBe('completed');
    // a signal after the run finished is not delivered to an old iteration
    h.signal('r', 'go', 'late');
    expect(h.run('r').data.steps['l/2/gate'].output).toEqual({ i: 2 });
  });

  it('finds the waiting signal step of a nested loop iteration', () => {
    const h = new WorkflowHarness();
    h.register({
      name: 'nested-gate',
      steps: [
        {
          id: 'outer',
          type: 'loop',
          until: 'false',
          maxIterations: 2,
          onMaxIterations: 'complete',
          steps: [{ id: 'inner', type: 'loop', until: 'false', maxIterations: 2, onMaxIterations: 'complete', steps: [{ id: 'gate', type: 'signal', signal: 'go' }] }],
        },
      ],
    });
    h.start('r', 'nested-gate');
    const delivered: string[] = [];
    for (let n = 0; n < 4; n++) {
      expect(h.run('r').status).toBe('waiting');
      h.signal('r', 'go', n);
      const run = h.run('r');
      delivered.push(...Object.keys(run.data.steps).filter((key) => key.endsWith('/gate') && run.data.steps[key].output === n));
    }
    expect(delivered).toEqual(['outer/0/inner/0/gate', 'outer/0/inner/1/gate', 'outer/1/inner/0/gate', 'outer/1/inner/1/gate']);
    expect(h.run('r').status).toBe('completed');
  });
});
