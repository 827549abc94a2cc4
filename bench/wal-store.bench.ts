/**
 * Log store micro-benchmark: the durable write path of WalLogStore (both flush modes) next to
 * LmdbLogStore and raw `writeSync` + `fdatasyncSync` baselines (appending, and writing inside a
 * preallocated file as the WAL segments do), all measured in the same run on the same disk:
 *
 * 1. latency of one persist (one 256-byte entry + hard state) at a time: p50/p99;
 * 2. throughput of 64 concurrent 1-entry persists in a loop (group commit at work);
 * 3. start-up time of a WAL store that has written 1,000,000 entries, compacted by snapshots to a
 *    100,000-entry tail (only the retained segments are replayed).
 *
 * Prints a table and writes bench/results/wal-store.json. Takes well under a minute.
 *
 *   npx tsx bench/wal-store.bench.ts [--ops N] [--seconds S] [--startup-entries N]
 */
import { closeSync, fdatasyncSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import type { Entry, HardState } from '../libs/raft/src/core';
import { LmdbLogStore } from '../libs/raft/src/storage/lmdb-log-store';
import type { LogStore } from '../libs/raft/src/storage/log-store';
import { WalLogStore, type WalFlushMode } from '../libs/raft/src/storage/wal-log-store';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const OPS = arg('ops', 1000);
const SECONDS = arg('seconds', 3);
const STARTUP_ENTRIES = arg('startup-entries', 1_000_000);
const PAYLOAD = 256;
const CONCURRENCY = 64;
const base = process.env.BENCH_DIR ?? os.tmpdir();
const payload = new Uint8Array(PAYLOAD).fill(7);
const tempDirs: string[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(base, 'flotilla-walbench-'));
  tempDirs.push(d);
  return d;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface LatencyRow {
  name: string;
  ops: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

function summarize(name: string, samples: number[]): LatencyRow {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { name, ops: samples.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), meanMs: mean };
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Raw baseline: append 256 bytes (the size of one framed entry + hard state) and fdatasync, one at a time. */
function rawBaseline(): LatencyRow {
  const dir = tempDir();
  const fd = openSync(join(dir, 'raw.log'), 'a');
  const buf = Buffer.alloc(PAYLOAD + 60, 1);
  const samples: number[] = [];
  for (let i = 0; i < OPS; i++) {
    const t = nowMs();
    writeSync(fd, buf);
    fdatasyncSync(fd);
    samples.push(nowMs() - t);
  }
  closeSync(fd);
  return summarize('raw writeSync+fdatasyncSync', samples);
}

/** Raw baseline, preallocated: the same records written inside a file extended with ftruncate first (no size change per fdatasync). */
function rawPreallocatedBaseline(): LatencyRow {
  const dir = tempDir();
  const fd = openSync(join(dir, 'raw-prealloc.log'), 'w+');
  const buf = Buffer.alloc(PAYLOAD + 60, 1);
  ftruncateSync(fd, 64 * 1024 * 1024);
  fdatasyncSync(fd);
  const samples: number[] = [];
  for (let i = 0; i < OPS; i++) {
    const t = nowMs();
    writeSync(fd, buf, 0, buf.length, i * buf.length);
    fdatasyncSync(fd);
    samples.push(nowMs() - t);
  }
  closeSync(fd);
  return summarize('raw pwrite (preallocated)+fdatasyncSync', samples);
}

type Opener = { name: string; open: (dir: string) => Promise<LogStore> };

const stores: Opener[] = [
  { name: 'LmdbLogStore.persist', open: (dir) => LmdbLogStore.open({ dir, bootstrap: { voters: ['a'], learners: [] } }) },
  ...(['threadpool', 'inline'] as WalFlushMode[]).map((flushMode) => ({
    name: `WalLogStore.persist (${flushMode})`,
    open: (dir: string) => WalLogStore.open({ dir, bootstrap: { voters: ['a'], learners: [] }, flushMode }),
  })),
];

function entry(index: number): Entry {
  return { index, term: 1, type: 'normal', data: payload };
}

async function latency(o: Opener): Promise<LatencyRow> {
  const store = await o.open(tempDir());
  const samples: number[] = [];
  for (let i = 1; i <= OPS + 50; i++) {
    const hs: HardState = { term: 1, vote: 'a', commit: i - 1 };
    const t = nowMs();
    await store.persist({ entries: [entry(i)], hardState: hs });
    if (i > 50) samples.push(nowMs() - t); // first 50: warm-up
  }
  await store.close();
  return summarize(o.name, samples);
}

interface ThroughputRow {
  name: string;
  concurrency: number;
  writes: number;
  seconds: number;
  writesPerSec: number;
  flushes: number;
  writesPerFlush: number;
}

async function throughput(o: Opener): Promise<ThroughputRow> {
  const store = await o.open(tempDir());
  let next = 1;
  let done = 0;
  const t0 = nowMs();
  const deadline = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (nowMs() < deadline) {
        await store.persist({ entries: [entry(next++)] });
        done++;
      }
    }),
  );
  const seconds = (nowMs() - t0) / 1000;
  const stats = store.stats();
  await store.close();
  return { name: o.name, concurrency: CONCURRENCY, writes: done, seconds, writesPerSec: done / seconds, flushes: stats.flushes, writesPerFlush: stats.writes / Math.max(1, stats.flushes) };
}

interface StartupResult {
  variant: string;
  entries: number;
  payloadBytes: number;
  buildSeconds: number;
  retainedSegments: number;
  retainedEntries: number;
  openMs: number;
}

/** Entries kept below each snapshot at start-up (a generous catch-up tail: what a reopen must replay). */
const RETAINED = 100_000;

/** Writes STARTUP_ENTRIES entries in batches, snapshotting every 100k and compacting to RETAINED below it, then times a reopen. */
async function startup(compacted: boolean): Promise<StartupResult> {
  const dir = tempDir();
  const conf = { voters: ['a'], learners: [] };
  const segmentBytes = 16 * 1024 * 1024;
  const small = new Uint8Array(64).fill(3);
  let store = await WalLogStore.open({ dir, bootstrap: conf, segmentBytes });
  const t0 = nowMs();
  const batch = 2000;
  for (let i = 1; i <= STARTUP_ENTRIES; i += batch) {
    const ents: Entry[] = [];
    for (let k = 0; k < batch && i + k <= STARTUP_ENTRIES; k++) ents.push({ index: i + k, term: 1, type: 'normal', data: small });
    const last = ents[ents.length - 1].index;
    await store.persist({ entries: ents, hardState: { term: 1, vote: 'a', commit: last } });
    if (compacted && last % 100_000 === 0) {
      await store.createSnapshot(last, conf, new Uint8Array(1024));
      if (last > RETAINED) await store.compact(last - RETAINED);
    }
  }
  const buildSeconds = (nowMs() - t0) / 1000;
  await store.close();
  const t1 = nowMs();
  store = await WalLogStore.open({ dir, segmentBytes });
  const openMs = nowMs() - t1;
  const result = {
    variant: compacted ? `snapshot every 100k, compacted to ${RETAINED} below it` : 'never compacted (worst case: every entry replayed)',
    entries: STARTUP_ENTRIES,
    payloadBytes: small.byteLength,
    buildSeconds,
    retainedSegments: readdirSync(join(dir, 'wal')).length,
    retainedEntries: store.lastIndex() - store.firstIndex() + 1,
    openMs,
  };
  if (store.lastIndex() !== STARTUP_ENTRIES) throw new Error(`reopened store ends at ${store.lastIndex()}, expected ${STARTUP_ENTRIES}`);
  await store.close();
  return result;
}

async function main(): Promise<void> {
  const lat: LatencyRow[] = [rawBaseline(), rawPreallocatedBaseline()];
  for (const o of stores) lat.push(await latency(o));
  const thr: ThroughputRow[] = [];
  for (const o of stores) thr.push(await throughput(o));
  const start = [await startup(true), await startup(false)];

  const f = (n: number, d = 3): string => n.toFixed(d);
  console.log(`\nSingle persist latency (1 × ${PAYLOAD}-byte entry + hard state, one at a time, ${OPS} ops)`);
  console.table(lat.map((r) => ({ store: r.name, 'p50 ms': f(r.p50Ms), 'p99 ms': f(r.p99Ms), 'mean ms': f(r.meanMs) })));
  console.log(`Throughput (${CONCURRENCY} concurrent 1-entry persists in a loop, ${SECONDS} s each)`);
  console.table(thr.map((r) => ({ store: r.name, 'writes/s': Math.round(r.writesPerSec), flushes: r.flushes, 'writes/flush': f(r.writesPerFlush, 1) })));
  console.log(`Start-up (open) of a WAL store that wrote ${STARTUP_ENTRIES} entries of 64 bytes, 16 MiB segments`);
  console.table(start.map((r) => ({ variant: r.variant, 'open ms': f(r.openMs, 1), 'retained segments': r.retainedSegments, 'retained entries': r.retainedEntries, 'build s': f(r.buildSeconds, 1) })));

  const out = {
    benchmark: 'wal-store',
    description:
      'Durable write path of the Raft log stores: single-persist latency and 64-way concurrent persist throughput of WalLogStore (threadpool and inline flush) vs LmdbLogStore and raw writeSync+fdatasyncSync baselines (appending / inside a preallocated file) in the same run; WAL segments are preallocated (sparse ftruncate); start-up time of a WAL store after 1M entries compacted by snapshots.',
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}`, loadAverage1m: os.loadavg()[0], dir: base },
    payloadBytes: PAYLOAD,
    latency: lat,
    throughput: thr,
    startup: start,
  };
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'wal-store.json'), `${JSON.stringify(out, null, 2)}\n`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });
