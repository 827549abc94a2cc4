/**
 * Each test-only fault hook disables one safety mechanism. These focused tests run the
 * scenario the mechanism exists for, once without the fault (safe) and once with it, and show
 * the safety check that the faulty core violates. (The simulator proves it catches the same
 * faults under random schedules.)
 */
import { describe, expect, it } from 'vitest';
import { figure8Finish, figure8Prefix } from './testing/figure8';
import { Network, bytes } from './testing/network';

const classic = { preVote: false, checkQuorum: false };

describe('fault (a) commitPriorTermByCounting — State Machine Safety (§5.4.2, Figure 8)', () => {
  it.each([false, true])('with the fault = %s, two nodes apply different entries at one index: %s', (fault) => {
    const { net, k } = figure8Prefix({ commitPriorTermByCounting: fault });
    // With the fault S1 commits and applies (k, term 1) because a majority stores it.
    expect(net.peer('1').applied.some((e) => e.index === k && e.term === 1)).toBe(fault);
    figure8Finish(net);
    // S5 then overwrites index k and applies its own entry there.
    expect(net.peer('5').applied.find((e) => e.index === k)?.term).toBe(2);
    if (fault) {
      expect(net.violations.length).toBeGreaterThan(0);
      expect(net.violations[0]).toMatch(new RegExp(`^index ${k}:`));
    } else {
      expect(net.violations).toEqual([]);
    }
  });
});

describe('fault (b) voteWithoutLogCheck — Leader Completeness (§5.4.1)', () => {
  // "the leader for any given term contains all of the entries committed in previous terms"
  it.each([false, true])('with the fault = %s, a node missing a committed entry can become leader', (fault) => {
    const net = new Network({ voters: ['1', '2', '3'], config: classic, faults: { voteWithoutLogCheck: fault } });
    net.elect('1');
    net.isolate('3');
    const idx = net.propose('1', 'committed');
    expect(net.appliedData('2')).toEqual(['committed']);
    net.heal();
    net.crash('1');
    net.dropFilter = (m) => m.from === '3' && m.type === 'MsgApp'; // observe the election only
    net.elect('3');
    const committedEntry = net.peer('2').applied.find((e) => e.index === idx);
    const leaderLacksCommitted = net.node('3').isLeader() && net.persistedLog('3').every((e) => e.index !== idx || e.term !== committedEntry?.term);
    expect(leaderLacksCommitted).toBe(fault);
  });
});

describe('fault (d) readIndexWithoutHeartbeat — linearizable reads (thesis §6.4)', () => {
  // A read must reflect every write committed before it started. A deposed leader that does
  // not confirm its leadership with a heartbeat round answers from a stale commit index.
  it.each([false, true])('with the fault = %s, a deposed leader serves a stale read', (fault) => {
    const net = new Network({ voters: ['1', '2', '3'], config: classic, faults: { readIndexWithoutHeartbeat: fault } });
    net.elect('1');
    net.propose('1', 'v1');
    net.split(['1'], ['2', '3']);
    net.elect('2');
    const newer = net.propose('2', 'v2'); // committed before the read below starts
    expect(net.node('1').isLeader()).toBe(true); // 1 does not know it was deposed
    net.node('1').readIndex(bytes('read-1'));
    net.stabilize();
    const rs = net.peer('1').readStates;
    if (fault) {
      expect(rs).toHaveLength(1);
      expect(rs[0].index).toBeLessThan(newer); // stale: misses v2
    } else {
      expect(rs).toEqual([]); // no quorum answers the heartbeat round
    }
  });
});

describe('fault (d) readIndexWithoutHeartbeat — a new leader with a lagging commit index', () => {
  // "If the leader has not yet marked an entry from its current term committed, it waits until
  // it has done so" (thesis §6.4, step 1): a new leader may not know everything committed yet.
  it.each([false, true])('with the fault = %s, a new leader serves a read that misses an acknowledged write', (fault) => {
    const net = new Network({ voters: ['1', '2', '3'], config: classic, faults: { readIndexWithoutHeartbeat: fault } });
    net.elect('1');
    const w = net.node('1').propose(bytes('w')) as number;
    net.flush('1');
    net.deliverWhere((m) => m.type === 'MsgApp'); // followers append w
    net.flushAll();
    net.deliverWhere((m) => m.type === 'MsgAppResp'); // 1 commits w and acknowledges it to its client
    net.flush('1');
    expect(net.appliedData('1')).toEqual(['w']);
    net.crash('1'); // before telling anyone that w committed
    expect(net.node('2').status().commit).toBeLessThan(w);
    net.dropFilter = (m) => m.from === '2' && m.type === 'MsgApp'; // 2's no-op is slow to arrive
    net.elect('2');
    net.node('2').readIndex(bytes('r'));
    net.flush('2');
    const early = net.peer('2').readStates.slice();
    net.dropFilter = null;
    net.tick(2);
    const rs = net.peer('2').readStates;
    if (fault) {
      expect(early).toHaveLength(1);
      expect(early[0].index).toBeLessThan(w); // stale: misses the acknowledged write
    } else {
      expect(early).toEqual([]);
      expect(rs).toHaveLength(1);
      expect(rs[0].index).toBeGreaterThanOrEqual(w);
    }
  });
});
