import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../core';
import { EntryTailCache } from './entry-tail-cache';

function ents(from: number, to: number, term: number, bytes = 4): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push({ index: i, term, type: 'normal', data: new Uint8Array(bytes).fill(i & 0xff) });
  return out;
}

describe('EntryTailCache', () => {
  it('replaces a conflicting suffix and keeps the newest entries within its bounds', () => {
    const c = new EntryTailCache({ maxEntries: 5, maxBytes: 1000 });
    c.put(ents(1, 4, 1));
    c.put(ents(3, 6, 2)); // overwrites 3..4, appends 5..6; 1 falls out (6 > 5 entries)
    expect([c.firstIndex, c.lastIndex]).toEqual([2, 6]);
    expect(c.get(2)?.term).toBe(1);
    expect(c.get(3)?.term).toBe(2);
    expect(c.get(1)).toBeUndefined();
    expect(c.range(2, 7)?.map((e) => [e.index, e.term])).toEqual([[2, 1], [3, 2], [4, 2], [5, 2], [6, 2]]);
    expect(c.range(1, 3)).toBeUndefined(); // 1 is not cached: the caller must read the store
    expect(c.range(5, 8)).toBeUndefined();
  });

  it('cuts by maxBytes like the store: always the first entry, then while the total stays within the limit', () => {
    const c = new EntryTailCache({ maxEntries: 100, maxBytes: 1_000_000 });
    c.put(ents(1, 10, 1, 10));
    expect(c.range(1, 11, 5)?.length).toBe(1);
    expect(c.range(1, 11, 30)?.length).toBe(3);
    expect(c.range(1, 11, 29)?.length).toBe(2);
  });

  it('restarts on a gap, drops compacted entries and bounds bytes', () => {
    const c = new EntryTailCache({ maxEntries: 100, maxBytes: 25 });
    c.put(ents(1, 3, 1, 10)); // 30 bytes > 25: keeps 2..3
    expect([c.firstIndex, c.lastIndex]).toEqual([2, 3]);
    c.put(ents(10, 10, 2, 100)); // gap: restarts; one oversized entry is still kept
    expect([c.firstIndex, c.lastIndex, c.size]).toEqual([10, 10, 1]);
    c.put(ents(11, 12, 2, 1));
    expect([c.firstIndex, c.lastIndex]).toEqual([11, 12]);
    c.dropThrough(11);
    expect([c.firstIndex, c.lastIndex]).toEqual([12, 12]);
    c.dropThrough(12);
    expect(c.size).toBe(0);
    expect(c.get(12)).toBeUndefined();
  });

  it('property: whatever it answers equals the modelled log', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), back: fc.nat(6), count: fc.integer({ min: 1, max: 8 }), size: fc.nat(20) }),
      fc.record({ kind: fc.constant('drop' as const), back: fc.nat(10) }),
      fc.record({ kind: fc.constant('clear' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 80 }), (ops, maxEntries, maxBytes) => {
        const c = new EntryTailCache({ maxEntries, maxBytes });
        const log = new Map<number, Entry>(); // the "store"
        let first = 1;
        let last = 0;
        let term = 1;
        for (const o of ops) {
          if (o.kind === 'put') {
            const from = Math.max(first, last + 1 - o.back);
            const put = ents(from, from + o.count - 1, ++term, o.size);
            for (let i = from; i <= last; i++) log.delete(i);
            for (const e of put) log.set(e.index, e);
            last = from + o.count - 1;
            c.put(put);
          } else if (o.kind === 'drop') {
            const upTo = Math.min(last, first - 1 + o.back);
            for (let i = first; i <= upTo; i++) log.delete(i);
            first = upTo + 1;
            c.dropThrough(upTo);
          } else {
            c.clear();
          }
          expect(c.size).toBeLessThanOrEqual(maxEntries);
          if (c.size > 0) expect(c.lastIndex).toBe(last);
          for (let i = first - 1; i <= last + 1; i++) {
            const got = c.get(i);
            if (got) expect(got).toBe(log.get(i));
          }
          for (let lo = first; lo <= last; lo++) {
            const r = c.range(lo, last + 1, 30);
            if (r) expect(r.map((e) => e.index)).toEqual(Array.from({ length: r.length }, (_, k) => lo + k));
            r?.forEach((e) => expect(e).toBe(log.get(e.index)));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
