import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CompactedError, UnavailableError, type ConfState, type Entry } from '../core';
import { DataDirLockedError } from './data-dir-lock';
import type { EntryTailCacheLimits } from './entry-tail-cache';
import { AppendGapError, SnapshotCorruptError, SnapshotMissingError } from './errors';
import type { LogStore } from './log-store';
import { SnapshotStore } from './snapshot-store';

/** How the contract suite opens one store kind. */
export interface LogStoreFactory {
  /** Label in test names. */
  name: string;
  /** Argument of crash-writer.harness.ts selecting the store (and its options). */
  harnessArgs: string[];
  open(opts: { dir: string; bootstrap?: ConfState; tailCache?: EntryTailCacheLimits }): Promise<LogStore>;
}

const enc = new TextEncoder();

/** Entries from..to in `term` with recognisable payloads (every 7th a conf-change). */
export function ents(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push({ index: i, term, type: i % 7 === 0 ? 'conf-change' : 'normal', data: enc.encode(`e${i}t${term}`) });
  return out;
}

/** A fresh temporary directory, removed after the test. */
export function useTempDirs(): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), 'flotilla-log-'));
    dirs.push(d);
    return d;
  };
}

/** Spawns the crash writer, kills it with SIGKILL after ≥ `minAcked` acknowledged entries; returns the highest acknowledged index. */
export async function crashWriter(dir: string, harnessArgs: string[], minAcked = 3000): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'crash-writer.harness.ts'), dir, ...harnessArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let acked = 0;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/acked (\d+)/g)) acked = Math.max(acked, Number(m[1]));
      if (acked >= minAcked) resolve();
    });
    child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  return acked;
}

/**
 * The behaviour every {@link LogStore} must show, run by each store's spec against real
 * temporary directories.
 */
export function logStoreContract(f: LogStoreFactory): void {
  describe(`LogStore contract: ${f.name}`, () => {
    const tempDir = useTempDirs();
    const stores: LogStore[] = [];
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
    });

    async function openStore(dir: string, bootstrap: ConfState | undefined = { voters: ['a', 'b', 'c'], learners: [] }, tailCache?: EntryTailCacheLimits): Promise<LogStore> {
      const s = await f.open({ dir, bootstrap, tailCache });
      stores.push(s);
      return s;
    }

    async function reopen(store: LogStore, dir: string): Promise<LogStore> {
      await store.close();
      stores.splice(stores.indexOf(store), 1);
      return openStore(dir);
    }

    it('persists entries, hard state and membership across reopen', async () => {
      const dir = tempDir();
      let s = await openStore(dir);
      expect(s.firstIndex()).toBe(1);
      expect(s.lastIndex()).toBe(0);
      expect(s.term(0)).toBe(0);
      await s.append(ents(1, 20, 1));
      await s.setHardState({ term: 2, vote: 'b', commit: 15 });
      await s.setConfState({ voters: ['a', 'b'], learners: ['d'] });
      s = await reopen(s, dir);
      expect(s.initialState()).toEqual({ hardState: { term: 2, vote: 'b', commit: 15 }, confState: { voters: ['a', 'b'], learners: ['d'] } });
      expect(s.lastIndex()).toBe(20);
      expect(s.entries(3, 6)).toEqual(ents(3, 5, 1));
      expect(s.term(20)).toBe(1);
      expect(() => s.term(21)).toThrow(UnavailableError);
      expect(() => s.entries(5, 22)).toThrow(UnavailableError);
    });

    it('persists one Ready (entries + hard state) atomically and keeps a null vote', async () => {
      const dir = tempDir();
      let s = await openStore(dir);
      await s.persist({ entries: ents(1, 3, 5), hardState: { term: 5, vote: null, commit: 2 } });
      s = await reopen(s, dir);
      expect(s.initialState().hardState).toEqual({ term: 5, vote: null, commit: 2 });
      expect(s.entries(1, 4)).toEqual(ents(1, 3, 5));
    });

    it('limits entries by maxBytes but always returns at least one', async () => {
      const s = await openStore(tempDir());
      await s.append(ents(1, 10, 1));
      expect(s.entries(1, 11, 0)).toHaveLength(1);
      expect(s.entries(1, 11, 8)).toHaveLength(2); // "e1t1" + "e2t1" = 8 bytes
      expect(s.entries(1, 11, 1e9)).toHaveLength(10);
    });

    it('replaces a conflicting suffix and refuses gaps', async () => {
      const dir = tempDir();
      let s = await openStore(dir);
      await s.append(ents(1, 10, 1));
      await s.append(ents(6, 7, 2));
      expect(s.lastIndex()).toBe(7);
      expect(s.term(5)).toBe(1);
      expect(s.term(6)).toBe(2);
      await expect(s.append(ents(9, 9, 2))).rejects.toThrow(AppendGapError);
      s = await reopen(s, dir);
      expect(s.lastIndex()).toBe(7);
      expect(s.entries(1, 8).map((e) => e.term)).toEqual([1, 1, 1, 1, 1, 2, 2]);
    });

    it('group-commits concurrent writes: one flush covers many requests', async () => {
      const dir = tempDir();
      let s = await openStore(dir);
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 100; i++) writes.push(s.append(ents(i * 10 + 1, i * 10 + 10, 1)));
      writes.push(s.setHardState({ term: 1, vote: 'a', commit: 1000 }));
      await Promise.all(writes);
      const stats = s.stats();
      expect(stats.writes).toBe(101);
      expect(stats.flushes).toBeLessThan(101);
      expect(stats.maxBatch).toBeGreaterThan(1);
      s = await reopen(s, dir);
      expect(s.lastIndex()).toBe(1000);
      expect(s.entries(1, 1001)).toEqual(ents(1, 1000, 1));
    });

    it('creates a snapshot, compacts below it and keeps answering term(firstIndex - 1)', async () => {
      const dir = tempDir();
      let s = await openStore(dir);
      await s.append(ents(1, 50, 3));
      const snap = await s.createSnapshot(40, { voters: ['a', 'b', 'c'], learners: [] }, enc.encode('state@40'));
      expect(snap.metadata).toMatchObject({ index: 40, term: 3 });
      await expect(s.compact(41)).rejects.toThrow(UnavailableError); // not covered by a snapshot
      await s.compact(30);
      expect(s.firstIndex()).toBe(31);
      expect(s.term(30)).toBe(3);
      expect(() => s.entries(29, 32)).toThrow(CompactedError);
      expect(() => s.term(29)).toThrow(CompactedError);
      s = await reopen(s, dir);
      expect(s.firstIndex()).toBe(31);
      expect(s.lastIndex()).toBe(50);
      expect(new TextDecoder().decode(s.snapshot().data)).toBe('state@40');
      expect(s.snapshot().metadata.index).toBe(40);
      expect(s.entries(31, 51)).toEqual(ents(31, 50, 3));
    });

    it('installs a leader snapshot: discards the log and raises commit', async () => {
      const dir = tempDir();
      let s = await openStore(dir);
      await s.append(ents(1, 10, 1));
      await s.setHardState({ term: 4, vote: 'a', commit: 5 });
      await s.persist({
        snapshot: { metadata: { index: 100, term: 4, confState: { voters: ['a', 'b', 'c', 'd'], learners: [] } }, data: enc.encode('big state') },
        entries: ents(101, 102, 4),
        hardState: { term: 4, vote: 'a', commit: 100 },
      });
      expect(s.firstIndex()).toBe(101);
      expect(s.lastIndex()).toBe(102);
      s = await reopen(s, dir);
      expect(s.firstIndex()).toBe(101);
      expect(s.lastIndex()).toBe(102);
      expect(s.term(100)).toBe(4);
      expect(s.initialState()).toEqual({ hardState: { term: 4, vote: 'a', commit: 100 }, confState: { voters: ['a', 'b', 'c', 'd'], learners: [] } });
      expect(new TextDecoder().decode(s.snapshot().data)).toBe('big state');
    });

    it('adopts a snapshot file that was saved but never recorded (crash in between)', async () => {
      const dir = tempDir();
      const s = await openStore(dir);
      await s.append(ents(1, 10, 2));
      await s.setHardState({ term: 2, vote: 'a', commit: 6 });
      await s.close();
      stores.splice(stores.indexOf(s), 1);
      const files = await SnapshotStore.open(join(dir, 'snapshots'));
      await files.save({ metadata: { index: 8, term: 2, confState: { voters: ['a'], learners: [] } }, data: enc.encode('unrecorded') });
      let again = await openStore(dir);
      expect(again.snapshot().metadata.index).toBe(8);
      expect(again.initialState().hardState.commit).toBe(8);
      expect(again.lastIndex()).toBe(10); // the log matches the snapshot: kept
      again = await reopen(again, dir);
      expect(again.snapshot().metadata.index).toBe(8);
      expect(again.entries(1, 11)).toEqual(ents(1, 10, 2));
    });

    it('refuses a second opener of the same data directory, and takes over the lock of a dead process', async () => {
      const dir = tempDir();
      const s = await openStore(dir);
      await expect(f.open({ dir })).rejects.toBeInstanceOf(DataDirLockedError);
      await s.close();
      stores.splice(stores.indexOf(s), 1);
      writeFileSync(join(dir, 'LOCK'), '999999999'); // a pid that cannot be alive
      const again = await openStore(dir);
      expect(again.lastIndex()).toBe(0);
      await again.close();
      stores.splice(stores.indexOf(again), 1);
      writeFileSync(join(dir, 'LOCK'), String(process.pid)); // an earlier incarnation with our pid (containers: pid 1)
      await openStore(dir);
    });

    it('serves the same entries and terms from its tail cache as from disk (seeded appends, overwrites, compactions, reopen)', async () => {
      const seed = Number(process.env.SEED ?? 0x5eed) >>> 0;
      let x = seed;
      const rnd = (n: number): number => {
        x = (x * 1103515245 + 12345) >>> 0;
        return (x >>> 8) % n;
      };
      const dir = tempDir();
      // A 3-entry cache: most reads straddle its edge, so both paths and their joins are used.
      const cached = await openStore(dir, { voters: ['a'], learners: [] }, { maxEntries: 3, maxBytes: 1 << 20 });
      const model = new Map<number, Entry>();
      let term = 1;
      let snapIndex = 0;
      const check = (s: LogStore): void => {
        const first = s.firstIndex();
        const last = s.lastIndex();
        for (let lo = first; lo <= last; lo++) {
          expect(s.entries(lo, last + 1), `seed ${seed}: entries(${lo}, ${last + 1})`).toEqual([...Array(last + 1 - lo).keys()].map((k) => model.get(lo + k)));
          expect(s.entries(lo, last + 1, 12).length, `seed ${seed}`).toBe(Math.max(1, Math.min(last + 1 - lo, Math.floor(12 / 6))));
          expect(s.term(lo), `seed ${seed}: term(${lo})`).toBe(model.get(lo)!.term);
        }
      };
      for (let step = 0; step < 40; step++) {
        const first = cached.firstIndex();
        const last = cached.lastIndex();
        if (rnd(6) === 0 && last - first > 4) {
          const at = first + rnd(last - first - 2);
          if (at > snapIndex) {
            await cached.createSnapshot(at, { voters: ['a'], learners: [] }, new Uint8Array([1]));
            snapIndex = at;
          }
          await cached.compact(Math.min(at, snapIndex));
        } else {
          const from = Math.max(first, last + 1 - rnd(4));
          term++;
          const batch: Entry[] = [];
          for (let i = from; i < from + 1 + rnd(5); i++) batch.push({ index: i, term, type: 'normal', data: enc.encode(`e${String(i).padStart(3, '0')}${String(term).padStart(2, '0')}`) });
          for (let i = from; i <= last; i++) model.delete(i);
          for (const e of batch) model.set(e.index, e);
          await cached.append(batch);
        }
        check(cached);
      }
      const reopened = await reopen(cached, dir); // empty cache: every read from disk
      check(reopened);
    });

    describe('start-up checks', () => {
      it('stops with a SnapshotCorruptError naming the snapshot file on a checksum mismatch', async () => {
        const dir = tempDir();
        const s = await f.open({ dir });
        await s.append(ents(1, 10, 1));
        await s.createSnapshot(8, { voters: ['a'], learners: [] }, enc.encode('snapshot payload'));
        await s.close();
        const snapDir = join(dir, 'snapshots');
        const [file] = readdirSync(snapDir);
        const bytes = readFileSync(join(snapDir, file));
        bytes[20] ^= 0xff;
        writeFileSync(join(snapDir, file), bytes);
        const err = await f.open({ dir }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SnapshotCorruptError);
        expect((err as SnapshotCorruptError).path).toBe(join(snapDir, file));
      });

      it('stops with a SnapshotMissingError when the recorded snapshot file is gone', async () => {
        const dir = tempDir();
        const s = await f.open({ dir });
        await s.append(ents(1, 10, 1));
        await s.createSnapshot(8, { voters: ['a'], learners: [] }, enc.encode('x'));
        await s.close();
        const snapDir = join(dir, 'snapshots');
        for (const file of readdirSync(snapDir)) rmSync(join(snapDir, file));
        await expect(f.open({ dir })).rejects.toBeInstanceOf(SnapshotMissingError);
      });

      it('recovers from a kill -9 in the middle of a write stream: every acknowledged entry survives, the log is contiguous', async () => {
        const dir = tempDir();
        const acked = await crashWriter(dir, f.harnessArgs);
        const s = await openStore(dir);
        expect(s.lastIndex()).toBeGreaterThanOrEqual(acked);
        const all = s.entries(1, s.lastIndex() + 1);
        all.forEach((e, i) => {
          expect(e.index).toBe(i + 1);
          expect(new TextDecoder().decode(e.data)).toBe(`entry-${e.index}-${'x'.repeat(e.index % 97)}`);
        });
      });
    });
  });
}
