/** Property tests of the core's small building blocks against simple models (fast-check). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { limitEntriesBySize } from './entry-size';
import { Inflights } from './inflights';
import { decodeConfChange, decodeMembershipChange, encodeConfChange, encodeMembershipChange } from './membership-change-codec';
import { ProgressTracker } from './progress-tracker';
import { Unstable } from './unstable';
import type { Entry } from './types';

const entry = (index: number, term: number, size: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array(size) });

describe('limitEntriesBySize', () => {
  it('returns the longest prefix within the budget, but at least one entry', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50), { maxLength: 20 }), fc.nat(200), (sizes, max) => {
        const ents = sizes.map((s, i) => entry(i + 1, 1, s));
        const out = limitEntriesBySize(ents, max);
        if (ents.length === 0) {
          expect(out).toHaveLength(0);
          return;
        }
        expect(out.length).toBeGreaterThanOrEqual(1);
        const total = out.reduce((n, e) => n + e.data.length, 0);
        if (out.length > 1) expect(total).toBeLessThanOrEqual(max);
        if (out.length < ents.length) expect(total + ents[out.length].data.length).toBeGreaterThan(max);
      }),
    );
  });
});

describe('Inflights', () => {
  it('matches a model: freeLE frees acknowledged messages, full() obeys both caps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.nat(300),
        fc.array(fc.oneof(fc.record({ add: fc.nat(100) }), fc.record({ ack: fc.nat(20) }), fc.constant({ first: true })), { maxLength: 60 }),
        (maxMsgs, maxBytes, ops) => {
          const inf = new Inflights(maxMsgs, maxBytes);
          let model: Array<[number, number]> = [];
          let next = 1;
          for (const op of ops) {
            if ('add' in op) {
              if (inf.full()) continue;
              inf.add(next, op.add);
              model.push([next, op.add]);
              next += 1;
            } else if ('ack' in op) {
              inf.freeLE(op.ack);
              model = model.filter(([i]) => i > op.ack);
            } else {
              inf.freeFirstOne();
              model = model.slice(1);
            }
            const bytes = model.reduce((n, [, b]) => n + b, 0);
            expect(inf.count).toBe(model.length);
            expect(inf.bytes).toBe(bytes);
            expect(inf.full()).toBe(model.length >= maxMsgs || (maxBytes > 0 && bytes >= maxBytes));
          }
        },
      ),
    );
  });
});

describe('Unstable', () => {
  it('truncateAndAppend keeps the log a contiguous prefix of the old log plus the new entries', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(6), fc.integer({ min: 1, max: 4 })), { maxLength: 12 }), (ops) => {
        const u = new Unstable(1);
        let model: number[] = []; // model[i] = term of index i+1
        for (const [start, len] of ops) {
          const from = Math.min(start + 1, model.length + 1);
          const term = from; // any distinct-ish term
          const ents = Array.from({ length: len }, (_, k) => entry(from + k, term, 0));
          u.truncateAndAppend(ents);
          model = [...model.slice(0, from - 1), ...ents.map((e) => e.term)];
          const firstKept = u.offset;
          for (let i = firstKept; i <= model.length; i++) expect(u.maybeTerm(i)).toBe(model[i - 1]);
          expect(u.maybeLastIndex()).toBe(model.length);
        }
      }),
    );
  });

  it('stableTo ignores a stale (index, term) whose entry was replaced', () => {
    const u = new Unstable(1);
    u.truncateAndAppend([entry(1, 1, 0), entry(2, 1, 0)]);
    u.truncateAndAppend([entry(2, 2, 0)]);
    u.stableTo(2, 1); // the entry persisted at 2 had term 1, now replaced
    expect(u.offset).toBe(1);
    u.stableTo(2, 2);
    expect([u.offset, u.entries.length]).toEqual([3, 0]);
  });
});

describe('ProgressTracker quorum', () => {
  it('committed() is the largest index stored on a majority of voters; learners never count', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(100), { minLength: 1, maxLength: 7 }), fc.array(fc.nat(100), { maxLength: 3 }), (voterMatches, learnerMatches) => {
        const t = new ProgressTracker(8, 0);
        const voters = voterMatches.map((_, i) => `v${i}`);
        const learners = learnerMatches.map((_, i) => `l${i}`);
        t.reset({ voters, learners }, 1);
        voters.forEach((id, i) => (t.progress.get(id)!.match = voterMatches[i]));
        learners.forEach((id, i) => (t.progress.get(id)!.match = learnerMatches[i]));
        const c = t.committed();
        const atLeast = voterMatches.filter((m) => m >= c).length;
        const above = voterMatches.filter((m) => m > c).length;
        expect(atLeast).toBeGreaterThan(voters.length / 2);
        expect(above).toBeLessThanOrEqual(voters.length / 2);
      }),
    );
  });
});

describe('conf-change codec', () => {
  it('round-trips changes with and without the resulting membership', () => {
    const id = fc.string({ minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(fc.constantFrom('add-learner', 'promote', 'add-voter', 'remove' as const), id, fc.option(fc.record({ voters: fc.array(id), learners: fc.array(id) })), (type, node, cs) => {
        const change = { type, node };
        expect(decodeMembershipChange(encodeMembershipChange(change))).toEqual(change);
        const record = cs ? { change, confState: cs } : { change };
        expect(decodeConfChange(encodeConfChange(record))).toEqual(record);
      }),
    );
  });

  it('rejects malformed data with a TypeError', () => {
    expect(() => decodeConfChange(new Uint8Array([9, 1]))).toThrow(TypeError);
    expect(() => decodeConfChange(new Uint8Array([0, 0x7b]))).toThrow(TypeError);
    expect(() => decodeConfChange(new TextEncoder().encode('\u0000{"n":1}'))).toThrow(TypeError);
  });
});
