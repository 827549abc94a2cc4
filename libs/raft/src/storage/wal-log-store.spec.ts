import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfState, Entry, HardState } from '../core';
import { MemoryLogger } from '../transport/logger';
import { LogCorruptError, LogHoleError, StoreKindMismatchError } from './errors';
import { LmdbLogStore } from './lmdb-log-store';
import { crashWriter, ents, logStoreContract, useTempDirs } from './log-store.contract';
import { openLogStore } from './open-log-store';
import { encodeWalRecord, WAL_FRAME_HEADER_BYTES, WAL_FRAME_TRAILER, walFrameBytes, WalRecordType } from './wal-record-codec';
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

/** Logical end of a segment file: the offset after its last frame (walks the length fields up to an all-zero header or EOF). */
function logicalEnd(path: string): number {
  const b = readFileSync(path);
  let at = 0;
  while (at + WAL_FRAME_HEADER_BYTES <= b.length && !b.subarray(at, at + WAL_FRAME_HEADER_BYTES).equals(Buffer.alloc(WAL_FRAME_HEADER_BYTES))) {
    at += walFrameBytes(b.readUInt32LE(at));
  }
  return at;
}

/** Shrinks a (preallocated) segment to its logical end: the shape of a file written before segments were preallocated. */
function toOldStyle(path: string): number {
  const end = logicalEnd(path);
  truncateSync(path, end);
  return end;
}

/** Writes `bytes` at `offset` of `path` in place (no size change unless it runs past EOF). */
function pwrite(path: string, bytes: Buffer, offset: number): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
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
      const seg = s.segmentPaths[s.segmentPaths.length - 1];
      const before = logicalEnd(seg);
      const fileSize = statSync(seg).size;
      gate = new Promise<void>((r) => (release = r));
      const ack = s.append(ents(1, 3, 1)).then(() => events.push('ack'));
      for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setTimeout(r, 30));
      expect(events, flushMode).toEqual(['sync-start']);
      expect(logicalEnd(seg), flushMode).toBeGreaterThan(before); // written …
      expect(statSync(seg).size, flushMode).toBe(fileSize); // (inside the preallocated file)
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

  describe('preallocated segments (every write lands inside the file: fdatasync commits no size change)', () => {
    it('creates each segment segmentBytes long; writes do not change its size until a batch overflows it', async () => {
      const dir = tempDir();
      const s = await openWal(dir, { segmentBytes: 4096 });
      const [seg] = segmentFiles(dir);
      expect(statSync(seg).size).toBe(4096);
      await s.append(ents(1, 10, 1));
      await s.setHardState({ term: 1, vote: 'a', commit: 10 });
      expect(statSync(seg).size).toBe(4096);
      expect(logicalEnd(seg)).toBeGreaterThan(0);
      expect(logicalEnd(seg)).toBeLessThan(4096);
      // One batch larger than the space left: written into this segment, growing the file.
      const big: Entry[] = [{ index: 11, term: 1, type: 'normal', data: new Uint8Array(6000).fill(5) }];
      await s.append(big);
      expect(segmentFiles(dir)).toHaveLength(1);
      expect(statSync(seg).size).toBe(logicalEnd(seg));
      expect(statSync(seg).size).toBeGreaterThan(6000);
      await s.append(ents(12, 13, 1)); // rolls over: the new segment is preallocated too
      const segs = segmentFiles(dir);
      expect(segs).toHaveLength(2);
      expect(statSync(segs[1]).size).toBe(4096);
      await closeWal(s);
      const again = await openWal(dir, { segmentBytes: 4096 });
      expect(again.entries(1, 14)).toEqual([...ents(1, 10, 1), ...big, ...ents(12, 13, 1)]);
      expect(again.initialState().hardState.commit).toBe(10);
    });

    it('finds the logical end on reopen and appends there: nothing lost, nothing skipped', async () => {
      const dir = await storeWith20();
      const [seg] = segmentFiles(dir);
      const size = statSync(seg).size;
      const end = logicalEnd(seg);
      expect(size).toBe(64 * 1024 * 1024);
      let s = await openWal(dir);
      expect(s.entries(1, 21)).toEqual(ents(1, 20, 1));
      await s.append(ents(21, 25, 2));
      const record = encodeWalRecord(WalRecordType.Batch, { entries: ents(21, 25, 2) }).bytes;
      expect(readFileSync(seg).subarray(end, end + record.length).equals(record)).toBe(true); // right at the old logical end
      expect(logicalEnd(seg)).toBe(end + record.length);
      expect(statSync(seg).size).toBe(size);
      await closeWal(s);
      s = await openWal(dir);
      expect(s.entries(1, 26)).toEqual([...ents(1, 20, 1), ...ents(21, 25, 2)]);
      expect(s.initialState().hardState).toEqual({ term: 1, vote: 'a', commit: 20 });
    });

    it('replays a log whose active segment was preallocated by a larger segmentBytes and then rolled over by a smaller one', async () => {
      const dir = tempDir();
      let s = await openWal(dir, { segmentBytes: 8192 });
      await s.append(ents(1, 5, 1));
      await closeWal(s);
      s = await openWal(dir, { segmentBytes: 200 });
      for (let i = 6; i <= 30; i += 5) await s.append(ents(i, i + 4, 1));
      await closeWal(s);
      const segs = segmentFiles(dir);
      expect(segs.length).toBeGreaterThan(2);
      expect(statSync(segs[0]).size).toBe(8192); // zeros after its logical end: a clean end
      s = await openWal(dir, { segmentBytes: 200 });
      expect(s.entries(1, 31)).toEqual(ents(1, 30, 1));
    });
  });

  describe('torn tail (a write the crash interrupted was never acknowledged)', () => {
    it('zero-fills a record whose tail never reached a preallocated last segment, keeping every acknowledged entry', async () => {
      const dir = await storeWith20();
      const [seg] = segmentFiles(dir);
      const size = statSync(seg).size;
      const end = logicalEnd(seg);
      const unacked = encodeWalRecord(WalRecordType.Batch, { entries: ents(21, 30, 1) }).bytes;
      pwrite(seg, unacked.subarray(0, Math.floor(unacked.length * 0.6)), end); // header and part of the payload
      const logger = new MemoryLogger();
      const s = await openWal(dir, { logger });
      expect(s.lastIndex()).toBe(20);
      expect(s.entries(1, 21)).toEqual(ents(1, 20, 1));
      expect(s.initialState().hardState).toEqual({ term: 1, vote: 'a', commit: 20 });
      expect(logger.lines.find((l) => /torn/.test(l.msg))?.obj).toMatchObject({ path: seg, offset: end });
      const after = readFileSync(seg);
      expect(after.length).toBe(size);
      expect(after.subarray(end).equals(Buffer.alloc(size - end))).toBe(true); // the torn bytes are zero on disk
      await s.append(ents(21, 22, 2)); // the log keeps working after the cut
      await closeWal(s);
      const again = await openWal(dir);
      expect(again.entries(19, 23).map((e) => e.term)).toEqual([1, 1, 2, 2]);
      expect(again.initialState().hardState).toEqual({ term: 1, vote: 'a', commit: 20 });
    });

    it('zero-fills a newest record whose trailer byte is missing (payload ending in zeros, crc intact or not), keeping every acknowledged entry', async () => {
      const zeroEnding: Entry[] = [{ index: 21, term: 1, type: 'normal', data: new Uint8Array([7, 7, 7, 0, 0, 0, 0, 0]) }];
      const unacked = encodeWalRecord(WalRecordType.Batch, { entries: zeroEnding }).bytes;
      expect(unacked[unacked.length - 1]).toBe(WAL_FRAME_TRAILER);
      // Everything but the trailer (header, crc and payload all there), and cut inside the payload's zero tail.
      for (const written of [unacked.length - 1, unacked.length - 4]) {
        const dir = await storeWith20();
        const [seg] = segmentFiles(dir);
        const size = statSync(seg).size;
        const end = logicalEnd(seg);
        pwrite(seg, unacked.subarray(0, written), end);
        const logger = new MemoryLogger();
        const s = await openWal(dir, { logger });
        expect(s.lastIndex(), `written ${written}`).toBe(20);
        expect(s.entries(1, 21)).toEqual(ents(1, 20, 1));
        expect(s.initialState().hardState).toEqual({ term: 1, vote: 'a', commit: 20 });
        const warning = logger.lines.find((l) => /torn/.test(l.msg));
        expect(warning?.obj).toMatchObject({ path: seg, offset: end });
        expect(String((warning?.obj as { detail?: string }).detail)).toMatch(/no trailer byte/);
        const after = readFileSync(seg);
        expect(after.length).toBe(size);
        expect(after.subarray(end).equals(Buffer.alloc(size - end))).toBe(true);
        await s.append(ents(21, 22, 2));
        await closeWal(s);
        const again = await openWal(dir);
        expect(again.entries(20, 23).map((e) => e.term)).toEqual([1, 2, 2]);
        await closeWal(again);
      }
    });

    it('cuts a torn batch that was growing a preallocated segment past its end (truncated back to the logical end)', async () => {
      const dir = tempDir();
      const s = await openWal(dir, { segmentBytes: 4096 });
      await s.append(ents(1, 10, 1));
      await closeWal(s);
      const [seg] = segmentFiles(dir);
      const end = logicalEnd(seg);
      const unacked = encodeWalRecord(WalRecordType.Batch, { entries: [{ index: 11, term: 1, type: 'normal', data: new Uint8Array(6000).fill(9) }] }).bytes;
      pwrite(seg, unacked.subarray(0, 5000), end); // the write stopped at EOF, past the preallocated 4096 bytes
      expect(statSync(seg).size).toBe(end + 5000);
      const again = await openWal(dir, { segmentBytes: 4096 });
      expect(again.entries(1, 11)).toEqual(ents(1, 10, 1));
      expect(statSync(seg).size).toBe(end);
      await again.append(ents(11, 12, 2));
      await closeWal(again);
      expect((await openWal(dir, { segmentBytes: 4096 })).entries(10, 13).map((e) => e.term)).toEqual([1, 2, 2]);
    });

    it('old-style segment (EOF = logical end): truncates a half-written record at the end and keeps every earlier record', async () => {
      const dir = await storeWith20();
      const [seg] = segmentFiles(dir);
      const size = toOldStyle(seg);
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

    it('old-style segment: a zero-filled tail (file extended, data never written) is a clean logical end', async () => {
      const dir = await storeWith20();
      const [seg] = segmentFiles(dir);
      const end = toOldStyle(seg);
      appendFileSync(seg, Buffer.alloc(4096));
      const s = await openWal(dir);
      expect(s.entries(1, 21)).toEqual(ents(1, 20, 1));
      await s.append(ents(21, 21, 1));
      expect(logicalEnd(seg)).toBeGreaterThan(end);
      await closeWal(s);
      expect((await openWal(dir)).lastIndex()).toBe(21);
    });

    it('old-style segment: loses only the cut record when the file ends inside the last record', async () => {
      const dir = await storeWith20();
      const [seg] = segmentFiles(dir);
      truncateSync(seg, toOldStyle(seg) - 3); // inside the hard-state record
      const s = await openWal(dir);
      expect(s.lastIndex()).toBe(20);
      expect(s.initialState().hardState.commit).toBe(0);
    });

    it('removes a new segment whose header never reached the disk (crash during rollover), preallocated or empty', async () => {
      for (const bytes of [Buffer.alloc(0), Buffer.alloc(64 * 1024)]) {
        const dir = await storeWith20();
        writeFileSync(join(dir, 'wal', '0000000000000002-0000000000000015.wal'), bytes);
        const s = await openWal(dir);
        expect(s.entries(1, 21)).toEqual(ents(1, 20, 1));
        expect(segmentFiles(dir)).toHaveLength(1);
        await closeWal(s);
      }
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

    it('treats a complete, non-zero record with a bad crc at the very end as corruption, not as a torn tail (preallocated and old-style)', async () => {
      for (const oldStyle of [false, true]) {
        const dir = await storeWith20();
        const [seg] = segmentFiles(dir);
        if (oldStyle) toOldStyle(seg);
        const bytes = readFileSync(seg);
        const end = logicalEnd(seg);
        const lastRecord = end - encodeWalRecord(WalRecordType.Batch, { hardState: { term: 1, vote: 'a', commit: 20 } }).bytes.length;
        bytes[lastRecord + 5] ^= 0x10; // a bit of its crc
        writeFileSync(seg, bytes);
        const err = await WalLogStore.open({ dir }).catch((e: unknown) => e);
        expect(err, `oldStyle ${oldStyle}`).toBeInstanceOf(LogCorruptError);
        expect(err).toMatchObject({ path: seg, record: `offset ${lastRecord}` });
        expect(String(err)).toMatch(/crc32 mismatch/);
      }
    });

    it('treats a newest record whose payload ends in zero bytes and whose crc is bad as corruption (not a torn write)', async () => {
      for (const oldStyle of [false, true]) {
        const dir = await storeWith20();
        let s = await openWal(dir);
        const zeroEnding: Entry[] = [{ index: 21, term: 1, type: 'normal', data: new Uint8Array([1, 2, 3, 0, 0, 0, 0]) }];
        await s.append(zeroEnding); // acknowledged
        await closeWal(s);
        const [seg] = segmentFiles(dir);
        if (oldStyle) toOldStyle(seg);
        const end = logicalEnd(seg);
        const lastRecord = end - encodeWalRecord(WalRecordType.Batch, { entries: zeroEnding }).bytes.length;
        s = await openWal(dir);
        expect(s.entries(21, 22)).toEqual(zeroEnding); // intact, it replays
        await closeWal(s);
        const bytes = readFileSync(seg);
        bytes[lastRecord + 4] ^= 0x01; // bit rot in its crc
        writeFileSync(seg, bytes);
        const logger = new MemoryLogger();
        const err = await WalLogStore.open({ dir, logger }).catch((e: unknown) => e);
        expect(err, `oldStyle ${oldStyle}`).toBeInstanceOf(LogCorruptError);
        expect(err).toMatchObject({ path: seg, record: `offset ${lastRecord}` });
        expect(String(err)).toMatch(/crc32 mismatch/);
        expect(logger.lines.some((l) => /torn/.test(l.msg))).toBe(false);
        expect(readFileSync(seg).equals(bytes)).toBe(true); // nothing was repaired
      }
    });

    it('treats a trailer byte that is neither zero nor the trailer value as corruption (newest record and one in the middle)', async () => {
      for (const which of ['newest', 'middle'] as const) {
        const dir = await storeWith20();
        const [seg] = segmentFiles(dir);
        const end = logicalEnd(seg);
        const hsBytes = encodeWalRecord(WalRecordType.Batch, { hardState: { term: 1, vote: 'a', commit: 20 } }).bytes.length;
        const batchBytes = encodeWalRecord(WalRecordType.Batch, { entries: ents(11, 20, 1) }).bytes.length;
        const record = which === 'newest' ? end - hsBytes : end - hsBytes - batchBytes;
        const trailerAt = which === 'newest' ? end - 1 : end - hsBytes - 1;
        const bytes = readFileSync(seg);
        expect(bytes[trailerAt]).toBe(WAL_FRAME_TRAILER);
        bytes[trailerAt] = 0x5a;
        writeFileSync(seg, bytes);
        const err = await WalLogStore.open({ dir }).catch((e: unknown) => e);
        expect(err, which).toBeInstanceOf(LogCorruptError);
        expect(err).toMatchObject({ path: seg, record: `offset ${record}` });
        expect(String(err)).toMatch(/bad trailer byte 0x5a/);
        expect(readFileSync(seg).equals(bytes)).toBe(true);
      }
    });

    it('refuses a segment written in the format without trailers (instead of misreading its last record as torn)', async () => {
      const dir = tempDir();
      mkdirSync(join(dir, 'wal'), { recursive: true });
      // The old format: no trailer, bare type byte, crc over type + payload. One header record
      // followed by zeros: read as the trailer format its "trailer" would be a zero.
      const framed = encodeWalRecord(WalRecordType.SegmentHeader, { start: { index: 0, term: 0 }, snapshot: { index: 0, term: 0 }, hardState: { term: 3, vote: 'b', commit: 0 }, confState: { voters: ['a', 'b', 'c'], learners: [] } }).bytes;
      const old = Buffer.from(framed.subarray(0, framed.length - 1));
      old[8] = WalRecordType.SegmentHeader;
      old.writeUInt32LE(crc32(old.subarray(8)), 4);
      const seg = join(dir, 'wal', '0000000000000001-0000000000000001.wal');
      writeFileSync(seg, Buffer.concat([old, Buffer.alloc(4096)]));
      const err = await WalLogStore.open({ dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LogCorruptError);
      expect(err).toMatchObject({ path: seg, record: 'offset 0' });
      expect(String(err)).toMatch(/without trailers/);
      expect(readFileSync(seg).subarray(0, old.length).equals(old)).toBe(true); // left as it was
    });

    it('stops on non-zero bytes after the logical end of a segment that is not the last, naming file and offset', async () => {
      const dir = tempDir();
      let s = await openWal(dir, { segmentBytes: 8192 });
      await s.append(ents(1, 5, 1));
      await closeWal(s);
      s = await openWal(dir, { segmentBytes: 200 }); // rolls over at once: segment 1 keeps its zero tail
      for (let i = 6; i <= 30; i += 5) await s.append(ents(i, i + 4, 1));
      await closeWal(s);
      const [first] = segmentFiles(dir);
      const junkAt = logicalEnd(first) + 1000;
      pwrite(first, Buffer.from([0x5a]), junkAt);
      const err = await WalLogStore.open({ dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LogCorruptError);
      expect(err).toMatchObject({ path: first, record: `offset ${junkAt}` });
      expect((err as Error).message).toContain(first);
    });

    it('stops on non-zero bytes after the logical end of the last segment (after a zero frame header)', async () => {
      const dir = await storeWith20();
      const [seg] = segmentFiles(dir);
      const junkAt = logicalEnd(seg) + 4096;
      pwrite(seg, Buffer.from('junk'), junkAt);
      const err = await WalLogStore.open({ dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LogCorruptError);
      expect(err).toMatchObject({ path: seg, record: `offset ${junkAt}` });
    });

    it('stops on non-zero bytes after a torn record in the last segment (something later was written: not a torn tail)', async () => {
      const dir = await storeWith20();
      const [seg] = segmentFiles(dir);
      const end = logicalEnd(seg);
      const unacked = encodeWalRecord(WalRecordType.Batch, { entries: ents(21, 30, 1) }).bytes;
      pwrite(seg, unacked.subarray(0, Math.floor(unacked.length * 0.6)), end);
      pwrite(seg, Buffer.from([1]), end + unacked.length + 50);
      const err = await WalLogStore.open({ dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LogCorruptError);
      expect(err).toMatchObject({ path: seg, record: `offset ${end}` });
      expect(String(err)).toMatch(/non-zero bytes follow/);
      expect(readFileSync(seg).subarray(end, end + 9).equals(unacked.subarray(0, 9))).toBe(true); // nothing was repaired
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
