/** The RawNode API and the Ready contract (persist → send → apply → advance). */
import { describe, expect, it } from 'vitest';
import { InvalidRaftConfigError, NotLeaderError, ReadyProtocolError } from './errors';
import { MemoryStorage } from './memory-storage';
import { RawNode } from './raw-node';
import { drain, msg, rawNode, storageWith } from './testing/helpers';
import { Network, bytes, seededRandom } from './testing/network';
import type { Ready } from './types';

describe('Ready protocol', () => {
  it('a second ready() before advance() throws, and advance() accepts only the outstanding Ready', () => {
    const s = storageWith(['1'], []);
    const n = rawNode('1', s);
    n.campaign();
    expect(n.hasReady()).toBe(true);
    const rd = n.ready();
    expect(n.hasReady()).toBe(false);
    expect(() => n.ready()).toThrow(ReadyProtocolError);
    const forged: Ready = { ...rd };
    expect(() => n.advance(forged)).toThrow(ReadyProtocolError);
    n.advance(rd);
    expect(() => n.advance(rd)).toThrow(ReadyProtocolError);
  });

  it('a vote grant comes in the same Ready as the hard state recording it, with mustSync', () => {
    const s = storageWith(['1', '2'], []);
    const n = rawNode('1', s);
    n.step(msg('MsgVote', '2', '1', 3, { index: 0, logTerm: 0 }));
    const rd = n.ready();
    expect(rd.hardState).toEqual({ term: 3, vote: '2', commit: 0 });
    expect(rd.messages.map((m) => [m.type, m.reject])).toEqual([['MsgVoteResp', false]]);
    expect(rd.mustSync).toBe(true);
    n.advance(rd);
  });

  it('an append ack comes in the same Ready as the entries it acknowledges', () => {
    const s = storageWith(['1', '2'], []);
    const n = rawNode('2', s);
    n.step(msg('MsgApp', '1', '2', 1, { index: 0, logTerm: 0, entries: [{ index: 1, term: 1, type: 'normal', data: bytes('x') }], commit: 0 }));
    const rd = n.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([1]);
    expect(rd.messages.find((m) => m.type === 'MsgAppResp')?.index).toBe(1);
    n.advance(rd);
  });

  it('a commit-only change does not require fsync', () => {
    const s = storageWith(['1', '2'], [1]);
    const n = rawNode('2', s);
    drain(n, s);
    n.step(msg('MsgHeartbeat', '1', '2', 1, { commit: 1 }));
    const rd = n.ready();
    expect(rd.hardState).toEqual({ term: 1, vote: null, commit: 1 });
    expect(rd.entries).toEqual([]);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1]);
    expect(rd.mustSync).toBe(false);
    n.advance(rd);
  });

  it('committedEntries never include an entry that is not persisted once the Ready is processed', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 5 });
    const check = (id: string) => {
      const p = net.peer(id);
      const orig = p.node.ready.bind(p.node);
      p.node.ready = () => {
        const rd = orig();
        const lastAfterPersist = Math.max(p.storage.lastIndex(), rd.entries.length ? rd.entries[rd.entries.length - 1].index : 0);
        for (const e of rd.committedEntries) expect(e.index).toBeLessThanOrEqual(lastAfterPersist);
        return rd;
      };
    };
    ['1', '2', '3'].forEach(check);
    net.elect('1');
    for (let i = 0; i < 20; i++) net.propose('1', `x${i}`);
    expect(net.appliedData('3')).toHaveLength(20);
  });
});

describe('RawNode API', () => {
  it('propose on a follower throws NotLeaderError with the leader hint', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 3 });
    net.elect('1');
    let err: unknown;
    try {
      net.node('2').propose(bytes('x'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotLeaderError);
    expect(err).toMatchObject({ leaderHint: '1', code: 'not-leader' });
  });

  it('refuses local message types from the network and drops responses from non-members', () => {
    const s = storageWith(['1', '2'], []);
    const n = rawNode('1', s);
    expect(() => n.step(msg('MsgHup', '2', '1', 0))).toThrow(TypeError);
    n.step(msg('MsgVoteResp', '9', '1', 5));
    expect(n.status().term).toBe(0);
  });

  it('validates its config and lists every problem', () => {
    let err: unknown;
    try {
      new RawNode({ id: '', electionTick: 1, heartbeatTick: 1, random: Math.random, maxInflightMsgs: 0 }, new MemoryStorage());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidRaftConfigError);
    expect((err as InvalidRaftConfigError).problems).toHaveLength(3);
  });

  it('restarts from storage with its term, vote and commit', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 3 });
    net.elect('1');
    net.propose('1', 'a');
    const before = net.node('2').status();
    net.crash('2');
    net.restart('2');
    net.flush('2');
    const after = net.node('2').status();
    expect([after.term, after.vote, after.commit]).toEqual([before.term, before.vote, before.commit]);
    expect(after.role).toBe('follower');
    expect(net.appliedData('2')).toEqual(['a']); // re-applied from the log
  });

  it('status() reports per-peer progress on the leader only', () => {
    const net = new Network({ voters: ['1', '2'], seed: 3 });
    net.elect('1');
    const st = net.node('1').status();
    expect(st.progress?.['2']).toMatchObject({ match: st.lastIndex, next: st.lastIndex + 1, state: 'replicate' });
    expect(net.node('2').status().progress).toBeUndefined();
  });

  it('is deterministic: the same seed and inputs give the same message trace', () => {
    const trace = (seed: number) => {
      const net = new Network({ voters: ['1', '2', '3'], seed });
      net.tick(40);
      const leader = net.leaders()[0];
      net.propose(leader, 'x');
      return net.delivered.map((m) => `${m.type}:${m.from}>${m.to}@${m.term}/${m.index}`).join(',');
    };
    expect(trace(77)).toBe(trace(77));
    expect(trace(77)).not.toBe(trace(78));
  });

  it('drain helper sanity: a single voter elects itself and commits its no-op in one Ready', () => {
    const s = storageWith(['1'], []);
    const n = new RawNode({ id: '1', electionTick: 5, heartbeatTick: 1, random: seededRandom(1) }, s);
    n.campaign();
    drain(n, s);
    expect(n.status()).toMatchObject({ role: 'leader', commit: 1, applied: 1 });
  });
});

describe('Ready size limits', () => {
  it('maxCommittedSizePerReady splits committed entries over several Readys (at least one each)', () => {
    const s = storageWith(['1'], [1, 1, 1, 1], 1); // payloads "i@1": 3 bytes each
    s.setHardState({ term: 1, vote: null, commit: 4 });
    const n = rawNode('1', s, { maxCommittedSizePerReady: 7 });
    const sizes: number[] = [];
    while (n.hasReady()) {
      const rd = n.ready();
      sizes.push(rd.committedEntries.length);
      n.advance(rd);
    }
    expect(sizes.filter((k) => k > 0)).toEqual([2, 2]);
    expect(n.status().applied).toBe(4);
  });
});

describe('host errors are loud', () => {
  it('compacting entries that were not applied yet makes the next Ready throw instead of skipping them', () => {
    const s = storageWith(['1'], [1, 1, 1], 1);
    s.setHardState({ term: 1, vote: null, commit: 3 });
    const n = rawNode('1', s, { appliedIndex: 0 });
    s.createSnapshot(2, { voters: ['1'], learners: [] }, new Uint8Array());
    s.compact(2);
    expect(() => n.ready()).toThrow(/compacted before being applied/);
  });
});
