/**
 * Raft cluster benchmark: a real 3-node kv-server cluster on loopback (separate processes,
 * real disks), with baselines measured in the same run.
 *
 *   npx tsx bench/raft-cluster.bench.ts [--quick] [--storage lmdb|wal] [--wal-flush-mode by-role|threadpool|inline]
 *
 * Prints a table and writes bench/results/raft-cluster.json. Targets (from issue 5) are
 * reported next to the measured figures, pass or fail — never adjusted to pass.
 */
import { closeSync, existsSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { open } from 'lmdb';
import { encodeEnvelope, encodeSnapshotEnvelope, ENVELOPE_COMMAND } from '../libs/raft/src/node/entry-envelope';
import { KvClient, KvRequestError } from '../libs/raft/src/kv/kv-client';
import { encodeKvCommand } from '../libs/raft/src/kv/kv-commands';
import { KvStateMachine } from '../libs/raft/src/kv/kv-state-machine';
import { RaftNode } from '../libs/raft/src/node/raft-node';
import { openLogStore } from '../libs/raft/src/storage/open-log-store';
import type { Entry } from '../libs/raft/src/core';
import { KvProcessCluster, sleep } from '../test/e2e/raft/support/kv-process-cluster';

const QUICK = process.argv.includes('--quick');
const STORAGE_ARG = process.argv.indexOf('--storage');
/** Log store of the cluster and the start-up test; the node's default (wal) when not given. */
const STORAGE = STORAGE_ARG >= 0 ? (process.argv[STORAGE_ARG + 1] as 'lmdb' | 'wal') : undefined;
const FLUSH_ARG = process.argv.indexOf('--wal-flush-mode');
const WAL_FLUSH_MODE = FLUSH_ARG >= 0 ? (process.argv[FLUSH_ARG + 1] as 'by-role' | 'threadpool' | 'inline') : undefined;
const TICK_MS = 20;
const ELECTION_TICKS = 10;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
function summary(samples: number[]): { n: number; p50: number; p99: number; mean: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), mean: round(s.reduce((a, b) => a + b, 0) / s.length) };
}
function round(x: number, digits = 3): number {
  return Number(x.toFixed(digits));
}

// ---- baselines ----------------------------------------------------------------------------

async function flushedLmdbPut(n: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-lmdb-'));
  const db = open<Buffer, Buffer>({ path: join(dir, 'x.mdb'), keyEncoding: 'binary', encoding: 'binary' });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = Buffer.alloc(8);
    key.writeUInt32BE(i, 4);
    const t = performance.now();
    await db.put(key, Buffer.alloc(64, i));
    await db.flushed;
    out.push(performance.now() - t);
  }
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return out;
}

function fdatasyncAppend(n: number): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'bench-fsync-'));
  const fd = openSync(join(dir, 'log'), 'a');
  const record = Buffer.alloc(256, 7);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    writeSync(fd, record);
    fdatasyncSync(fd);
    out.push(performance.now() - t);
  }
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return out;
}

/**
 * The same flushed LMDB put, done by `procs` processes at once, each on its own store on the
 * shared disk — what three replicas on one machine do. Returns every put's latency and the
 * aggregate flushed puts per second.
 */
async function concurrentFlushedLmdbPuts(procs: number, n: number): Promise<{ latencies: number[]; putsPerSec: number }> {
  const script = `
    const { open } = require('lmdb');
    const { mkdtempSync, rmSync } = require('node:fs');
    const { join } = require('node:path');
    const dir = mkdtempSync(join(require('node:os').tmpdir(), 'bench-lmdb-c-'));
    const db = open({ path: join(dir, 'x.mdb'), keyEncoding: 'binary', encoding: 'binary' });
    (async () => {
      const out = [];
      const t0 = performance.now();
      for (let i = 0; i < ${n}; i++) {
        const key = Buffer.alloc(8); key.writeUInt32BE(i, 4);
        const t = performance.now();
        await db.put(key, Buffer.alloc(64, i));
        await db.flushed;
        out.push(performance.now() - t);
      }
      const ms = performance.now() - t0;
      await db.close();
      rmSync(dir, { recursive: true, force: true });
      process.stdout.write(JSON.stringify({ out, ms }));
    })();`;
  const runs = await Promise.all(
    Array.from({ length: procs }, () => {
      const child = spawn(process.execPath, ['-e', script], { cwd: resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
      return new Promise<{ out: number[]; ms: number }>((r, reject) => child.on('exit', (code) => (code === 0 ? r(JSON.parse(text) as { out: number[]; ms: number }) : reject(new Error(`flush child exited ${code}`)))));
    }),
  );
  const latencies = runs.flatMap((r) => r.out);
  const slowestMs = Math.max(...runs.map((r) => r.ms));
  return { latencies, putsPerSec: round(latencies.length / (slowestMs / 1000), 0) };
}

/** Round trip of a 64-byte message to an echo server in ANOTHER process (as between nodes). */
async function loopbackRtt(n: number): Promise<number[]> {
  const echo = spawn(
    process.execPath,
    ['-e', "const s=require('net').createServer(c=>{c.setNoDelay(true);c.on('data',d=>c.write(d))});s.listen(0,'127.0.0.1',()=>console.log(s.address().port))"],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((r) => echo.stdout!.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
  const socket: Socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((r) => socket.once('connect', r));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await new Promise<void>((r) => {
      socket.once('data', () => r());
      socket.write(Buffer.alloc(64, i));
    });
    out.push(performance.now() - t);
  }
  socket.destroy();
  echo.kill();
  return out;
}

// ---- cluster throughput and latency --------------------------------------------------------

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); undefined elsewhere. */
function processCpuMs(pid: number | undefined): number | undefined {
  const path = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(path)) return undefined;
  // Fields after the command name: state is field 3, utime 14, stime 15 (clock ticks, 100/s on Linux).
  const fields = readFileSync(path, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Runs `fn` and reports the CPU each kv-server process and this load generator used during it,
 * per committed write — the figure issue 5's throughput target depends on, since the three
 * servers and the load generator share two cores.
 */
async function withCpuAccounting<T extends { latencies: number[] }>(cluster: KvProcessCluster, fn: () => Promise<T>): Promise<T & { cpu?: { serverMs: Record<string, number>; loadGeneratorMs: number; serverUsPerWrite: number; loadGeneratorUsPerWrite: number } }> {
  const ids = [...cluster.nodes.keys()];
  const before = ids.map((id) => processCpuMs(cluster.nodes.get(id)!.proc?.pid));
  const lg0 = process.cpuUsage();
  const result = await fn();
  const lg = process.cpuUsage(lg0);
  const after = ids.map((id) => processCpuMs(cluster.nodes.get(id)!.proc?.pid));
  if (before.some((x) => x === undefined) || after.some((x) => x === undefined)) return result;
  const serverMs = Object.fromEntries(ids.map((id, i) => [id, after[i]! - before[i]!]));
  const total = Object.values(serverMs).reduce((a, b) => a + b, 0);
  const loadGeneratorMs = round((lg.user + lg.system) / 1000, 0);
  const writes = result.latencies.length;
  return { ...result, cpu: { serverMs, loadGeneratorMs, serverUsPerWrite: round((1000 * total) / writes, 1), loadGeneratorUsPerWrite: round((1000 * loadGeneratorMs) / writes, 1) } };
}

async function closedLoop(clients: KvClient[], durationMs: number): Promise<{ latencies: number[]; writesPerSec: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + durationMs;
  const start = performance.now();
  await Promise.all(
    clients.map(async (c, ci) => {
      let i = 0;
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await c.put(`c${ci}-${i++ % 1000}`, 'sixteen-byte-val');
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { latencies, writesPerSec: round(latencies.length / ((performance.now() - start) / 1000), 0), errors };
}

async function failoverTrial(cluster: KvProcessCluster): Promise<number> {
  const leader = await cluster.waitForLeader();
  const survivors = cluster.opts.ids.filter((id) => id !== leader);
  const killedAt = performance.now();
  await cluster.kill(leader);
  let acked: number | undefined;
  let k = 0;
  while (acked === undefined) {
    const attempts = survivors.map(async (id) => {
      try {
        await cluster.client(id).put('failover', String(k++));
        acked ??= performance.now();
      } catch (err) {
        if (!(err instanceof KvRequestError)) throw err;
      }
    });
    await Promise.race([Promise.all(attempts), sleep(5)]);
  }
  await cluster.start(leader);
  await sleep(1500);
  return round(acked - killedAt, 1);
}

// ---- start-up of a node with 1,000,000 compacted entries ---------------------------------

async function buildCompactedHistory(dir: string, total: number): Promise<void> {
  const store = await openLogStore(STORAGE ?? 'wal', { dir, bootstrap: { voters: ['solo'], learners: [] } });
  const sm = new KvStateMachine();
  const batch = 10_000;
  const snapshotEvery = 100_000;
  for (let first = 1; first <= total; first += batch) {
    const entries: Entry[] = [];
    for (let index = first; index < first + batch && index <= total; index++) {
      const command = encodeKvCommand({ op: 'put', key: `k${index % 10_000}`, value: `v${index}` });
      sm.apply(command, { index, term: 1 });
      entries.push({ index, term: 1, type: 'normal', data: encodeEnvelope({ kind: ENVELOPE_COMMAND, origin: 'bench#0', seq: index, body: command }) });
    }
    await store.append(entries);
    const last = entries[entries.length - 1].index;
    if (last % snapshotEvery === 0) {
      const data = encodeSnapshotEnvelope({ members: { solo: { host: '127.0.0.1', port: 0 } }, app: sm.snapshot() });
      await store.createSnapshot(last, { voters: ['solo'], learners: [] }, data);
      await store.compact(last - 1000);
    }
  }
  await store.setHardState({ term: 1, vote: 'solo', commit: total });
  await store.close();
}

async function startupTime(dir: string): Promise<{ openAndRestoreMs: number; toLeaderMs: number; firstIndex: number; lastIndex: number; snapshotIndex: number }> {
  const sm = new KvStateMachine();
  const t0 = performance.now();
  const node = await RaftNode.start({
    id: 'solo',
    dataDir: dir,
    listen: { host: '127.0.0.1', port: 0 },
    peers: {},
    secret: 'bench-secret-0123456789',
    stateMachine: sm,
    storage: STORAGE,
    tickMs: TICK_MS,
    electionTicks: ELECTION_TICKS,
  });
  const openAndRestoreMs = performance.now() - t0;
  node.campaign();
  await node.propose(encodeKvCommand({ op: 'put', key: 'after-restart', value: 'ok' }));
  const toLeaderMs = performance.now() - t0;
  const s = node.status();
  await node.stop();
  if (sm.get('k9999') === undefined) throw new Error('restored state is missing data');
  return { openAndRestoreMs: round(openAndRestoreMs, 1), toLeaderMs: round(toLeaderMs, 1), firstIndex: s.firstIndex, lastIndex: s.lastIndex, snapshotIndex: s.snapshotIndex };
}

function cpuLine(cpu: { serverMs: Record<string, number>; serverUsPerWrite: number; loadGeneratorUsPerWrite: number } | undefined): string {
  return cpu ? `${cpu.serverUsPerWrite} servers (${Object.values(cpu.serverMs).join(' + ')} ms), ${cpu.loadGeneratorUsPerWrite} load generator` : 'n/a (no /proc)';
}

// ---- main ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const loadAtStart = loadavg().map((x) => round(x, 2));
  const n = QUICK ? 100 : 500;
  console.log('baselines …');
  const lmdbPut = summary(await flushedLmdbPut(n));
  const fsync = summary(fdatasyncAppend(n));
  const rtt = summary(await loopbackRtt(n * 4));
  const concurrent = await concurrentFlushedLmdbPuts(3, n);
  const lmdbPut3 = { ...summary(concurrent.latencies), aggregatePutsPerSec: concurrent.putsPerSec };

  console.log('3-node cluster …');
  const cluster = await KvProcessCluster.create({ ids: ['n1', 'n2', 'n3'], tickMs: TICK_MS, electionTicks: ELECTION_TICKS, timeoutMs: 5000, storage: STORAGE, walFlushMode: WAL_FLUSH_MODE });
  let one: Awaited<ReturnType<typeof closedLoop>>;
  let many: Awaited<ReturnType<typeof withCpuAccounting<Awaited<ReturnType<typeof closedLoop>>>>>;
  let manyOver8: typeof many;
  const failovers: number[] = [];
  try {
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    const addr = { host: '127.0.0.1', port: cluster.nodes.get(leader)!.clientPort };
    await closedLoop([new KvClient(addr)], 500); // warm-up
    one = await closedLoop([new KvClient(addr)], QUICK ? 2000 : 5000);
    // 64 clients on 64 connections, then the same 64 clients multiplexed over 8 pipelined
    // connections (etcd's benchmark tool separates --clients from --conns the same way).
    const clients = Array.from({ length: 64 }, () => new KvClient(addr));
    many = await withCpuAccounting(cluster, () => closedLoop(clients, QUICK ? 3000 : 8000));
    clients.forEach((c) => c.close());
    const conns = Array.from({ length: 8 }, () => new KvClient(addr));
    manyOver8 = await withCpuAccounting(cluster, () => closedLoop(Array.from({ length: 64 }, (_, i) => conns[i % conns.length]), QUICK ? 3000 : 8000));
    conns.forEach((c) => c.close());
    console.log('failover …');
    for (let i = 0; i < (QUICK ? 1 : 3); i++) failovers.push(await failoverTrial(cluster));
  } finally {
    await cluster.destroy();
  }

  console.log('baselines again …');
  const lmdbPutAfter = summary(await flushedLmdbPut(n));
  const rttAfter = summary(await loopbackRtt(n * 4));

  console.log('start-up with 1,000,000 compacted entries …');
  const dir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
  const total = QUICK ? 200_000 : 1_000_000;
  const buildStart = performance.now();
  await buildCompactedHistory(dir, total);
  const buildMs = performance.now() - buildStart;
  const startup = await startupTime(dir);
  rmSync(dir, { recursive: true, force: true });

  const oneLat = summary(one.latencies);
  const manyLat = summary(many.latencies);
  const manyOver8Lat = summary(manyOver8.latencies);
  // The disk is shared and noisy: baselines are measured before and after the cluster runs
  // and the target uses the FASTER of the two (the stricter bound).
  const p50Bound = 2 * (Math.min(lmdbPut.p50, lmdbPutAfter.p50) + Math.min(rtt.p50, rttAfter.p50));
  const failoverMedian = [...failovers].sort((a, b) => a - b)[Math.floor(failovers.length / 2)];
  const results = {
    benchmark: 'raft-cluster',
    quick: QUICK,
    environment: {
      node: process.version,
      platform: process.platform,
      cpus: cpus().length,
      // The machine is shared: a high load average means disk and CPU contention from other work.
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
      tickMs: TICK_MS,
      electionTicks: ELECTION_TICKS,
      storage: STORAGE ?? 'wal (default)',
      walFlushMode: WAL_FLUSH_MODE ?? 'by-role (default)',
      note: 'all three nodes, the clients and the baselines share one machine and one disk',
    },
    baselines: {
      flushedLmdbPutMs: lmdbPut,
      fdatasync256BAppendMs: fsync,
      loopbackRttMs: rtt,
      flushedLmdbPutAfterMs: lmdbPutAfter,
      loopbackRttAfterMs: rttAfter,
      // Context, not a target input: three processes flushing at once on the shared disk, as
      // the three replicas do under load.
      flushedLmdbPut3ProcessesMs: lmdbPut3,
    },
    writes: {
      clients1: { writesPerSec: one.writesPerSec, latencyMs: oneLat, errors: one.errors },
      clients64: { writesPerSec: many.writesPerSec, latencyMs: manyLat, errors: many.errors, cpu: many.cpu },
      clients64Over8Connections: { writesPerSec: manyOver8.writesPerSec, latencyMs: manyOver8Lat, errors: manyOver8.errors, cpu: manyOver8.cpu },
    },
    failoverMs: { trials: failovers, median: failoverMedian },
    startup: { entries: total, buildMs: round(buildMs, 0), ...startup },
    targets: {
      p50AtOneClient: { targetMs: round(p50Bound), measuredMs: oneLat.p50, met: oneLat.p50 <= p50Bound },
      writesPerSecAt64: { target: 25_000, measured: many.writesPerSec, met: many.writesPerSec >= 25_000 },
      writesPerSecAt64Over8Connections: { target: 25_000, measured: manyOver8.writesPerSec, met: manyOver8.writesPerSec >= 25_000 },
      failover: { targetMs: 1000, measuredMedianMs: failoverMedian, met: failoverMedian < 1000 },
      startup1M: { targetMs: 2000, measuredMs: startup.openAndRestoreMs, met: startup.openAndRestoreMs < 2000 && total === 1_000_000 },
    },
  };
  console.table({
    'flushed LMDB put p50 (ms)': `${lmdbPut.p50} before, ${lmdbPutAfter.p50} after`,
    'fdatasync 256B append p50 (ms)': fsync.p50,
    'flushed LMDB put, 3 processes at once': `p50 ${lmdbPut3.p50} ms, ${lmdbPut3.aggregatePutsPerSec} puts/s in total`,
    'loopback RTT p50 (ms, other process)': `${rtt.p50} before, ${rttAfter.p50} after`,
    '1 client: writes/s': one.writesPerSec,
    '1 client: p50 / p99 (ms)': `${oneLat.p50} / ${oneLat.p99}`,
    '64 clients: writes/s': many.writesPerSec,
    '64 clients: p50 / p99 (ms)': `${manyLat.p50} / ${manyLat.p99}`,
    '64 clients: CPU µs per write': cpuLine(many.cpu),
    '64 clients over 8 connections: writes/s': manyOver8.writesPerSec,
    '64 clients over 8 connections: p50 / p99 (ms)': `${manyOver8Lat.p50} / ${manyOver8Lat.p99}`,
    '64 clients over 8 connections: CPU µs per write': cpuLine(manyOver8.cpu),
    'failover (ms)': failovers.join(', '),
    [`start-up, ${total} entries (ms)`]: `${startup.openAndRestoreMs} open+restore, ${startup.toLeaderMs} to first write`,
  });
  console.log('targets:', JSON.stringify(results.targets, null, 2));
  const out = resolve(__dirname, 'results/raft-cluster.json');
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
