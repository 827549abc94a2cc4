import { describe, expect, it } from 'vitest';
import { agentLoopDefinition, supportAgentDefinition } from '../definition/examples';
import { replay } from '../replay/replay';
import { WorkflowHarness } from '../testing/workflow-harness';
import { runStateHash } from './run-hash';

describe('DESIGN.md examples', () => {
  it('agent loop: reason sees the previous iteration’s tool results, tools fan out 3 at a time, answer reads the last iteration', () => {
    const h = new WorkflowHarness();
    h.register(agentLoopDefinition);
    h.start('run-1', 'agent-loop', { goal: 'find the capital of France', tools: ['search'] });
    expect(h.dispatches('run-1', 'plan')[0]).toMatchObject({ queue: 'agents', input: { goal: 'find the capital of France', tools: ['search'] } });
    h.complete('run-1', 'plan', { steps: ['search', 'answer'] }, { usage: { inputTokens: 100, outputTokens: 20, cost: 0.01 } });

    const reason0 = h.dispatches('run-1', 'agent/0/reason')[0];
    expect(reason0.input).toEqual({ goal: 'find the capital of France', plan: { steps: ['search', 'answer'] }, iteration: 0, observations: [], previousFailure: null });
    h.complete('run-1', 'agent/0/reason', { done: false, toolCalls: ['q1', 'q2', 'q3', 'q4'] });
    expect(h.dispatches('run-1', 'agent/0/act').map((d) => d.input)).toEqual([
      { call: 'q1', position: 0 },
      { call: 'q2', position: 1 },
      { call: 'q3', position: 2 },
    ]);
    for (const [index, result] of ['r1', 'r2', 'r3'].entries()) h.complete('run-1', 'agent/0/act', result, { itemIndex: index });
    h.complete('run-1', 'agent/0/act', 'r4', { itemIndex: 3 });

    const reason1 = h.dispatches('run-1', 'agent/1/reason')[0];
    expect(reason1.input).toMatchObject({ iteration: 1, observations: ['r1', 'r2', 'r3', 'r4'] });
    h.complete('run-1', 'agent/1/reason', { done: true, toolCalls: [], answer: 'Paris' });
    h.complete('run-1', 'answer', 'Paris is the capital of France.');
    const run = h.run('run-1');
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ answer: 'Paris is the capital of France.', lastIteration: { reason: { done: true, toolCalls: [], answer: 'Paris' }, act: [] } });
    expect(h.dispatches('run-1', 'answer')[0].input).toEqual({ goal: 'find the capital of France', draft: { done: true, toolCalls: [], answer: 'Paris' } });
    expect(run.usage).toEqual({ inputTokens: 100, outputTokens: 20, cost: 0.01 });
    expect(replay(agentLoopDefinition, h.history('run-1'))).toMatchObject({ verified: true, stateHash: runStateHash(run) });
  });

  it('agent loop: an automatic rollback shows the previous failure to the retried segment', () => {
    const h = new WorkflowHarness();
    h.register(agentLoopDefinition);
    h.start('run-2', 'agent-loop', { goal: 'g' });
    h.complete('run-2', 'plan', 'p');
    h.fail('run-2', 'agent/0/reason', { message: 'model refused', errorType: 'Refusal', retryable: false });
    const run = h.run('run-2');
    expect(run.generation).toBe(2);
    expect(run.rollbacks[0]).toMatchObject({ automatic: true, checkpointId: 'cp-2' });
    const retried = h.dispatches('run-2', 'agent/0/reason').at(-1)!;
    expect(retried.generation).toBe(2);
    expect(retried.input).toMatchObject({ previousFailure: { stepKey: 'agent/0/reason', message: 'model refused', errorType: 'Refusal' } });
    expect(retried.context.rollbacks).toBe(1);
  });

  it('support agent: refund skipped, approval signal, research map, think loop, durable cool-off', () => {
    const h = new WorkflowHarness(0);
    h.register(supportAgentDefinition);
    expect(h.start('s', 'support-agent', {}).events[0]).toMatchObject({ type: 'rejected', reason: 'invalid_input' });
    h.start('s', 'support-agent', { message: 'where is my parcel?' });
    h.complete('s', 'classify', { intent: 'question', queries: ['parcel status'] });
    expect(h.run('s').data.steps['refund'].status).toBe('skipped');
    h.complete('s', 'notify', 'sent');
    expect(h.run('s').status).toBe('waiting');
    h.signal('s', 'manager_approval', { approved: true });
    h.complete('s', 'research', 'in transit', { itemIndex: 0 });
    h.complete('s', 'think/0/reason', { done: true, toolCalls: [] });
    expect(h.run('s').data.steps['think/0/act'].status).toBe('completed');
    expect(h.run('s').data.steps['cool-off']).toMatchObject({ status: 'running', dueAt: h.now + 60000 });
    h.fireNextTimer('s');
    expect(h.run('s').status).toBe('completed');
    expect(h.run('s').checkpoints.map((c) => c.reason)).toEqual(['start', 'step', 'every']);
  });
});
