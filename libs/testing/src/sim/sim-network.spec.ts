import { describe, expect, it } from 'vitest';
import { faultProfile } from './fault-profile';
import { SeededRandom } from './seeded-random';
import { SimNetwork } from './sim-network';

describe('SimNetwork', () => {
  it('cuts and heals links per partition, one-way or both ways, overlapping safely', () => {
    const net = new SimNetwork(new SeededRandom(1), faultProfile('none'));
    const oneWay = net.cutOneWay(['a'], ['b', 'c']);
    expect(net.isCut('a', 'b')).toBe(true);
    expect(net.isCut('b', 'a')).toBe(false);
    const both = net.cutBothWays(['a'], ['b']);
    expect(net.isCut('b', 'a')).toBe(true);
    net.heal(oneWay);
    expect(net.isCut('a', 'b')).toBe(true); // still cut by the second partition
    expect(net.isCut('a', 'c')).toBe(false);
    net.heal(both);
    expect(net.isCut('a', 'b') || net.isCut('b', 'a')).toBe(false);
    expect(net.route('a', 'b')).toHaveLength(1);
    net.cutBothWays(['a'], ['c']);
    expect(net.route('a', 'c')).toEqual([]);
    net.healAll();
    expect(net.describeCuts()).toBe('');
  });

  it('drops, duplicates and delays at the configured rates', () => {
    const seed = 3;
    const p = faultProfile('heavy');
    const net = new SimNetwork(new SeededRandom(seed), p);
    let lost = 0;
    let dup = 0;
    let maxDelay = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const d = net.route('a', 'b');
      if (d.length === 0) lost++;
      if (d.length === 2) dup++;
      for (const x of d) maxDelay = Math.max(maxDelay, x);
    }
    expect(Math.abs(lost / n - p.dropRate), `seed ${seed}`).toBeLessThan(0.01);
    expect(Math.abs(dup / n - p.duplicateRate * (1 - p.dropRate)), `seed ${seed}`).toBeLessThan(0.01);
    expect(maxDelay).toBeGreaterThan(p.maxDelay);
    expect(maxDelay).toBeLessThanOrEqual(p.longDelayMax);
  });
});
