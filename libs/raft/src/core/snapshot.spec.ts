/**
 * Log compaction and InstallSnapshot (Raft paper §7): "the leader must occasionally send
 * snapshots to followers that lag behind ... when the leader has already discarded the next log
 * entry that it needs to send to a follower."
 */
import { describe, expect, it } from 'vitest';
import { SnapshotTemporarilyUnavailableError } from './errors';
import { Network, bytes } from './testing/network';

function compact(net: Network, id: string): number {
  const p = net.peer(id);
  const idx = p.appliedIndex;
  p.storage.createSnapshot(idx, p.node.confState(), bytes(JSON.stringify(net.appliedData(id))));
  p.storage.compact(idx);
  return idx;
}

function laggingFollower(): Network {
  const net = new Network({ voters: ['1', '2', '3'], seed: 4 });
  net.elect('1');
  net.isolate('3');
  for (let i = 0; i < 10; i++) net.propose('1', `e${i}`);
  return net;
}

describe('snapshots', () => {
  it('a follower whose next entries are compacted receives MsgSnap and catches up', () => {
    const net = laggingFollower();
    const snapIndex = compact(net, '1');
    net.heal();
    net.tick(3);
    expect(net.countDelivered('MsgSnap')).toBe(1);
    const st3 = net.node('3').status();
    expect(net.peer('3').storage.snapshot().metadata.index).toBe(snapIndex);
    expect(new TextDecoder().decode(net.peer('3').storage.snapshot().data)).toContain('e9');
    net.propose('1', 'after');
    expect(net.node('3').status().commit).toBe(net.node('1').status().commit);
    expect(st3.firstIndex).toBe(snapIndex + 1);
    expect(net.appliedData('3')).toEqual(['after']); // the rest arrived in the snapshot
    expect(net.violations).toEqual([]);
  });

  it('no snapshot is sent while the needed entries are still in the log', () => {
    const net = laggingFollower();
    net.heal();
    net.tick(3);
    expect(net.countDelivered('MsgSnap')).toBe(0);
    expect(net.appliedData('3')).toHaveLength(10);
  });

  it('the leader tracks snapshot state and re-sends a lost MsgSnap after an election timeout', () => {
    const net = laggingFollower();
    compact(net, '1');
    net.heal();
    net.dropFilter = (m) => m.type === 'MsgSnap';
    net.tick(1);
    expect(net.node('1').status().progress?.['3'].state).toBe('snapshot');
    net.dropFilter = null;
    net.tick(1);
    expect(net.countDelivered('MsgSnap')).toBe(0); // still waiting for the first one
    net.tick(12);
    expect(net.countDelivered('MsgSnap')).toBe(1);
    expect(net.node('1').status().progress?.['3'].state).toBe('replicate');
  });

  it('a failed snapshot report returns the follower to probe', () => {
    const net = laggingFollower();
    compact(net, '1');
    net.heal();
    net.dropFilter = (m) => m.type === 'MsgSnap';
    net.tick(1);
    net.node('1').reportSnapshot('3', false);
    expect(net.node('1').status().progress?.['3'].state).toBe('probe');
  });

  it('a follower whose log already covers the snapshot only advances its commit index', () => {
    const net = new Network({ voters: ['1', '2'], seed: 4 });
    net.elect('1');
    net.propose('1', 'x');
    const p2 = net.peer('2');
    const before = p2.storage.lastIndex();
    const snap = { metadata: { index: before, term: p2.storage.term(before), confState: p2.node.confState() }, data: bytes('s') };
    p2.node.step({ type: 'MsgSnap', from: '1', to: '2', term: net.node('1').status().term, logTerm: 0, index: 0, entries: [], commit: 0, snapshot: snap, reject: false, rejectHint: 0 });
    net.flush('2');
    expect(p2.storage.snapshot().metadata.index).toBe(0); // not installed
    expect(p2.storage.lastIndex()).toBe(before);
  });
});

describe('snapshot temporarily unavailable', () => {
  it('the leader retries later when Storage.snapshot() is not ready yet', () => {
    const net = laggingFollower();
    compact(net, '1');
    const storage = net.peer('1').storage;
    const real = storage.snapshot.bind(storage);
    let refusals = 0;
    storage.snapshot = () => {
      if (refusals < 3) {
        refusals++;
        throw new SnapshotTemporarilyUnavailableError('being written');
      }
      return real();
    };
    net.heal();
    net.tick(1);
    expect(net.countDelivered('MsgSnap')).toBe(0);
    net.tick(5);
    expect(refusals).toBe(3);
    expect(net.countDelivered('MsgSnap')).toBe(1);
    net.propose('1', 'after');
    expect(net.appliedData('3')).toEqual(['after']);
  });
});

describe('stale snapshots', () => {
  it('a follower ignores a snapshot older than its commit index, even when its log was compacted past it', () => {
    const net = laggingFollower();
    net.heal();
    net.tick(2);
    const p3 = net.peer('3');
    compact(net, '3');
    const before = p3.storage.snapshot().metadata.index;
    const old = { metadata: { index: 3, term: net.node('1').status().term, confState: p3.node.confState() }, data: bytes('old') };
    p3.node.step({ type: 'MsgSnap', from: '1', to: '3', term: net.node('1').status().term, logTerm: 0, index: 0, entries: [], commit: 0, snapshot: old, reject: false, rejectHint: 0 });
    net.flush('3');
    expect(p3.storage.snapshot().metadata.index).toBe(before);
    expect(new TextDecoder().decode(p3.storage.snapshot().data)).not.toBe('old');
  });
});

describe('after a snapshot', () => {
  it('a successful snapshot report resumes replication after the snapshot, without sending it twice', () => {
    const net = laggingFollower();
    const snapIndex = compact(net, '1');
    net.heal();
    // 3's answer to the snapshot is lost
    net.rewrite = (m) => (m.type === 'MsgAppResp' && m.from === '3' && !m.reject && m.index >= snapIndex ? null : m);
    net.tick(1);
    expect(net.countDelivered('MsgSnap')).toBe(1);
    net.rewrite = null;
    net.node('1').reportSnapshot('3', true);
    expect(net.node('1').status().progress?.['3']).toMatchObject({ state: 'probe', next: snapIndex + 1 });
    net.tick(2);
    net.propose('1', 'after');
    expect(net.countDelivered('MsgSnap')).toBe(1);
    expect(net.appliedData('3')).toEqual(['after']);
  });
});

describe('inactive followers', () => {
  it('no snapshot is sent to a follower the leader has not heard from since the last check-quorum round', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 4, config: { maxInflightMsgs: 1 } });
    net.elect('1');
    net.crash('3');
    const sent: string[] = [];
    net.rewrite = (m) => {
      if (m.to === '3') sent.push(m.type);
      return m;
    };
    for (let i = 0; i < 5; i++) net.propose('1', `e${i}`);
    compact(net, '1');
    net.tick(12); // a check-quorum round marks 3 inactive
    net.node('1').reportUnreachable('3');
    net.propose('1', 'more');
    net.tick(2);
    expect(sent).not.toContain('MsgSnap');
    // Once 3 is back and answers, it gets the snapshot.
    net.restart('3');
    net.tick(3);
    expect(net.countDelivered('MsgSnap')).toBe(1);
  });
});
