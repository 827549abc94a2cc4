import { describe, expect, it } from 'vitest';
import { analyzeExpression, type ExpressionAnalysis } from './expression-analysis';

const analyze = (source: string): ExpressionAnalysis => {
  const result = analyzeExpression(source);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
};

describe('analyzeExpression', () => {
  it('finds free identifiers but not comprehension variables', () => {
    expect([...analyze('input.tags.exists(t, t == run.id) && inptu.x').freeIdentifiers].sort()).toEqual(['inptu', 'input', 'run']);
  });

  it('finds step references in select, index and has() forms, with the field read', () => {
    expect(analyze("steps.a.output.x == steps['b'].status && has(steps.c)").stepReferences).toEqual([
      { stepId: 'a', testOnly: false, field: 'output', guarded: false },
      { stepId: 'b', testOnly: false, field: 'status', guarded: false },
      { stepId: 'c', testOnly: true, field: undefined, guarded: false },
    ]);
    expect(analyze('steps.a').stepReferences).toEqual([{ stepId: 'a', testOnly: false, field: undefined, guarded: false }]);
  });

  it('marks reads guarded by has(steps.<id>) in ?: and &&', () => {
    const refs = (source: string) => analyze(source).stepReferences.filter((r) => !r.testOnly).map((r) => `${r.stepId}:${r.guarded}`);
    expect(refs('has(steps.a) ? steps.a.output : steps.b.output')).toEqual(['a:true', 'b:false']);
    expect(refs('has(steps.a) && has(steps.b) && steps.b.output == steps.a.output')).toEqual(['b:true', 'a:true']);
    expect(refs('has(steps.a) ? steps.b.output : []')).toEqual(['b:false']);
    expect(refs('has(steps.a) || steps.a.output')).toEqual(['a:false']);
  });

  it('does not treat a comprehension variable named steps as the steps map', () => {
    expect(analyze('[1].map(steps, steps.x)').stepReferences).toEqual([]);
  });

  it('collects run fields', () => {
    expect(analyze('run.rollbacks > 0.0 && run.iteraton == 1.0').runFields).toEqual(['rollbacks', 'iteraton']);
  });

  it('infers result types where data does not matter', () => {
    const cases: Array<[string, string]> = [
      ['1 == 1', 'bool'],
      ['size(input.x)', 'int'],
      ['"a" + "b"', 'string'],
      ['[1, 2]', 'list'],
      ["{'a': 1}", 'map'],
      ['input.x', 'dyn'],
      ['input.xs.map(x, x)', 'list'],
      ['input.xs.all(x, x > 1.0)', 'bool'],
      ['true ? 1 : 2', 'int'],
      ['true ? 1 : "a"', 'dyn'],
      ['has(input.a)', 'bool'],
    ];
    for (const [source, type] of cases) expect(analyze(source).resultType, source).toBe(type);
  });

  it('reports operator type errors that hold for every input', () => {
    expect(analyze('1 + 2.0').typeErrors[0]).toContain('(int, double)');
    expect(analyze("!'x'").typeErrors).toHaveLength(1);
    expect(analyze("'a' && input.b").typeErrors).toHaveLength(1);
    expect(analyze('input.a + 1').typeErrors).toEqual([]);
  });

  it('types input reads from the inputSchema, run fields and map index (JSON numbers are doubles)', () => {
    const inputSchema = {
      type: 'object',
      properties: { count: { type: 'integer' }, name: { type: 'string' }, tags: { type: 'array' }, meta: { type: 'object', additionalProperties: { type: 'boolean' } } },
    };
    const withSchema = (source: string) => {
      const result = analyzeExpression(source, { inputSchema });
      if (!result.ok) throw new Error(result.error.message);
      return result.value;
    };
    expect(withSchema('input.count + 1').typeErrors[0]).toContain('JSON numbers are double');
    expect(withSchema('input.count + 1.0')).toMatchObject({ typeErrors: [], resultType: 'double' });
    expect(withSchema('input.name.first').typeErrors[0]).toContain('cannot select field "first" of a string');
    expect(withSchema('input.meta.anything').resultType).toBe('bool');
    expect(withSchema('input.tags').resultType).toBe('list');
    expect(withSchema('input.unknown + 1').typeErrors).toEqual([]);
    expect(analyze('input.count + 1').typeErrors).toEqual([]);
    expect(analyze('run.iteration + 1').typeErrors).toHaveLength(1);
    expect(analyze('run.iteration + 1.0').typeErrors).toEqual([]);
    expect(analyze('steps.a.status').resultType).toBe('string');
    expect(analyze('index + 1').typeErrors).toHaveLength(1);
    expect(analyze('[1].map(index, index + 1)').typeErrors).toEqual([]);
  });

  it('returns syntax errors instead of throwing', () => {
    expect(analyzeExpression('steps.(').ok).toBe(false);
  });
});
