import { existsSync, fdatasync, fdatasyncSync, unlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CompactedError, SnapshotOutOfDateError, UnavailableError, type ConfState, type Entry, type HardState, type InitialState, type Snapshot } from '../core';
import { silentLogger, type RaftLogger } from '../transport/logger';
import { DataDirLock } from './data-dir-lock';
import { EntryTailCache, type EntryTailCacheLimits } from './entry-tail-cache';
import { AppendGapError, LogCorruptError, LogHoleError, SnapshotMissingError, StoreClosedError, StoreKindMismatchError } from './errors';
import { fsyncDirectory } from './fsync';
import { assertEntriesInLog, assertTermInLog, type LogStore, type LogStoreOptions, type LogStoreStats, type PersistBatch } from './log-store';
import { SnapshotStore } from './snapshot-store';
import { WalIndex } from './wal-index';
import { encodeWalRecord, entryTypeByte, entryTypeOf, WalRecordType, type EncodedWalRecord, type WalRecordFields } from './wal-record-codec';
import { advance, headerFields, replayWal, writeAllSync, type WalLogState } from './wal-replay';
import { WalSegment } from './wal-segment';

/**
 * How a flush reaches the disk. Both write the batch with one `writeSync` (a copy into the page
 * cache). `threadpool`: `fdatasync` runs on libuv's threadpool, the event loop keeps serving
 * meanwhile; writes queued during it share the next flush. `inline`: `fdatasyncSync` on the
 * main thread, scheduled with `setImmediate` so that a burst of writes from one event-loop
 * turn shares one flush (no thread hop, but the loop stalls for each fdatasync).
 */
export type WalFlushMode = 'threadpool' | 'inline';

/** Where and how to open a {@link WalLogStore}. */
export interface WalLogStoreOptions extends LogStoreOptions {
  /** A segment is closed and a new one started once it holds this many bytes. Default 64 MiB. */
  segmentBytes?: number;
  /** Default 'threadpool'. */
  flushMode?: WalFlushMode;
  /**
   * Makes the written bytes of `fd` durable; default `fdatasync`. A test hook: a write is
   * acknowledged only after this returned (or its promise resolved).
   */
  sync?: (fd: number) => void | Promise<void>;
}

interface Position {
  index: number;
  term: number;
}

/** One write request: at most one record, made durable and visible as a unit. */
interface PendingWrite {
  type: WalRecordType;
  fields: WalRecordFields;
  encoded: EncodedWalRecord | undefined;
  /** Extra in-memory effects once durable (e.g. the snapshot object). */
  publish?: () => void;
  resolve(): void;
  reject(err: Error): void;
}

const DEFAULT_TAIL_CACHE: EntryTailCacheLimits = { maxEntries: 8192, maxBytes: 16 * 1024 * 1024 };
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const fdatasyncAsync = promisify(fdatasync);

/**
 * Durable Raft log as an append-only write-ahead log (etcd's wal design): numbered segment
 * files under `<dir>/wal/`, one crc32-framed record per write request, one `fdatasync` per
 * group-committed batch of records; snapshots in `<dir>/snapshots/` via {@link SnapshotStore}.
 * Reads come from an in-memory {@link WalIndex} (term, type and file position of every
 * retained entry) plus the {@link EntryTailCache}; a cache miss is one positional read.
 *
 * Durability invariant: a write's promise resolves only after the bytes of its record were
 * written AND the `sync` (fdatasync) covering them returned — and, when the flush created or
 * deleted a segment, after the directory was fsynced. Writes become visible to readers at the
 * same moment, never earlier. A failed write or sync rejects every write of its batch and
 * every later one: the file's state is then unknown (fsyncgate), the node must stop.
 *
 * Group commit: every write request (persist, append, setHardState, …) enqueues exactly one
 * record; a flush writes all queued records with one `write` and one `sync`, then resolves
 * them all. A record is atomic on replay, so each request is all-or-nothing after a crash.
 *
 * Overwrite: a record whose first entry index is ≤ the current last index replaces that
 * suffix (a Raft conflict), on the live log and identically on replay.
 *
 * Segments: `<seq>-<firstIndex>.wal` (16 hex digits each, so lexical order = write order).
 * Each starts with a SegmentHeader record repeating hard state, membership, log start and the
 * recorded snapshot, so older segments can be deleted: `compact(i)` deletes every segment all
 * of whose live entries are ≤ i (never the active one) and fsyncs the directory. A segment is
 * rolled over when its logical size reaches `segmentBytes`.
 *
 * Preallocation: a new segment is extended to `segmentBytes` (sparse `ftruncate`) before its
 * header is written, so appends overwrite zeros inside the file and an `fdatasync` never has to
 * commit a size change (measured: lower fdatasync latency; etcd does the same). The file size is
 * then not the end of the data: each segment's LOGICAL end (`WalSegment.size`, where the next
 * record goes) is the first all-zero frame header, and every byte after it is zero. A batch
 * larger than the space left simply grows the file.
 *
 * Start-up (`open`) replays the segments in order and verifies every record's crc32 and that
 * the bytes after each segment's logical end are zero. Every record ends in a fixed non-zero
 * trailer byte (0xA5, after the payload; see wal-record-codec.ts): a record whose span fits in
 * the file and ends in it is complete, whatever its payload ends with.
 * Torn-tail rule (LAST segment only): a record that runs past EOF, or whose trailer is missing
 * (zero) while everything after it is zero (the write stopped part-way), was never
 * acknowledged (its sync never returned): it is cut — the file truncated or those bytes
 * zero-filled — with a warning, and the log ends at the last good record. Anything else — a
 * complete record failing its crc, a trailer byte that is neither 0 nor 0xA5, non-zero bytes
 * after a torn record or after a logical end, a bad record in an earlier segment, a missing
 * segment — throws {@link LogCorruptError}
 * naming the file and offset (see `replayWal`); entries not contiguous
 * from the log start throw {@link LogHoleError}; a commit index beyond the log and snapshot
 * throws {@link LogCorruptError}; a recorded snapshot without its file throws
 * {@link SnapshotMissingError}; a newer snapshot file (crash between saving and recording it)
 * is adopted. Acknowledged data is never dropped silently.
 *
 * One process per data directory (`<dir>/LOCK`, {@link DataDirLock}); a directory holding an
 * LMDB log (`raft-log.mdb`) is refused with {@link StoreKindMismatchError}.
 */
export class WalLogStore implements LogStore {
  private hard: HardState;
  private conf: ConfState;
  private start: Position;
  private last: number;
  private snap: Snapshot;
  /** Positions including queued, not yet durable writes; used to validate new writes. */
  private tentativeStart: Position;
  private tentativeLast: number;
  /** State as of the end of the last record handed to the disk: what a new segment header repeats. */
  private readonly written: WalLogState;
  private queue: PendingWrite[] = [];
  private running: Promise<void> | undefined;
  private closed = false;
  private broken: Error | undefined;
  private readonly counters: LogStoreStats = { writes: 0, flushes: 0, maxBatch: 0 };
  private readonly tailCache: EntryTailCache;
  private readonly segmentBytes: number;
  private inline: boolean;
  private readonly syncFn: ((fd: number) => void | Promise<void>) | undefined;

  private constructor(
    readonly path: string,
    private readonly segments: Map<number, WalSegment>,
    private active: WalSegment,
    private readonly index: WalIndex,
    private readonly snapshots: SnapshotStore,
    private readonly lock: DataDirLock,
    private readonly logger: RaftLogger,
    state: WalLogState & { snapshot: Snapshot },
    opts: WalLogStoreOptions,
  ) {
    this.tailCache = new EntryTailCache(opts.tailCache ?? DEFAULT_TAIL_CACHE);
    this.segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.inline = opts.flushMode === 'inline';
    this.syncFn = opts.sync;
    this.hard = state.hard;
    this.conf = state.conf ?? { voters: [], learners: [] };
    this.start = { ...state.start };
    this.last = state.last;
    this.snap = state.snapshot;
    this.tentativeStart = { ...state.start };
    this.tentativeLast = state.last;
    this.written = { hard: state.hard, conf: state.conf, start: { ...state.start }, snap: { ...state.snap }, last: state.last };
  }

  /** How flushes currently reach the disk (see {@link WalFlushMode}). */
  get flushMode(): WalFlushMode {
    return this.inline ? 'inline' : 'threadpool';
  }

  /**
   * Switches the flush mode; it applies from the next flush on (a flush in progress finishes
   * the way it started). Durability is the same in both modes: only where fdatasync waits differs.
   */
  setFlushMode(mode: WalFlushMode): void {
    this.inline = mode === 'inline';
  }

  /** Opens (or creates) the store in `opts.dir`, replaying and verifying the log (see the class comment). */
  static async open(opts: WalLogStoreOptions): Promise<WalLogStore> {
    const logger = opts.logger ?? silentLogger;
    await mkdir(opts.dir, { recursive: true });
    const lock = await DataDirLock.acquire(opts.dir);
    const walDir = join(opts.dir, 'wal');
    const segments = new Map<number, WalSegment>();
    let constructed: WalLogStore | undefined;
    try {
      if (existsSync(join(opts.dir, 'raft-log.mdb'))) throw new StoreKindMismatchError(opts.dir, 'wal', 'lmdb');
      await mkdir(walDir, { recursive: true });
      const snapshots = await SnapshotStore.open(join(opts.dir, 'snapshots'), { keep: opts.keepSnapshots, logger });
      const index = new WalIndex();
      const state = await replayWal(walDir, segments, index, logger);
      let active: WalSegment;
      if (segments.size === 0) {
        // A brand-new log: its first header records the bootstrap membership.
        if (opts.bootstrap) state.conf = opts.bootstrap;
        active = WalSegment.create(walDir, 1, state.start.index + 1, opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
        segments.set(active.seq, active);
        const header = encodeWalRecord(WalRecordType.SegmentHeader, headerFields(state));
        writeAllSync(active.fd, header.bytes, 0);
        fdatasyncSync(active.fd);
        active.size = header.bytes.length;
        await fsyncDirectory(walDir);
      } else {
        active = [...segments.values()].pop()!;
      }
      const last = index.size > 0 ? index.lastIndex : state.start.index;

      // Snapshot: the recorded one must exist and verify; a newer file is adopted.
      const files = await snapshots.list();
      const recorded = state.snap;
      if (recorded.index > 0 && !files.some((f) => f.index === recorded.index && f.term === recorded.term)) {
        throw new SnapshotMissingError(snapshots.pathFor(recorded.index, recorded.term), recorded.index);
      }
      const conf0 = state.conf ?? opts.bootstrap ?? { voters: [], learners: [] };
      let snapshot: Snapshot = { metadata: { index: 0, term: 0, confState: conf0 }, data: new Uint8Array(0) };
      const newest = files[0];
      let adopted = false;
      if (newest && newest.index >= recorded.index && newest.index > 0) {
        snapshot = await snapshots.load(newest.path);
        adopted = newest.index > recorded.index;
      }
      const store = new WalLogStore(walDir, segments, active, index, snapshots, lock, logger, { ...state, last, snapshot }, opts);
      constructed = store;
      try {
        if (adopted) await store.adopt(snapshot);
        if (store.hard.commit > Math.max(store.last, store.snap.metadata.index)) {
          throw new LogCorruptError(walDir, 'hardState', `commit index ${store.hard.commit} is beyond the last stored index ${store.last}: committed entries are missing`);
        }
        if (state.conf === undefined && opts.bootstrap) {
          const bootstrap = opts.bootstrap;
          await store.enqueue(WalRecordType.Batch, { confState: bootstrap });
          if (store.snap.metadata.index === 0) store.snap = { metadata: { index: 0, term: 0, confState: bootstrap }, data: store.snap.data };
        }
      } catch (err) {
        await store.close();
        throw err;
      }
      // Start-up repairs are not write requests of the host.
      Object.assign(store.counters, { writes: 0, flushes: 0, maxBatch: 0 });
      return store;
    } catch (err) {
      if (!constructed) {
        for (const s of segments.values()) s.close();
        await lock.release();
      }
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
    if (lo >= hi) return [];
    // Decide how many entries to return from the in-memory lengths, then read each run of
    // entries that share a segment with one positional read.
    let end = lo;
    let size = 0;
    for (; end < hi; end++) {
      if (!this.index.has(end)) throw new LogHoleError(this.path, end, null);
      size += this.index.length(end);
      if (maxBytes !== undefined && end > lo && size > maxBytes) break;
    }
    const out: Entry[] = [];
    let i = lo;
    while (i < end) {
      const seq = this.index.segment(i);
      let j = i + 1;
      while (j < end && this.index.segment(j) === seq && this.index.offset(j) > this.index.offset(j - 1)) j++;
      const segment = this.segments.get(seq);
      if (!segment) throw new LogHoleError(this.path, i, null);
      const from = this.index.offset(i);
      const span = segment.read(from, this.index.offset(j - 1) + this.index.length(j - 1) - from);
      for (let k = i; k < j; k++) {
        const at = this.index.offset(k) - from;
        out.push({ index: k, term: this.index.term(k), type: entryTypeOf(this.index.type(k)), data: new Uint8Array(span.buffer, span.byteOffset + at, this.index.length(k)) });
      }
      i = j;
    }
    return out;
  }

  term(i: number): number {
    this.assertOpen();
    if (i === this.start.index) return this.start.term;
    assertTermInLog(i, this.start.index, this.last);
    if (!this.index.has(i)) throw new LogHoleError(this.path, i, null);
    return this.index.term(i);
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

  // ---- Host writes: each resolves only once synced to disk --------------------------------

  /** Persists what one Ready asks for — snapshot, then entries, then hard state — as one record (the snapshot file is saved first). */
  async persist(batch: PersistBatch): Promise<void> {
    if (batch.snapshot) {
      await this.applySnapshot(batch.snapshot, batch.entries ?? [], batch.hardState);
      return;
    }
    const entries = this.checkAppend(batch.entries ?? []);
    await this.enqueue(WalRecordType.Batch, { entries, hardState: batch.hardState });
  }

  /**
   * Appends entries; an entry at an index already present replaces it and every later entry.
   * Entries at or below the log start are ignored. Throws {@link AppendGapError} on a gap.
   */
  async append(entries: readonly Entry[]): Promise<void> {
    await this.enqueue(WalRecordType.Batch, { entries: this.checkAppend(entries) });
  }

  async setHardState(hardState: HardState): Promise<void> {
    await this.enqueue(WalRecordType.Batch, { hardState });
  }

  /** Records the membership after a conf-change entry was applied, for `initialState()` after restart. */
  async setConfState(confState: ConfState): Promise<void> {
    await this.enqueue(WalRecordType.Batch, { confState });
  }

  /**
   * Installs a snapshot received from the leader: saves its file durably, then one record
   * discards the whole log (etcd semantics), records the snapshot as log start and membership,
   * and carries `entries` and `hardState` of the same Ready (commit raised to the snapshot).
   */
  async applySnapshot(snapshot: Snapshot, entries: readonly Entry[] = [], hardState?: HardState): Promise<void> {
    this.assertWritable();
    const { index, term, confState } = snapshot.metadata;
    if (index < this.snap.metadata.index) throw new SnapshotOutOfDateError(index, this.snap.metadata.index);
    await this.snapshots.save(snapshot);
    this.tentativeStart = { index, term };
    this.tentativeLast = index;
    const fresh = this.checkAppend(entries);
    const hs: HardState = { ...(hardState ?? this.hard), commit: Math.max(hardState?.commit ?? this.hard.commit, index) };
    await this.enqueue(WalRecordType.Batch, { reset: { index, term }, snapshot: { index, term }, confState, entries: fresh, hardState: hs }, () => (this.snap = snapshot));
  }

  /** Saves a snapshot of the local state machine at `index` (≤ applied; the caller's duty) and records it. Does not compact. */
  async createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    this.assertWritable();
    if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError(index, this.snap.metadata.index);
    const snapshot: Snapshot = { metadata: { index, term: this.term(index), confState }, data };
    await this.snapshots.save(snapshot);
    await this.enqueue(WalRecordType.Snapshot, { snapshot: { index, term: snapshot.metadata.term } }, () => {
      if (index > this.snap.metadata.index) this.snap = snapshot;
    });
    return snapshot;
  }

  /**
   * Discards entries up to and including `compactIndex` (which the latest snapshot must cover):
   * records a compaction marker, then deletes the segments that hold only entries ≤ it.
   * Afterwards `firstIndex() = compactIndex + 1` and `term(compactIndex)` still answers.
   */
  async compact(compactIndex: number): Promise<void> {
    this.assertWritable();
    if (compactIndex <= this.tentativeStart.index) throw new CompactedError(compactIndex, this.tentativeStart.index + 1);
    if (compactIndex > this.tentativeLast) throw new UnavailableError(compactIndex, this.tentativeLast);
    if (compactIndex > this.snap.metadata.index) throw new UnavailableError(compactIndex, this.snap.metadata.index);
    const term = this.term(compactIndex);
    this.tentativeStart = { index: compactIndex, term };
    // Readers see the compaction at once: what is about to be removed must not be read.
    this.start = { index: compactIndex, term };
    this.tailCache.dropThrough(compactIndex);
    await this.enqueue(WalRecordType.Compaction, { start: { index: compactIndex, term } });
  }

  stats(): LogStoreStats {
    return { ...this.counters };
  }

  /** Directory holding the snapshot files. */
  get snapshotDir(): string {
    return this.snapshots.dir;
  }

  /** Segment files currently in use, oldest first (diagnostics and tests). */
  get segmentPaths(): string[] {
    return [...this.segments.values()].map((s) => s.path);
  }

  /** Waits for queued writes, then closes the segment files and releases the lock. Later calls throw {@link StoreClosedError}. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.running) await this.running;
    this.closed = true;
    for (const s of this.segments.values()) s.close();
    await this.lock.release();
  }

  // ---- internals --------------------------------------------------------------------------

  /** Validates an append against the tentative log; returns the entries to write. */
  private checkAppend(entries: readonly Entry[]): readonly Entry[] {
    this.assertWritable();
    if (entries.length === 0) return entries;
    const fresh = entries[0].index <= this.tentativeStart.index ? entries.filter((e) => e.index > this.tentativeStart.index) : entries;
    if (fresh.length === 0) return fresh;
    if (fresh[0].index > this.tentativeLast + 1) throw new AppendGapError(this.path, fresh[0].index, this.tentativeLast);
    this.tentativeLast = fresh[fresh.length - 1].index;
    return fresh;
  }

  /** A newer snapshot file than the log records (crash between saving and recording it): adopt it, as the LMDB store does. */
  private async adopt(snapshot: Snapshot): Promise<void> {
    const { index, term, confState } = snapshot.metadata;
    this.logger.warn({ path: this.snapshots.pathFor(index, term) }, 'log store: adopting a snapshot saved before a crash');
    const matches = index === this.start.index ? term === this.start.term : this.index.has(index) && this.index.term(index) === term;
    const hardState = this.hard.commit < index ? { ...this.hard, commit: index } : undefined;
    if (matches) {
      await this.enqueue(WalRecordType.Batch, { snapshot: { index, term }, hardState }, () => (this.snap = snapshot));
    } else {
      this.tentativeStart = { index, term };
      this.tentativeLast = index;
      await this.enqueue(WalRecordType.Batch, { reset: { index, term }, snapshot: { index, term }, confState, hardState }, () => (this.snap = snapshot));
    }
  }

  private enqueue(type: WalRecordType, fields: WalRecordFields, publish?: () => void): Promise<void> {
    this.assertWritable();
    const empty = !fields.reset && !fields.start && !fields.snapshot && !fields.hardState && !fields.confState && !(fields.entries && fields.entries.length > 0);
    const encoded = empty ? undefined : encodeWalRecord(type, fields);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ type, fields, encoded, publish, resolve, reject });
      if (!this.running) this.running = this.inline ? new Promise<void>((r) => setImmediate(r)).then(() => this.drain()) : this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      if (this.broken) {
        for (const w of batch) w.reject(this.broken);
        continue;
      }
      try {
        await this.flush(batch);
        this.counters.flushes++;
        this.counters.writes += batch.length;
        this.counters.maxBatch = Math.max(this.counters.maxBatch, batch.length);
        for (const w of batch) w.resolve();
      } catch (err) {
        this.broken = err as Error;
        this.logger.error({ path: this.path, err: (err as Error).message }, 'log store: write failed; the log refuses further writes');
        for (const w of batch) w.reject(err as Error);
      }
    }
    this.running = undefined;
  }

  /** Writes the batch's records with one write and one sync, then makes them visible. */
  private async flush(batch: PendingWrite[]): Promise<void> {
    let segment = this.active;
    const parts: Buffer[] = [];
    let created = false;
    const hasBytes = batch.some((w) => w.encoded);
    if (hasBytes && segment.size >= this.segmentBytes) {
      const firstEntry = batch.find((w) => w.fields.entries && w.fields.entries.length > 0)?.fields.entries?.[0].index;
      segment = WalSegment.create(this.path, segment.seq + 1, firstEntry ?? this.written.last + 1, this.segmentBytes);
      this.segments.set(segment.seq, segment);
      created = true;
      parts.push(encodeWalRecord(WalRecordType.SegmentHeader, headerFields(this.written)).bytes);
    }
    let at = segment.size + (parts[0]?.length ?? 0);
    const offsets: number[] = [];
    let total = at - segment.size;
    for (const w of batch) {
      offsets.push(at);
      if (!w.encoded) continue;
      parts.push(w.encoded.bytes);
      at += w.encoded.bytes.length;
      total += w.encoded.bytes.length;
      advance(this.written, w.fields);
    }
    if (total > 0) {
      const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
      // The write itself only copies into the page cache: it is done synchronously in both
      // modes (one threadpool round trip fewer); what differs is where fdatasync waits.
      writeAllSync(segment.fd, bytes, segment.size);
      if (this.syncFn) await this.syncFn(segment.fd);
      else if (this.inline) fdatasyncSync(segment.fd);
      else await fdatasyncAsync(segment.fd);
      if (created) await fsyncDirectory(this.path);
      segment.size = at;
      this.active = segment;
    }
    let compacted = false;
    batch.forEach((w, k) => {
      this.publish(w, segment.seq, offsets[k]);
      if (w.fields.start || w.fields.reset) compacted = true;
    });
    if (compacted) await this.deleteObsoleteSegments();
  }

  /** Makes one durable record visible: the same rules as replay, plus the tail cache. */
  private publish(w: PendingWrite, seq: number, frameOffset: number): void {
    const f = w.fields;
    if (f.reset) {
      this.start = { ...f.reset };
      this.index.reset(f.reset.index + 1);
      this.last = f.reset.index;
      this.tailCache.clear();
    }
    if (f.start) {
      this.index.dropThrough(f.start.index);
      this.tailCache.dropThrough(f.start.index);
      if (this.last < f.start.index) this.last = f.start.index;
    }
    const entries = f.entries ?? [];
    if (entries.length > 0 && w.encoded) {
      const offs = w.encoded.dataOffsets;
      for (let k = 0; k < entries.length; k++) {
        const e = entries[k];
        this.index.set(e.index, seq, frameOffset + offs[k], e.data.byteLength, e.term, entryTypeByte(e.type));
      }
      this.last = entries[entries.length - 1].index;
      this.tailCache.put(entries);
      // An append queued before a compaction may carry entries the compaction already dropped.
      if (entries[0].index <= this.start.index) this.tailCache.dropThrough(this.start.index);
    }
    if (f.hardState) this.hard = f.hardState;
    if (f.confState) this.conf = f.confState;
    w.publish?.();
  }

  /**
   * Deletes every segment (never the active one) all of whose live entries are at or below
   * the log start. Live entries sit in non-decreasing segment order (an overwrite is written
   * to the active segment), so that is every segment before the one holding `firstIndex()`.
   */
  private async deleteObsoleteSegments(): Promise<void> {
    // The durable log start (a compaction queued after this batch has moved `start` already).
    const first = this.written.start.index + 1;
    const keepFrom = this.index.has(first) ? this.index.segment(first) : this.active.seq;
    let deleted = false;
    for (const [seq, s] of this.segments) {
      if (seq >= keepFrom || s === this.active) continue;
      s.close();
      unlinkSync(s.path);
      this.segments.delete(seq);
      deleted = true;
    }
    if (deleted) await fsyncDirectory(this.path);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError(this.path);
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.broken) throw this.broken;
  }
}
