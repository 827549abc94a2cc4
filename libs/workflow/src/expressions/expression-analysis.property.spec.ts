import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../definition/json-value';
import { evaluateExpression } from './compile-expression';
import { analyzeExpression, type StaticType } from './expression-analysis';
import type { ExpressionScope } from './expression-scope';

/** Small CEL expressions over `input.a`, `input.b`, `input.xs` and literals. */
const expression: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('3', '2.5', "'a'", 'true', 'false', 'null', 'input.a', 'input.b', 'input.xs', '[1, 2]', "{'k': 1}", 'size(input.xs)'),
    fc.tuple(fc.constantFrom('!', '-'), tie('expr')).map(([op, e]) => `${op}(${e})`),
    fc
      .tuple(tie('expr'), fc.constantFrom('+', '-', '*', '/', '%', '==', '!=', '<', '<=', '>', '>=', '&&', '||'), tie('expr'))
      .map(([l, op, r]) => `(${l}) ${op} (${r})`),
    fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, a, b]) => `(${c}) ? (${a}) : (${b})`),
    fc.tuple(fc.constantFrom('size', 'int', 'string', 'double', 'type'), tie('expr')).map(([f, e]) => `${f}(${e})`),
    fc.tuple(fc.constantFrom('map', 'filter', 'all', 'exists'), tie('expr')).map(([m, e]) => `input.xs.${m}(x, ${m === 'map' ? e : `(${e}) == x`})`),
  ),
})).expr;

function matches(type: StaticType, value: JsonValue): boolean {
  switch (type) {
    case 'int':
    case 'uint':
      return typeof value === 'number' && Number.isInteger(value);
    case 'double':
      return typeof value === 'number';
    case 'string':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'list':
      return Array.isArray(value);
    case 'map':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return true;
  }
}

const run = { id: 'r', workflow: 'w', version: 1, generation: 0, rollbacks: 0, autoRollbacks: 0, lastFailure: null, iteration: 0 };

describe('analyzeExpression soundness (property)', () => {
  it('a statically known result type is the kind of every successful evaluation', () => {
    const scalar = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant(null));
    const inputs = fc.record({ a: scalar, b: fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })), xs: fc.array(scalar, { maxLength: 4 }) });
    fc.assert(
      fc.property(expression, inputs, (source, input) => {
        const analysis = analyzeExpression(source);
        if (!analysis.ok) throw new Error(`generated expression does not parse: ${source}`);
        const scope: ExpressionScope = { input: input as JsonValue, steps: {}, run };
        const result = evaluateExpression(source, scope);
        if (result.ok && analysis.value.resultType !== 'dyn') expect(matches(analysis.value.resultType, result.value), `${source} → ${JSON.stringify(result.value)}`).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('results never depend on the key order of input objects', () => {
    const shuffled = (value: JsonValue, seed: number): JsonValue => {
      if (Array.isArray(value)) return value.map((item) => shuffled(item, seed));
      if (typeof value !== 'object' || value === null) return value;
      const keys = Object.keys(value);
      const rotated = [...keys.slice(seed % Math.max(1, keys.length)), ...keys.slice(0, seed % Math.max(1, keys.length))].reverse();
      return Object.fromEntries(rotated.map((key) => [key, shuffled(value[key], seed)]));
    };
    const sources = ['input', 'input.map(k, k)', 'input.map(k, input[k])', "string(input)", 'input.exists(k, k.startsWith("a"))'];
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })), fc.nat(), fc.constantFrom(...sources), (input, seed, source) => {
        const a = evaluateExpression(source, { input: input as JsonValue, steps: {}, run });
        const b = evaluateExpression(source, { input: shuffled(input as JsonValue, seed), steps: {}, run });
        expect(JSON.stringify(b)).toBe(JSON.stringify(a));
      }),
      { numRuns: 300 },
    );
  });
});
