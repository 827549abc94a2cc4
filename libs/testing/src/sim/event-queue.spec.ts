import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue';
import { SeededRandom } from './seeded-random';

describe('EventQueue', () => {
  it('pops by time, then by insertion order', () => {
    const seed = 99;
    const r = new SeededRandom(seed);
    const q = new EventQueue<number>();
    const pushed: Array<[number, number]> = [];
    for (let i = 0; i < 2000; i++) {
      const t = r.int(50);
      q.push(t, i);
      pushed.push([t, i]);
    }
    expect(q.removeWhere((i) => i % 7 === 0)).toBe(pushed.filter(([, i]) => i % 7 === 0).length);
    const expected = pushed.filter(([, i]) => i % 7 !== 0).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const got: Array<[number, number]> = [];
    while (q.size > 0) {
      const { time, item } = q.pop();
      got.push([time, item]);
    }
    expect(got).toEqual(expected);
    expect(q.peekTime()).toBe(Infinity);
    expect(() => q.pop()).toThrow(RangeError);
  });
});
