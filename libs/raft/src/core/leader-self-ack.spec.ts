/**
 * The leader counts its own log entries toward the commit quorum only once the host reported
 * them persisted (`advance` of the Ready carrying them) — etcd's async-storage self-ack, thesis
 * §10.2.1 ("the leader can write to its disk in parallel with replicating to the followers").
 * This is what lets the driver send a Ready's MsgApps before its own flush.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { drain, msg, rawNode, storageWith } from './testing/helpers';
import { bytes } from './testing/network';
import type { MemoryStorage } from './memory-storage';
import type { RawNode } from './raw-node';
import type { Message, Ready } from './types';

/** Persists a Ready into `storage` (without advancing), as a host's disk write would. */
function persist(rd: Ready, storage: MemoryStorage): void {
  if (rd.snapshot) storage.applySnapshot(rd.snapshot);
  storage.append(rd.entries);
  if (rd.hardState) storage.setHardState(rd.hardState);
}

/** A 3-voter cluster where node 1 is leader of term 1 and everything so far is committed everywhere. */
function electedLeader(): { leader: RawNode; ls: MemoryStorage; followers: Map<string, { node: RawNode; s: MemoryStorage }> } {
  const ls = storageWith(['1', '2', '3'], []);
  const leader = rawNode('1', ls);
  const followers = new Map(['2', '3'].map((id) => {
    const s = storageWith(['1', '2', '3'], []);
    return [id, { node: rawNode(id, s), s }] as const;
  }));
  leader.campaign();
  // Deliver everything until quiet (synchronous, lossless).
  let inbox: Message[] = drain(leader, ls);
  for (let round = 0; round < 20 && inbox.length > 0; round++) {
    const next: Message[] = [];
    for (const m of inbox) {
      if (m.to === '1') leader.step(m);
      else {
        const f = followers.get(m.to);
        if (!f) continue;
        f.node.step(m);
        next.push(...drain(f.node, f.s));
      }
    }
    next.push(...drain(leader, ls));
    inbox = next;
  }
  expect(leader.isLeader()).toBe(true);
  return { leader, ls, followers };
}

describe('leader self-acknowledgement (own entries count only once persisted)', () => {
  it('one follower ack plus the leader’s un-persisted copy does not commit; the leader’s advance does', () => {
    const { leader, ls, followers } = electedLeader();
    const before = leader.status().commit;
    const index = leader.propose(bytes('x'));
    expect(index).toBe(before + 1);
    const rd = leader.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([index]);
    // The MsgApp may leave before the leader's own write: deliver it to follower 2 only.
    const app = rd.messages.find((m) => m.type === 'MsgApp' && m.to === '2');
    expect(app).toBeDefined();
    const f2 = followers.get('2')!;
    f2.node.step(app!);
    const acks = drain(f2.node, f2.s).filter((m) => m.type === 'MsgAppResp');
    expect(acks.map((m) => m.index)).toEqual([index]);
    for (const m of acks) leader.step(m);
    // Quorum is 2 of 3; follower 2 stores it durably, the leader only in memory: not committed.
    expect(leader.status().commit).toBe(before);
    expect(rd.committedEntries.map((e) => e.index)).not.toContain(index);
    // Now the leader's own write completes.
    persist(rd, ls);
    leader.advance(rd);
    expect(leader.status().commit).toBe(index);
    const next = leader.ready();
    expect(next.committedEntries.map((e) => e.index)).toEqual([index]);
    // The new commit index is broadcast with this Ready.
    expect(next.messages.filter((m) => m.type === 'MsgApp').map((m) => [m.to, m.commit])).toEqual([
      ['2', index],
      ['3', index],
    ]);
    leader.advance(next);
  });

  it('a single-voter leader commits its entry only in the Ready after the one that persisted it', () => {
    const s = storageWith(['1'], []);
    const n = rawNode('1', s);
    n.campaign();
    drain(n, s);
    const base = n.status().commit;
    const index = n.propose(bytes('solo'))!;
    const rd = n.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([index]);
    expect(rd.committedEntries.map((e) => e.index)).not.toContain(index);
    expect(n.status().commit).toBe(base);
    persist(rd, s);
    n.advance(rd);
    const next = n.ready();
    expect(next.committedEntries.map((e) => e.index)).toEqual([index]);
    n.advance(next);
  });

  it('a restarted single voter answers ReadIndex only after its own no-op is persisted and committed', () => {
    // Entries 1..3 were acknowledged before a crash, but the commit-only hard state (commit 1)
    // was never flushed: answering a read at commit 1 would be stale.
    const s = storageWith(['1'], [1, 1, 1]);
    s.setHardState({ term: 1, vote: '1', commit: 1 });
    const n = rawNode('1', s);
    n.campaign();
    n.readIndex(bytes('r1'));
    const rd = n.ready();
    expect(rd.entries.map((e) => [e.index, e.term])).toEqual([[4, 2]]);
    expect(rd.readStates).toEqual([]);
    persist(rd, s);
    n.advance(rd);
    const next = n.ready();
    expect(next.committedEntries.map((e) => e.index)).toEqual([2, 3, 4]);
    expect(next.readStates.map((r) => r.index)).toEqual([4]);
    n.advance(next);
  });

  it('a leader elected while entries are still un-persisted does not count them', () => {
    // Node 1 receives entries as a follower, and before its Ready is advanced wins an election.
    const s = storageWith(['1', '2', '3'], [1]);
    const n = rawNode('1', s);
    n.step(msg('MsgApp', '2', '1', 1, { index: 1, logTerm: 1, entries: [{ index: 2, term: 1, type: 'normal', data: bytes('y') }], commit: 1 }));
    const rd = n.ready(); // carries entry 2, not yet written
    expect(rd.entries.map((e) => e.index)).toEqual([2]);
    n.campaign();
    n.step(msg('MsgVoteResp', '3', '1', 2, { reject: false }));
    expect(n.isLeader()).toBe(true);
    expect(n.status().progress?.['1'].match).toBe(1);
    // Follower 3 acknowledges everything up to the new empty entry (3), but the leader itself
    // stores only index 1 durably: nothing new may commit.
    n.step(msg('MsgAppResp', '3', '1', 2, { index: 3 }));
    expect(n.status().commit).toBe(1);
    persist(rd, s);
    n.advance(rd);
    // Entry 2 is now persisted, but 3 (the new term's empty entry) is not: commit only needs an
    // entry of the current term, so still nothing.
    expect(n.status().commit).toBe(1);
    const rd2 = n.ready();
    persist(rd2, s);
    n.advance(rd2);
    expect(n.status().commit).toBe(3);
  });

  it('property: the leader’s commit index never exceeds what a quorum including only durable copies holds', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('propose', 'ready', 'persist', 'ack2', 'ack3'), { minLength: 1, maxLength: 60 }), (ops) => {
        const { leader, ls, followers } = electedLeader();
        let outstanding: Ready | null = null;
        let persisted = false;
        const durable = new Map<string, number>([['2', followers.get('2')!.s.lastIndex()], ['3', followers.get('3')!.s.lastIndex()]]);
        const pendingApps: Message[] = [];
        for (const op of ops) {
          if (op === 'propose') leader.propose(bytes(op));
          else if (op === 'ready' && outstanding === null && leader.hasReady()) {
            outstanding = leader.ready();
            persisted = false;
            pendingApps.push(...outstanding.messages.filter((m) => m.type === 'MsgApp'));
          } else if (op === 'persist' && outstanding !== null) {
            if (!persisted) persist(outstanding, ls);
            persisted = true;
            leader.advance(outstanding);
            outstanding = null;
          } else if (op === 'ack2' || op === 'ack3') {
            const id = op === 'ack2' ? '2' : '3';
            const f = followers.get(id)!;
            for (const m of pendingApps.filter((a) => a.to === id)) f.node.step(m);
            for (let i = pendingApps.length - 1; i >= 0; i--) if (pendingApps[i].to === id) pendingApps.splice(i, 1);
            const out = drain(f.node, f.s);
            durable.set(id, f.s.lastIndex());
            for (const m of out) if (m.to === '1') leader.step(m);
          }
          // Commit ≤ the 2nd largest of the durable last indexes (leader's = its storage).
          const counts = [ls.lastIndex(), durable.get('2')!, durable.get('3')!].sort((a, b) => b - a);
          if (leader.status().commit > counts[1]) return false;
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });
});
