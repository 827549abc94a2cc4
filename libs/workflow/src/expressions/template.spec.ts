import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExpressionScope } from './expression-scope';
import { collectTemplateExpressions, parseTemplateString, renderTemplate, renderTemplateString } from './template';

const scope: ExpressionScope = {
  input: { message: 'hello', count: 3, nested: { list: [1, 2] } },
  steps: { a: { status: 'completed', output: { text: 'out}put', ok: true }, error: null, attempts: 1 } },
  run: { id: 'r1', workflow: 'wf', version: 2, generation: 0, rollbacks: 1, lastFailure: null, iteration: 0 },
};

describe('renderTemplateString', () => {
  it('yields the typed value for a whole-string ${expr}', () => {
    expect(renderTemplateString('${input.count}', scope)).toEqual({ ok: true, value: 3 });
    expect(renderTemplateString('${input.nested}', scope)).toEqual({ ok: true, value: { list: [1, 2] } });
    expect(renderTemplateString('  ${ steps.a.output.ok }', scope)).toEqual({ ok: true, value: '  true' });
    expect(renderTemplateString('${ steps.a.output.ok }', scope)).toEqual({ ok: true, value: true });
  });

  it('stringifies embedded expressions (strings raw, others as JSON)', () => {
    expect(renderTemplateString('msg=${input.message} n=${input.count} l=${input.nested.list}', scope)).toEqual({
      ok: true,
      value: 'msg=hello n=3 l=[1,2]',
    });
  });

  it('treats $${ as a literal and leaves plain strings alone', () => {
    expect(renderTemplateString('cost: $${input.count}', scope)).toEqual({ ok: true, value: 'cost: ${input.count}' });
    expect(renderTemplateString('no templates {here}', scope)).toEqual({ ok: true, value: 'no templates {here}' });
    expect(renderTemplateString('', scope)).toEqual({ ok: true, value: '' });
  });

  it('ends an expression at the balancing brace, skipping braces in CEL strings and map literals', () => {
    expect(renderTemplateString("${ {'k': '}'}.k }", scope)).toEqual({ ok: true, value: '}' });
    expect(renderTemplateString('[${steps.a.output.text}]', scope)).toEqual({ ok: true, value: '[out}put]' });
  });

  it('reports unterminated and empty expressions as syntax errors', () => {
    expect(parseTemplateString('x ${input.count').ok).toBe(false);
    const empty = renderTemplateString('${ }', scope);
    expect(empty.ok || empty.error.kind).toBe('syntax');
  });
});

describe('renderTemplate', () => {
  it('renders nested values and keeps keys', () => {
    const result = renderTemplate({ text: '${input.message}', meta: ['${run.version}', 7, null, { deep: 'v${run.rollbacks}' }] }, scope);
    expect(result).toEqual({ ok: true, value: { text: 'hello', meta: [2, 7, null, { deep: 'v1' }] } });
  });

  it('fails with the JSON pointer of the failing string', () => {
    const result = renderTemplate({ a: 'ok', list: ['x', '${steps.missing.output}'] }, scope);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.path).toBe('/list/1');
      expect(result.error.kind).toBe('evaluation');
    }
  });

  it('is the identity on JSON values without "${"', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        fc.pre(!JSON.stringify(value).includes('${'));
        expect(renderTemplate(value as never, scope)).toEqual({ ok: true, value });
      }),
      { numRuns: 200 },
    );
  });
});

describe('template robustness', () => {
  it('never throws on arbitrary strings, including broken ${…} and quotes', () => {
    const pieces = fc.constantFrom('${', '}', '$${', "'", '"', '\\', 'input.message', ' ', '{', 'x', 'steps.a.output.text', '+');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 12 }).map((parts) => parts.join('')), fc.string(), (built, random) => {
        for (const text of [built, random]) {
          const result = renderTemplateString(text, scope);
          expect(typeof result.ok).toBe('boolean');
          const collected = collectTemplateExpressions(text);
          expect(collected.errors.length + collected.expressions.length >= 0).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('collectTemplateExpressions', () => {
  it('lists every expression with its path, and syntax errors separately', () => {
    const { expressions, errors } = collectTemplateExpressions({ a: '${x} and ${y}', b: ['${z'], c: 1 });
    expect(expressions).toEqual([
      { path: ['a'], source: 'x' },
      { path: ['a'], source: 'y' },
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0].path).toBe('/b/0');
  });
});
