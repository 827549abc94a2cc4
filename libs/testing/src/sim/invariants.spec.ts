import type { Entry } from '@flotilla/raft';
import { describe, expect, it } from 'vitest';
import { InvariantViolation, SafetyInvariants, type LeaderView, type LogView } from './invariants';

const enc = new TextEncoder();
const entry = (index: number, term: number, data = `${index}@${term}`): Entry => ({ index, term, type: 'normal', data: enc.encode(data) });
/** A log given as the list of entry terms starting at index 1. */
const log = (...terms: number[]): LogView => ({ termAt: (i) => terms[i - 1] });

function violation(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvariantViolation) return err.invariant;
    throw err;
  }
  return 'none';
}

describe('SafetyInvariants', () => {
  it('election safety: one leader per term', () => {
    const inv = new SafetyInvariants(() => []);
    inv.onLeader('a', 1, log());
    inv.onLeader('a', 1, log()); // the same leader observed again is fine
    inv.onLeader('b', 2, log());
    expect(violation(() => inv.onLeader('c', 2, log()))).toBe('election-safety');
  });

  it('election safety: one vote per node and term', () => {
    const inv = new SafetyInvariants(() => []);
    inv.onVoteGranted('a', 1, 'b');
    inv.onVoteGranted('a', 1, 'b'); // a duplicated grant is the same vote
    inv.onVoteGranted('a', 2, 'c');
    expect(violation(() => inv.onVoteGranted('a', 2, 'b'))).toBe('election-safety');
  });

  it('log matching: same (index, term) means same payload and same predecessor term', () => {
    const inv = new SafetyInvariants(() => []);
    inv.onPersist('a', [entry(1, 1), entry(2, 1), entry(3, 2)], 0);
    inv.onPersist('b', [entry(2, 1), entry(3, 2)], 1);
    expect(violation(() => inv.onPersist('c', [entry(3, 2, 'other')], 1))).toBe('log-matching');
    expect(violation(() => inv.onPersist('c', [entry(3, 2)], 3))).toBe('log-matching');
  });

  it('state machine safety: one entry per applied index', () => {
    const inv = new SafetyInvariants(() => []);
    inv.onApply('a', entry(1, 1));
    inv.onApply('b', entry(1, 1));
    expect(violation(() => inv.onApply('c', entry(1, 2)))).toBe('state-machine-safety');
    expect(violation(() => inv.onApply('c', entry(1, 1, 'forged')))).toBe('state-machine-safety');
  });

  it('leader completeness is judged by terms: only leaders of later terms than the commit must hold it', () => {
    let leaders: LeaderView[] = [];
    const inv = new SafetyInvariants(() => leaders);
    // n1 (term 4) commits index 3 (an entry of term 4) while n3 still leads stale term 3.
    leaders = [{ id: 'n3', term: 3, log: log(1, 2, 3) }];
    inv.onCommit('n1', 4, 0, 3, log(1, 2, 4));
    // A leader of term 5 must hold it...
    expect(violation(() => inv.onLeader('n2', 5, log(1, 2, 3)))).toBe('leader-completeness');
    // ...and one that holds it passes (the stale term-3 leader was not flagged above).
    inv.onLeader('n5', 6, log(1, 2, 4));
    // A commit checked against a current leader of a later term that lacks it.
    leaders = [{ id: 'n5', term: 6, log: log(1, 2, 4, 6) }];
    expect(violation(() => inv.onCommit('n4', 5, 3, 4, log(1, 2, 4, 5)))).toBe('leader-completeness');
    // Two leaders committing different entries at one index.
    expect(violation(() => inv.onCommit('n6', 7, 0, 3, log(1, 2, 7)))).toBe('state-machine-safety');
  });

  it('commit rule: a leader commits only up to an entry of its own term (unless disabled)', () => {
    expect(violation(() => new SafetyInvariants(() => []).onCommit('n1', 3, 0, 2, log(1, 2)))).toBe('commit-rule');
    expect(violation(() => new SafetyInvariants(() => [], false).onCommit('n1', 3, 0, 2, log(1, 2)))).toBe('none');
    expect(violation(() => new SafetyInvariants(() => []).onCommit('n1', 3, 0, 3, log(1, 2, 3)))).toBe('none');
  });

  it('an acknowledged write may never be replaced', () => {
    const inv = new SafetyInvariants(() => []);
    inv.onAcknowledge({ index: 2, term: 1, client: 'c1', request: 7 });
    inv.onApply('a', entry(1, 1));
    expect(violation(() => inv.onApply('b', entry(2, 3)))).toBe('acknowledged-write-lost');
    const inv2 = new SafetyInvariants(() => []);
    inv2.onApply('a', entry(2, 3));
    expect(violation(() => inv2.onAcknowledge({ index: 2, term: 1, client: 'c1', request: 7 }))).toBe('acknowledged-write-lost');
  });

  it('persist before ack: append acks and vote grants never run ahead of the disk', () => {
    const inv = new SafetyInvariants(() => []);
    const msg = (type: 'MsgAppResp' | 'MsgVoteResp', term: number, index: number, to = 'l') =>
      ({ type, from: 'f', to, term, logTerm: 0, index, entries: [], commit: 0, reject: false, rejectHint: 0 }) as const;
    const disk = (term: number, vote: string | null, lastIndex: number) => ({ lastIndex, hardState: { term, vote, commit: 0 } });
    inv.onSend(msg('MsgAppResp', 2, 5), disk(2, null, 5));
    expect(violation(() => inv.onSend(msg('MsgAppResp', 2, 6), disk(2, null, 5)))).toBe('persist-before-ack');
    inv.onSend(msg('MsgVoteResp', 3, 0, 'c'), disk(3, 'c', 5));
    expect(violation(() => inv.onSend(msg('MsgVoteResp', 3, 0, 'c'), disk(2, null, 5)))).toBe('persist-before-ack');
    expect(violation(() => inv.onSend(msg('MsgVoteResp', 3, 0, 'c'), disk(3, 'd', 5)))).toBe('persist-before-ack');
    // Superseded by a durable later term: the old answer can no longer be contradicted.
    inv.onSend(msg('MsgVoteResp', 3, 0, 'c'), disk(4, 'c', 5));
    inv.onSend(msg('MsgAppResp', 2, 9), disk(3, null, 5));
    // The direct check can be switched off.
    new SafetyInvariants(() => [], true, false).onSend(msg('MsgAppResp', 2, 6), disk(2, null, 5));
  });

  it('snapshots at one index hold one state', () => {
    const inv = new SafetyInvariants(() => []);
    inv.onSnapshotState('a', 8, 'x');
    inv.onSnapshotState('b', 8, 'x');
    expect(violation(() => inv.onSnapshotState('c', 8, 'y'))).toBe('snapshot-divergence');
  });
});
