import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { definitionJsonSchema } from './definition-json-schema';
import { agentLoopDefinition, diamondDagDefinition, supportAgentDefinition } from './examples';
import { arbitraryDefinition } from './testing/arbitrary-definition';
import { validateDefinition } from './validate-definition';

/** The published file; regenerate with `UPDATE_DEFINITION_SCHEMA=1 npx vitest run --project unit libs/workflow/src/definition/definition-json-schema.spec.ts`. */
const publishedPath = resolve(__dirname, '../../definition.schema.json');

describe('definitionJsonSchema', () => {
  const schema = definitionJsonSchema();

  it('describes the client view of a definition', () => {
    expect(schema).toMatchObject({ type: 'object', required: ['name', 'steps'], additionalProperties: false, $id: expect.stringContaining('workflow-definition') });
    const defs = schema['$defs'] as Record<string, { oneOf?: Array<{ properties: Record<string, unknown>; required: string[] }> }>;
    const variants = defs['StepDefinition'].oneOf ?? [];
    expect(variants).toHaveLength(5);
    const task = variants.find((variant) => JSON.stringify(variant.properties['type']).includes('"task"'));
    // `type` is optional for tasks (defaults to "task"), required for the others.
    expect(task?.required).not.toContain('type');
    for (const variant of variants.filter((v) => v !== task)) expect(variant.required).toContain('type');
    expect(JSON.stringify(schema)).toContain('^[A-Za-z][A-Za-z0-9_-]{0,63}$');
  });

  it('returns a fresh copy each time', () => {
    const copy = definitionJsonSchema();
    (copy as Record<string, unknown>)['title'] = 'changed';
    expect(definitionJsonSchema()['title']).toBe('Flotilla workflow definition');
  });

  it('is published, up to date, in libs/workflow/definition.schema.json', () => {
    const expected = `${JSON.stringify(schema, null, 2)}\n`;
    if (process.env['UPDATE_DEFINITION_SCHEMA'] === '1') writeFileSync(publishedPath, expected);
    const published = readFileSync(publishedPath, 'utf8');
    expect(published, 'definition.schema.json is stale: rerun this test with UPDATE_DEFINITION_SCHEMA=1').toBe(expected);
  });

  describe('agrees with validateDefinition (checked with Ajv, an independent JSON Schema implementation)', () => {
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

    it('accepts the examples and every generated valid definition, and their normalised forms', () => {
      for (const example of [supportAgentDefinition, agentLoopDefinition, diamondDagDefinition]) expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
      fc.assert(
        fc.property(arbitraryDefinition({ maxLoopDepth: 2 }), (document) => {
          expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
          const normalised = validateDefinition(document);
          if (normalised.ok) expect(validate(JSON.parse(JSON.stringify(normalised.definition))), JSON.stringify(validate.errors)).toBe(true);
        }),
        { numRuns: 100 },
      );
    });

    it('rejects what the zod schema rejects field by field', () => {
      const bad = [
        { name: 'wf', steps: [] },
        { name: 'wf', steps: [{ id: 'a' }] },
        { name: 'wf', steps: [{ id: 'a:b', task: 't' }] },
        { name: 'wf', steps: [{ id: 'a', task: 't', colour: 'red' }] },
        { name: 'wf', steps: [{ id: 'a', type: 'sleep' }] },
        { name: 'wf', steps: [{ id: 'a', type: 'loop', until: 'true', steps: [{ id: 'b', type: 'map', task: 't' }] }] },
        { name: 'wf', steps: [{ id: 'a', task: 't' }], budget: { maxCost: -1 } },
        { name: 'wf', steps: [{ id: 'a', task: 't', retry: { maxAttempts: 0 } }] },
      ];
      for (const document of bad) {
        expect(validateDefinition(document).ok, JSON.stringify(document)).toBe(false);
        expect(validate(document), JSON.stringify(document)).toBe(false);
      }
    });
  });
});
