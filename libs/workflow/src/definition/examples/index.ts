/**
 * Example definitions (as clients would send them) for tests, docs and benchmarks. Parse them
 * with `parseDefinitionOrThrow` to get the normalised `WorkflowDefinition`.
 */
export { supportAgentDefinition } from './support-agent';
export { agentLoopDefinition } from './agent-loop';
export { diamondDagDefinition } from './diamond-dag';
