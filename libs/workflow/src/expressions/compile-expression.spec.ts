import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileExpression, evaluateCondition, evaluateExpression, evaluateItems, prepareScope } from './compile-expression';
import type { ExpressionScope } from './expression-scope';

const run = { id: 'r1', workflow: 'wf', version: 1, generation: 0, rollbacks: 0, lastFailure: null, iteration: 0 };
const scope = (overrides: Partial<ExpressionScope> = {}): ExpressionScope => ({
  input: { message: 'I want a refund', n: 2, tags: ['a', 'b'] },
  steps: { classify: { status: 'completed', output: { intent: 'refund', queries: ['q1', 'q2'] }, error: null, attempts: 1 } },
  run,
  ...overrides,
});

describe('evaluateExpression', () => {
  it('reads input, steps and run', () => {
    expect(evaluateExpression("steps.classify.output.intent == 'refund'", scope())).toEqual({ ok: true, value: true });
    expect(evaluateExpression('input.tags[1]', scope())).toEqual({ ok: true, value: 'b' });
    expect(evaluateExpression('run.rollbacks', scope())).toEqual({ ok: true, value: 0 });
    expect(evaluateExpression("steps['classify'].output.queries", scope())).toEqual({ ok: true, value: ['q1', 'q2'] });
  });

  it('converts CEL ints to JSON numbers and lists/maps to arrays/objects', () => {
    expect(evaluateExpression('size(input.tags) + 1', scope())).toEqual({ ok: true, value: 3 });
    expect(evaluateExpression("{'k': [1, 2.5, 'x', null, true]}", scope())).toEqual({ ok: true, value: { k: [1, 2.5, 'x', null, true] } });
    expect(evaluateExpression('input.tags.map(t, t + "!")', scope())).toEqual({ ok: true, value: ['a!', 'b!'] });
  });

  it('returns a typed evaluation error instead of throwing, naming the expression', () => {
    const missing = evaluateExpression('steps.classify.output.nope', scope());
    expect(missing.ok).toBe(false);
    if (!missing.ok) {
      expect(missing.error.kind).toBe('evaluation');
      expect(missing.error.message).toContain('steps.classify.output.nope');
      expect(missing.error.message).toContain('nope');
    }
    const mixed = evaluateExpression('input.n + 1', scope());
    expect(mixed.ok || mixed.error.kind).toBe('evaluation');
    const divide = evaluateExpression('1 / 0', scope());
    expect(divide.ok || divide.error.kind).toBe('evaluation');
  });

  it('returns a syntax error for unparsable text', () => {
    const result = compileExpression('a +* b');
    expect(result.ok || result.error.kind).toBe('syntax');
    expect(evaluateExpression('', scope()).ok).toBe(false);
  });

  it('rejects non-JSON results (NaN, Infinity, bytes, timestamps, huge ints) as type errors', () => {
    for (const source of ['1.0 / 0.0', 'b"abc"', "timestamp('2020-01-01T00:00:00Z')", '9223372036854775807']) {
      const result = evaluateExpression(source, scope());
      expect(result.ok ? 'ok' : result.error.kind, source).toBe('type');
    }
  });

  it('does not expose JavaScript prototype members', () => {
    expect(evaluateExpression('input.constructor', scope()).ok).toBe(false);
    expect(evaluateExpression('has(input.toString)', scope())).toEqual({ ok: true, value: false });
  });

  it('gives results that depend on the JSON value only, not on object key order', () => {
    const a = evaluateExpression('input.map(k, k)', scope({ input: { b: 1, a: 2, c: 3 } }));
    const b = evaluateExpression('input.map(k, k)', scope({ input: { c: 3, a: 2, b: 1 } }));
    expect(a).toEqual({ ok: true, value: ['a', 'b', 'c'] });
    expect(b).toEqual(a);
  });

  it('exposes item and index only when bound', () => {
    expect(evaluateExpression('item.q + string(index)', scope({ item: { q: 'x' }, index: 3 }))).toEqual({ ok: true, value: 'x3' });
    expect(evaluateExpression('item', scope()).ok).toBe(false);
  });

  it('evaluates over a prepared scope like over the raw scope, as a snapshot', () => {
    const raw = scope({ input: { n: 1 } });
    const prepared = prepareScope(raw);
    expect(evaluateExpression('input.n == 1.0', prepared)).toEqual(evaluateExpression('input.n == 1.0', raw));
    (raw.input as { n: number }).n = 2;
    expect(evaluateExpression('input.n', prepared)).toEqual({ ok: true, value: 1 });
    expect(evaluateExpression('input.n', raw)).toEqual({ ok: true, value: 2 });
  });

  it('turns a scope too deep to convert into an evaluation error, not an exception', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i += 1) deep = [deep];
    const huge = scope({ input: deep as never });
    const direct = evaluateExpression('size(input) == 1', huge);
    expect(direct.ok || direct.error.kind).toBe('evaluation');
    const prepared = evaluateExpression('true', prepareScope(huge));
    expect(prepared.ok || prepared.error.kind).toBe('evaluation');
  });

  it('never throws, whatever the source and scope', () => {
    fc.assert(
      fc.property(fc.string(), fc.jsonValue(), (source, input) => {
        const result = evaluateExpression(source, scope({ input: input as never }));
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same source and scope give the same result', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => {
        const first = evaluateExpression('input', scope({ input: input as never }));
        const second = evaluateExpression('input', scope({ input: JSON.parse(JSON.stringify(input)) }));
        expect(second).toEqual(first);
      }),
      { numRuns: 200 },
    );
  });
});

describe('evaluateCondition / evaluateItems', () => {
  it('accepts only bools for conditions (no truthiness)', () => {
    expect(evaluateCondition('size(input.tags) == 2', scope())).toEqual({ ok: true, value: true });
    const notBool = evaluateCondition('input.tags', scope());
    expect(notBool.ok).toBe(false);
    if (!notBool.ok) expect(notBool.error).toMatchObject({ kind: 'type', message: expect.stringContaining('must evaluate to a bool') });
  });

  it('accepts only lists for items', () => {
    expect(evaluateItems('steps.classify.output.queries', scope())).toEqual({ ok: true, value: ['q1', 'q2'] });
    const notList = evaluateItems('input.message', scope());
    expect(notList.ok || notList.error.kind).toBe('type');
  });
});
