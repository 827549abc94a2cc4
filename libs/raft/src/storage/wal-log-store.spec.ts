import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfState, Entry, HardState } from '../core';
import { MemoryLogger } from '../transport/logger';
import { LogCorruptError, LogHoleError, StoreKindMismatchError } from './errors';
import { LmdbLogStore } from './lmdb-log-store';
import { crashWriter, ents, logStoreContract, useTempDirs } from './log-store.contract';
import { openLogStore } from './open-log-store';
import { encodeWalRecord, WalRecordType } from './wal-record-codec';
import { WalLogStore, type WalLogStoreOptions } from './wal-log-store';

logStoreContract({ name: 'WalLogStore (threadpool, 64 MiB segments)', harnessArgs: ['wal'], open: (opts) => WalLogStore.open(opts) });
const TINY: Partial<WalLogStoreOptions> = { flushMode: 'inline', segmentBytes: 700 };
logStoreContract({ name: 'WalLogStore (inline, 700-byte segments)', harnessArgs: ['wal', JSON.stringify(TINY)], open: (opts) => WalLogStore.open({ ...TINY, ...opts }) });

const tempDir = useTempDirs();
const stores: WalLogStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function openWal(dir: string, opts: Partial<WalLogStoreOptions> = {}): Promise<WalLogStore> {
  // Threadpool (the default) unless a test says otherwise; the inline mode has its own runs (TINY).
  const s = await WalLogStore.open({ dir, bootstrap: { voters: ['a', 'b', 'c'], learners: [] }, flushMode: 'threadpool', ...opts });
  stores.push(s);
  return s;
}

async function closeWal(s: WalLogStore): Promise<void> {
  await s.close();
  stores.splice(stores.indexOf(s), 1);
}

function segmentFiles(dir: string): string[] {
  return readdirSync(join(dir, 'wal'))
    .filter((n) => n.endsWith('.wal'))
    .sort()
    .map((n) => join(dir, 'wal', n));
}

/** A store with entries 1..20 in two records (1..10, 11..20) and commit 20, closed. */
async function storeWith20(opts: Partial<WalLogStoreOptions> = {}): Promise<string> {
  const dir = tempDir();
  const s = await openWal(dir, opts);
  await s.append(ents(1, 10, 1));
  await s.append(ents(11, 20, 1));
  await s.setHardState({ term: 1, vote: 'a', commit: 20 });
  await closeWal(s);
  return dir;
}

describe('WalLogStore', () => {
  it('names segments <seq>-<firstIndex> in hex so lexical order is write order, and rolls over past segmentBytes', async () => {
    const dir = tempDir();
    const s = await openWal(dir, { segmentBytes: 300 });
    for (let i = 1; i <= 60; i += 6) await s.append(ents(i, i + 5, 1));
    const names = segmentFiles(dir).map((p) => p.slice(p.lastIndexOf('/') + 1));
    expect(names.length).toBeGreaterThan(3);
    expect(names[0]).toBe('0000000000000001-0000000000000001.wal');
    names.forEach((n, k) => expect(parseInt(n.slice(0, 16), 16)).toBe(k + 1));
    const firsts = names.map((n) => parseInt(n.slice(17, 33), 16));
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    for (const p of segmentFiles(dir).slice(0, -1)) expect(statSync(p).size).toBeGreaterThanOrEqual(300);
  });

  it('acknowledges a write only after the sync of its bytes returned (fdatasync, not merely written)', async () => {
    for (const flushMode of ['threadpool', 'inline'] as const) {
      const events: string[] = [];
      let release!: () => void;
      let gate: Promise<void> | undefined;
      const s = await openWal(tempDir(), {
        flushMode,
        sync: async () => {
          if (!gate) return;
          events.push('sync-start');
          await gate;
          events.push('sync-end');
        },
      });
      const size = (): number => statSync(s.segmentPaths[s.segmentPaths.length - 1]).size;
      const before = size();
      gate = new Promise<void>((r) => (release = r));
      const ack = s.append(ents(1, 3, 1)).then(() => events.push('ack'));
      for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setTimeout(r, 30));
      expect(events, flushMode).toEqual(['sync-start']);
      expect(size(), flushMode).toBeGreaterThan(before); // written …
      expect(s.lastIndex(), flushMode).toBe(0); // … but neither visible …
      release();
      await ack;
      expect(events, flushMode).toEqual(['sync-start', 'sync-end', 'ack']); // … nor acknowledged before the sync returned
      expect(s.lastIndex(), flushMode).toBe(3);
      gate = undefined;
    }
  });

  it('group-commits a burst: inline mode shares one flush per event-loop turn, threadpool mode per in-progress flush', async () => {
    for (const flushMode of ['threadpool', 'inline'] as const) {
      const s = await openWal(tempDir(), { flushMode });
      await Promise.all(Array.from({ length: 64 }, (_, k) => s.append(ents(k + 1, k + 1, 1)).then(() => s.setHardState({ term: 1, vote: 'a', commit: k }))));
      const stats = s.stats();
      expect(stats.writes, flushMode).toBe(128);
      expect(stats.flushes, flushMode).toBeLessThanOrEqual(flushMode === 'inline' ? 3 : 4);
      expect(s.lastIndex()).toBe(64);
    }
  });

  it('refuses every later write once a write or sync failed (the file state is unknown)', async () => {
    let fail = false;
    const s = await openWal(tempDir(), {
      sync: () => {
        if (fail) throw Object.assign(new Error('EIO: disk on fire'), { code: 'EIO' });
      },
    });
    await s.append(ents(1, 2, 1));
    fail = true;
    await expect(s.append(ents(3, 3, 1))).rejects.toThrow(/EIO/);
    fail = false;
    await expect(s.append(ents(3, 3, 1))).rejects.toThrow(/EIO/);
    expect(s.lastIndex()).toBe(2);
  });

  describe('torn tail (a write the crash interrupted was never acknowledged)', () => {
    it('truncates a half-written record at the end of the last segment and keeps every earlier record', async () => {
      const dir = await storeWith20();
      const [seg] = segmentFiles(dir);
      const size = statSync(seg).size;
      const unacked = encodeWalRecord(WalRecordType.Batch, { entries: ents(21, 30, 1) }).bytes;
      appendFileSync(seg, unacked.subarray(0, unacked.length - 7));
      const logger = new MemoryLogger();
      const s = await openWal(dir, { logger });
      expect(s.lastIndex()).toBe(20);
      expect(s.entries(1, 21)).toEqual(ents(1, 20, 1));
      expect(s.initialState().hardState).toEqual({ term: 1, vote: 'a', commit: 20 });
      expect(statSync(seg).size).toBe(size);
      expect(logger.lines.find((l) => /torn/.test(l.msg))?.obj).toMatchObject({ path: seg, offset: size });
      await s.append(ents(21, 22, 2)); // the log keeps working after the cut
      await closeWal(s);
      const again = await openWal(dir);
      expect(again.entries(19, 23).map((e) => e.term)).toEqual([1, 1, 2, 2]);
    });

    it('truncates a zero-filled tail (file extended, data never written)', async () => {
      const dir = await storeWith20();
      const [seg] = segmentFiles(dir);
      const size = statSync(seg).size;
      appendFileSync(seg, Buffer.alloc(4096));
      const s = await openWal(dir);
      expect(s.entries(1, 21)).toEqual(ents(1, 20, 1));
      expect(statSync(seg).size).toBe(size);
    });

    it('loses only the cut record when the file ends inside the last record', async () => {
      const dir = await storeWith20();
      const [seg] = segmentFiles(dir);
      truncateSync(seg, statSync(seg).size - 3); // inside the hard-state record
      const s = await openWal(dir);
      expect(s.lastIndex()).toBe(20);
      expect(s.initialState().hardState.commit).toBe(0);
    });

    it('removes a new segment whose header never reached the disk (crash during rollover)', async () => {
      const dir = await storeWith20();
      writeFileSync(join(dir, 'wal', '0000000000000002-0000000000000015.wal'), Buffer.alloc(0));
      const s = await openWal(dir);
      expect(s.entries(1, 21)).toEqual(ents(1, 20, 1));
      expect(segmentFiles(dir)).toHaveLength(1);
    });
  });

  describe('corruption is reported, never repaired', () => {
    it('stops with a LogCorruptError naming the segment and offset when a record in the middle fails its crc', async () => {
      const dir = await storeWith20();
      const [seg] = segmentFiles(dir);
      const bytes = readFileSync(seg);
      const at = bytes.indexOf(Buffer.from('e7t1'));
      bytes[at + 1] ^= 0x01;
      writeFileSync(seg, bytes);
      const err = await WalLogStore.open({ dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LogCorruptError);
      expect((err as LogCorruptError).path).toBe(seg);
      expect((err as Error).message).toContain(seg);
      expect(String((err as LogCorruptError).record)).toMatch(/^offset \d+$/);
    });

    it('treats a complete, non-zero record with a bad crc at the very end as corruption, not as a torn tail', async () => {
      const dir = await storeWith20();
      const [seg] = segmentFiles(dir);
      const bytes = readFileSync(seg);
      bytes[bytes.length - 1] ^= 0x40; // inside the last record (the hard state)
      writeFileSync(seg, bytes);
      await expect(WalLogStore.open({ dir })).rejects.toBeInstanceOf(LogCorruptError);
    });

    it('treats a torn record in a segment that is not the last as corruption', async () => {
      const dir = tempDir();
      const s = await openWal(dir, { segmentBytes: 200 });
      for (let i = 1; i <= 40; i += 4) await s.append(ents(i, i + 3, 1));
      await closeWal(s);
      const segs = segmentFiles(dir);
      expect(segs.length).toBeGreaterThan(2);
      truncateSync(segs[1], statSync(segs[1]).size - 5);
      const err = await WalLogStore.open({ dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LogCorruptError);
      expect((err as LogCorruptError).path).toBe(segs[1]);
    });

    it('stops when a segment in the middle is missing, and with a LogHoleError when the oldest one is', async () => {
      const dir = tempDir();
      const s = await openWal(dir, { segmentBytes: 200 });
      for (let i = 1; i <= 40; i += 4) await s.append(ents(i, i + 3, 1));
      await closeWal(s);
      const segs = segmentFiles(dir);
      const middle = readFileSync(segs[1]);
      unlinkSync(segs[1]);
      await expect(WalLogStore.open({ dir })).rejects.toThrow(/segment 2 is missing/);
      writeFileSync(segs[1], middle);
      unlinkSync(segs[0]);
      const err = await WalLogStore.open({ dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LogHoleError);
      expect(err).toMatchObject({ expectedIndex: 1 });
    });

    it('refuses to start when the commit index is beyond the log (committed entries missing)', async () => {
      const dir = tempDir();
      const s = await openWal(dir);
      await s.append(ents(1, 14, 1));
      await s.setHardState({ term: 1, vote: 'a', commit: 20 });
      await closeWal(s);
      await expect(WalLogStore.open({ dir })).rejects.toThrow(/commit index 20 is beyond the last stored index 14/);
    });
  });

  it('deletes whole segments below the compaction point on compact, and a reopen restores hard state, membership, snapshot and log start', async () => {
    const dir = tempDir();
    let s = await openWal(dir, { segmentBytes: 256 });
    for (let i = 1; i <= 100; i += 5) await s.append(ents(i, i + 4, 2));
    await s.setHardState({ term: 2, vote: 'c', commit: 90 });
    await s.setConfState({ voters: ['a', 'c'], learners: ['z'] });
    const before = segmentFiles(dir);
    expect(before.length).toBeGreaterThan(10);
    await s.createSnapshot(80, { voters: ['a', 'c'], learners: ['z'] }, new TextEncoder().encode('s80'));
    await s.compact(75);
    const after = segmentFiles(dir);
    expect(after.length).toBeLessThan(before.length / 2);
    expect(after[0] > before[0]).toBe(true);
    expect(s.entries(76, 101)).toEqual(ents(76, 100, 2)); // retained entries stay readable
    await closeWal(s);
    s = await openWal(dir, { segmentBytes: 256 });
    expect(s.firstIndex()).toBe(76);
    expect(s.term(75)).toBe(2);
    expect(s.lastIndex()).toBe(100);
    expect(s.entries(76, 101)).toEqual(ents(76, 100, 2));
    expect(s.initialState()).toEqual({ hardState: { term: 2, vote: 'c', commit: 90 }, confState: { voters: ['a', 'c'], learners: ['z'] } });
    expect(s.snapshot().metadata).toEqual({ index: 80, term: 2, confState: { voters: ['a', 'c'], learners: ['z'] } });
    await s.compact(80); // and it keeps compacting
    expect(s.firstIndex()).toBe(81);
  });

  it('deletes segments only below a compaction point that is durable (a later compaction still being synced keeps its entries on disk)', async () => {
    const dir = tempDir();
    let syncs = 0;
    let gateAt = Infinity;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = await openWal(dir, {
      segmentBytes: 200,
      sync: async () => {
        if (++syncs === gateAt) await gate;
      },
    });
    for (let i = 1; i <= 100; i += 4) await s.append(ents(i, i + 3, 1));
    await s.createSnapshot(90, { voters: ['a'], learners: [] }, new Uint8Array([1]));
    gateAt = syncs + 2; // the flush of the second compaction
    const first = s.compact(30);
    const second = s.compact(80);
    try {
      await first;
      const firstIndexes = segmentFiles(dir).map((p) => parseInt(p.slice(p.lastIndexOf('/') + 18, p.lastIndexOf('/') + 34), 16));
      expect(Math.min(...firstIndexes)).toBeLessThanOrEqual(31); // entry 31 is still on disk …
    } finally {
      release();
      await second;
    }
    const after = segmentFiles(dir).map((p) => parseInt(p.slice(p.lastIndexOf('/') + 18, p.lastIndexOf('/') + 34), 16));
    expect(Math.min(...after)).toBeGreaterThan(31); // … until the second compaction is durable
    expect(Math.min(...after)).toBeLessThanOrEqual(81);
  });

  it('overwrites a suffix spanning segments and replays the same overwrite after reopen', async () => {
    const dir = tempDir();
    let s = await openWal(dir, { segmentBytes: 200 });
    for (let i = 1; i <= 30; i += 3) await s.append(ents(i, i + 2, 1));
    await s.append(ents(8, 12, 2)); // truncates 8..30, which lie in several segments
    await s.append(ents(13, 13, 2));
    await s.append(ents(12, 14, 3));
    const expected = [...ents(1, 7, 1), ...ents(8, 11, 2), ...ents(12, 14, 3)];
    expect(s.entries(1, 15)).toEqual(expected);
    await closeWal(s);
    s = await openWal(dir, { segmentBytes: 200 });
    expect(s.lastIndex()).toBe(14);
    expect(s.entries(1, 15)).toEqual(expected);
    expect(() => s.term(15)).toThrow();
  });

  it('replays an oldest retained segment that starts above the log start and overwrites below its own first entry', async () => {
    const dir = tempDir();
    // segmentBytes 1: every flush starts a new segment; inline: both appends share one flush.
    let s = await openWal(dir, { segmentBytes: 1, flushMode: 'inline' });
    await s.append(ents(1, 91, 1));
    await Promise.all([s.append(ents(92, 95, 1)), s.append(ents(91, 93, 2))]);
    await s.createSnapshot(92, { voters: ['a'], learners: [] }, new Uint8Array([9]));
    await s.compact(91); // deletes the segment holding 1..91; the next one starts at 92, then rewrites 91
    await closeWal(s);
    s = await openWal(dir, { segmentBytes: 1, flushMode: 'inline' });
    expect(s.firstIndex()).toBe(92);
    expect(s.lastIndex()).toBe(93);
    expect(s.term(91)).toBe(2);
    expect(s.entries(92, 94)).toEqual(ents(92, 93, 2));
  });

  it('keeps every acknowledged entry across kill -9 with small segments and inline flushes (rollover under fire)', async () => {
    const dir = tempDir();
    const acked = await crashWriter(dir, ['wal', JSON.stringify({ flushMode: 'inline', segmentBytes: 16384 })], 2000);
    const s = await openWal(dir);
    expect(s.lastIndex()).toBeGreaterThanOrEqual(acked);
    expect(segmentFiles(dir).length).toBeGreaterThan(3);
    s.entries(1, s.lastIndex() + 1).forEach((e, i) => {
      expect(e.index).toBe(i + 1);
      expect(new TextDecoder().decode(e.data)).toBe(`entry-${e.index}-${'x'.repeat(e.index % 97)}`);
    });
  });

  it('refuses a data directory written by the LMDB store, and the LMDB store refuses a WAL directory', async () => {
    const lmdbDir = tempDir();
    const l = await LmdbLogStore.open({ dir: lmdbDir });
    await l.close();
    await expect(WalLogStore.open({ dir: lmdbDir })).rejects.toBeInstanceOf(StoreKindMismatchError);
    await expect(openLogStore('wal', { dir: lmdbDir })).rejects.toBeInstanceOf(StoreKindMismatchError);
    const walDir = tempDir();
    await closeWal(await openWal(walDir));
    await expect(openLogStore('lmdb', { dir: walDir })).rejects.toBeInstanceOf(StoreKindMismatchError);
    const w = await openLogStore('wal', { dir: walDir }); // the matching kind opens fine, the lock was released
    await w.close();
  });

  it('matches a simple model under seeded random appends, overwrites, snapshots, installs, compactions and reopens', async () => {
    // WAL_MODEL_RUNS seeds from SEED on (more runs: a longer local fuzz).
    const first = Number(process.env.SEED ?? 0xc0ffee) >>> 0;
    for (let run = 0; run < Number(process.env.WAL_MODEL_RUNS ?? 4); run++) await modelRun((first + run) >>> 0);
  });

  async function modelRun(seed: number): Promise<void> {
    let x = seed;
    const rnd = (n: number): number => {
      x = (x * 1103515245 + 12345) >>> 0;
      return (x >>> 8) % n;
    };
    const enc = new TextEncoder();
    const dir = tempDir();
    const opts = (): Partial<WalLogStoreOptions> => ({ segmentBytes: rnd(4) === 0 ? 1 : 150 + rnd(400), flushMode: rnd(2) ? 'inline' : 'threadpool', tailCache: { maxEntries: 1 + rnd(6), maxBytes: 1 << 20 } });
    let s = await openWal(dir, opts());
    const model = { log: new Map<number, Entry>(), start: { index: 0, term: 0 }, last: 0, snap: 0, hard: { term: 0, vote: null, commit: 0 } as HardState, conf: { voters: ['a', 'b', 'c'], learners: [] } as ConfState };
    let term = 1;
    const check = (where: string): void => {
      const msg = `seed ${seed} ${where}`;
      expect(s.firstIndex(), msg).toBe(model.start.index + 1);
      expect(s.lastIndex(), msg).toBe(model.last);
      expect(s.term(model.start.index), msg).toBe(model.start.term);
      expect(s.initialState(), msg).toEqual({ hardState: model.hard, confState: model.conf });
      expect(s.snapshot().metadata.index, msg).toBe(model.snap);
      if (model.last > model.start.index) {
        expect(s.entries(model.start.index + 1, model.last + 1), msg).toEqual([...Array(model.last - model.start.index).keys()].map((k) => model.log.get(model.start.index + 1 + k)));
      }
    };
    for (let step = 0; step < 150; step++) {
      const op = rnd(20);
      const first = model.start.index + 1;
      if (op < 11) {
        // append, sometimes overwriting a suffix; several concurrently now and then
        const n = 1 + rnd(3);
        const writes: Promise<void>[] = [];
        for (let w = 0; w < n; w++) {
          // Raft never overwrites committed entries (nor, so, the snapshot).
          const from = Math.max(first, model.snap + 1, model.hard.commit + 1, model.last + 1 - (rnd(3) === 0 ? rnd(6) : 0));
          if (from <= model.last) term++;
          const batch: Entry[] = [];
          for (let i = from; i < from + 1 + rnd(6); i++) batch.push({ index: i, term, type: rnd(5) === 0 ? 'conf-change' : 'normal', data: enc.encode(`e${i}t${term}${'.'.repeat(rnd(40))}`) });
          for (let i = from; i <= model.last; i++) model.log.delete(i);
          for (const e of batch) model.log.set(e.index, e);
          model.last = batch[batch.length - 1].index;
          const hs = rnd(2) ? { term, vote: rnd(2) ? 'b' : null, commit: Math.min(model.last, model.start.index + rnd(5)) } : undefined;
          if (hs) model.hard = hs;
          writes.push(s.persist({ entries: batch, hardState: hs }));
        }
        await Promise.all(writes);
      } else if (op < 13 && model.last > model.snap) {
        const at = model.snap + 1 + rnd(model.last - model.snap);
        if (at >= first) {
          await s.createSnapshot(at, model.conf, enc.encode(`snap${at}`));
          model.snap = at;
        }
      } else if (op < 15 && model.snap > model.start.index) {
        const at = model.start.index + 1 + rnd(model.snap - model.start.index);
        await s.compact(at);
        model.start = { index: at, term: model.log.get(at)!.term };
        for (const i of [...model.log.keys()]) if (i <= at) model.log.delete(i);
      } else if (op === 15) {
        const index = model.last + 1 + rnd(20);
        term++;
        const conf = { voters: ['a', 'b', `n${step}`], learners: [] };
        const entries: Entry[] = rnd(2) ? [{ index: index + 1, term, type: 'normal', data: enc.encode(`after${index}`) }] : [];
        const hardState = { term, vote: 'a', commit: index };
        await s.persist({ snapshot: { metadata: { index, term, confState: conf }, data: enc.encode(`installed${index}`) }, entries, hardState });
        model.log.clear();
        for (const e of entries) model.log.set(e.index, e);
        model.start = { index, term };
        model.last = entries.length ? index + 1 : index;
        model.snap = index;
        model.conf = conf;
        model.hard = hardState;
      } else if (op === 16) {
        model.conf = { voters: ['a', 'b'], learners: [`l${step}`] };
        await s.setConfState(model.conf);
      } else {
        await closeWal(s);
        s = await openWal(dir, opts());
        check(`after reopen at step ${step}`);
      }
      check(`after step ${step} (op ${op})`);
    }
    await closeWal(s);
    s = await openWal(dir, opts());
    check('final reopen');
    await closeWal(s);
  }
});
