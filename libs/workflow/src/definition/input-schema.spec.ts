import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkInputSchemaDocument, jsonEquals, validateAgainstInputSchema } from './input-schema';

describe('validateAgainstInputSchema', () => {
  const schema = {
    type: 'object',
    required: ['message', 'priority'],
    additionalProperties: false,
    properties: {
      message: { type: 'string', minLength: 1, maxLength: 10 },
      priority: { enum: ['low', 'high'] },
      count: { type: 'integer', minimum: 0, maximum: 3 },
      tags: { type: 'array', items: { type: 'string' }, maxItems: 2 },
      meta: { type: ['object', 'null'], additionalProperties: { type: 'number' } },
      kind: { const: { v: 1 } },
    },
  };

  it('accepts a matching input', () => {
    expect(validateAgainstInputSchema(schema, { message: 'hi', priority: 'low', count: 2, tags: ['a'], meta: { x: 1.5 }, kind: { v: 1 } })).toEqual([]);
    expect(validateAgainstInputSchema(schema, { message: 'hi', priority: 'high', meta: null })).toEqual([]);
    expect(validateAgainstInputSchema(undefined, 'anything')).toEqual([]);
  });

  it('reports every mismatch with the JSON pointer of the value', () => {
    const problems = validateAgainstInputSchema(schema, {
      message: '',
      count: 2.5,
      tags: ['a', 1, 'c'],
      meta: { x: 'no' },
      kind: { v: 2 },
      extra: true,
    });
    expect(problems.map((p) => p.path)).toEqual([
      '/input/priority',
      '/input/message',
      '/input/count',
      '/input/tags',
      '/input/tags/1',
      '/input/meta/x',
      '/input/kind',
      '/input/extra',
    ]);
    expect(problems.every((p) => p.code === 'input_mismatch')).toBe(true);
  });

  it('does not confuse prototype members with properties', () => {
    expect(validateAgainstInputSchema({ type: 'object', required: ['constructor'] }, {}).map((p) => p.path)).toEqual(['/input/constructor']);
    expect(validateAgainstInputSchema({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }, { toString: 'x' })).toHaveLength(1);
  });

  it('counts string length in code points and treats integers as numbers', () => {
    expect(validateAgainstInputSchema({ type: 'string', maxLength: 2 }, '😀😀')).toEqual([]);
    expect(validateAgainstInputSchema({ type: 'number' }, 3)).toEqual([]);
    expect(validateAgainstInputSchema({ type: 'integer' }, 3.5)).toHaveLength(1);
  });

  it('never throws on any (schema, value) pair', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (s, v) => {
        expect(Array.isArray(validateAgainstInputSchema(s as never, v as never))).toBe(true);
        expect(Array.isArray(checkInputSchemaDocument(s))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('jsonEquals', () => {
  it('ignores key order and agrees with canonical JSON equality', () => {
    expect(jsonEquals({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toBe(true);
    expect(jsonEquals({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEquals([1, 2], [2, 1])).toBe(false);
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(jsonEquals(v as never, JSON.parse(JSON.stringify(v)))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
