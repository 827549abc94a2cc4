import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDefinitionOrThrow } from './validate-definition';
import {
  BUILT_IN_RETRY_POLICY,
  DEFAULT_QUEUE,
  DEFAULT_TASK_TIMEOUT_MS,
  backoffDelay,
  jitterSeed,
  resolveCompensationSettings,
  resolveRetryPolicy,
  resolveTaskSettings,
  shouldRetry,
  unitIntervalFromSeed,
  type RetryPolicy,
} from './retry-policy';

const policy = (backoff: Partial<RetryPolicy['backoff']> = {}, maxAttempts = 5): RetryPolicy => ({
  maxAttempts,
  backoff: { ...BUILT_IN_RETRY_POLICY.backoff, ...backoff },
  nonRetryableErrors: ['InvalidInput'],
});

describe('resolveRetryPolicy', () => {
  it('merges field by field: step, then workflow defaults, then built-ins', () => {
    const resolved = resolveRetryPolicy({ backoff: { initialMs: 50 } }, { maxAttempts: 7, backoff: { initialMs: 999, maxMs: 400 } });
    expect(resolved).toEqual({
      maxAttempts: 7,
      backoff: { initialMs: 50, multiplier: BUILT_IN_RETRY_POLICY.backoff.multiplier, maxMs: 400, jitter: BUILT_IN_RETRY_POLICY.backoff.jitter },
      nonRetryableErrors: [],
    });
    expect(resolveRetryPolicy()).toEqual(BUILT_IN_RETRY_POLICY);
  });
});

describe('resolveTaskSettings / resolveCompensationSettings', () => {
  const definition = parseDefinitionOrThrow({
    name: 'wf',
    defaults: { timeoutMs: 1000, queue: 'agents', retry: { maxAttempts: 4 } },
    steps: [
      { id: 'a', task: 'x', compensate: { task: 'undo', timeoutMs: 50 } },
      { id: 'b', task: 'y', queue: 'fast', timeoutMs: 20, heartbeatTimeoutMs: 5, retry: { maxAttempts: 1 } },
    ],
  });
  const [a, b] = definition.steps;

  it('uses the step value, else the workflow default, else the built-in', () => {
    if (a.type !== 'task' || b.type !== 'task') throw new Error('tasks expected');
    expect(resolveTaskSettings(definition, a)).toMatchObject({ task: 'x', queue: 'agents', timeoutMs: 1000, heartbeatTimeoutMs: undefined, retry: { maxAttempts: 4 } });
    expect(resolveTaskSettings(definition, b)).toMatchObject({ task: 'y', queue: 'fast', timeoutMs: 20, heartbeatTimeoutMs: 5, retry: { maxAttempts: 1 } });
    const bare = parseDefinitionOrThrow({ name: 'wf', steps: [{ id: 'a', task: 'x' }] });
    const bareStep = bare.steps[0];
    if (bareStep.type !== 'task') throw new Error('task expected');
    expect(resolveTaskSettings(bare, bareStep)).toMatchObject({ queue: DEFAULT_QUEUE, timeoutMs: DEFAULT_TASK_TIMEOUT_MS });
  });

  it('resolves a compensation against its step', () => {
    if (a.type !== 'task' || a.compensate === undefined) throw new Error('compensable task expected');
    expect(resolveCompensationSettings(definition, a, a.compensate)).toMatchObject({ task: 'undo', queue: 'agents', timeoutMs: 50, retry: { maxAttempts: 4 } });
  });
});

describe('shouldRetry', () => {
  it('retries while attempts remain, unless the error is non-retryable', () => {
    const p = policy({}, 3);
    expect(shouldRetry(p, 1)).toBe(true);
    expect(shouldRetry(p, 2, 'Timeout')).toBe(true);
    expect(shouldRetry(p, 3)).toBe(false);
    expect(shouldRetry(p, 1, 'InvalidInput')).toBe(false);
    expect(shouldRetry(p, 1, 'Other', false)).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially and is capped, without jitter', () => {
    const p = policy({ initialMs: 100, multiplier: 2, maxMs: 1000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6, 50, 5000].map((attempt) => backoffDelay(p, attempt, 'seed'))).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
  });

  it('is a pure function of (policy, attempt, seed) and depends on the seed', () => {
    const p = policy({ initialMs: 1000, multiplier: 2, maxMs: 60_000, jitter: 0.5 });
    const seeds = Array.from({ length: 20 }, (_, i) => jitterSeed('run-1', 'step', 0, i + 1));
    const first = seeds.map((seed) => backoffDelay(p, 3, seed));
    expect(seeds.map((seed) => backoffDelay(p, 3, seed))).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(10);
    // Golden values (first 48 bits of SHA-256 of the seed, computed independently): jitter must
    // not change across platforms or releases, since armed timers and replays depend on it.
    expect(jitterSeed('run-1', 'step', 0, 1)).toBe('run-1/step//0/1');
    expect(unitIntervalFromSeed('run-1/step//0/1')).toBeCloseTo(0.338482808895165, 12);
    expect(backoffDelay(policy({ initialMs: 1000, multiplier: 2, maxMs: 60_000, jitter: 1 }), 1, 'run-1/step//0/1')).toBe(661);
    expect(backoffDelay(policy({ initialMs: 1000, multiplier: 2, maxMs: 60_000, jitter: 1 }), 1, 'abc')).toBe(Math.floor(1000 * (1 - unitIntervalFromSeed('abc'))));
  });

  it('stays within [base·(1−jitter), base] and never exceeds maxMs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.string(),
        (initialMs, multiplier, maxMs, jitter, attempt, seed) => {
          const p = policy({ initialMs, multiplier, maxMs, jitter });
          const delay = backoffDelay(p, attempt, seed);
          const base = initialMs === 0 ? 0 : Math.min(maxMs, initialMs * Math.pow(multiplier, attempt - 1));
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - jitter)) - 1);
          expect(delay).toBeLessThanOrEqual(Math.min(base, maxMs));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('maps seeds uniformly enough into [0, 1)', () => {
    const values = Array.from({ length: 2000 }, (_, i) => unitIntervalFromSeed(`s${i}`));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});
