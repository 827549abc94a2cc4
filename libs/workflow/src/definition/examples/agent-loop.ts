import type { WorkflowDefinitionInput } from '../definition.schema';

/**
 * A ReAct-style agent loop: plan once, then repeat {reason → act (tool calls fanned out, 3 at a
 * time) → observe} until the model says it is done (≤ 8 iterations, then complete with the
 * best answer so far), and finally answer. The reason step sees the previous iteration's tool
 * results (via `has(steps.act)`), the run's iteration counter and, after an automatic
 * rollback, the failure that caused it. The answer reads the loop's output (the body outputs
 * of its last iteration, `steps.agent.output.reason`). Token/cost budget and automatic
 * rollback are on.
 */
export const agentLoopDefinition = {
  name: 'agent-loop',
  description: 'Plan, then reason/act until done, then answer.',
  inputSchema: {
    type: 'object',
    required: ['goal'],
    properties: { goal: { type: 'string', minLength: 1 }, tools: { type: 'array', items: { type: 'string' } } },
  },
  defaults: { timeoutMs: 120000, queue: 'agents', retry: { maxAttempts: 2, backoff: { initialMs: 500, multiplier: 2, maxMs: 5000, jitter: 0.1 } } },
  checkpointEvery: 3,
  onFailure: { rollbackTo: 'lastCheckpoint', maxRollbacks: 1 },
  budget: { maxTokens: 100000, maxCost: 2.5 },
  steps: [
    { id: 'plan', task: 'llm.plan', input: { goal: '${input.goal}', tools: '${has(input.tools) ? input.tools : []}' }, checkpoint: true, effect: 'pure' },
    {
      id: 'agent',
      type: 'loop',
      until: 'steps.reason.output.done == true',
      maxIterations: 8,
      onMaxIterations: 'complete',
      steps: [
        {
          id: 'reason',
          task: 'llm.reason',
          effect: 'pure',
          input: {
            goal: '${input.goal}',
            plan: '${steps.plan.output}',
            iteration: '${run.iteration}',
            observations: '${has(steps.act) ? steps.act.output : []}',
            previousFailure: '${run.lastFailure}',
          },
        },
        {
          id: 'act',
          type: 'map',
          items: 'steps.reason.output.toolCalls',
          task: 'tool.call',
          maxConcurrency: 3,
          input: { call: '${item}', position: '${index}' },
          retry: { maxAttempts: 3 },
        },
      ],
    },
    { id: 'answer', task: 'llm.answer', input: { goal: '${input.goal}', draft: '${steps.agent.output.reason}' }, effect: 'pure' },
  ],
  output: { answer: '${steps.answer.output}', lastIteration: '${steps.agent.output}' },
} satisfies WorkflowDefinitionInput;
