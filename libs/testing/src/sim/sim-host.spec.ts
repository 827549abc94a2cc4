import type { Message } from '@flotilla/raft';
import { describe, expect, it } from 'vitest';
import { SafetyInvariants } from './invariants';
import { decodePut, encodePut } from './kv-state-machine';
import { rawNodeFactory } from './raw-node-factory';
import { SeededRandom } from './seeded-random';
import { SimHost, type HostEnvironment, type HostFaults } from './sim-host';

/** A host with a hand-cranked disk: fsyncs complete only when the test says so. */
function rig(voters: string[], hostFaults: HostFaults = {}) {
  const sent: Message[] = [];
  const disk: number[] = [];
  const acked: string[] = [];
  const env: HostEnvironment = {
    random: new SeededRandom(1),
    invariants: new SafetyInvariants(() => []),
    hostFaults,
    coreFaults: {},
    electionTick: 5,
    heartbeatTick: 1,
    maxSizePerMsg: 1024,
    forwardProposals: false,
    snapshotEvery: 1000,
    snapshotTail: 4,
    fsyncLatency: () => 1,
    send: (m) => sent.push(m),
    scheduleDiskCompletion: (_node, generation) => disk.push(generation),
    onWriteApplied: (_node, cmd) => acked.push(cmd.value),
    onReadServed: () => undefined,
    onBecameLeader: () => undefined,
    onRequestRefused: () => undefined,
  };
  const host = new SimHost('n1', voters, rawNodeFactory, env);
  const flush = (): void => {
    while (disk.length > 0) host.onDiskCompletion(disk.shift()!);
  };
  return { host, sent, disk, acked, flush };
}

const put = (request: number) => encodePut({ client: 'c1', request, key: 'x', value: `v${request}` });

function electSingleNode(r: ReturnType<typeof rig>): void {
  r.host.start();
  for (let i = 0; i < 20 && r.host.role !== 'leader'; i++) {
    r.host.tick();
    r.flush();
  }
  expect(r.host.role).toBe('leader');
}

describe('SimHost (durability model)', () => {
  it('persists, then applies and acknowledges, only when the simulated fsync completes', () => {
    const r = rig(['n1']);
    electSingleNode(r);
    const before = r.host.storage.lastIndex();
    expect(r.host.proposePut(put(1), 'c1#1')).toBeNull();
    expect(r.host.isWritingToDisk).toBe(true);
    expect(r.host.storage.lastIndex()).toBe(before); // not durable yet
    expect(r.acked).toEqual([]);
    r.flush();
    expect(r.host.storage.lastIndex()).toBe(before + 1);
    expect(r.acked).toEqual(['v1']);
  });

  it('a crash loses the write being persisted; restart rebuilds from durable storage', () => {
    const r = rig(['n1']);
    electSingleNode(r);
    r.host.proposePut(put(1), 'c1#1');
    r.flush();
    const durable = r.host.storage.lastIndex();
    r.host.proposePut(put(2), 'c1#2');
    expect(r.host.isWritingToDisk).toBe(true);
    r.host.crash();
    expect(r.host.isUp).toBe(false);
    r.flush(); // the completion of the lost write arrives late and must be ignored
    expect(r.host.storage.lastIndex()).toBe(durable);
    r.host.start();
    for (let i = 0; i < 20 && r.host.role !== 'leader'; i++) {
      r.host.tick();
      r.flush();
    }
    // Only the durable write is in the log (and re-applied after the restart); v2 is gone.
    const values = r.host.storage.entries(1, r.host.storage.lastIndex() + 1).map((e) => decodePut(e.data)?.value);
    expect(values).toContain('v1');
    expect(values).not.toContain('v2');
    expect(r.acked).toEqual(['v1', 'v1']);
  });

  it('a paused node holds client requests and handles them when it resumes', () => {
    const r = rig(['n1']);
    electSingleNode(r);
    r.host.pause();
    expect(r.host.proposePut(put(1), 'c1#1')).toBeNull(); // accepted into the socket, not yet handled
    expect(r.disk).toEqual([]);
    r.host.resume();
    r.flush();
    expect(r.acked).toEqual(['v1']);
  });

  it('a torn write keeps only a prefix of the entries, and never the hard state', () => {
    const r = rig(['n1']);
    electSingleNode(r);
    const before = r.host.storage.lastIndex();
    r.host.proposePut(put(1), 'c1#1'); // Ready A (entry 1) is being written...
    r.host.proposePut(put(2), 'c1#2'); // ...so these two wait for the next Ready
    r.host.proposePut(put(3), 'c1#3');
    r.host.onDiskCompletion(r.disk.shift()!); // A is durable; Ready B (entries 2, 3) starts
    expect(r.host.entriesBeingWritten).toBe(2);
    const hardState = r.host.storage.initialState().hardState;
    r.host.crash(1);
    expect(r.host.storage.lastIndex()).toBe(before + 2);
    expect(decodePut(r.host.storage.entries(before + 2, before + 3)[0].data)?.value).toBe('v2');
    expect(r.host.storage.initialState().hardState).toEqual(hardState);
  });

  it('sends a Ready\'s messages only after its fsync — unless bug (c) is injected', () => {
    // Pre-vote needs no disk write; winning it makes n1 a candidate, whose vote for itself must
    // be durable before its MsgVote requests leave.
    const campaign = (r: ReturnType<typeof rig>): void => {
      r.host.start();
      for (let i = 0; i < 40 && !r.sent.some((m) => m.type === 'MsgPreVote'); i++) r.host.tick();
      const preVote = r.sent.find((m) => m.type === 'MsgPreVote');
      expect(preVote).toBeDefined();
      r.sent.length = 0;
      r.host.receive({ type: 'MsgPreVoteResp', from: 'n2', to: 'n1', term: preVote!.term, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 });
      expect(r.disk.length).toBe(1); // the new term and the self-vote are being written
    };
    const correct = rig(['n1', 'n2', 'n3']);
    campaign(correct);
    expect(correct.sent.filter((m) => m.type === 'MsgVote')).toEqual([]);
    correct.flush();
    expect(correct.sent.filter((m) => m.type === 'MsgVote').length).toBe(2);

    const buggy = rig(['n1', 'n2', 'n3'], { ackBeforePersist: true });
    campaign(buggy);
    expect(buggy.sent.filter((m) => m.type === 'MsgVote').length).toBe(2); // left before the vote was durable
  });
});
