import { describe, expect, it } from 'vitest';
import { runDataHash } from './run-hash';
import { WorkflowHarness } from '../testing/workflow-harness';
import { planRollback } from './plan-rollback';

const shop = {
  name: 'shop',
  defaults: { retry: { maxAttempts: 1 } },
  steps: [
    { id: 'classify', task: 'llm.classify', checkpoint: true },
    { id: 'charge', task: 'billing.charge', effect: 'compensable', compensate: { task: 'billing.refund', input: { amount: '${steps.charge.output.amount}' } } },
    { id: 'reserve', task: 'stock.reserve', compensate: { task: 'stock.release' } },
    { id: 'confirm', type: 'signal', signal: 'confirm' },
    { id: 'email', task: 'email.send', effect: 'irreversible' },
    { id: 'finish', task: 'finish' },
  ],
};

function atEmail(h: WorkflowHarness, runId = 'r'): void {
  h.register(shop);
  h.start(runId, 'shop');
  h.complete(runId, 'classify', { intent: 'buy' });
  h.complete(runId, 'charge', { amount: 42 });
  h.complete(runId, 'reserve', { sku: 'x' });
}

describe('checkpoints', () => {
  it('are taken at start, after checkpoint steps, every N steps and on demand, with log index and state hash', () => {
    const h = new WorkflowHarness();
    h.register({ ...shop, name: 'cp', checkpointEvery: 2 });
    h.start('r', 'cp');
    h.complete('r', 'classify');
    h.complete('r', 'charge');
    h.complete('r', 'reserve');
    h.send({ type: 'TakeCheckpoint', runId: 'r', label: 'before email' });
    const cps = h.run('r').checkpoints;
    expect(cps.map((c) => [c.id, c.reason, c.afterStep ?? c.label ?? null])).toEqual([
      ['cp-1', 'start', null],
      ['cp-2', 'step', 'classify'],
      ['cp-3', 'every', 'reserve'],
      ['cp-4', 'manual', 'before email'],
    ]);
    expect(cps.map((c) => c.logIndex)).toEqual([2, 3, 5, 6]);
    for (const cp of cps) expect(cp.stateHash).toBe(runDataHash(cp.data));
    // in-flight work is captured as pending so that a restore re-executes it
    expect(cps[3].data.steps['email'].status).toBe('pending');
  });
});

describe('rollback', () => {
  it('plans discarded steps, compensations in reverse completion order and irreversible effects', () => {
    const h = new WorkflowHarness();
    atEmail(h);
    h.signal('r', 'confirm');
    h.complete('r', 'email');
    const outcome = planRollback(h.state, 'r', 'cp-2');
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.plan.discarded.map((d) => d.stepKey)).toEqual(['charge', 'confirm', 'email', 'finish', 'reserve']);
    expect(outcome.plan.compensations.map((c) => [c.order, c.stepKey, c.task])).toEqual([
      [1, 'reserve', 'stock.release'],
      [2, 'charge', 'billing.refund'],
    ]);
    expect(outcome.plan.irreversible).toEqual([{ stepKey: 'email', stepId: 'email', task: 'email.send', status: 'completed' }]);
    expect(outcome.plan.requiresForce).toBe(true);
    expect(planRollback(h.state, 'r', 'cp-9')).toMatchObject({ ok: false, reason: 'unknown_checkpoint' });
  });

  it('refuses to cross an irreversible effect without force', () => {
    const h = new WorkflowHarness();
    atEmail(h);
    h.signal('r', 'confirm');
    h.complete('r', 'email');
    const before = h.run('r');
    const result = h.send({ type: 'RollbackRun', runId: 'r', checkpointId: 'cp-2', reason: 'wrong intent', actor: 'op' });
    expect(result.events[0]).toMatchObject({ type: 'rejected', reason: 'irreversible_effects' });
    expect(h.run('r').generation).toBe(before.generation);
    expect(h.run('r').data).toEqual(before.data);
  });

  it('compensates in reverse order, restores the patched checkpoint and resumes in a new generation', () => {
    const h = new WorkflowHarness();
    atEmail(h);
    const cp = h.run('r').checkpoints.find((c) => c.id === 'cp-2')!;
    const patch = [{ op: 'replace' as const, path: '/steps/classify/output/intent', value: 'refund' }];
    h.send({ type: 'RollbackRun', runId: 'r', checkpointId: 'cp-2', patch, reason: 'misclassified', actor: 'op' });
    let run = h.run('r');
    expect(run.status).toBe('rolling_back');
    expect(run.generation).toBe(2);
    const compensations = h.effects.filter((e) => e.type === 'compensate');
    expect(compensations).toHaveLength(1);
    expect(compensations[0]).toMatchObject({ stepKey: 'reserve', task: 'stock.release', generation: 2, input: { input: null, output: { sku: 'x' } } });
    // a late result of the fenced generation is ignored
    expect(h.send({ type: 'StepCompleted', runId: 'r', stepKey: 'charge', attempt: 1, generation: 1, output: 1 }).events[0]).toMatchObject({ reason: 'stale_generation' });
    h.send({ type: 'CompensationCompleted', runId: 'r', stepKey: 'reserve', generation: 2 });
    expect(h.run('r').data.steps['reserve'].status).toBe('compensated');
    const second = h.effects.filter((e) => e.type === 'compensate')[1];
    expect(second).toMatchObject({ stepKey: 'charge', task: 'billing.refund', input: { amount: 42 }, jobId: 'r|charge|g2|compensate-a1', attempt: 1 });
    h.send({ type: 'CompensationCompleted', runId: 'r', stepKey: 'charge', generation: 2 });
    run = h.run('r');
    expect(run.status).toBe('running');
    const record = run.rollbacks[0];
    expect(record).toMatchObject({ checkpointId: 'cp-2', actor: 'op', reason: 'misclassified', status: 'restored', generation: 2, automatic: false });
    expect(record.discarded.map((d) => d.stepKey)).toEqual(['charge', 'confirm', 'reserve']);
    // state after restore = checkpoint data + patch (the charge step is re-dispatched right after)
    const expected = structuredClone(cp.data);
    (expected.steps['classify'].output as { intent: string }).intent = 'refund';
    expect(record.restoredStateHash).toBe(runDataHash(expected));
    expect(run.data.steps['classify']).toEqual(expected.steps['classify']);
    expect(run.data.steps['charge']).toMatchObject({ status: 'scheduled', attempt: 1, generation: 2, jobId: 'r|charge|g2|a1' });
    // the rolled-back branch stays visible
    expect(record.discarded.find((d) => d.stepKey === 'charge')?.output).toEqual({ amount: 42 });
  });

  it('a failed compensation leaves the run rolling_back with a clear error; a new rollback resumes it', () => {
    const h = new WorkflowHarness();
    atEmail(h);
    h.send({ type: 'RollbackRun', runId: 'r', checkpointId: 'cp-2', reason: 'x', actor: 'op' });
    h.send({ type: 'CompensationCompleted', runId: 'r', stepKey: 'reserve', generation: 2 });
    h.send({ type: 'CompensationFailed', runId: 'r', stepKey: 'charge', generation: 2, error: { message: 'gateway down' } });
    let run = h.run('r');
    expect(run.status).toBe('rolling_back');
    expect(run.error?.errorType).toBe('compensation_failed');
    expect(run.error?.message).toContain('billing.refund of step charge failed: gateway down');
    h.send({ type: 'RollbackRun', runId: 'r', checkpointId: 'cp-2', reason: 'retry compensation', actor: 'op' });
    run = h.run('r');
    expect(run.generation).toBe(3);
    expect(run.pendingRollback?.compensations.map((c) => c.stepKey)).toEqual(['charge']);
    h.send({ type: 'CompensationCompleted', runId: 'r', stepKey: 'charge', generation: 3 });
    run = h.run('r');
    expect(run.status).toBe('running');
    expect(run.rollbacks.map((r) => r.status)).toEqual(['superseded', 'restored']);
  });

  it('rolls back across an irreversible effect with force and records it', () => {
    const h = new WorkflowHarness();
    atEmail(h);
    h.signal('r', 'confirm');
    h.complete('r', 'email');
    h.send({ type: 'RollbackRun', runId: 'r', checkpointId: 'cp-2', reason: 'accept duplicate email', actor: 'op', force: true });
    expect(h.run('r').rollbacks[0]).toMatchObject({ force: true, irreversible: [{ stepKey: 'email', task: 'email.send' }] });
  });

  it('rejects an invalid patch and a checkpoint of a rolled-back branch', () => {
    const h = new WorkflowHarness();
    atEmail(h);
    h.send({ type: 'TakeCheckpoint', runId: 'r' });
    const bad = h.send({ type: 'RollbackRun', runId: 'r', checkpointId: 'cp-2', reason: 'x', actor: 'op', patch: [{ op: 'replace', path: '/steps/nope/output', value: 1 }] });
    expect(bad.events[0]).toMatchObject({ type: 'rejected', reason: 'invalid_patch' });
    const badStatus = h.send({ type: 'RollbackRun', runId: 'r', checkpointId: 'cp-2', reason: 'x', actor: 'op', patch: [{ op: 'replace', path: '/steps/charge/status', value: 'running' }] });
    expect(badStatus.events[0]).toMatchObject({ type: 'rejected', reason: 'invalid_patch' });
    h.send({ type: 'RollbackRun', runId: 'r', checkpointId: 'cp-1', reason: 'x', actor: 'op' });
    h.send({ type: 'CompensationCompleted', runId: 'r', stepKey: 'reserve', generation: 2 });
    h.send({ type: 'CompensationCompleted', runId: 'r', stepKey: 'charge', generation: 2 });
    expect(h.run('r').status).toBe('running');
    const stale = h.send({ type: 'RollbackRun', runId: 'r', checkpointId: 'cp-3', reason: 'x', actor: 'op' });
    expect(stale.events[0]).toMatchObject({ type: 'rejected', reason: 'checkpoint_not_in_lineage' });
  });
});

describe('automatic rollback', () => {
  const auto = {
    name: 'auto',
    defaults: { retry: { maxAttempts: 1 } },
    onFailure: { rollbackTo: 'lastCheckpoint', maxRollbacks: 2 },
    steps: [
      { id: 'prep', task: 'prep', checkpoint: true },
      { id: 'risky', task: 'risky' },
    ],
  };

  it('rolls back to the last checkpoint, shows rollbacks and the last failure to the next attempt, and gives up after maxRollbacks', () => {
    const h = new WorkflowHarness();
    h.register(auto);
    h.start('r', 'auto');
    h.complete('r', 'prep', 'p');
    h.fail('r', 'risky', { message: 'strategy A failed' });
    let run = h.run('r');
    expect(run.status).toBe('running');
    expect(run.generation).toBe(2);
    expect(run.autoRollbacks).toBe(1);
    expect(run.rollbacks[0]).toMatchObject({ automatic: true, actor: 'system', checkpointId: 'cp-2', status: 'restored' });
    const retry = h.dispatches('r', 'risky').at(-1)!;
    expect(retry.generation).toBe(2);
    expect(retry.context).toMatchObject({ rollbacks: 1, autoRollbacks: 1, lastFailure: { stepKey: 'risky', error: { message: 'strategy A failed' } } });
    expect(run.data.steps['prep']).toMatchObject({ status: 'completed', output: 'p' });
    h.fail('r', 'risky', { message: 'strategy B failed' });
    h.fail('r', 'risky', { message: 'strategy C failed' });
    run = h.run('r');
    expect(run.status).toBe('failed');
    expect(run.autoRollbacks).toBe(2);
    expect(run.error?.message).toContain('strategy C failed');
  });

  it('does not auto-roll back across an irreversible effect', () => {
    const h = new WorkflowHarness();
    h.register({ ...auto, steps: [auto.steps[0], { id: 'mail', task: 'mail', effect: 'irreversible' }, auto.steps[1]] });
    h.start('r', 'auto');
    h.complete('r', 'prep');
    h.complete('r', 'mail');
    h.fail('r', 'risky');
    expect(h.run('r').status).toBe('failed');
    expect(h.run('r').error?.message).toContain('automatic rollback refused');
  });
});

describe('fork', () => {
  it('starts a new run from a checkpoint (patched) and leaves the source untouched', () => {
    const h = new WorkflowHarness();
    atEmail(h);
    const source = h.run('r');
    const fork = h.send({ type: 'ForkRun', runId: 'f', sourceRunId: 'r', checkpointId: 'cp-2', reason: 'try refund', actor: 'op', patch: [{ op: 'add', path: '/steps/classify/output', value: { intent: 'refund' } }] });
    expect(fork.record?.runId).toBe('f');
    expect(h.run('r')).toBe(source);
    const forked = h.run('f');
    expect(forked).toMatchObject({ status: 'running', generation: 1, forkedFrom: { runId: 'r', checkpointId: 'cp-2', reason: 'try refund', actor: 'op' } });
    expect(forked.data.steps['classify'].output).toEqual({ intent: 'refund' });
    expect(forked.data.steps['charge'].status).toBe('scheduled');
    expect(h.dispatches('f', 'charge')[0].jobId).toBe('f|charge|g1|a1');
    expect(forked.checkpoints[0]).toMatchObject({ reason: 'fork' });
  });
});

describe('budget', () => {
  it('pauses a run that exceeds its budget until an operator raises it', () => {
    const h = new WorkflowHarness();
    h.register({ name: 'b', budget: { maxTokens: 100 }, steps: [{ id: 'a', task: 'a' }, { id: 'm', type: 'map', items: '[1,2,3]', task: 'm', maxConcurrency: 3 }, { id: 'z', task: 'z' }] });
    h.start('r', 'b');
    h.complete('r', 'a', 'x', { usage: { inputTokens: 60, outputTokens: 50, cost: 0.5 } });
    let run = h.run('r');
    expect(run.status).toBe('waiting');
    expect(run.waitReason).toBe('budget_exceeded');
    expect(run.usage).toEqual({ inputTokens: 60, outputTokens: 50, cost: 0.5 });
    expect(run.data.steps['a'].usage).toEqual({ inputTokens: 60, outputTokens: 50, cost: 0.5 });
    expect(run.data.steps['m'].status).toBe('pending');
    expect(h.send({ type: 'RaiseBudget', runId: 'r', maxTokens: 105, reason: 'not enough', actor: 'op' }).events[0]).toMatchObject({ type: 'applied' });
    expect(h.run('r').waitReason).toBe('budget_exceeded');
    h.send({ type: 'RaiseBudget', runId: 'r', maxTokens: 1000, reason: 'approved', actor: 'op' });
    run = h.run('r');
    expect(run.status).toBe('running');
    expect(run.data.steps['m'].items!.map((i) => i.status)).toEqual(['scheduled', 'scheduled', 'scheduled']);
    expect(run.budgetChanges.map((c) => c.maxTokens)).toEqual([105, 1000]);
  });

  it('holds a retry that comes due while paused and dispatches it on resume', () => {
    const h = new WorkflowHarness();
    h.register({ name: 'b2', budget: { maxCost: 1 }, defaults: { retry: { maxAttempts: 2, backoff: { initialMs: 10, jitter: 0 } } }, steps: [{ id: 'a', task: 'a' }, { id: 'b', task: 'b', dependsOn: [] }] });
    h.start('r', 'b2');
    h.send({ type: 'StepFailed', runId: 'r', stepKey: 'b', attempt: 1, generation: 1, error: { message: 'x' }, usage: { cost: 2 } });
    h.fireNextTimer('r', 'retry');
    expect(h.run('r').data.steps['b']).toMatchObject({ attempt: 2, held: true, status: 'scheduled' });
    expect(h.dispatches('r', 'b')).toHaveLength(1);
    h.send({ type: 'RaiseBudget', runId: 'r', maxCost: 10, reason: 'ok', actor: 'op' });
    expect(h.dispatches('r', 'b').map((d) => d.attempt)).toEqual([1, 2]);
  });
});

describe('compensation retries and timeouts', () => {
  it('retries a failed compensation under its retry policy and times out a silent one', () => {
    const h = new WorkflowHarness();
    h.register({
      name: 'comp',
      defaults: { retry: { maxAttempts: 1 } },
      steps: [
        { id: 'pay', task: 'pay', compensate: { task: 'unpay', timeoutMs: 1000, retry: { maxAttempts: 3, backoff: { initialMs: 50, jitter: 0 } } } },
        { id: 'wait', type: 'signal', signal: 'go' },
      ],
    });
    h.start('r', 'comp');
    h.complete('r', 'pay', 'paid');
    h.send({ type: 'RollbackRun', runId: 'r', checkpointId: 'cp-1', reason: 'undo', actor: 'op' });
    expect(h.effects.filter((e) => e.type === 'compensate').map((e) => e.jobId)).toEqual(['r|pay|g2|compensate-a1']);
    h.send({ type: 'CompensationFailed', runId: 'r', stepKey: 'pay', generation: 2, attempt: 1, error: { message: 'busy' } });
    expect(h.run('r').pendingRollback?.compensations[0]).toMatchObject({ status: 'running', attempt: 1, retryAt: h.now + 50 });
    expect(h.send({ type: 'CompensationCompleted', runId: 'r', stepKey: 'pay', generation: 2, attempt: 1 }).events[0]).toMatchObject({ reason: 'stale_compensation' });
    h.fireNextTimer('r', 'compensation-retry');
    h.fireNextTimer('r', 'compensation-timeout');
    expect(h.run('r').pendingRollback?.compensations[0]).toMatchObject({ attempt: 2, error: { errorType: 'timeout' } });
    h.fireNextTimer('r', 'compensation-retry');
    h.send({ type: 'CompensationCompleted', runId: 'r', stepKey: 'pay', generation: 2, attempt: 3 });
    expect(h.run('r').status).toBe('running');
    expect(h.effects.filter((e) => e.type === 'compensate').map((e) => e.jobId)).toEqual(['r|pay|g2|compensate-a1', 'r|pay|g2|compensate-a2', 'r|pay|g2|compensate-a3']);
  });
});

describe('heartbeats', () => {
  it('fails an attempt that misses its heartbeat deadline; heartbeats push the deadline out', () => {
    const h = new WorkflowHarness(0);
    h.register({ name: 'hb', defaults: { retry: { maxAttempts: 1 } }, steps: [{ id: 'long', task: 'long', heartbeatTimeoutMs: 100, timeoutMs: 10000 }] });
    h.start('r', 'hb');
    h.started('r', 'long');
    h.advanceClock(80);
    h.send({ type: 'StepHeartbeat', runId: 'r', stepKey: 'long', attempt: 1, generation: 1 });
    const timer = Object.values(h.run('r').timers).find((t) => t.kind === 'heartbeat-timeout');
    expect(timer?.dueAt).toBe(180);
    h.fireNextTimer('r', 'heartbeat-timeout');
    expect(h.run('r').status).toBe('failed');
    expect(h.run('r').data.steps['long'].error?.errorType).toBe('heartbeat_timeout');
  });
});

describe('archiving', () => {
  it('archives only finished runs and keeps a tombstone; the watermark is monotonic', () => {
    const h = new WorkflowHarness();
    h.register({ name: 'a', steps: [{ id: 'x', task: 'x' }] });
    h.start('r', 'a', {}, { idempotencyKey: 'k' });
    expect(h.send({ type: 'ArchiveRun', runId: 'r' }).events[0]).toMatchObject({ type: 'rejected', reason: 'run_not_finished' });
    h.complete('r', 'x');
    h.send({ type: 'ArchiveRun', runId: 'r' });
    expect(h.state.runs['r']).toBeUndefined();
    expect(h.state.archivedRuns['r']).toMatchObject({ status: 'completed' });
    expect(h.send({ type: 'StepCompleted', runId: 'r', stepKey: 'x', attempt: 1, generation: 1 }).events[0]).toMatchObject({ reason: 'run_archived' });
    expect(h.start('r2', 'a', {}, { idempotencyKey: 'k' }).events[0]).toMatchObject({ reason: 'duplicate_idempotency_key', runId: 'r' });
    h.send({ type: 'ArchivedWatermark', index: 10 });
    h.send({ type: 'ArchivedWatermark', index: 5 });
    expect(h.state.archivedWatermark).toBe(10);
  });
});

describe('automatic rollback loops are bounded', () => {
  it('a checkpoint that fails again right after restore exhausts maxRollbacks within one command', () => {
    const h = new WorkflowHarness();
    h.register({
      name: 'stuck',
      onFailure: { maxRollbacks: 2 },
      steps: [{ id: 'l', type: 'loop', until: 'false', maxIterations: 1, steps: [{ id: 'b', task: 'b', checkpoint: true }] }],
    });
    h.start('r', 'stuck');
    const result = h.complete('r', 'l/0/b', 'x');
    const run = h.run('r');
    expect(result.events.filter((e) => e.type === 'rollback-restored')).toHaveLength(2);
    expect(run).toMatchObject({ status: 'failed', autoRollbacks: 2, generation: 3 });
    expect(run.rollbacks.map((r) => [r.checkpointId, r.status, r.automatic])).toEqual([
      ['cp-2', 'restored', true],
      ['cp-2', 'restored', true],
    ]);
    expect(run.error?.errorType).toBe('loop_exhausted');
    // an operator rollback to the same checkpoint restores once, then the run fails again (budget of automatic rollbacks spent)
    h.send({ type: 'RollbackRun', runId: 'r', checkpointId: 'cp-2', reason: 'try again', actor: 'op' });
    expect(h.run('r')).toMatchObject({ status: 'failed', generation: 4, autoRollbacks: 2 });
  });
});
