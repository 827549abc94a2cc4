/**
 * Replication flow control: batching (maxSizePerMsg), pipelining in replicate state, the
 * in-flight caps (maxInflightMsgs / maxInflightBytes), probe state, and the fast conflict
 * back-off with (rejectHint, logTerm) hints.
 */
import { describe, expect, it } from 'vitest';
import { entriesWithTerms } from './testing/helpers';
import { Network } from './testing/network';
import type { Message } from './types';

const payload = (m: Message) => m.entries.reduce((n, e) => n + e.data.byteLength, 0);
const big = (n: number) => 'x'.repeat(n);

describe('batching and pipelining', () => {
  it('MsgApp payload never exceeds maxSizePerMsg unless it carries a single entry', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 1, config: { maxSizePerMsg: 250 } });
    net.elect('1');
    net.isolate('3');
    for (let i = 0; i < 20; i++) net.propose('1', big(100));
    net.heal();
    net.tick(3);
    const apps = net.delivered.filter((m) => m.type === 'MsgApp' && m.to === '3' && m.entries.length > 0);
    expect(apps.length).toBeGreaterThan(5);
    for (const m of apps) expect(payload(m) <= 250 || m.entries.length === 1).toBe(true);
    expect(Math.max(...apps.map((m) => m.entries.length))).toBe(2); // batches really are filled up to the budget
    expect(net.appliedData('3')).toHaveLength(20);
  });

  it('in replicate state the leader pipelines several MsgApps without waiting for acks', () => {
    const net = new Network({ voters: ['1', '2'], seed: 1 });
    net.elect('1');
    expect(net.node('1').status().progress?.['2'].state).toBe('replicate');
    for (let i = 0; i < 3; i++) {
      net.node('1').propose(new TextEncoder().encode(`p${i}`));
      net.flush('1'); // one Ready per proposal; no ack is delivered in between
    }
    expect(net.queue.filter((m) => m.type === 'MsgApp' && m.to === '2').map((m) => m.entries.length)).toEqual([1, 1, 1]);
  });

  it('proposals made between two Readys travel in one MsgApp per follower', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 1 });
    net.elect('1');
    for (let i = 0; i < 5; i++) net.node('1').propose(new TextEncoder().encode(`p${i}`));
    net.flush('1');
    const apps = net.queue.filter((m) => m.type === 'MsgApp');
    expect(apps.map((m) => [m.to, m.entries.length])).toEqual([
      ['2', 5],
      ['3', 5],
    ]);
  });

  it('in probe state the leader sends one MsgApp at a time', () => {
    const net = new Network({ voters: ['1', '2'], seed: 1 });
    net.elect('1');
    net.node('1').reportUnreachable('2');
    expect(net.node('1').status().progress?.['2'].state).toBe('probe');
    for (let i = 0; i < 3; i++) net.node('1').propose(new TextEncoder().encode(`p${i}`));
    net.flush('1');
    expect(net.queue.filter((m) => m.type === 'MsgApp' && m.to === '2')).toHaveLength(1);
  });
});

describe('in-flight caps', () => {
  it('at most maxInflightMsgs un-acknowledged MsgApps are outstanding to a follower', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 1, config: { maxInflightMsgs: 4 } });
    net.elect('1');
    net.dropFilter = (m) => m.type === 'MsgAppResp' && m.from === '2'; // 2's acks are lost
    const start = net.delivered.length;
    for (let i = 0; i < 30; i++) net.propose('1', `e${i}`);
    const sent = net.delivered.slice(start).filter((m) => m.type === 'MsgApp' && m.to === '2' && m.entries.length > 0);
    expect(sent).toHaveLength(4);
    expect(net.node('1').status().progress?.['2']).toMatchObject({ state: 'replicate', inflightMsgs: 4 });
    expect(net.appliedData('1')).toHaveLength(30); // node 3 keeps the quorum going
    net.dropFilter = null;
    net.tick(2);
    expect(net.appliedData('2')).toHaveLength(30); // the window reopens and 2 catches up
  });

  it('un-acknowledged payload bytes never exceed maxInflightBytes', () => {
    const cap = 1000;
    const net = new Network({ voters: ['1', '2', '3'], seed: 1, config: { maxInflightBytes: cap, maxSizePerMsg: 300 } });
    net.elect('1');
    net.dropFilter = (m) => m.type === 'MsgAppResp' && m.from === '2';
    const start = net.delivered.length;
    for (let i = 0; i < 30; i++) {
      net.propose('1', big(90));
      expect(net.node('1').status().progress?.['2'].inflightBytes).toBeLessThanOrEqual(cap);
    }
    const sent = net.delivered.slice(start).filter((m) => m.type === 'MsgApp' && m.to === '2');
    const total = sent.reduce((n, m) => n + payload(m), 0);
    expect(total).toBeLessThanOrEqual(cap);
    expect(total).toBeGreaterThan(cap - 90); // the window is used, not just capped
    net.dropFilter = null;
    net.tick(3);
    expect(net.appliedData('2')).toHaveLength(30);
  });

  it('maxUncommittedEntriesSize drops proposals while the leader cannot commit', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 1, config: { maxUncommittedEntriesSize: 250 } });
    net.elect('1');
    net.isolate('1');
    net.node('1').propose(new TextEncoder().encode(big(200)));
    expect(() => net.node('1').propose(new TextEncoder().encode(big(100)))).toThrow(/uncommitted-size-limit/);
  });
});

describe('conflict back-off', () => {
  // Figure 7 (f): the follower has 11 entries, 8 of them (indexes 4–11) conflict with the
  // leader. Decrementing nextIndex one by one would need ~8 rejections; the (rejectHint, logTerm)
  // hint lets the leader skip a whole term per round trip.
  it('the leader converges on a divergent follower log in few round trips', () => {
    const net = new Network({
      voters: ['L', 'F', 'V'],
      config: { preVote: false, checkQuorum: false },
      setup: (id, storage) => {
        const terms = id === 'L' ? [1, 1, 1, 4, 4, 5, 5, 6, 6, 6] : id === 'F' ? [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3] : [];
        storage.append(entriesWithTerms(terms));
        storage.setHardState({ term: 8, vote: null, commit: 0 });
      },
    });
    net.elect('L');
    const rejections = net.delivered.filter((m) => m.type === 'MsgAppResp' && m.from === 'F' && m.reject);
    expect(rejections.length).toBeGreaterThan(0);
    expect(rejections.length).toBeLessThanOrEqual(3);
    // Each hint points at an index whose term is ≤ the probed term.
    for (const r of rejections) expect(r.rejectHint).toBeLessThanOrEqual(r.index);
    expect(net.persistedLog('F').map((e) => e.term)).toEqual(net.persistedLog('L').map((e) => e.term));
  });
});
