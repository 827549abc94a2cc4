import { describe, expect, it } from 'vitest';
import { CompactedError, SnapshotOutOfDateError, UnavailableError } from './errors';
import { MemoryStorage } from './memory-storage';
import { entriesWithTerms } from './testing/helpers';

const cs = { voters: ['1'], learners: [] };

function storage(terms: number[]): MemoryStorage {
  const s = new MemoryStorage({ confState: cs });
  s.append(entriesWithTerms(terms));
  return s;
}

describe('MemoryStorage', () => {
  it('reports bounds and terms of a fresh and a filled log', () => {
    const empty = new MemoryStorage();
    expect([empty.firstIndex(), empty.lastIndex(), empty.term(0)]).toEqual([1, 0, 0]);
    const s = storage([1, 1, 2]);
    expect([s.firstIndex(), s.lastIndex(), s.term(3)]).toEqual([1, 3, 2]);
  });

  it('throws typed errors carrying the bounds', () => {
    const s = storage([1, 1, 2]);
    s.createSnapshot(2, cs, new Uint8Array([9]));
    s.compact(2);
    const compacted = (() => {
      try {
        s.entries(1, 3);
      } catch (e) {
        return e;
      }
    })();
    expect(compacted).toBeInstanceOf(CompactedError);
    expect(compacted).toMatchObject({ requestedIndex: 1, firstIndex: 3, code: 'compacted' });
    expect(() => s.term(1)).toThrow(CompactedError);
    expect(() => s.term(4)).toThrow(UnavailableError);
    expect(() => s.entries(3, 5)).toThrow(UnavailableError);
    expect(s.term(2)).toBe(1); // the compaction point keeps its term
  });

  it('append replaces a conflicting suffix and ignores compacted entries', () => {
    const s = storage([1, 1, 1, 1]);
    s.append(entriesWithTerms([2, 2], 3));
    expect(s.entries(1, 5).map((e) => e.term)).toEqual([1, 1, 2, 2]);
    s.createSnapshot(2, cs, new Uint8Array());
    s.compact(2);
    s.append(entriesWithTerms([1, 1, 2, 3], 1)); // 1..2 ignored, 3..4 replaced
    expect(s.entries(3, 5).map((e) => e.term)).toEqual([2, 3]);
    expect(() => s.append(entriesWithTerms([5], 9))).toThrow(UnavailableError); // gap
  });

  it('limits entries by bytes but returns at least one', () => {
    const s = storage([1, 1, 1, 1]); // payloads "i@1" are 3 bytes each
    expect(s.entries(1, 5, 7)).toHaveLength(2);
    expect(s.entries(1, 5, 1)).toHaveLength(1);
    expect(s.entries(1, 5)).toHaveLength(4);
  });

  it('applySnapshot replaces the log, refuses older snapshots and bumps commit', () => {
    const s = storage([1, 1]);
    s.applySnapshot({ metadata: { index: 10, term: 3, confState: { voters: ['1', '2'], learners: [] } }, data: new Uint8Array() });
    expect([s.firstIndex(), s.lastIndex(), s.term(10)]).toEqual([11, 10, 3]);
    expect(s.initialState().confState.voters).toEqual(['1', '2']);
    expect(s.initialState().hardState.commit).toBe(10);
    expect(() =>
      s.applySnapshot({ metadata: { index: 5, term: 2, confState: cs }, data: new Uint8Array() }),
    ).toThrow(SnapshotOutOfDateError);
  });
});
