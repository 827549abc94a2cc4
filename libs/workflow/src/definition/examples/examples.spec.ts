import { describe, expect, it } from 'vitest';
import { buildStepGraph } from '../step-graph';
import { validateDefinition } from '../validate-definition';
import { agentLoopDefinition, diamondDagDefinition, supportAgentDefinition } from './index';

describe('example definitions', () => {
  it.each([
    ['support-agent', supportAgentDefinition],
    ['agent-loop', agentLoopDefinition],
    ['diamond-dag', diamondDagDefinition],
  ])('%s validates and normalisation is idempotent', (_name, example) => {
    const result = validateDefinition(example);
    if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
    const again = validateDefinition(JSON.parse(JSON.stringify(result.definition)));
    expect(again).toEqual(result);
  });

  it('support-agent: every step depends on the previous one, loop body is its own level', () => {
    const result = validateDefinition(supportAgentDefinition);
    if (!result.ok) throw new Error('invalid');
    const graph = buildStepGraph(result.definition);
    expect(graph.topologicalOrder()).toEqual(['classify', 'refund', 'notify', 'approve', 'research', 'think', 'cool-off']);
    expect(graph.topologicalOrder('think')).toEqual(['reason', 'act']);
    expect(graph.dependenciesOf('reason')).toEqual([]);
    expect(graph.dependenciesOf('act')).toEqual(['reason']);
    expect(result.definition.steps[1]).toMatchObject({ effect: 'compensable', compensate: { task: 'billing.reverse_refund' } });
  });

  it('diamond-dag: fan-out and fan-in order is deterministic', () => {
    const result = validateDefinition(diamondDagDefinition);
    if (!result.ok) throw new Error('invalid');
    const graph = buildStepGraph(result.definition);
    expect(graph.topologicalOrder()).toEqual(['fetch', 'summarize', 'extract', 'audit', 'merge', 'escalate', 'publish', 'notify']);
    expect(graph.rootsOf()).toEqual(['fetch', 'audit']);
    expect(graph.dependentsOf('fetch')).toEqual(['summarize', 'extract']);
    expect([...graph.upstreamOf('merge')].sort()).toEqual(['extract', 'fetch', 'summarize']);
    expect(result.definition.steps.find((s) => s.id === 'publish')).toMatchObject({ effect: 'compensable' });
  });
});
