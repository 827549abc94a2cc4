/**
 * Pipelined hosts: `advanceAsync(rd)` hands a Ready over without waiting for its write, and
 * `onPersisted(rd)` reports the write durable later, in order (tikv's async Ready, etcd's async
 * storage writes). The core must never hand the same entries out twice (unless replaced), never
 * count a leader's in-progress entries toward commit, and stay safe when writes in flight are
 * lost in a crash.
 */
import { describe, expect, it } from 'vitest';
import { ReadyProtocolError } from './errors';
import { MemoryStorage } from './memory-storage';
import { RawNode } from './raw-node';
import { drain, msg, rawNode, storageWith } from './testing/helpers';
import { bytes, seededRandom, text } from './testing/network';
import type { Entry, Message, NodeId, Ready } from './types';

describe('advanceAsync / onPersisted protocol', () => {
  it('hands entries out once, commits the leader’s own entries only after onPersisted, and enforces order', () => {
    const s = storageWith(['1'], []);
    const n = rawNode('1', s);
    n.campaign();
    drain(n, s);
    const base = n.status().commit;
    n.propose(bytes('a'));
    const rd1 = n.ready();
    n.advanceAsync(rd1);
    n.propose(bytes('b'));
    const rd2 = n.ready();
    // Entry a is being written: not handed out again; only b is new.
    expect(rd1.entries.map((e) => text(e.data))).toEqual(['a']);
    expect(rd2.entries.map((e) => text(e.data))).toEqual(['b']);
    n.advanceAsync(rd2);
    expect(n.status().commit).toBe(base);
    expect(() => n.onPersisted(rd2)).toThrow(ReadyProtocolError);
    expect(n.writesInProgress).toBe(2);
    s.append(rd1.entries);
    n.onPersisted(rd1);
    expect(n.status().commit).toBe(base + 1);
    // A synchronous advance is refused while writes are in progress.
    const rd3 = n.ready();
    expect(rd3.committedEntries.map((e) => text(e.data))).toEqual(['a']);
    expect(() => n.advance(rd3)).toThrow(ReadyProtocolError);
    n.advanceAsync(rd3);
    s.append(rd2.entries);
    n.onPersisted(rd2);
    n.onPersisted(rd3);
    expect(n.writesInProgress).toBe(0);
    expect(n.status().commit).toBe(base + 2);
  });

  it('entries in progress that a new leader replaces are handed out again, and the stale write does not mark the replacement stable', () => {
    const s = storageWith(['1', '2', '3'], [1]);
    const n = rawNode('2', s);
    drain(n, s);
    n.step(msg('MsgApp', '1', '2', 1, { index: 1, logTerm: 1, entries: [{ index: 2, term: 1, type: 'normal', data: bytes('old2') }, { index: 3, term: 1, type: 'normal', data: bytes('old3') }], commit: 1 }));
    const rd1 = n.ready();
    expect(rd1.entries.map((e) => e.index)).toEqual([2, 3]);
    n.advanceAsync(rd1);
    // A new leader (term 2) overwrites index 3 while the write of 2..3 is in flight.
    n.step(msg('MsgApp', '3', '2', 2, { index: 2, logTerm: 1, entries: [{ index: 3, term: 2, type: 'normal', data: bytes('new3') }], commit: 1 }));
    const rd2 = n.ready();
    expect(rd2.entries.map((e) => [e.index, text(e.data)])).toEqual([[3, 'new3']]);
    // The acknowledgement of index 3 waits for the write that carries the replacement.
    expect(rd2.messages.find((m) => m.type === 'MsgAppResp')?.index).toBe(3);
    n.advanceAsync(rd2);
    s.append(rd1.entries);
    n.onPersisted(rd1); // (3, term 1) is stale: index 3 stays unstable
    expect(n.status().lastIndex).toBe(3);
    s.append(rd2.entries);
    n.onPersisted(rd2);
    expect(s.term(3)).toBe(2);
    // Nothing is handed out twice.
    if (n.hasReady()) {
      const rd3 = n.ready();
      expect(rd3.entries).toEqual([]);
      n.advance(rd3);
    }
    // And a later entry is handed out on its own.
    n.step(msg('MsgApp', '3', '2', 2, { index: 3, logTerm: 2, entries: [{ index: 4, term: 2, type: 'normal', data: bytes('4') }], commit: 3 }));
    const rd4 = n.ready();
    expect(rd4.entries.map((e) => e.index)).toEqual([4]);
    expect(rd4.committedEntries.map((e) => [e.index, text(e.data)])).toEqual([
      [2, 'old2'],
      [3, 'new3'],
    ]);
    n.advance(rd4);
  });
});

// ---- seeded randomized cluster with pipelined hosts -----------------------------------------

interface Host {
  id: NodeId;
  node: RawNode;
  /** Durable state: written only when a write completes; survives crashes. */
  disk: MemoryStorage;
  /** Writes in flight, oldest first, with the messages that wait for them. */
  writing: { rd: Ready; after: Message[] }[];
  handedTerm: number;
  handedVote: NodeId | null;
}

const VOTERS = ['1', '2', '3', '4', '5'] as const;

function runCluster(seed: number, voters: readonly NodeId[], steps: number): { violations: string[]; applied: number } {
  const random = seededRandom(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const violations: string[] = [];
  const appliedAt = new Map<number, string>();
  const leaderOfTerm = new Map<number, NodeId>();
  let queue: Message[] = [];
  let appliedCount = 0;
  const hosts = new Map<NodeId, Host>();
  const boot = (id: NodeId, disk: MemoryStorage): Host => {
    const node = new RawNode({ id, electionTick: 10, heartbeatTick: 1, random: seededRandom(seed * 31 + id.charCodeAt(0)), preVote: true, checkQuorum: true, forwardProposals: true }, disk);
    const hs = disk.initialState().hardState;
    return { id, node, disk, writing: [], handedTerm: hs.term, handedVote: hs.vote };
  };
  for (const id of voters) hosts.set(id, boot(id, new MemoryStorage({ confState: { voters: [...voters], learners: [] } })));

  const durableOnQuorum = (e: Entry): boolean => {
    let n = 0;
    for (const h of hosts.values()) {
      try {
        if (h.disk.lastIndex() >= e.index && h.disk.term(e.index) === e.term) n++;
      } catch {
        /* compacted or unavailable: not counted */
      }
    }
    return n > voters.length / 2;
  };
  const apply = (h: Host, entries: readonly Entry[]): void => {
    for (const e of entries) {
      // Applied only once durable locally, and committed only once durable on a quorum.
      if (h.disk.lastIndex() < e.index || h.disk.term(e.index) !== e.term) violations.push(`${h.id} applied ${e.index} before it was durable locally`);
      if (!durableOnQuorum(e)) violations.push(`${h.id} applied ${e.index}@${e.term} while it is durable on no quorum`);
      const key = `${e.term}:${text(e.data)}`;
      const seen = appliedAt.get(e.index);
      if (seen === undefined) appliedAt.set(e.index, key);
      else if (seen !== key) violations.push(`index ${e.index}: ${seen} vs ${key} (${h.id})`);
      appliedCount++;
    }
  };
  const write = (h: Host, rd: Ready): void => {
    h.disk.append(rd.entries);
    if (rd.hardState) h.disk.setHardState(rd.hardState);
  };
  const completeOldest = (h: Host): void => {
    const w = h.writing.shift();
    if (!w) return;
    write(h, w.rd);
    h.node.onPersisted(w.rd);
    queue.push(...w.after);
    apply(h, w.rd.committedEntries);
  };
  const processReady = (h: Host): void => {
    if (!h.node.hasReady()) return;
    const rd = h.node.ready();
    const changesTermOrVote = rd.hardState !== undefined && (rd.hardState.term !== h.handedTerm || rd.hardState.vote !== h.handedVote);
    if (rd.hardState) {
      h.handedTerm = rd.hardState.term;
      h.handedVote = rd.hardState.vote;
    }
    if (changesTermOrVote) {
      // Barrier: everything in flight first, then the strict order.
      while (h.writing.length > 0) completeOldest(h);
      write(h, rd);
      queue.push(...rd.messages);
      apply(h, rd.committedEntries);
      h.node.advance(rd);
      return;
    }
    const after: Message[] = [];
    for (const m of rd.messages) {
      if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgProp' || m.type === 'MsgReadIndex') queue.push(m);
      else after.push(m);
    }
    // Committed entries wait for this write (they may be in it or in an earlier one).
    h.writing.push({ rd, after });
    h.node.advanceAsync(rd);
  };

  let proposals = 0;
  for (let step = 0; step < steps; step++) {
    const r = random();
    const h = hosts.get(pick(voters))!;
    if (r < 0.35 && queue.length > 0) {
      const i = Math.floor(random() * queue.length);
      const [m] = queue.splice(i, 1);
      if (random() < 0.08) continue; // lost
      const to = hosts.get(m.to);
      if (to) to.node.step(m);
    } else if (r < 0.5) {
      h.node.tick();
    } else if (r < 0.6) {
      if (h.node.isLeader()) {
        try {
          h.node.propose(bytes(`p${proposals++}`));
        } catch {
          /* dropped (transfer, size limit): fine */
        }
      }
    } else if (r < 0.78) {
      completeOldest(h);
    } else if (r < 0.995) {
      processReady(h);
    } else {
      // Crash: writes in flight are lost; restart from the durable disk.
      hosts.set(h.id, boot(h.id, h.disk));
      queue = queue.filter((m) => m.to !== h.id);
    }
    for (const x of hosts.values()) {
      if (!x.node.isLeader()) continue;
      const term = x.node.status().term;
      const seen = leaderOfTerm.get(term);
      if (seen === undefined) leaderOfTerm.set(term, x.id);
      else if (seen !== x.id) violations.push(`term ${term}: leaders ${seen} and ${x.id}`);
    }
  }
  return { violations, applied: appliedCount };
}

describe('seeded randomized cluster with pipelined (async-write) hosts', () => {
  it('never applies an entry that is not durable on a quorum, and every node applies the same entry at each index', () => {
    let totalApplied = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const voters = seed % 2 === 0 ? VOTERS.slice(0, 3) : VOTERS;
      const { violations, applied } = runCluster(seed, voters, 3000);
      expect(violations, `seed ${seed} (replay: runCluster(${seed}, …))`).toEqual([]);
      totalApplied += applied;
    }
    // The runs really made progress (elections, replication, commits).
    expect(totalApplied).toBeGreaterThan(500);
  });
});
