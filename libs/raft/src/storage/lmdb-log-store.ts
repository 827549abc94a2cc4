import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { CompactedError, SnapshotOutOfDateError, UnavailableError, type ConfState, type Entry, type HardState, type InitialState, type Snapshot } from '../core';
import { silentLogger, type RaftLogger } from '../transport/logger';
import { DataDirLock } from './data-dir-lock';
import { EntryTailCache, type EntryTailCacheLimits } from './entry-tail-cache';
import { AppendGapError, LogCorruptError, LogHoleError, SnapshotMissingError, StoreClosedError } from './errors';
import { assertEntriesInLog, assertTermInLog, type LogStore, type LogStoreStats, type PersistBatch } from './log-store';
import { decodeEntryValue, decodeIndexKey, decodeMetaValue, encodeEntryValue, encodeIndexKey, encodeMetaValue, entryValueTerm } from './log-record-codec';
import { SnapshotStore } from './snapshot-store';

export type { LogStoreStats, PersistBatch } from './log-store';

/** Where and how to open a {@link LmdbLogStore}. */
export interface LmdbLogStoreOptions {
  /** Data directory of the node; the store uses `<dir>/raft-log.mdb` and `<dir>/snapshots/`. */
  dir: string;
  /** Membership recorded when the store is brand new (never used once anything was persisted). */
  bootstrap?: ConfState;
  /** Snapshot files to keep. Default 3. */
  keepSnapshots?: number;
  /** Bounds of the in-memory copy of the newest entries (see {@link EntryTailCache}). Default 8192 entries / 16 MiB. */
  tailCache?: EntryTailCacheLimits;
  logger?: RaftLogger;
}

interface LogPosition {
  index: number;
  term: number;
}

interface PendingWrite {
  /** Runs inside the LMDB write transaction. */
  write(): void;
  /** Runs after the transaction committed: makes the write visible to readers. */
  publish(): void;
  resolve(): void;
  reject(err: Error): void;
}

const DEFAULT_TAIL_CACHE: EntryTailCacheLimits = { maxEntries: 8192, maxBytes: 16 * 1024 * 1024 };
const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };
const META = { hardState: 'hardState', confState: 'confState', logStart: 'logStart', snapshot: 'snapshot' } as const;

/**
 * Durable Raft log, hard state and snapshots: LMDB for the log (entries keyed by 8-byte
 * big-endian index, one transaction per batch, like hashicorp/raft-boltdb) and a
 * {@link SnapshotStore} for snapshot files. Implements the core's read-only {@link Storage}
 * and the host's writes.
 *
 * Durability invariant: a write's promise resolves only after its LMDB transaction committed
 * AND `flushed` resolved (the data reached the disk), never on commit alone. Concurrent
 * writes are group-committed: requests arriving while a flush is in progress share the next
 * transaction and its single flush.
 *
 * Visibility: readers (the core) see a write once its transaction committed; the core only
 * reads entries it has been told are stable, i.e. after the host awaited the write.
 *
 * One process per data directory: `open` takes `<dir>/LOCK` (see {@link DataDirLock}).
 *
 * Start-up checks (`open`): every entry's crc32 and the contiguity of the log from firstIndex
 * to lastIndex, the meta records' crc32, the presence and SHA-256 of the snapshot file the
 * log records, and that the commit index is covered by the log or snapshot. Any failure
 * throws a typed {@link StorageError} naming the file; nothing is truncated to "repair" it.
 * A crash mid-write needs no repair: LMDB transactions are atomic, so the log ends at the
 * last committed batch, and a half-written snapshot is a temp file removed at open.
 *
 * Layout of the log: `logStart` is the (index, term) just before `firstIndex()` — the last
 * compacted entry, or the installed snapshot's position. `term(firstIndex() - 1)` answers
 * from it.
 */
export class LmdbLogStore implements LogStore {
  private hard: HardState;
  private conf: ConfState;
  private start: LogPosition;
  private last: number;
  private snap: Snapshot;
  // Tentative positions include queued, not yet committed writes; used to validate new writes.
  private tentativeStart: LogPosition;
  private tentativeLast: number;
  private queue: PendingWrite[] = [];
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly counters: LogStoreStats = { writes: 0, flushes: 0, maxBatch: 0 };
  /** The newest stored entries, so the core's reads of what was just written skip LMDB. */
  private readonly tailCache: EntryTailCache;

  private constructor(
    private readonly root: RootDatabase,
    private readonly entriesDb: Database<Buffer, Buffer>,
    private readonly metaDb: Database<Buffer, string>,
    private readonly snapshots: SnapshotStore,
    private readonly lock: DataDirLock,
    readonly path: string,
    private readonly logger: RaftLogger,
    state: { hard: HardState; conf: ConfState; start: LogPosition; last: number; snap: Snapshot },
    tailCache: EntryTailCacheLimits,
  ) {
    this.tailCache = new EntryTailCache(tailCache);
    this.hard = state.hard;
    this.conf = state.conf;
    this.start = state.start;
    this.last = state.last;
    this.snap = state.snap;
    this.tentativeStart = { ...state.start };
    this.tentativeLast = state.last;
  }

  /** Opens (or creates) the store in `opts.dir`, running every start-up check. */
  static async open(opts: LmdbLogStoreOptions): Promise<LmdbLogStore> {
    const logger = opts.logger ?? silentLogger;
    await mkdir(opts.dir, { recursive: true });
    const lock = await DataDirLock.acquire(opts.dir);
    const path = join(opts.dir, 'raft-log.mdb');
    let root: RootDatabase;
    try {
      root = open({ path, maxDbs: 4 });
    } catch (err) {
      await lock.release();
      throw err;
    }
    try {
      const entriesDb = root.openDB<Buffer, Buffer>({ name: 'entries', keyEncoding: 'binary', encoding: 'binary' });
      const metaDb = root.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
      const snapshots = await SnapshotStore.open(join(opts.dir, 'snapshots'), { keep: opts.keepSnapshots, logger });
      const readMeta = <T>(key: string): T | undefined => {
        const raw = metaDb.get(key);
        if (raw === undefined) return undefined;
        const decoded = decodeMetaValue(raw);
        if (!decoded.ok) throw new LogCorruptError(path, key, decoded.problem);
        return decoded.value as T;
      };
      const fresh = metaDb.get(META.confState) === undefined && metaDb.get(META.logStart) === undefined;
      let hard = readMeta<HardState>(META.hardState) ?? EMPTY_HARD_STATE;
      let conf = readMeta<ConfState>(META.confState) ?? opts.bootstrap ?? { voters: [], learners: [] };
      let start = readMeta<LogPosition>(META.logStart) ?? { index: 0, term: 0 };
      const recordedSnap = readMeta<LogPosition>(META.snapshot) ?? { index: 0, term: 0 };

      // The log itself: crc of every entry and contiguity from start.index + 1.
      let last = start.index;
      for (const { key, value } of entriesDb.getRange({})) {
        const index = decodeIndexKey(key);
        if (index !== last + 1) throw new LogHoleError(path, last + 1, index);
        const decoded = decodeEntryValue(index, value);
        if (typeof decoded === 'string') throw new LogCorruptError(path, index, decoded);
        last = index;
      }
      const termAt = (i: number): number | undefined => {
        if (i === start.index) return start.term;
        if (i < start.index || i > last) return undefined;
        const raw = entriesDb.get(encodeIndexKey(i));
        return raw === undefined ? undefined : entryValueTerm(raw);
      };

      // Snapshot: the recorded one must exist and verify; a newer file (crash between saving
      // the file and recording it) is adopted.
      let snap: Snapshot = { metadata: { index: 0, term: 0, confState: conf }, data: new Uint8Array(0) };
      const files = await snapshots.list();
      if (recordedSnap.index > 0 && !files.some((f) => f.index === recordedSnap.index && f.term === recordedSnap.term)) {
        throw new SnapshotMissingError(snapshots.pathFor(recordedSnap.index, recordedSnap.term), recordedSnap.index);
      }
      const newest = files[0];
      let adopted = false;
      if (newest && newest.index >= recordedSnap.index && newest.index > 0) {
        snap = await snapshots.load(newest.path);
        adopted = newest.index > recordedSnap.index;
      }
      if (adopted) {
        const { index, term } = snap.metadata;
        logger.warn({ path: snapshots.pathFor(index, term) }, 'log store: adopting a snapshot saved before a crash');
        const matches = termAt(index) === term;
        root.transactionSync(() => {
          if (!matches) {
            for (const key of entriesDb.getKeys({})) entriesDb.removeSync(key);
            start = { index, term };
            last = index;
            conf = snap.metadata.confState;
            metaDb.putSync(META.logStart, encodeMetaValue(start));
            metaDb.putSync(META.confState, encodeMetaValue(conf));
          }
          if (hard.commit < index) {
            hard = { ...hard, commit: index };
            metaDb.putSync(META.hardState, encodeMetaValue(hard));
          }
          metaDb.putSync(META.snapshot, encodeMetaValue({ index, term }));
        });
      }
      if (hard.commit > Math.max(last, snap.metadata.index)) {
        throw new LogCorruptError(path, META.hardState, `commit index ${hard.commit} is beyond the last stored index ${last}: committed entries are missing`);
      }
      if (fresh && opts.bootstrap) {
        root.transactionSync(() => metaDb.putSync(META.confState, encodeMetaValue(opts.bootstrap)));
        if (snap.metadata.index === 0) snap = { metadata: { index: 0, term: 0, confState: opts.bootstrap }, data: snap.data };
      }
      return new LmdbLogStore(root, entriesDb, metaDb, snapshots, lock, path, logger, { hard, conf, start, last, snap }, opts.tailCache ?? DEFAULT_TAIL_CACHE);
    } catch (err) {
      await root.close();
      await lock.release();
      throw err;
    }
  }

  // ---- Storage (read-only view for the core) -------------------------------------------

  initialState(): InitialState {
    return { hardState: this.hard, confState: this.conf };
  }

  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    this.assertOpen();
    assertEntriesInLog(lo, hi, this.start.index, this.last);
    const cached = this.tailCache.range(lo, hi, maxBytes);
    if (cached) return cached;
    const out: Entry[] = [];
    let size = 0;
    let expected = lo;
    for (const { key, value } of this.entriesDb.getRange({ start: encodeIndexKey(lo), end: encodeIndexKey(hi) })) {
      const index = decodeIndexKey(key);
      if (index !== expected) throw new LogHoleError(this.path, expected, index);
      const entry = decodeEntryValue(index, value);
      if (typeof entry === 'string') throw new LogCorruptError(this.path, index, entry);
      size += entry.data.byteLength;
      if (maxBytes !== undefined && out.length > 0 && size > maxBytes) break;
      out.push(entry);
      expected++;
    }
    if (out.length === 0 && lo < hi) throw new LogHoleError(this.path, lo, null);
    if (maxBytes === undefined && expected !== hi) throw new LogHoleError(this.path, expected, null);
    return out;
  }

  term(i: number): number {
    this.assertOpen();
    if (i === this.start.index) return this.start.term;
    assertTermInLog(i, this.start.index, this.last);
    const cached = this.tailCache.get(i);
    if (cached) return cached.term;
    const raw = this.entriesDb.get(encodeIndexKey(i));
    if (raw === undefined) throw new LogHoleError(this.path, i, null);
    return entryValueTerm(raw);
  }

  firstIndex(): number {
    return this.start.index + 1;
  }

  lastIndex(): number {
    return this.last;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  // ---- Host writes: each resolves only once flushed to disk ------------------------------

  /**
   * Persists what one Ready asks for — snapshot, then entries, then hard state — with one
   * LMDB transaction and one flush (the snapshot file is saved and fsynced first).
   */
  async persist(batch: PersistBatch): Promise<void> {
    if (batch.snapshot) await this.applySnapshot(batch.snapshot, batch.entries ?? [], batch.hardState);
    else await this.enqueue([...this.appendWrites(batch.entries ?? []), ...(batch.hardState ? [this.hardStateWrite(batch.hardState)] : [])]);
  }

  /**
   * Appends entries; an entry at an index already present replaces it and every later
   * entry (a new leader overwrote a conflicting suffix). Entries at or below the log start
   * are ignored. Throws {@link AppendGapError} if the entries would leave a gap.
   */
  async append(entries: readonly Entry[]): Promise<void> {
    await this.enqueue(this.appendWrites(entries));
  }

  async setHardState(hardState: HardState): Promise<void> {
    await this.enqueue([this.hardStateWrite(hardState)]);
  }

  /** Records the membership after a conf-change entry was applied, for `initialState()` after restart. */
  async setConfState(confState: ConfState): Promise<void> {
    const value = encodeMetaValue(confState);
    await this.enqueue([{ write: () => this.metaDb.putSync(META.confState, value), publish: () => (this.conf = confState) }]);
  }

  /**
   * Installs a snapshot received from the leader: saves its file durably, then discards the
   * whole log (etcd semantics; the core only sends this Ready when its log does not contain
   * the snapshot's last entry) and records the snapshot as the log start. `entries` and
   * `hardState` of the same Ready follow in the same transaction.
   */
  async applySnapshot(snapshot: Snapshot, entries: readonly Entry[] = [], hardState?: HardState): Promise<void> {
    this.assertOpen();
    const { index, term, confState } = snapshot.metadata;
    if (index < this.snap.metadata.index) throw new SnapshotOutOfDateError(index, this.snap.metadata.index);
    await this.snapshots.save(snapshot);
    const dropFrom = this.tentativeStart.index + 1;
    const dropTo = this.tentativeLast;
    this.tentativeStart = { index, term };
    this.tentativeLast = index;
    const install: Omit<PendingWrite, 'resolve' | 'reject'> = {
      write: () => {
        for (let i = dropFrom; i <= dropTo; i++) this.entriesDb.removeSync(encodeIndexKey(i));
        this.metaDb.putSync(META.logStart, encodeMetaValue({ index, term }));
        this.metaDb.putSync(META.snapshot, encodeMetaValue({ index, term }));
        this.metaDb.putSync(META.confState, encodeMetaValue(confState));
      },
      publish: () => {
        this.start = { index, term };
        this.last = index;
        this.snap = snapshot;
        this.conf = confState;
        this.tailCache.clear();
      },
    };
    const commit = Math.max(hardState?.commit ?? this.hard.commit, index);
    const hs: HardState = { ...(hardState ?? this.hard), commit };
    await this.enqueue([install, ...this.appendWrites(entries), this.hardStateWrite(hs)]);
  }

  /**
   * Saves a snapshot of the local state machine at `index` (≤ the applied index — the
   * caller's responsibility) and records it. Does not compact; see {@link compact}.
   */
  async createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    this.assertOpen();
    if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError(index, this.snap.metadata.index);
    const snapshot: Snapshot = { metadata: { index, term: this.term(index), confState }, data };
    await this.snapshots.save(snapshot);
    const value = encodeMetaValue({ index, term: snapshot.metadata.term });
    await this.enqueue([
      {
        write: () => this.metaDb.putSync(META.snapshot, value),
        publish: () => {
          if (index > this.snap.metadata.index) this.snap = snapshot;
        },
      },
    ]);
    return snapshot;
  }

  /**
   * Discards entries up to and including `compactIndex`, which the latest snapshot must cover.
   * Afterwards `firstIndex() = compactIndex + 1` and `term(compactIndex)` still answers.
   */
  async compact(compactIndex: number): Promise<void> {
    this.assertOpen();
    if (compactIndex <= this.tentativeStart.index) throw new CompactedError(compactIndex, this.tentativeStart.index + 1);
    if (compactIndex > this.tentativeLast) throw new UnavailableError(compactIndex, this.tentativeLast);
    if (compactIndex > this.snap.metadata.index) {
      throw new UnavailableError(compactIndex, this.snap.metadata.index);
    }
    const term = this.term(compactIndex);
    const from = this.tentativeStart.index + 1;
    this.tentativeStart = { index: compactIndex, term };
    // Readers see the compaction at once: what is about to be removed must not be read.
    this.start = { index: compactIndex, term };
    this.tailCache.dropThrough(compactIndex);
    await this.enqueue([
      {
        write: () => {
          for (let i = from; i <= compactIndex; i++) this.entriesDb.removeSync(encodeIndexKey(i));
          this.metaDb.putSync(META.logStart, encodeMetaValue({ index: compactIndex, term }));
        },
        // An append queued before this compaction may have re-cached compacted entries.
        publish: () => this.tailCache.dropThrough(compactIndex),
      },
    ]);
  }

  stats(): LogStoreStats {
    return { ...this.counters };
  }

  /** The LMDB environment, for diagnostics and for tests that instrument its `flushed` promise. */
  get environment(): RootDatabase {
    return this.root;
  }

  /** Directory holding the snapshot files. */
  get snapshotDir(): string {
    return this.snapshots.dir;
  }

  /** Waits for queued writes, then closes LMDB. Later calls throw {@link StoreClosedError}. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.running) await this.running;
    this.closed = true;
    await this.root.close();
    await this.lock.release();
  }

  // ---- internals --------------------------------------------------------------------------

  private appendWrites(entries: readonly Entry[]): Omit<PendingWrite, 'resolve' | 'reject'>[] {
    this.assertOpen();
    if (entries.length === 0) return [];
    const fresh = entries[0].index <= this.tentativeStart.index ? entries.filter((e) => e.index > this.tentativeStart.index) : entries;
    if (fresh.length === 0) return [];
    const first = fresh[0].index;
    if (first > this.tentativeLast + 1) throw new AppendGapError(this.path, first, this.tentativeLast);
    const newLast = fresh[fresh.length - 1].index;
    const staleTo = this.tentativeLast;
    this.tentativeLast = newLast;
    const encoded = fresh.map((e) => [encodeIndexKey(e.index), encodeEntryValue(e)] as const);
    return [
      {
        write: () => {
          for (const [key, value] of encoded) this.entriesDb.putSync(key, value);
          for (let i = newLast + 1; i <= staleTo; i++) this.entriesDb.removeSync(encodeIndexKey(i));
        },
        publish: () => {
          this.last = newLast;
          this.tailCache.put(fresh);
        },
      },
    ];
  }

  private hardStateWrite(hardState: HardState): Omit<PendingWrite, 'resolve' | 'reject'> {
    const value = encodeMetaValue(hardState);
    return { write: () => this.metaDb.putSync(META.hardState, value), publish: () => (this.hard = hardState) };
  }

  private enqueue(writes: Omit<PendingWrite, 'resolve' | 'reject'>[]): Promise<void> {
    this.assertOpen();
    return new Promise<void>((resolve, reject) => {
      const merged: PendingWrite = {
        write: () => writes.forEach((w) => w.write()),
        publish: () => writes.forEach((w) => w.publish()),
        resolve,
        reject,
      };
      this.queue.push(merged);
      if (!this.running) this.running = this.drain();
    });
  }

  /** Group commit: everything queued goes into one transaction and one flush. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.root.transaction(() => {
          for (const w of batch) w.write();
        });
        for (const w of batch) w.publish();
        await this.root.flushed;
        this.counters.flushes++;
        this.counters.writes += batch.length;
        this.counters.maxBatch = Math.max(this.counters.maxBatch, batch.length);
        for (const w of batch) w.resolve();
      } catch (err) {
        this.logger.error({ path: this.path, err: (err as Error).message }, 'log store: write failed');
        for (const w of batch) w.reject(err as Error);
      }
    }
    this.running = undefined;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError(this.path);
  }
}
