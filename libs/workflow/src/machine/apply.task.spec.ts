import { describe, expect, it } from 'vitest';
import { WorkflowHarness } from '../testing/workflow-harness';

const twoSteps = {
  name: 'two',
  defaults: { retry: { maxAttempts: 3, backoff: { initialMs: 100, multiplier: 2, maxMs: 1000, jitter: 0 } }, timeoutMs: 5000 },
  steps: [
    { id: 'a', task: 'do.a', input: { text: '${input.message}' } },
    { id: 'b', task: 'do.b', input: '${steps.a.output}' },
  ],
};

describe('apply: task steps', () => {
  it('runs tasks in dependency order and completes with the last output', () => {
    const h = new WorkflowHarness();
    expect(h.register(twoSteps).events).toContainEqual({ type: 'workflow-registered', name: 'two', version: 1 });
    h.start('r1', 'two', { message: 'hi' });
    const run = h.run('r1');
    expect(run.status).toBe('running');
    expect(run.data.steps['a'].status).toBe('scheduled');
    expect(run.data.steps['b'].status).toBe('pending');
    const [dispatch] = h.dispatches('r1', 'a');
    expect(dispatch).toMatchObject({ task: 'do.a', queue: 'default', input: { text: 'hi' }, attempt: 1, generation: 1, jobId: 'r1|a|g1|a1', timeoutMs: 5000 });
    expect(dispatch.jobId).not.toContain(':');
    h.started('r1', 'a');
    expect(h.run('r1').data.steps['a'].status).toBe('running');
    h.complete('r1', 'a', { x: 1 });
    expect(h.dispatches('r1', 'b')[0].input).toEqual({ x: 1 });
    h.complete('r1', 'b', 'done');
    expect(h.run('r1').status).toBe('completed');
    expect(h.run('r1').output).toBe('done');
    expect(Object.keys(h.run('r1').timers)).toEqual([]);
  });

  it('retries with deterministic backoff, then fails the run', () => {
    const h = new WorkflowHarness();
    h.register(twoSteps);
    h.start('r1', 'two', { message: 'hi' });
    h.fail('r1', 'a', { message: 'flaky' });
    const step = h.run('r1').data.steps['a'];
    expect(step.status).toBe('scheduled');
    expect(step.retryAt).toBe(h.now + 100);
    expect(h.fireNextTimer('r1', 'retry')).toBeDefined();
    expect(h.run('r1').data.steps['a'].attempt).toBe(2);
    expect(h.dispatches('r1', 'a').map((d) => d.jobId)).toEqual(['r1|a|g1|a1', 'r1|a|g1|a2']);
    h.fail('r1', 'a');
    expect(h.run('r1').data.steps['a'].retryAt).toBe(h.now + 200);
    h.fireNextTimer('r1', 'retry');
    h.fail('r1', 'a', { message: 'final' });
    const run = h.run('r1');
    expect(run.status).toBe('failed');
    expect(run.data.steps['a'].status).toBe('failed');
    expect(run.error?.message).toContain('final');
    expect(run.lastFailure?.stepKey).toBe('a');
  });

  it('does not retry non-retryable failures', () => {
    const h = new WorkflowHarness();
    h.register(twoSteps);
    h.start('r1', 'two', { message: 'hi' });
    h.fail('r1', 'a', { retryable: false });
    expect(h.run('r1').status).toBe('failed');
  });

  it('times an attempt out through its timer and retries', () => {
    const h = new WorkflowHarness();
    h.register(twoSteps);
    h.start('r1', 'two', { message: 'hi' });
    const timerId = h.fireNextTimer('r1', 'step-timeout');
    expect(timerId).toBe('r1|a|g1|a1|step-timeout');
    expect(h.run('r1').data.steps['a'].error?.errorType).toBe('timeout');
    expect(h.run('r1').data.steps['a'].retryAt).toBeDefined();
  });

  it('applies only the first result of the current attempt; later ones are ignored events', () => {
    const h = new WorkflowHarness();
    h.register(twoSteps);
    h.start('r1', 'two', { message: 'hi' });
    const address = { runId: 'r1', stepKey: 'a', attempt: 1, generation: 1 };
    h.send({ type: 'StepCompleted', ...address, output: 1 });
    const before = h.run('r1');
    const dup = h.send({ type: 'StepCompleted', ...address, output: 2 });
    expect(dup.events[0]).toMatchObject({ type: 'ignored', reason: 'step_not_active' });
    expect(h.run('r1').data.steps['a'].output).toBe(1);
    expect(h.run('r1').data).toEqual(before.data);
    expect(h.send({ type: 'StepCompleted', ...address, stepKey: 'b', attempt: 7, output: 2 }).events[0]).toMatchObject({ reason: 'stale_attempt' });
    expect(h.send({ type: 'StepCompleted', ...address, stepKey: 'b', generation: 9, output: 2 }).events[0]).toMatchObject({ reason: 'stale_generation' });
    expect(h.run('r1').ignoredCommands).toBe(3);
    expect(h.history('r1')).toHaveLength(5);
  });

  it('rejects malformed commands without throwing and without changing state', () => {
    const h = new WorkflowHarness();
    const result = h.send({ type: 'StepCompleted', runId: 'bad:id', stepKey: 'a', attempt: 0, generation: 1 } as never);
    expect(result.events[0]).toMatchObject({ type: 'rejected', reason: 'invalid_command' });
    expect(result.state).toBe(h.state);
  });

  it('is idempotent on the start idempotency key and validates input', () => {
    const h = new WorkflowHarness();
    h.register({ ...twoSteps, inputSchema: { type: 'object', required: ['message'] } });
    h.start('r1', 'two', { message: 'x' }, { idempotencyKey: 'k' });
    const dup = h.start('r2', 'two', { message: 'x' }, { idempotencyKey: 'k' });
    expect(dup.events[0]).toMatchObject({ type: 'ignored', reason: 'duplicate_idempotency_key', runId: 'r1' });
    expect(h.state.runs['r2']).toBeUndefined();
    const bad = h.start('r3', 'two', {});
    expect(bad.events[0]).toMatchObject({ type: 'rejected', reason: 'invalid_input' });
  });

  it('pins the definition version', () => {
    const h = new WorkflowHarness();
    h.register(twoSteps);
    h.start('r1', 'two', { message: 'x' });
    h.register({ ...twoSteps, steps: [{ id: 'only', task: 'v2' }] });
    h.start('r2', 'two', { message: 'x' });
    expect(h.run('r1').version).toBe(1);
    expect(h.run('r2').version).toBe(2);
    h.complete('r1', 'a');
    expect(h.run('r1').data.steps['b'].status).toBe('scheduled');
  });
});
