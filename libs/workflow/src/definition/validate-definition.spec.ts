import { describe, expect, it } from 'vitest';
import type { DefinitionProblem } from './definition-problem';
import { parseDefinitionOrThrow, validateDefinition } from './validate-definition';

const task = (id: string, extra: Record<string, unknown> = {}) => ({ id, task: `t.${id}`, ...extra });
const wf = (steps: unknown[], extra: Record<string, unknown> = {}) => ({ name: 'wf', steps, ...extra });

function problemsOf(document: unknown): DefinitionProblem[] {
  const result = validateDefinition(document);
  if (result.ok) throw new Error('expected the definition to be rejected');
  return [...result.problems];
}

/** `code path` strings, the easiest form to assert on. */
const summary = (document: unknown): string[] => problemsOf(document).map((p) => `${p.code} ${p.path}`);

describe('validateDefinition — acceptance and normalisation', () => {
  it('fills defaults and makes dependsOn explicit (previous step of the same level)', () => {
    const result = validateDefinition(
      wf([task('a'), task('b'), { id: 'l', type: 'loop', until: 'steps.x.output.done', steps: [task('x'), task('y')] }, task('c', { dependsOn: [] })]),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const [a, b, l, c] = result.definition.steps;
    expect(a).toMatchObject({ type: 'task', effect: 'idempotent', checkpoint: false, dependsOn: [] });
    expect(b.dependsOn).toEqual(['a']);
    expect(l).toMatchObject({ type: 'loop', maxIterations: 10, onMaxIterations: 'fail', dependsOn: ['b'] });
    if (l.type !== 'loop') throw new Error('loop expected');
    expect(l.steps.map((s) => s.dependsOn)).toEqual([[], ['x']]);
    expect(c.dependsOn).toEqual([]);
  });

  it('defaults map concurrency, onFailure and implies effect "compensable" from compensate', () => {
    const definition = parseDefinitionOrThrow(
      wf([task('a', { compensate: { task: 'undo.a' } }), { id: 'm', type: 'map', items: 'input.xs', task: 'x' }], { onFailure: {} }),
    );
    expect(definition.steps[0]).toMatchObject({ effect: 'compensable' });
    expect(definition.steps[1]).toMatchObject({ maxConcurrency: 4, effect: 'idempotent' });
    expect(definition.onFailure).toEqual({ rollbackTo: 'lastCheckpoint', maxRollbacks: 1 });
  });

  it('never throws and rejects non-object documents at the root path', () => {
    for (const document of [null, undefined, 42, 'x', [], [1], { steps: 'nope' }]) {
      const result = validateDefinition(document);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problems.length).toBeGreaterThan(0);
    }
    expect(summary(null)).toEqual(['schema ']);
  });

  it('normalises -0 to 0, so the definition survives a JSON round trip unchanged', () => {
    const result = validateDefinition(wf([{ id: 's', type: 'sleep', durationMs: -0 }], { budget: { maxTokens: -0 } }));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(Object.is(result.definition.budget?.maxTokens, 0)).toBe(true);
    const sleep = result.definition.steps[0];
    expect(sleep.type === 'sleep' && Object.is(sleep.durationMs, 0)).toBe(true);
    expect(validateDefinition(JSON.parse(JSON.stringify(result.definition)))).toEqual(result);
  });
});

describe('validateDefinition — size limits', () => {
  it('rejects absurdly deep documents without overflowing the stack', () => {
    let deep: unknown = { id: 'x', task: 't' };
    for (let i = 0; i < 50_000; i += 1) deep = { id: `l${i}`, type: 'loop', until: 'true', steps: [deep] };
    expect(summary(wf([deep]))).toEqual(['too_large ']);
  });

  it('limits loop nesting and the number of steps', () => {
    let nested: Record<string, unknown> = task('leaf');
    for (let i = 0; i < 9; i += 1) nested = { id: `l${i}`, type: 'loop', until: 'true', steps: [nested] };
    expect(summary(wf([nested]))).toContain('too_large /steps/0/steps/0/steps/0/steps/0/steps/0/steps/0/steps/0/steps/0/steps/0');
    const many = Array.from({ length: 1001 }, (_, i) => task(`s${i}`));
    expect(summary(wf(many))).toEqual(['too_large /steps']);
  });
});

describe('validateDefinition — schema problems', () => {
  it('reports unknown fields, bad ids and bad names with their paths', () => {
    expect(summary({ name: 'bad name', steps: [{ id: '1x', task: 't', colour: 'red' }], extra: 1 })).toEqual(
      expect.arrayContaining(['schema /name', 'schema /steps/0/id', 'schema /steps/0/colour', 'schema /extra']),
    );
  });

  it('rejects ids containing ":" or "." (they would break job ids and CEL)', () => {
    expect(summary(wf([task('a:b')]))).toContain('schema /steps/0/id');
    expect(summary(wf([task('a.b')]))).toContain('schema /steps/0/id');
  });

  it('requires type-specific fields: map items, loop until and body, sleep duration, signal name', () => {
    const problems = summary(
      wf([
        { id: 'm', type: 'map', task: 't' },
        { id: 'l', type: 'loop', steps: [] },
        { id: 's', type: 'sleep' },
        { id: 'g', type: 'signal' },
        { id: 'w', type: 'wat' },
      ]),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'schema /steps/0/items',
        'schema /steps/1/until',
        'schema /steps/1/steps',
        'schema /steps/2/durationMs',
        'schema /steps/3/signal',
        'schema /steps/4/type',
      ]),
    );
    expect(problemsOf(wf([{ id: 'w', type: 'wat' }]))).toEqual([
      { path: '/steps/0/type', code: 'schema', message: 'type must be one of "task" (the default), "sleep", "signal", "map", "loop"' },
    ]);
    expect(summary(wf([{ id: 's', type: 'sleep', durationMs: 1, compensate: { task: 'x' } }]))).toEqual(['schema /steps/0/compensate']);
  });

  it('rejects task-only fields on other step types and an empty budget', () => {
    expect(summary(wf([{ id: 's', type: 'sleep', durationMs: 5, retry: {} }], { budget: {} }))).toEqual(
      expect.arrayContaining(['schema /steps/0/retry', 'schema /budget']),
    );
  });
});

describe('validateDefinition — structure', () => {
  it('finds duplicate ids anywhere, including inside loops', () => {
    const problems = problemsOf(wf([task('a'), { id: 'l', type: 'loop', until: 'true', steps: [task('a'), task('l')] }]));
    expect(problems.map((p) => `${p.code} ${p.path}`)).toEqual(['duplicate_step_id /steps/1/steps/0/id', 'duplicate_step_id /steps/1/steps/1/id']);
    expect(problems[0].message).toContain('/steps/0');
  });

  it('finds unknown, self and out-of-level dependencies', () => {
    expect(
      summary(
        wf([
          task('a', { dependsOn: ['ghost'] }),
          task('b', { dependsOn: ['b'] }),
          { id: 'l', type: 'loop', until: 'true', steps: [task('x', { dependsOn: ['a'] })] },
          task('c', { dependsOn: ['x'] }),
        ]),
      ),
    ).toEqual([
      'unknown_dependency /steps/0/dependsOn/0',
      'self_dependency /steps/1/dependsOn/0',
      'dependency_out_of_scope /steps/2/steps/0/dependsOn/0',
      'dependency_out_of_scope /steps/3/dependsOn/0',
    ]);
  });

  it('rejects a dependency listed twice and over-long expressions', () => {
    expect(summary(wf([task('a'), task('b', { dependsOn: ['a', 'a'], when: 'true || '.repeat(1000) + 'true' })]))).toEqual([
      'duplicate_dependency /steps/1/dependsOn/1',
      'schema /steps/1/when',
    ]);
  });

  it('finds dependsOn cycles, naming the cycle, at top level and inside loops', () => {
    const problems = problemsOf(
      wf([
        task('a', { dependsOn: ['c'] }),
        task('b', { dependsOn: ['a'] }),
        task('c', { dependsOn: ['b'] }),
        { id: 'l', type: 'loop', until: 'true', dependsOn: [], steps: [task('x', { dependsOn: ['y'] }), task('y', { dependsOn: ['x'] })] },
      ]),
    );
    const cycles = problems.filter((p) => p.code === 'dependency_cycle');
    expect(cycles.map((p) => p.path)).toEqual(['/steps/0/dependsOn', '/steps/3/steps/0/dependsOn']);
    expect(cycles[0].message).toContain('a → c → b → a');
    expect(cycles[1].message).toContain('x → y → x');
  });

  it('pairs effect and compensate', () => {
    expect(summary(wf([task('a', { effect: 'compensable' }), task('b', { effect: 'irreversible', compensate: { task: 'undo' } })]))).toEqual([
      'missing_compensate /steps/0/compensate',
      'effect_mismatch /steps/1/effect',
    ]);
  });
});

describe('validateDefinition — expressions', () => {
  it('reports CEL syntax errors at the field, including inside templates', () => {
    expect(summary(wf([task('a', { when: 'input.(' , input: { x: ['ok', '${input.)}', 'text ${unterminated'] } })]))).toEqual([
      'expression_syntax /steps/0/input/x/1',
      'expression_syntax /steps/0/input/x/2',
      'expression_syntax /steps/0/when',
    ]);
  });

  it('type-checks results: when/until must be bool, items a list', () => {
    expect(
      summary(
        wf([
          task('a', { when: "'yes'" }),
          { id: 'm', type: 'map', items: "'abc'", task: 't' },
          { id: 'l', type: 'loop', until: '1 + 1', steps: [task('x')] },
          task('b', { input: { n: '${1 + 2.0}' } }),
        ]),
      ),
    ).toEqual(['expression_type /steps/0/when', 'expression_type /steps/1/items', 'expression_type /steps/2/until', 'expression_type /steps/3/input/n']);
  });

  it('uses the inputSchema to catch int/double mix-ups in input reads', () => {
    const inputSchema = { type: 'object', properties: { count: { type: 'integer' } } };
    expect(summary(wf([task('a', { when: 'input.count > 2', input: { next: '${input.count + 1}', ok: '${input.count + 1.0}' } })], { inputSchema }))).toEqual([
      'expression_type /steps/0/input/next',
    ]);
  });

  it('reports unknown variables, item/index outside map inputs, unknown step and run fields', () => {
    const problems = problemsOf(
      wf([
        task('a', { input: { t: '${inptu.text}', i: '${item}' } }),
        task('b', { when: "steps.a.outputs.x == 'y'", input: { r: '${run.retries}' } }),
        { id: 'm', type: 'map', items: 'input.xs', task: 't', input: { v: '${item}', at: '${index}' } },
      ]),
    );
    expect(problems.map((p) => `${p.code} ${p.path}`)).toEqual([
      'unknown_variable /steps/0/input/i',
      'unknown_variable /steps/0/input/t',
      'unknown_variable /steps/1/input/r',
      'unknown_variable /steps/1/when',
    ]);
    expect(problems[0].message).toContain('only in the input of a map step');
    expect(problems[3].message).toContain('status, output, error, attempts');
  });

  it('keeps loop body steps private to their loop, pointing at the loop output instead', () => {
    const problems = problemsOf(
      wf([{ id: 'loop', type: 'loop', until: 'steps.inner.output.done', steps: [task('inner')] }, task('after', { input: { x: '${steps.inner.output}' } })], {
        output: { y: '${steps.inner.output}' },
      }),
    );
    expect(problems.map((p) => `${p.code} ${p.path}`)).toEqual(['unreachable_step_reference /output/y', 'unreachable_step_reference /steps/1/input/x']);
    expect(problems[1].message).toContain('steps.loop.output.inner');
  });

  it('explains that ids with "-" need index syntax in CEL', () => {
    const problems = problemsOf(wf([task('cool-off'), task('b', { when: "steps.cool-off.status == 'completed'" })]));
    expect(problems.map((p) => p.code)).toContain('unknown_variable');
    expect(problems.find((p) => p.code === 'unknown_variable')?.message).toContain("steps['cool-off']");
    expect(validateDefinition(wf([task('cool-off'), task('b', { when: "steps['cool-off'].status == 'completed'" })])).ok).toBe(true);
  });

  it('rejects references to missing steps and to steps that are not upstream', () => {
    const problems = problemsOf(
      wf([
        task('a', { input: { x: '${steps.later.output}' } }),
        task('b', { when: 'steps.nope.status == "completed"' }),
        task('c', { dependsOn: [], input: { y: "${steps['b'].output}" } }),
        task('later'),
      ]),
    );
    expect(problems.map((p) => `${p.code} ${p.path}`)).toEqual([
      'unreachable_step_reference /steps/0/input/x',
      'unknown_step_reference /steps/1/when',
      'unreachable_step_reference /steps/2/input/y',
    ]);
  });

  it('allows guarded reads, loop until over the body, compensate input over the step itself, output over every step', () => {
    const result = validateDefinition(
      wf(
        [
          task('first', { input: { prior: '${has(steps.last) ? steps.last.output : null}' } }),
          {
            id: 'loop',
            type: 'loop',
            until: 'steps.inner.output.done == true && steps.first.status == "completed"',
            steps: [task('inner', { input: { prev: '${has(steps.inner) ? steps.inner.output : null}', i: '${run.iteration}' } })],
          },
          task('pay', { compensate: { task: 'refund', input: { id: '${steps.pay.output.id}', from: '${steps.loop.output.inner}' } } }),
          task('last'),
        ],
        { output: { all: '${[steps.first.output, steps.last.output]}' } },
      ),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  });
});

describe('validateDefinition — inputSchema', () => {
  it('rejects unsupported keywords and malformed subset keywords with their paths', () => {
    expect(
      summary(
        wf([task('a')], {
          inputSchema: { type: 'object', properties: { email: { type: 'string', pattern: '@' }, n: { type: 'float' } }, required: 'email', oneOf: [] },
        }),
      ),
    ).toEqual([
      'invalid_input_schema /inputSchema/oneOf',
      'invalid_input_schema /inputSchema/properties/email/pattern',
      'invalid_input_schema /inputSchema/properties/n/type',
      'invalid_input_schema /inputSchema/required',
    ]);
  });
});

describe('validateDefinition — every problem at once', () => {
  it('reports schema, structural, expression and inputSchema problems in one pass', () => {
    const codes = new Set(
      problemsOf({
        name: 'wf',
        extra: true,
        inputSchema: { anyOf: [] },
        steps: [
          task('a', { dependsOn: ['zzz'], when: '1 +' }),
          task('b', { effect: 'compensable', input: { q: '${steps.nope.output}' } }),
          { id: 'm', type: 'map', task: 't', input: { v: '${item}' } },
          { id: 's', type: 'sleep', durationMs: -1 },
        ],
      }).map((p) => p.code),
    );
    expect([...codes].sort()).toEqual(
      ['expression_syntax', 'invalid_input_schema', 'missing_compensate', 'schema', 'unknown_dependency', 'unknown_step_reference'].sort(),
    );
  });
});
