/**
 * Paper tests for log replication and safety (Raft paper §5.3, §5.4.2, §5.4.3, Figures 7 and 8).
 */
import { describe, expect, it } from 'vitest';
import { drain, entriesWithTerms, msg, rawNode, storageWith } from './testing/helpers';
import { figure8Finish, figure8Prefix } from './testing/figure8';
import { Network, text } from './testing/network';

const classic = { preVote: false, checkQuorum: false };
const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

describe('§5.3 log replication', () => {
  // "A log entry is committed once the leader that created the entry has replicated it on a
  // majority of the servers" (§5.3)
  it.each([
    { size: 3, down: 1, commits: true },
    { size: 5, down: 2, commits: true },
    { size: 5, down: 3, commits: false },
  ])('in a $size-node cluster with $down nodes down the entry commits: $commits', ({ size, down, commits }) => {
    const net = new Network({ voters: ids(size), config: classic });
    net.elect('1');
    for (const id of ids(size).slice(size - down)) net.crash(id);
    const idx = net.propose('1', 'x');
    expect(net.node('1').status().commit >= idx).toBe(commits);
    expect(net.appliedData('1')).toEqual(commits ? ['x'] : []);
  });

  // "The leader keeps track of the highest index it knows to be committed, and it includes that
  // index in future AppendEntries RPCs (including heartbeats) so that the other servers
  // eventually find out. Once a follower learns that a log entry is committed, it applies the
  // entry to its local state machine (in log order)." (§5.3)
  it('followers learn the commit index and apply in log order', () => {
    const net = new Network({ voters: ids(3), config: classic });
    net.elect('1');
    for (const d of ['a', 'b', 'c']) net.propose('1', d);
    for (const id of ids(3)) expect(net.appliedData(id)).toEqual(['a', 'b', 'c']);
  });

  // "When sending an AppendEntries RPC, the leader includes the index and term of the entry in
  // its log that immediately precedes the new entries. If the follower does not find an entry
  // in its log with the same index and term, then it refuses the new entries." (§5.3)
  it.each([
    { prevIndex: 2, prevTerm: 2, accepted: true },
    { prevIndex: 2, prevTerm: 3, accepted: false }, // term mismatch
    { prevIndex: 3, prevTerm: 2, accepted: false }, // beyond the log
    { prevIndex: 0, prevTerm: 0, accepted: true },
  ])('a follower with log [1,2] given prev ($prevIndex, $prevTerm) accepts: $accepted', ({ prevIndex, prevTerm, accepted }) => {
    const s = storageWith(['1', '2'], [1, 2]);
    const n = rawNode('2', s);
    n.step(msg('MsgApp', '1', '2', 2, { index: prevIndex, logTerm: prevTerm, entries: entriesWithTerms([2], prevIndex + 1) }));
    const resp = drain(n, s).find((m) => m.type === 'MsgAppResp');
    expect(resp?.reject).toBe(!accepted);
    if (accepted) expect(resp?.index).toBe(prevIndex + 1);
  });

  // "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last new
  // entry)" (Figure 2, AppendEntries receiver implementation, rule 5): entries after the ones
  // the leader just vouched for may be stale and must not be committed.
  it('a follower commits only up to the last entry the leader vouched for', () => {
    const s = storageWith(['1', '2'], [1, 1, 2, 2]); // indexes 3–4 are stale term-2 entries
    const n = rawNode('2', s);
    n.step(msg('MsgApp', '1', '2', 3, { index: 2, logTerm: 1, entries: [], commit: 4 }));
    drain(n, s);
    expect(n.status().commit).toBe(2);
    n.step(msg('MsgApp', '1', '2', 3, { index: 2, logTerm: 1, entries: entriesWithTerms([3], 3), commit: 4 }));
    drain(n, s);
    expect(n.status().commit).toBe(3); // index 4 (term 2) was truncated, 3 is the last new entry
    expect(s.lastIndex()).toBe(3);
  });

  // "If an existing entry conflicts with a new one (same index but different terms), delete the
  // existing entry and all that follow it; append any new entries not already in the log." (Fig. 2)
  it('a follower deletes a conflicting suffix and keeps matching entries', () => {
    const s = storageWith(['1', '2'], [1, 1, 1, 1]);
    const n = rawNode('2', s);
    n.step(msg('MsgApp', '1', '2', 3, { index: 1, logTerm: 1, entries: [...entriesWithTerms([1], 2), ...entriesWithTerms([3], 3)] }));
    drain(n, s);
    expect(s.entries(1, s.lastIndex() + 1).map((e) => e.term)).toEqual([1, 1, 3]);
  });

  // "If the follower does not find an entry ... it refuses" + "the leader decrements nextIndex
  // and retries" — Figure 7: "When the leader at the top comes to power, it is possible that
  // any of scenarios (a–f) could occur in follower logs. ... (a–b) missing entries, (c–d)
  // extra uncommitted entries, (e–f) both." (§5.3, Figure 7)
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const followers: Record<string, number[]> = {
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };
  it.each(Object.keys(followers))('Figure 7 (%s): the new leader makes the follower log identical to its own', (name) => {
    const net = new Network({
      voters: ['L', 'F', 'V'],
      config: classic,
      setup: (id, storage) => {
        const terms = id === 'L' ? leaderLog : id === 'F' ? followers[name] : [];
        storage.append(entriesWithTerms(terms));
        storage.setHardState({ term: 8, vote: null, commit: 0 });
      },
    });
    net.elect('L'); // V (empty log) votes for L, so even (d) cannot block the election
    expect(net.leaders()).toEqual(['L']);
    net.propose('L', 'new');
    const terms = (id: string) => net.persistedLog(id).map((e) => e.term);
    expect(terms('F')).toEqual(terms('L'));
    expect(terms('L')).toEqual([...leaderLog, 9, 9]);
    expect(net.violations).toEqual([]);
  });
});

describe('§5.4.2 committing entries from previous terms (Figure 8)', () => {
  // "Raft never commits log entries from previous terms by counting replicas. Only log entries
  // from the leader's current term are committed by counting replicas; once an entry from the
  // current term has been committed in this way, then all prior entries are committed
  // indirectly because of the Log Matching Property." (§5.4.2)
  it('a prior-term entry stored on a majority is not committed, so the Figure 8 overwrite is safe', () => {
    const { net, k } = figure8Prefix({});
    // (c) S1 leads term 3 and has copied (k, term 1) to S2, S3, S4 — a majority — ...
    for (const id of ['1', '2', '3', '4']) expect(net.persistedLog(id)[k - 1]).toMatchObject({ index: k, term: 1 });
    // ... yet it has not committed it, because its own term-3 entry is not on a majority.
    expect(net.node('1').status().commit).toBe(k - 1);
    // (d) S1 crashes; S5 (last entry of term 2) wins with S2–S4 and overwrites index k.
    figure8Finish(net);
    expect(net.leaders()).toEqual(['5']);
    expect(net.persistedLog('3')[k - 1].term).toBe(2);
    expect(net.appliedData('3')).toContain('after');
    expect(net.violations).toEqual([]);
  });
});

describe('heartbeats never commit unverified entries', () => {
  // A heartbeat carries min(follower match, leader commit): a follower whose log still holds
  // stale entries at indexes the leader has committed must not commit them.
  it('a follower with stale entries at committed indexes does not commit them from heartbeats', () => {
    const net = new Network({
      voters: ['L', 'F', 'V'],
      config: classic,
      setup: (id, storage) => {
        storage.append(entriesWithTerms(id === 'F' ? [1, 1, 2, 2] : [1, 1, 3, 3]));
        storage.setHardState({ term: 3, vote: null, commit: 0 });
      },
    });
    net.dropFilter = (m) => m.type === 'MsgApp' && m.to === 'F'; // F's log is not repaired yet
    net.elect('L');
    net.tick(5);
    expect(net.node('L').status().commit).toBe(5);
    expect(net.node('F').status().commit).toBe(0);
    expect(net.violations).toEqual([]);
    net.dropFilter = null;
    net.tick(2);
    expect(net.persistedLog('F').map((e) => e.term)).toEqual([1, 1, 3, 3, 4]);
    expect(net.violations).toEqual([]);
  });
});

describe('§5.4 safety with a partitioned old leader', () => {
  // A leader cut off from the majority keeps accepting proposals, but "a log entry is committed
  // once the leader that created the entry has replicated it on a majority" (§5.3): none of
  // them commit, and the new leader's entries replace them (§5.3, Figure 7 (c)–(f)).
  it('a stale leader accepts proposals that never commit and are later overwritten', () => {
    const net = new Network({ voters: ids(5), config: classic });
    net.elect('1');
    net.propose('1', 'before');
    net.split(['1', '2'], ['3', '4', '5']);
    for (const d of ['lost1', 'lost2', 'lost3']) net.node('1').propose(new TextEncoder().encode(d));
    net.stabilize();
    expect(net.node('1').isLeader()).toBe(true);
    const staleCommit = net.node('1').status().commit;
    net.elect('3');
    net.propose('3', 'won');
    expect(net.node('1').status().commit).toBe(staleCommit);
    net.heal();
    net.tick(3);
    for (const id of ids(5)) {
      expect(net.appliedData(id)).toEqual(['before', 'won']);
      expect(net.persistedLog(id).some((e) => text(e.data).startsWith('lost'))).toBe(false);
    }
    expect(net.violations).toEqual([]);
  });
});
