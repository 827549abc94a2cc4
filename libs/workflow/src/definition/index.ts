/**
 * Workflow definitions: the zod schema and its types, whole-document validation that reports
 * every problem with its JSON Pointer, the step dependency graph, retry/backoff resolution and
 * the `inputSchema` subset validator. Everything here is pure and deterministic.
 */
export * from './definition.schema';
export * from './definition-problem';
export * from './json-value';
export * from './validate-definition';
export * from './step-graph';
export * from './retry-policy';
export { validateAgainstInputSchema, checkInputSchemaDocument, jsonEquals } from './input-schema';
export { definitionJsonSchema, DEFINITION_JSON_SCHEMA_ID } from './definition-json-schema';
export { supportAgentDefinition, agentLoopDefinition, diamondDagDefinition } from './examples';
export { jsonDepthExceeds } from './structure-checks';
