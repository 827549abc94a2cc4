import type { WorkflowDefinitionInput } from '../definition.schema';

/**
 * A small DAG for scheduling tests: fetch → (summarize ∥ extract) → merge, plus an `audit`
 * root step with no dependencies that may run at any time, a guarded `escalate` step and a
 * compensable `publish` (with an irreversible `notify` after it) for rollback-plan tests.
 */
export const diamondDagDefinition = {
  name: 'diamond-dag',
  checkpointEvery: 2,
  steps: [
    { id: 'fetch', task: 'http.fetch', input: { url: '${input.url}' }, checkpoint: true },
    { id: 'summarize', task: 'llm.summarize', dependsOn: ['fetch'], input: { text: '${steps.fetch.output.body}' } },
    { id: 'extract', task: 'llm.extract', dependsOn: ['fetch'], input: { text: '${steps.fetch.output.body}' } },
    { id: 'audit', task: 'audit.log', dependsOn: [], effect: 'idempotent' },
    { id: 'merge', task: 'data.merge', dependsOn: ['summarize', 'extract'], input: { summary: '${steps.summarize.output}', facts: '${steps.extract.output}' } },
    { id: 'escalate', type: 'signal', signal: 'human_review', dependsOn: ['merge'], when: 'steps.merge.output.confidence < 0.5', timeoutMs: 3600000 },
    {
      id: 'publish',
      task: 'cms.publish',
      dependsOn: ['merge', 'escalate'],
      compensate: { task: 'cms.unpublish', input: { id: '${steps.publish.output.id}' } },
    },
    { id: 'notify', task: 'email.send', effect: 'irreversible' },
  ],
} satisfies WorkflowDefinitionInput;
