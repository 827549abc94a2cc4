/**
 * Paper tests for leader election (Raft paper, "In Search of an Understandable Consensus
 * Algorithm (Extended Version)", §5.1, §5.2, §5.4.1) and the thesis extensions pre-vote
 * (§9.6) and check-quorum (§6.2). Classic Raft (no pre-vote, no check-quorum) unless a test
 * says otherwise.
 */
import { describe, expect, it } from 'vitest';
import { msg, rawNode, drain, storageWith } from './testing/helpers';
import { Network, seededRandom } from './testing/network';
import { MemoryStorage } from './memory-storage';
import { RawNode } from './raw-node';

const classic = { preVote: false, checkQuorum: false };
const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

describe('§5.2 leader election', () => {
  // "A candidate wins an election if it receives votes from a majority of the servers in the
  // full cluster for the same term." (§5.2)
  it.each([
    { size: 1, up: 1, wins: true },
    { size: 3, up: 3, wins: true },
    { size: 3, up: 2, wins: true },
    { size: 3, up: 1, wins: false },
    { size: 5, up: 3, wins: true },
    { size: 5, up: 2, wins: false },
  ])('a candidate in a $size-node cluster with $up live nodes wins: $wins', ({ size, up, wins }) => {
    const net = new Network({ voters: ids(size), config: classic });
    for (const id of ids(size).slice(up)) net.crash(id);
    net.elect('1');
    const st = net.node('1').status();
    expect(st.role).toBe(wins ? 'leader' : 'candidate');
    expect(st.term).toBe(1);
  });

  // "Each server will vote for at most one candidate in a given term, on a
  // first-come-first-served basis." (§5.2)
  it('a follower votes for at most one candidate per term, first come first served', () => {
    const s = storageWith(['1', '2', '3'], []);
    const n = rawNode('1', s);
    n.step(msg('MsgVote', '2', '1', 1, { index: 0, logTerm: 0 }));
    n.step(msg('MsgVote', '3', '1', 1, { index: 0, logTerm: 0 }));
    n.step(msg('MsgVote', '2', '1', 1, { index: 0, logTerm: 0 })); // retransmission: granted again
    const resps = drain(n, s).filter((m) => m.type === 'MsgVoteResp');
    expect(resps.map((m) => [m.to, m.reject])).toEqual([
      ['2', false],
      ['3', true],
      ['2', false],
    ]);
    // The vote is persisted with the hard state handed out in the same Ready as the grant.
    expect(s.initialState().hardState).toMatchObject({ term: 1, vote: '2' });
  });

  // A voter answers once per term; a duplicated or contradictory answer must not be counted twice.
  it('a candidate counts the first answer of each voter only', () => {
    const s = storageWith(['1', '2', '3'], []);
    const n = rawNode('1', s);
    n.campaign();
    drain(n, s);
    n.step(msg('MsgVoteResp', '2', '1', 1, { reject: true }));
    n.step(msg('MsgVoteResp', '2', '1', 1));
    expect(n.status().role).toBe('candidate');
    n.step(msg('MsgVoteResp', '3', '1', 1));
    expect(n.status().role).toBe('leader');
  });

  it('a pre-vote for a term the voter already voted in is rejected; for a later term it is granted', () => {
    const s = storageWith(['1', '2', '3'], []);
    const n = rawNode('1', s, { preVote: true });
    n.step(msg('MsgVote', '3', '1', 2, { index: 0, logTerm: 0 }));
    drain(n, s);
    n.step(msg('MsgPreVote', '2', '1', 2, { index: 0, logTerm: 0 }));
    n.step(msg('MsgPreVote', '2', '1', 3, { index: 0, logTerm: 0 }));
    const resps = drain(n, s).filter((m) => m.type === 'MsgPreVoteResp');
    expect(resps.map((m) => m.reject)).toEqual([true, false]);
    expect(n.status()).toMatchObject({ term: 2, vote: '3' }); // pre-votes change nothing
  });

  it('campaign() on a learner or a non-member does nothing', () => {
    const learner = rawNode('4', new MemoryStorage({ confState: { voters: ['1', '2', '3'], learners: ['4'] } }));
    learner.campaign();
    expect(learner.status()).toMatchObject({ role: 'follower', term: 0 });
    const stranger = rawNode('9', new MemoryStorage({ confState: { voters: ['1', '2', '3'], learners: [] } }));
    stranger.campaign();
    expect(stranger.status()).toMatchObject({ role: 'follower', term: 0 });
  });

  // "If a candidate or leader discovers that its term is out of date, it immediately reverts to
  // follower state." (§5.1)
  it.each(['candidate', 'leader'] as const)('a %s that sees a higher term becomes a follower of that term', (role) => {
    const net = new Network({ voters: ids(3), config: classic });
    if (role === 'leader') net.elect('1');
    else {
      net.crash('2');
      net.crash('3');
      net.elect('1');
    }
    expect(net.node('1').status().role).toBe(role);
    const term = net.node('1').status().term;
    net.node('1').step(msg('MsgHeartbeat', '2', '1', term + 5));
    expect(net.node('1').status()).toMatchObject({ role: 'follower', term: term + 5, leader: '2' });
  });

  // "Raft uses randomized election timeouts to ensure that split votes are rare ... election
  // timeouts are chosen randomly from a fixed interval (e.g., 150–300ms)." (§5.2)
  it('a follower campaigns after a randomized timeout in [electionTick, 2·electionTick)', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 30; seed++) {
      const s = storageWith(['1', '2', '3'], []);
      const n = new RawNode({ id: '1', electionTick: 10, heartbeatTick: 1, random: seededRandom(seed), preVote: false }, s);
      let ticks = 0;
      while (n.status().role === 'follower' && ticks < 100) {
        n.tick();
        ticks++;
      }
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(ticks).toBeLessThan(20);
      seen.add(ticks);
    }
    // The timeout really is random: 30 seeds do not all pick the same value.
    expect(seen.size).toBeGreaterThan(3);
  });

  // "When a candidate wins an election, it becomes leader. It then sends heartbeat messages to
  // all of the other servers to establish its authority and prevent new elections." (§5.2)
  it('a leader keeps followers from timing out by heartbeats', () => {
    const net = new Network({ voters: ids(3), seed: 3 });
    net.elect('1');
    const term = net.node('1').status().term;
    net.tick(100);
    expect(net.leaders()).toEqual(['1']);
    expect(net.node('2').status().term).toBe(term);
  });

  it('a learner never campaigns', () => {
    const net = new Network({ voters: ['1'], learners: ['2'], seed: 5 });
    net.crash('1');
    net.tick(100, ['2']);
    expect(net.node('2').status().role).toBe('follower');
    expect(net.node('2').status().term).toBe(0);
  });
});

describe('§5.4.1 election restriction', () => {
  // "The voter denies its vote if its own log is more up-to-date than that of the candidate.
  // If the logs have last entries with different terms, then the log with the later term is
  // more up-to-date. If the logs end with the same term, then whichever log is longer is more
  // up-to-date." (§5.4.1)
  const voterLog = [1, 1, 2]; // last entry (3, term 2)
  it.each([
    { lastIndex: 2, lastTerm: 2, granted: false }, // same term, shorter
    { lastIndex: 3, lastTerm: 2, granted: true }, // identical
    { lastIndex: 4, lastTerm: 2, granted: true }, // same term, longer
    { lastIndex: 3, lastTerm: 1, granted: false }, // lower last term
    { lastIndex: 9, lastTerm: 1, granted: false }, // longer but lower last term
    { lastIndex: 1, lastTerm: 3, granted: true }, // shorter but higher last term
  ])('candidate with last entry ($lastIndex, term $lastTerm) is granted: $granted', ({ lastIndex, lastTerm, granted }) => {
    const s = storageWith(['1', '2'], voterLog);
    const n = rawNode('1', s);
    n.step(msg('MsgVote', '2', '1', 5, { index: lastIndex, logTerm: lastTerm }));
    const resp = drain(n, s).find((m) => m.type === 'MsgVoteResp');
    expect(resp?.reject).toBe(!granted);
    expect(n.status().vote).toBe(granted ? '2' : null);
  });

  it('a candidate with a stale log cannot win, the up-to-date one can', () => {
    const net = new Network({ voters: ids(3), config: classic });
    net.elect('1');
    net.isolate('3');
    net.propose('1', 'a');
    net.heal();
    net.crash('1');
    net.elect('3'); // 3 lacks "a": 2 refuses, so 3 cannot win
    expect(net.node('3').status().role).not.toBe('leader');
    net.elect('2');
    expect(net.node('2').status().role).toBe('leader');
  });
});

describe('pre-vote (thesis §9.6)', () => {
  // "A server first asks whether its log is up-to-date enough to get votes; only if a majority
  // answer yes does it increment its term and run a normal election." This stops a node that
  // was partitioned from disrupting the cluster when it rejoins. (thesis §9.6)
  it('a partitioned node does not bump its term and cannot disrupt the leader when it rejoins', () => {
    const net = new Network({ voters: ids(3), seed: 11, config: { preVote: true, checkQuorum: false } });
    net.elect('1');
    const term = net.node('1').status().term;
    net.isolate('3');
    net.tick(60);
    expect(net.node('3').status().term).toBe(term);
    expect(net.node('3').status().role).toBe('pre-candidate');
    net.heal();
    net.tick(5);
    expect(net.leaders()).toEqual(['1']);
    expect(net.node('1').status().term).toBe(term);
  });

  it('without pre-vote the same rejoin forces a new election (the problem pre-vote solves)', () => {
    const net = new Network({ voters: ids(3), seed: 11, config: classic });
    net.elect('1');
    const term = net.node('1').status().term;
    net.isolate('3');
    net.tick(60);
    expect(net.node('3').status().term).toBeGreaterThan(term);
    net.heal();
    net.tick(25);
    // The rejoining node's next vote request carries its inflated term: the leader steps down.
    expect(net.node('1').status().term).toBeGreaterThan(term);
  });
});

describe('check-quorum (thesis §6.2)', () => {
  // "a leader steps down if an election timeout elapses without a successful round of
  // heartbeats to a majority of its cluster" (thesis §6.2)
  it('an isolated leader steps down within two election timeouts; a connected one does not', () => {
    const net = new Network({ voters: ids(3), seed: 2, config: { checkQuorum: true } });
    net.elect('1');
    net.tick(30);
    expect(net.node('1').status().role).toBe('leader');
    net.isolate('1');
    net.tick(20, ['1']);
    expect(net.node('1').status().role).toBe('follower');
  });

  it('followers in a leader lease ignore a disruptive vote request', () => {
    const s = new MemoryStorage({ confState: { voters: ['1', '2', '3'], learners: [] } });
    const n = rawNode('1', s, { checkQuorum: true });
    n.step(msg('MsgHeartbeat', '2', '1', 1));
    drain(n, s);
    n.step(msg('MsgVote', '3', '1', 2, { index: 10, logTerm: 1 }));
    expect(drain(n, s)).toEqual([]);
    expect(n.status()).toMatchObject({ term: 1, leader: '2' });
  });
});
