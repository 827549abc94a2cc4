/**
 * Raft core throughput: proposals/s committed and applied through a 3-node cluster of RawNodes
 * with zero network delay (synchronous in-process delivery) and MemoryStorage — i.e. the cost
 * of the consensus logic alone, no IO. Printed next to a plain array-append baseline measured in
 * the same run, and written to bench/results/raft-core.json.
 *
 *   npx tsx bench/raft-core.bench.ts [--proposals N] [--payload BYTES]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { MemoryStorage, RawNode, type Message, type NodeId } from '@flotilla/raft';
import { seededRandom } from '@flotilla/raft/core/testing/network';

interface Peer {
  readonly node: RawNode;
  readonly storage: MemoryStorage;
  applied: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A 3-node cluster with a synchronous host loop that follows the Ready contract. */
class Cluster {
  readonly peers = new Map<NodeId, Peer>();
  private queue: Message[] = [];
  delivered = 0;

  constructor(ids: readonly NodeId[]) {
    const random = seededRandom(1);
    for (const id of ids) {
      const storage = new MemoryStorage({ confState: { voters: [...ids], learners: [] } });
      const node = new RawNode({ id, electionTick: 10, heartbeatTick: 1, random, maxInflightMsgs: 1024 }, storage);
      this.peers.set(id, { node, storage, applied: 0 });
    }
  }

  private flush(p: Peer): void {
    while (p.node.hasReady()) {
      const rd = p.node.ready();
      if (rd.snapshot) p.storage.applySnapshot(rd.snapshot);
      p.storage.append(rd.entries);
      if (rd.hardState) p.storage.setHardState(rd.hardState);
      for (const m of rd.messages) this.queue.push(m);
      if (rd.committedEntries.length > 0) p.applied = rd.committedEntries[rd.committedEntries.length - 1].index;
      p.node.advance(rd);
    }
  }

  stabilize(): void {
    for (;;) {
      for (const p of this.peers.values()) this.flush(p);
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      this.delivered += batch.length;
      for (const m of batch) this.peers.get(m.to)?.node.step(m);
    }
  }

  /** Compact every node's log below its applied index minus a tail (keeps memory flat). */
  compact(tail: number): void {
    for (const p of this.peers.values()) {
      const idx = p.applied - tail;
      if (idx > p.storage.firstIndex()) {
        p.storage.createSnapshot(idx, p.node.confState(), new Uint8Array(0));
        p.storage.compact(idx);
      }
    }
  }
}

interface Run {
  readonly name: string;
  readonly proposals: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly messagesPerProposal?: number;
}

function timeIt(name: string, proposals: number, fn: () => void): Run {
  const start = process.hrtime.bigint();
  fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { name, proposals, seconds, opsPerSec: proposals / seconds };
}

function raftRun(name: string, proposals: number, batch: number, payload: Uint8Array): Run {
  const cluster = new Cluster(['1', '2', '3']);
  const leader = cluster.peers.get('1');
  if (!leader) throw new Error('no node 1');
  leader.node.campaign();
  cluster.stabilize();
  if (!leader.node.isLeader()) throw new Error('node 1 did not become leader');
  const target = leader.applied + proposals;
  const deliveredBefore = cluster.delivered;
  const run = timeIt(name, proposals, () => {
    for (let done = 0; done < proposals; done += batch) {
      const n = Math.min(batch, proposals - done);
      for (let i = 0; i < n; i++) leader.node.propose(payload);
      cluster.stabilize();
      if ((done / batch) % 64 === 0) cluster.compact(1000);
    }
  });
  for (const p of cluster.peers.values()) {
    if (p.applied < target) throw new Error(`${name}: node applied ${p.applied} < ${target}`);
  }
  return { ...run, messagesPerProposal: Number(((cluster.delivered - deliveredBefore) / proposals).toFixed(3)) };
}

function baselineRun(proposals: number, payload: Uint8Array): Run {
  let sink = 0;
  const run = timeIt('baseline: plain array append', proposals, () => {
    let log: { index: number; term: number; data: Uint8Array }[] = [];
    for (let i = 0; i < proposals; i++) {
      log.push({ index: i + 1, term: 1, data: payload });
      if (log.length >= 100_000) {
        sink += log.length;
        log = [];
      }
    }
    sink += log.length;
  });
  if (sink !== proposals) throw new Error('baseline lost entries');
  return run;
}

function main(): void {
  const proposals = arg('proposals', 200_000);
  const payloadBytes = arg('payload', 128);
  const payload = new Uint8Array(payloadBytes).fill(7);

  // Warm-up (JIT) with a short run of each shape.
  raftRun('warmup', 20_000, 1, payload);
  raftRun('warmup', 20_000, 64, payload);
  baselineRun(proposals, payload);

  const runs: Run[] = [
    baselineRun(proposals, payload),
    raftRun('raft 3 nodes, 1 proposal per round (commit before next)', Math.floor(proposals / 4), 1, payload),
    raftRun('raft 3 nodes, 64 proposals per round (batched + pipelined)', proposals, 64, payload),
    raftRun('raft 3 nodes, 1024 proposals per round', proposals, 1024, payload),
  ];
  const baseline = runs[0].opsPerSec;

  console.log(`payload ${payloadBytes} B, ${os.cpus()[0]?.model ?? 'unknown cpu'} × ${os.cpus().length}, node ${process.version}`);
  for (const r of runs) {
    const ratio = r === runs[0] ? '' : `  (${((r.opsPerSec / baseline) * 100).toFixed(2)}% of baseline, ${r.messagesPerProposal} msgs/proposal)`;
    console.log(`${r.name.padEnd(62)} ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(14)} ops/s${ratio}`);
  }

  const out = {
    benchmark: 'raft-core',
    description:
      'Proposals/s committed and applied on all nodes of a 3-node RawNode cluster, synchronous in-process delivery, MemoryStorage (no IO), vs a plain array append in the same run.',
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      // Other processes share the machine; a high load average makes the figures pessimistic.
      loadAverage1m: Number(os.loadavg()[0].toFixed(2)),
    },
    payloadBytes,
    runs: runs.map((r) => ({ ...r, opsPerSec: Math.round(r.opsPerSec), percentOfBaseline: Number(((r.opsPerSec / baseline) * 100).toFixed(3)) })),
  };
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'raft-core.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${join(dir, 'raft-core.json')}`);
}

main();
