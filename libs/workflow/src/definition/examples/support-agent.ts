import type { WorkflowDefinitionInput } from '../definition.schema';

/**
 * The support-agent workflow of DESIGN.md, verbatim: classify (checkpoint) → refund (guarded,
 * compensable) → notify (irreversible) → manager approval signal → research (map over the
 * classifier's queries, 4 at a time) → think (reason/act agent loop, ≤ 10 iterations) →
 * cool-off (durable sleep). Every step depends on the previous one (no explicit dependsOn).
 */
export const supportAgentDefinition = {
  name: 'support-agent',
  inputSchema: { type: 'object', required: ['message'] },
  defaults: { timeoutMs: 60000, retry: { maxAttempts: 3, backoff: { initialMs: 200, multiplier: 2, maxMs: 10000 } } },
  checkpointEvery: 5,
  onFailure: { rollbackTo: 'lastCheckpoint', maxRollbacks: 2 },
  budget: { maxTokens: 200000, maxCost: 5.0 },
  steps: [
    { id: 'classify', task: 'llm.classify', input: { text: '${input.message}' }, checkpoint: true },
    {
      id: 'refund',
      task: 'billing.refund',
      when: "steps.classify.output.intent == 'refund'",
      effect: 'compensable',
      compensate: { task: 'billing.reverse_refund' },
    },
    { id: 'notify', task: 'email.send', effect: 'irreversible' },
    { id: 'approve', type: 'signal', signal: 'manager_approval', timeoutMs: 86400000 },
    { id: 'research', type: 'map', items: 'steps.classify.output.queries', task: 'tool.search', maxConcurrency: 4 },
    {
      id: 'think',
      type: 'loop',
      until: 'steps.reason.output.done',
      maxIterations: 10,
      steps: [
        { id: 'reason', task: 'llm.reason' },
        { id: 'act', type: 'map', items: 'steps.reason.output.toolCalls', task: 'tool.call' },
      ],
    },
    { id: 'cool-off', type: 'sleep', durationMs: 60000 },
  ],
} satisfies WorkflowDefinitionInput;
