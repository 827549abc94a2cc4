/**
 * Membership change, one node at a time (thesis §4.1, §4.2.1 learners / "non-voting members",
 * §4.2.2 removing the current leader). Changes take effect when the host applies the entry.
 */
import { describe, expect, it } from 'vitest';
import { ConfChangePendingError, InvalidConfChangeError } from './errors';
import { decodeMembershipChange, encodeConfChange } from './membership-change-codec';
import { MemoryStorage } from './memory-storage';
import { RawNode } from './raw-node';
import { Network, bytes, seededRandom } from './testing/network';

function change(net: Network, leader: string, type: 'add-learner' | 'promote' | 'add-voter' | 'remove', node: string): void {
  net.node(leader).proposeMembershipChange({ type, node });
  net.stabilize();
}

function cluster(): Network {
  const net = new Network({ voters: ['1', '2', '3'], joiners: ['4', '5'], seed: 9 });
  net.elect('1');
  net.propose('1', 'a');
  return net;
}

describe('learners', () => {
  // "new servers join the cluster as non-voting members (the leader replicates log entries to
  // them, but they are not considered for majorities)" (thesis §4.2.1)
  it('a new node joins as a learner, catches up, learns the whole membership and is then promoted', () => {
    const net = cluster();
    net.isolate('4');
    change(net, '1', 'add-learner', '4');
    net.propose('1', 'b');
    // Not caught up (isolated): promotion is refused.
    expect(() => net.node('1').proposeMembershipChange({ type: 'promote', node: '4' })).toThrow(InvalidConfChangeError);
    net.heal();
    net.tick(2);
    expect(net.appliedData('4')).toEqual(['a', 'b']);
    expect(net.node('4').confState()).toEqual({ voters: ['1', '2', '3'], learners: ['4'] });
    expect(net.node('1').status().progress?.['4']).toMatchObject({ isLearner: true, state: 'replicate' });
    change(net, '1', 'promote', '4');
    for (const id of ['1', '2', '3', '4']) expect(net.node(id).confState()).toEqual({ voters: ['1', '2', '3', '4'], learners: [] });
    // Quorum is now 3 of 4: with two voters down nothing commits, with one it does.
    net.crash('3');
    const before = net.node('1').status().commit;
    net.propose('1', 'c');
    expect(net.node('1').status().commit).toBeGreaterThan(before);
    net.crash('4');
    const stuck = net.node('1').status().commit;
    net.propose('1', 'd');
    expect(net.node('1').status().commit).toBe(stuck);
  });

  it('applying the bare decoded change (instead of the entry) still gives a joiner the whole membership', () => {
    const net = cluster();
    const p4 = net.peer('4');
    const orig = p4.node.applyConfChange.bind(p4.node);
    p4.node.applyConfChange = (c) => orig('data' in c ? decodeMembershipChange(c.data) : c);
    change(net, '1', 'add-learner', '4');
    expect(net.node('4').confState()).toEqual({ voters: ['1', '2', '3'], learners: ['4'] });
  });

  it('a learner does not count towards a commit quorum', () => {
    const net = new Network({ voters: ['1', '2'], learners: ['3'], seed: 2 });
    net.elect('1');
    net.crash('2');
    const idx = net.propose('1', 'x');
    expect(net.persistedLog('3').some((e) => e.index === idx)).toBe(true); // replicated to the learner
    expect(net.node('1').status().commit).toBeLessThan(idx); // but not committed
  });

  it('a learner never becomes leader even when all voters are gone', () => {
    const net = cluster();
    change(net, '1', 'add-learner', '4');
    for (const id of ['1', '2', '3']) net.crash(id);
    net.tick(60, ['4']);
    expect(net.node('4').status().role).toBe('follower');
  });
});

describe('campaigning with the configuration in force', () => {
  it('a node with a committed but unapplied membership change does not campaign until it applies it', () => {
    const s = new MemoryStorage({ confState: { voters: ['1', '2', '3'], learners: [] } });
    s.append([
      { index: 1, term: 1, type: 'normal', data: new Uint8Array() },
      { index: 2, term: 1, type: 'conf-change', data: encodeConfChange({ change: { type: 'remove', node: '3' }, confState: { voters: ['1', '2'], learners: [] } }) },
    ]);
    s.setHardState({ term: 1, vote: null, commit: 2 });
    const n = new RawNode({ id: '1', electionTick: 10, heartbeatTick: 1, random: seededRandom(1), preVote: false, appliedIndex: 1 }, s);
    n.campaign();
    expect(n.status()).toMatchObject({ role: 'follower', term: 1 });
    const rd = n.ready();
    for (const e of rd.committedEntries) if (e.type === 'conf-change') n.applyConfChange(e);
    n.advance(rd);
    n.campaign();
    expect(n.status()).toMatchObject({ role: 'candidate', term: 2 });
    expect(n.confState().voters).toEqual(['1', '2']);
  });
});

describe('one change at a time', () => {
  it('a second change before the first is applied is refused with a typed error', () => {
    const net = cluster();
    const first = net.node('1').proposeMembershipChange({ type: 'add-learner', node: '4' });
    let err: unknown;
    try {
      net.node('1').proposeMembershipChange({ type: 'add-learner', node: '5' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfChangePendingError);
    expect(err).toMatchObject({ pendingIndex: first });
    net.stabilize();
    change(net, '1', 'add-learner', '5'); // accepted once the first is applied
    expect(net.node('1').confState().learners).toEqual(['4', '5']);
  });

  it('invalid changes are refused', () => {
    const net = cluster();
    expect(() => net.node('1').proposeMembershipChange({ type: 'promote', node: '2' })).toThrow(InvalidConfChangeError);
    expect(() => net.node('1').proposeMembershipChange({ type: 'remove', node: '9' })).toThrow(InvalidConfChangeError);
    expect(() => net.node('1').proposeMembershipChange({ type: 'add-voter', node: '2' })).toThrow(InvalidConfChangeError);
    change(net, '1', 'add-learner', '4');
    expect(() => net.node('1').proposeMembershipChange({ type: 'add-learner', node: '4' })).toThrow(/already a learner/);
  });
});

describe('removal', () => {
  it('a removed follower stops receiving replication and never campaigns', () => {
    const net = cluster();
    change(net, '1', 'remove', '3');
    expect(net.node('1').confState().voters).toEqual(['1', '2']);
    const term = net.node('3').status().term;
    net.propose('1', 'after');
    expect(net.appliedData('3')).not.toContain('after');
    net.tick(60);
    expect(net.node('3').status().term).toBe(term);
    expect(net.leaders()).toEqual(['1']);
  });

  // "the leader steps down once the Cnew entry is committed" (thesis §4.2.2)
  it('removing the leader: it steps down after the change commits and the others elect a leader', () => {
    const net = cluster();
    change(net, '1', 'remove', '1');
    expect(net.node('1').status().role).toBe('follower');
    net.tick(30);
    const leaders = net.leaders();
    expect(leaders).toHaveLength(1);
    expect(['2', '3']).toContain(leaders[0]);
    net.propose(leaders[0], 'next');
    expect(net.appliedData('2')).toEqual(['a', 'next']);
    expect(net.node('1').status().role).toBe('follower');
    expect(net.violations).toEqual([]);
  });

  it('a change while one voter is down still commits with the remaining majority', () => {
    const net = cluster();
    net.crash('3');
    change(net, '1', 'add-learner', '4');
    change(net, '1', 'promote', '4');
    expect(net.node('1').confState().voters).toEqual(['1', '2', '3', '4']);
    change(net, '1', 'remove', '3');
    expect(net.node('2').confState().voters).toEqual(['1', '2', '4']);
    net.propose('1', 'z');
    expect(net.appliedData('4')).toEqual(['a', 'z']);
  });

  it('a node joining after compaction learns the membership from the snapshot', () => {
    const net = cluster();
    const p = net.peer('1');
    p.storage.createSnapshot(p.appliedIndex, p.node.confState(), bytes('snap'));
    p.storage.compact(p.appliedIndex);
    change(net, '1', 'add-learner', '4');
    net.tick(2);
    expect(net.countDelivered('MsgSnap')).toBe(1);
    expect(net.node('4').confState()).toEqual({ voters: ['1', '2', '3'], learners: ['4'] });
  });

  it('proposals are forwarded by followers when forwardProposals is set', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 1, config: { forwardProposals: true } });
    net.elect('1');
    expect(net.node('2').propose(bytes('via-2'))).toBeNull();
    net.stabilize();
    expect(net.appliedData('3')).toEqual(['via-2']);
    net.node('2').proposeMembershipChange({ type: 'remove', node: '3' });
    net.stabilize();
    expect(net.node('1').confState().voters).toEqual(['1', '2']);
  });
});
