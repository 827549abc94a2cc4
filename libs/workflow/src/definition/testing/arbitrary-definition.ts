import fc from 'fast-check';
import type { EffectKind, StepDefinitionInput, WorkflowDefinitionInput } from '../definition.schema';

/**
 * fast-check generators of *valid* workflow definitions, for property tests of the validator
 * and of the state machine. Test-only: nothing in the library imports this module.
 *
 * Generated definitions use every step type, explicit and default `dependsOn` (always acyclic:
 * explicit dependencies only point at earlier siblings), `when` guards, templates reading
 * upstream outputs, retry/backoff, timeouts, effects with compensations, checkpoints, loops
 * (nested up to `maxLoopDepth`) and map fan-out. Conventions a harness can rely on:
 * - step ids are `s1`, `s2`, … in depth-first declaration order;
 * - run input should be an object; `input.skip` (list of step ids) makes the `when` of those
 *   steps false, `input.items` (list) feeds every map step (default `[1.0, 2.0, 3.0]`);
 * - a loop's `until` is either "its last body step completed" (ends after one iteration) or
 *   `false` (runs `maxIterations` times; `onMaxIterations` then decides complete/fail);
 * - signal names are `sig_<stepId>`; compensation tasks are `undo.<stepId>`.
 */
export interface ArbitraryDefinitionOptions {
  /** Steps per level, at most (default 6). */
  readonly maxStepsPerLevel?: number;
  /** Loop nesting depth, at most (default 1; 0 disables loops). */
  readonly maxLoopDepth?: number;
  /** Relative weights of step types (default task 6, sleep 1, signal 1, map 2, loop 1). */
  readonly weights?: Partial<Record<'task' | 'sleep' | 'signal' | 'map' | 'loop', number>>;
}

type Shape =
  | { kind: 'task'; common: CommonShape; task: TaskShape }
  | { kind: 'map'; common: CommonShape; task: TaskShape; maxConcurrency: number }
  | { kind: 'sleep'; common: CommonShape; durationMs: number }
  | { kind: 'signal'; common: CommonShape; timeoutMs: number | undefined }
  | { kind: 'loop'; common: CommonShape; body: Shape[]; maxIterations: number; untilDone: boolean; onMaxIterations: 'fail' | 'complete' };

interface CommonShape {
  readonly dependsMode: 'default' | 'none' | 'mask';
  readonly mask: number;
  readonly guarded: boolean;
  readonly checkpoint: boolean;
}

interface TaskShape {
  readonly effect: EffectKind;
  readonly retry: { maxAttempts: number; backoff: { initialMs: number; multiplier: number; maxMs: number; jitter: number } } | undefined;
  readonly timeoutMs: number | undefined;
  readonly readsDependency: boolean;
}

const commonShape: fc.Arbitrary<CommonShape> = fc.record({
  dependsMode: fc.constantFrom<CommonShape['dependsMode']>('default', 'default', 'none', 'mask', 'mask'),
  mask: fc.nat({ max: 255 }),
  guarded: fc.boolean(),
  checkpoint: fc.boolean(),
});

const taskShape: fc.Arbitrary<TaskShape> = fc.record({
  effect: fc.constantFrom<EffectKind>('pure', 'idempotent', 'idempotent', 'compensable', 'irreversible'),
  retry: fc.option(
    fc.record({
      maxAttempts: fc.integer({ min: 1, max: 4 }),
      backoff: fc.record({
        initialMs: fc.integer({ min: 0, max: 100 }),
        multiplier: fc.integer({ min: 1, max: 3 }),
        maxMs: fc.integer({ min: 0, max: 1000 }),
        jitter: fc.constantFrom(0, 0.25, 0.5, 1),
      }),
    }),
    { nil: undefined },
  ),
  timeoutMs: fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: undefined }),
  readsDependency: fc.boolean(),
});

function shapeArbitrary(depth: number, options: Required<Pick<ArbitraryDefinitionOptions, 'maxStepsPerLevel' | 'maxLoopDepth'>>, weights: Record<string, number>): fc.Arbitrary<Shape> {
  const choices: Array<{ arbitrary: fc.Arbitrary<Shape>; weight: number }> = [
    { weight: weights['task'], arbitrary: fc.record({ kind: fc.constant('task' as const), common: commonShape, task: taskShape }) },
    { weight: weights['sleep'], arbitrary: fc.record({ kind: fc.constant('sleep' as const), common: commonShape, durationMs: fc.integer({ min: 0, max: 5000 }) }) },
    {
      weight: weights['signal'],
      arbitrary: fc.record({ kind: fc.constant('signal' as const), common: commonShape, timeoutMs: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined }) }),
    },
    {
      weight: weights['map'],
      arbitrary: fc.record({ kind: fc.constant('map' as const), common: commonShape, task: taskShape, maxConcurrency: fc.integer({ min: 1, max: 3 }) }),
    },
  ];
  if (depth < options.maxLoopDepth && weights['loop'] > 0)
    choices.push({
      weight: weights['loop'],
      arbitrary: fc.record({
        kind: fc.constant('loop' as const),
        common: commonShape,
        body: fc.array(
          fc.constant(null).chain(() => shapeArbitrary(depth + 1, options, weights)),
          { minLength: 1, maxLength: Math.max(1, Math.min(3, options.maxStepsPerLevel)) },
        ),
        maxIterations: fc.integer({ min: 1, max: 3 }),
        untilDone: fc.boolean(),
        onMaxIterations: fc.constantFrom<'fail' | 'complete'>('fail', 'complete'),
      }),
    });
  return fc.oneof(...choices.filter((choice) => choice.weight > 0));
}

/** Arbitrary valid definitions (see module doc for the conventions they follow). */
export function arbitraryDefinition(options: ArbitraryDefinitionOptions = {}): fc.Arbitrary<WorkflowDefinitionInput> {
  const resolved = { maxStepsPerLevel: options.maxStepsPerLevel ?? 6, maxLoopDepth: options.maxLoopDepth ?? 1 };
  const weights = { task: 6, sleep: 1, signal: 1, map: 2, loop: 1, ...options.weights };
  return fc
    .record({
      shapes: fc.array(shapeArbitrary(0, resolved, weights), { minLength: 1, maxLength: resolved.maxStepsPerLevel }),
      checkpointEvery: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      maxRollbacks: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      maxTokens: fc.option(fc.integer({ min: 100, max: 100_000 }), { nil: undefined }),
      defaultRetry: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    })
    .map(({ shapes, checkpointEvery, maxRollbacks, maxTokens, defaultRetry }) => {
      const counter = { next: 1 };
      const definition: WorkflowDefinitionInput = { name: 'generated', steps: buildLevel(shapes, counter) };
      if (checkpointEvery !== undefined) definition.checkpointEvery = checkpointEvery;
      if (maxRollbacks !== undefined) definition.onFailure = { maxRollbacks };
      if (maxTokens !== undefined) definition.budget = { maxTokens };
      if (defaultRetry !== undefined) definition.defaults = { timeoutMs: 30_000, retry: { maxAttempts: defaultRetry, backoff: { initialMs: 10, maxMs: 100 } } };
      return definition;
    });
}

function buildLevel(shapes: readonly Shape[], counter: { next: number }): StepDefinitionInput[] {
  const ids: string[] = [];
  const steps: StepDefinitionInput[] = [];
  for (const shape of shapes) {
    const id = `s${counter.next}`;
    counter.next += 1;
    const index = ids.length;
    const dependsOn =
      shape.common.dependsMode === 'default' ? undefined : shape.common.dependsMode === 'none' ? [] : ids.filter((_, i) => (shape.common.mask >> i) % 2 === 1);
    // The step whose output a template/guard may read: an explicit dependency, else the default previous step.
    const readable = dependsOn === undefined ? (index > 0 ? ids[index - 1] : undefined) : dependsOn[0];
    ids.push(id);
    const common: Record<string, unknown> = { id };
    if (dependsOn !== undefined) common['dependsOn'] = dependsOn;
    if (shape.common.checkpoint) common['checkpoint'] = true;
    if (shape.common.guarded)
      common['when'] = readable !== undefined ? `steps.${readable}.status == 'completed' && (!has(input.skip) || !('${id}' in input.skip))` : `!has(input.skip) || !('${id}' in input.skip)`;
    steps.push(buildStep(shape, id, common, readable, counter));
  }
  return steps;
}

function buildStep(shape: Shape, id: string, common: Record<string, unknown>, readable: string | undefined, counter: { next: number }): StepDefinitionInput {
  switch (shape.kind) {
    case 'sleep':
      return { ...common, type: 'sleep', durationMs: shape.durationMs } as StepDefinitionInput;
    case 'signal':
      return { ...common, type: 'signal', signal: `sig_${id}`, ...(shape.timeoutMs === undefined ? {} : { timeoutMs: shape.timeoutMs }) } as StepDefinitionInput;
    case 'loop': {
      const body = buildLevel(shape.body, counter);
      const last = body[body.length - 1].id;
      return {
        ...common,
        type: 'loop',
        until: shape.untilDone ? `steps.${last}.status == 'completed'` : 'false',
        maxIterations: shape.maxIterations,
        onMaxIterations: shape.onMaxIterations,
        steps: body,
      } as StepDefinitionInput;
    }
    case 'task':
    case 'map': {
      const fields: Record<string, unknown> = { ...common, task: `${shape.kind}.${id}`, effect: shape.task.effect };
      if (shape.task.effect === 'compensable') fields['compensate'] = { task: `undo.${id}`, input: { original: `\${steps.${id}.output}` } };
      if (shape.task.retry !== undefined) fields['retry'] = shape.task.retry;
      if (shape.task.timeoutMs !== undefined) fields['timeoutMs'] = shape.task.timeoutMs;
      if (shape.kind === 'map') {
        fields['type'] = 'map';
        fields['items'] = 'has(input.items) ? input.items : [1.0, 2.0, 3.0]';
        fields['maxConcurrency'] = shape.maxConcurrency;
        fields['input'] = { item: '${item}', index: '${index}' };
      } else if (shape.task.readsDependency && readable !== undefined) fields['input'] = { from: `\${steps.${readable}.output}`, note: `after ${readable}: \${steps.${readable}.status}` };
      else fields['input'] = { input: '${input}' };
      return fields as StepDefinitionInput;
    }
  }
}
