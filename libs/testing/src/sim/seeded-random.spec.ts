import { describe, expect, it } from 'vitest';
import { SeededRandom } from './seeded-random';

describe('SeededRandom', () => {
  it('replays the same sequence for the same seed and differs across seeds', () => {
    const draw = (seed: number) => Array.from({ length: 50 }, ((r) => () => r.nextUint32())(new SeededRandom(seed)));
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('stays in range and is roughly uniform', () => {
    const r = new SeededRandom(7);
    const counts = new Array<number>(10).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      const f = r.next();
      if (!(f >= 0 && f < 1)) outOfRange++;
      counts[r.int(10)]++;
    }
    expect(outOfRange).toBe(0);
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(600);
    for (let i = 0; i < 1000; i++) {
      const v = r.range(3, 5);
      expect(v >= 3 && v <= 5).toBe(true);
    }
  });

  it('forks independent streams deterministically', () => {
    const a = new SeededRandom(1).fork();
    const b = new SeededRandom(1).fork();
    expect(a.nextUint32()).toBe(b.nextUint32());
    expect(() => new SeededRandom(1).pick([])).toThrow(RangeError);
  });
});
