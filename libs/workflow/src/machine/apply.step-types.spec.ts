import { describe, expect, it } from 'vitest';
import { WorkflowHarness } from '../testing/workflow-harness';

describe('apply: sleep', () => {
  it('arms a durable timer at an absolute due time and completes when it fires', () => {
    const h = new WorkflowHarness(1000);
    h.register({ name: 's', steps: [{ id: 'nap', type: 'sleep', durationMs: 60000 }, { id: 'after', task: 't' }] });
    h.start('r', 's');
    const run = h.run('r');
    expect(run.status).toBe('waiting');
    expect(Object.values(run.timers)).toEqual([{ kind: 'sleep', dueAt: 61000, stepKey: 'nap', generation: 1 }]);
    expect(h.effects).toContainEqual({ type: 'arm-timer', runId: 'r', timerId: 'r|nap|g1|-|sleep', dueAt: 61000, kind: 'sleep' });
    h.fireNextTimer('r');
    expect(h.run('r').data.steps['nap'].status).toBe('completed');
    expect(h.run('r').data.steps['after'].status).toBe('scheduled');
    expect(h.send({ type: 'TimerFired', runId: 'r', timerId: 'r|nap|g1|-|sleep' }).events[0]).toMatchObject({ type: 'ignored', reason: 'stale_timer' });
  });
});

describe('apply: timestamps', () => {
  it('never computes a due time before the run’s latest timestamp (a lagging proposer clock is clamped)', () => {
    const h = new WorkflowHarness(1000);
    h.register({ name: 'late', steps: [{ id: 'a', task: 'a' }, { id: 'nap', type: 'sleep', durationMs: 50 }] });
    h.start('r', 'late');
    h.send({ type: 'StepCompleted', runId: 'r', stepKey: 'a', attempt: 1, generation: 1, output: null, at: 400 });
    expect(h.run('r').data.steps['nap'].dueAt).toBe(1050);
  });
});

describe('apply: signal', () => {
  const def = { name: 'sig', steps: [{ id: 'approve', type: 'signal', signal: 'manager_approval', timeoutMs: 1000 }, { id: 'go', task: 't', input: '${steps.approve.output}' }] };

  it('waits for the signal and passes its payload on', () => {
    const h = new WorkflowHarness();
    h.register(def);
    h.start('r', 'sig');
    expect(h.run('r').status).toBe('waiting');
    h.signal('r', 'other', 1);
    expect(h.run('r').data.steps['approve'].status).toBe('running');
    h.signal('r', 'manager_approval', { ok: true });
    expect(h.run('r').data.steps['approve']).toMatchObject({ status: 'completed', output: { ok: true } });
    expect(h.dispatches('r', 'go')[0].input).toEqual({ ok: true });
    expect(h.run('r').signalBuffer).toEqual([{ signal: 'other', payload: 1, at: h.now }]);
    expect(Object.keys(h.run('r').timers).some((id) => id.endsWith('signal-timeout'))).toBe(false);
  });

  it('consumes a signal buffered before the step was reached', () => {
    const h = new WorkflowHarness();
    h.register({ name: 'sig2', steps: [{ id: 'first', task: 't' }, { id: 'approve', type: 'signal', signal: 'ok' }] });
    h.start('r', 'sig2');
    h.signal('r', 'ok', 'early');
    h.complete('r', 'first');
    expect(h.run('r').status).toBe('completed');
    expect(h.run('r').output).toBe('early');
  });

  it('fails the step (and the run) when the signal times out', () => {
    const h = new WorkflowHarness();
    h.register(def);
    h.start('r', 'sig');
    h.fireNextTimer('r', 'signal-timeout');
    expect(h.run('r').status).toBe('failed');
    expect(h.run('r').data.steps['approve'].error?.errorType).toBe('signal_timeout');
    expect(h.signal('r', 'manager_approval').events[0]).toMatchObject({ type: 'ignored', reason: 'run_finished' });
  });
});

describe('apply: map', () => {
  const def = {
    name: 'm',
    steps: [
      { id: 'plan', task: 'plan' },
      { id: 'search', type: 'map', items: 'steps.plan.output.queries', task: 'tool.search', maxConcurrency: 2, input: { q: '${item}', i: '${index}' } },
    ],
  };

  it('never exceeds maxConcurrency and fans in outputs in item order', () => {
    const h = new WorkflowHarness();
    h.register(def);
    h.start('r', 'm');
    h.complete('r', 'plan', { queries: ['a', 'b', 'c', 'd', 'e'] });
    const inFlight = () => h.run('r').data.steps['search'].items!.filter((i) => i.status === 'scheduled' || i.status === 'running').length;
    expect(inFlight()).toBe(2);
    expect(h.dispatches('r', 'search').map((d) => [d.itemIndex, d.input, d.jobId])).toEqual([
      [0, { q: 'a', i: 0 }, 'r|search#0|g1|a1'],
      [1, { q: 'b', i: 1 }, 'r|search#1|g1|a1'],
    ]);
    h.complete('r', 'search', 'B', { itemIndex: 1 });
    expect(inFlight()).toBe(2);
    h.complete('r', 'search', 'C', { itemIndex: 2 });
    h.complete('r', 'search', 'A', { itemIndex: 0 });
    h.complete('r', 'search', 'E', { itemIndex: 4 });
    expect(inFlight()).toBe(1);
    h.complete('r', 'search', 'D', { itemIndex: 3 });
    expect(h.run('r').status).toBe('completed');
    expect(h.run('r').output).toEqual(['A', 'B', 'C', 'D', 'E']);
  });

  it('completes an empty map at once and fails on a non-list', () => {
    const h = new WorkflowHarness();
    h.register(def);
    h.start('r', 'm');
    h.complete('r', 'plan', { queries: [] });
    expect(h.run('r').output).toEqual([]);
    h.start('r2', 'm');
    h.complete('r2', 'plan', { queries: 'nope' });
    expect(h.run('r2').status).toBe('failed');
    expect(h.run('r2').data.steps['search'].error?.message).toContain('must evaluate to a list');
  });

  it('fails the map when one item fails after its retries', () => {
    const h = new WorkflowHarness();
    h.register({ ...def, defaults: { retry: { maxAttempts: 1 } } });
    h.start('r', 'm');
    h.complete('r', 'plan', { queries: ['a', 'b'] });
    h.fail('r', 'search', { message: 'no results' }, 1);
    expect(h.run('r').status).toBe('failed');
    expect(h.run('r').data.steps['search'].error?.message).toContain('item 1 failed: no results');
    expect(h.effects).toContainEqual({ type: 'abandon-job', runId: 'r', jobId: 'r|search#0|g1|a1' });
  });
});

describe('apply: loop', () => {
  const def = {
    name: 'agent',
    steps: [
      {
        id: 'think',
        type: 'loop',
        until: 'steps.reason.output.done',
        maxIterations: 3,
        steps: [{ id: 'reason', task: 'llm.reason', input: '${run.iteration}' }, { id: 'act', task: 'tool.call' }],
      },
    ],
  };

  it('repeats the body until the condition holds, with per-iteration step keys', () => {
    const h = new WorkflowHarness();
    h.register(def);
    h.start('r', 'agent');
    expect(h.dispatches('r', 'think/0/reason')[0].input).toBe(0);
    h.complete('r', 'think/0/reason', { done: false });
    h.complete('r', 'think/0/act', 'acted');
    expect(h.run('r').data.steps['think'].iteration).toBe(1);
    expect(h.dispatches('r', 'think/1/reason')[0].input).toBe(1);
    h.complete('r', 'think/1/reason', { done: true });
    expect(h.run('r').status).toBe('running');
    h.complete('r', 'think/1/act', 'acted again');
    expect(h.run('r').status).toBe('completed');
    expect(h.run('r').output).toEqual({ reason: { done: true }, act: 'acted again' });
    expect(h.run('r').data.steps['think'].iteration).toBe(1);
  });

  it('fails at maxIterations by default, completes with onMaxIterations=complete', () => {
    for (const onMax of ['fail', 'complete'] as const) {
      const h = new WorkflowHarness();
      h.register({ name: 'agent', steps: [{ ...def.steps[0], onMaxIterations: onMax }] });
      h.start('r', 'agent');
      for (let i = 0; i < 3; i++) {
        h.complete('r', `think/${i}/reason`, { done: false });
        h.complete('r', `think/${i}/act`, i);
      }
      expect(h.run('r').status).toBe(onMax === 'fail' ? 'failed' : 'completed');
      if (onMax === 'fail') expect(h.run('r').error?.errorType).toBe('loop_exhausted');
      else {
        expect(h.run('r').output).toEqual({ reason: { done: false }, act: 2 });
        expect(h.run('r').data.steps['think'].exhausted).toBe(true);
      }
    }
  });
});

describe('apply: when guards and DAGs', () => {
  it('skips a step whose guard is false and lets dependents run', () => {
    const h = new WorkflowHarness();
    h.register({
      name: 'g',
      steps: [
        { id: 'classify', task: 'c' },
        { id: 'refund', task: 'r', when: "steps.classify.output.intent == 'refund'" },
        { id: 'reply', task: 'reply' },
      ],
    });
    h.start('r', 'g');
    h.complete('r', 'classify', { intent: 'question' });
    expect(h.run('r').data.steps['refund'].status).toBe('skipped');
    expect(h.run('r').data.steps['reply'].status).toBe('scheduled');
  });

  it('runs independent branches in parallel and joins on dependsOn', () => {
    const h = new WorkflowHarness();
    h.register({
      name: 'dag',
      steps: [
        { id: 'a', task: 'a' },
        { id: 'b', task: 'b', dependsOn: [] },
        { id: 'join', task: 'j', dependsOn: ['a', 'b'] },
      ],
    });
    h.start('r', 'dag');
    expect(['a', 'b', 'join'].map((k) => h.run('r').data.steps[k].status)).toEqual(['scheduled', 'scheduled', 'pending']);
    h.complete('r', 'b');
    expect(h.run('r').data.steps['join'].status).toBe('pending');
    h.complete('r', 'a');
    expect(h.run('r').data.steps['join'].status).toBe('scheduled');
  });

  it('fails the step with a clear message when an expression errors at run time', () => {
    const h = new WorkflowHarness();
    h.register({ name: 'e', steps: [{ id: 'a', task: 'a' }, { id: 'b', task: 'b', when: 'steps.a.output.missing.deeper == 1' }] });
    h.start('r', 'e');
    expect(() => h.complete('r', 'a', {})).not.toThrow();
    const b = h.run('r').data.steps['b'];
    expect(b.status).toBe('failed');
    expect(b.error).toMatchObject({ errorType: 'expression_error' });
    expect(b.error?.message).toContain('when of step b');
  });
});

describe('apply: cancellation', () => {
  it('cancels timers, abandons in-flight attempts and ignores later results', () => {
    const h = new WorkflowHarness();
    h.register({ name: 'c', steps: [{ id: 'a', task: 'a' }] });
    h.start('r', 'c');
    h.send({ type: 'CancelRun', runId: 'r', reason: 'user asked', actor: 'alice' });
    const run = h.run('r');
    expect(run.status).toBe('cancelled');
    expect(run.cancel).toMatchObject({ reason: 'user asked', actor: 'alice' });
    expect(run.timers).toEqual({});
    expect(h.effects).toContainEqual({ type: 'cancel-timer', runId: 'r', timerId: 'r|a|g1|a1|step-timeout' });
    expect(h.effects).toContainEqual({ type: 'abandon-job', runId: 'r', jobId: 'r|a|g1|a1' });
    expect(h.send({ type: 'StepCompleted', runId: 'r', stepKey: 'a', attempt: 1, generation: 1, output: 1 }).events[0]).toMatchObject({ reason: 'run_finished' });
  });
});
