import { z } from 'zod';
import { WorkflowDefinitionSchema } from './definition.schema';
import type { JsonObject } from './json-value';

/** `$id` of the published definition schema; bump the version suffix on breaking changes. */
export const DEFINITION_JSON_SCHEMA_ID = 'urn:flotilla:schema:workflow-definition:v1';

let cached: JsonObject | undefined;

/**
 * The JSON Schema (draft 2020-12) of a workflow definition *as clients write it* (zod's input
 * view: fields with defaults are optional), generated from the same zod schema the server
 * validates with. It covers the per-field rules only; whole-document rules (unique ids, DAG,
 * CEL checks) are enforced by `validateDefinition`. Published as
 * `libs/workflow/definition.schema.json` (kept in sync by a unit test).
 */
export function definitionJsonSchema(): JsonObject {
  if (cached === undefined) {
    const generated = z.toJSONSchema(WorkflowDefinitionSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonObject;
    const { $schema, ...rest } = generated;
    cached = { $schema: $schema ?? 'https://json-schema.org/draft/2020-12/schema', $id: DEFINITION_JSON_SCHEMA_ID, title: 'Flotilla workflow definition', ...rest };
  }
  return structuredClone(cached);
}
