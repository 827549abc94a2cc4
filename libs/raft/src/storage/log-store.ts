import { CompactedError, UnavailableError, type ConfState, type Entry, type HardState, type Snapshot, type Storage } from '../core';
import type { RaftLogger } from '../transport/logger';
import type { EntryTailCacheLimits } from './entry-tail-cache';

/** What a Ready asks the host to persist, written as one batch with a single flush. */
export interface PersistBatch {
  readonly snapshot?: Snapshot;
  readonly entries?: readonly Entry[];
  readonly hardState?: HardState;
}

/** Write-path counters; `flushes` < `writes` shows group commit at work. */
export interface LogStoreStats {
  /** Write requests acknowledged (append, setHardState, persist, …). */
  writes: number;
  /** Transactions/batches committed and flushed; each covers one batch of write requests. */
  flushes: number;
  /** Largest number of write requests one flush covered. */
  maxBatch: number;
}

/** Options every {@link LogStore} implementation accepts when it is opened. */
export interface LogStoreOptions {
  /** Data directory of the node (log files, `snapshots/`, `LOCK`). */
  dir: string;
  /** Membership recorded when the store is brand new (never used once anything was persisted). */
  bootstrap?: ConfState;
  /** Snapshot files to keep. Default 3. */
  keepSnapshots?: number;
  /** Bounds of the in-memory copy of the newest entries (see {@link EntryTailCache}). Default 8192 entries / 16 MiB. */
  tailCache?: EntryTailCacheLimits;
  logger?: RaftLogger;
}

/** Which durable log implementation a node uses. Persisted data of one kind is refused by the other. */
export type LogStoreKind = 'lmdb' | 'wal';

/**
 * The durable Raft log as the host (RaftNode, KV server, benches) uses it: the core's
 * read-only {@link Storage} plus the host's writes (hashicorp/raft's LogStore + StableStore
 * roles, with snapshots kept by a {@link SnapshotStore}).
 *
 * Contract every implementation keeps:
 * - Durability: a write's promise resolves only once the data reached stable storage (flushed /
 *   fdatasync'd, never merely handed to the OS or committed to a cache); a rejected write
 *   leaves the store unusable for the node (the host treats it as fatal).
 * - Group commit: writes issued while a flush is in progress share the next flush.
 * - Order: writes become durable and visible in the order they were issued; each call's
 *   effects (entries, hard state, membership) are atomic with respect to a crash.
 * - Overwrite: appending at an index ≤ lastIndex replaces that entry and every later one;
 *   appending past lastIndex + 1 throws {@link AppendGapError}; entries ≤ the log start are ignored.
 * - Readers see a write no earlier than it is committed; `term(firstIndex() - 1)` always answers.
 * - Start-up (`open`) verifies checksums and contiguity and throws a typed
 *   {@link StorageError} naming the file instead of truncating acknowledged data.
 */
export interface LogStore extends Storage {
  /** The log's file or directory, as named in errors. */
  readonly path: string;
  /** Directory holding the snapshot files. */
  readonly snapshotDir: string;
  /** Persists snapshot, then entries, then hard state of one Ready as one atomic, durable batch. */
  persist(batch: PersistBatch): Promise<void>;
  /** Appends entries (replacing a conflicting suffix); see the contract above. */
  append(entries: readonly Entry[]): Promise<void>;
  setHardState(hardState: HardState): Promise<void>;
  /** Records the membership after a conf-change entry was applied, for `initialState()` after restart. */
  setConfState(confState: ConfState): Promise<void>;
  /** Installs a leader's snapshot: saves its file durably, discards the whole log, records it as the log start. */
  applySnapshot(snapshot: Snapshot, entries?: readonly Entry[], hardState?: HardState): Promise<void>;
  /** Saves a snapshot of the local state machine at `index` and records it (does not compact). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot>;
  /** Discards entries ≤ `compactIndex`, which the latest snapshot must cover. */
  compact(compactIndex: number): Promise<void>;
  stats(): LogStoreStats;
  /** Waits for queued writes, then releases files and the data-directory lock. */
  close(): Promise<void>;
}

/**
 * The core's {@link Storage} bounds for `entries(lo, hi)`, shared by every store: entries at or
 * below the log start (`startIndex`, the last compacted index) throw {@link CompactedError},
 * entries past `lastIndex` throw {@link UnavailableError}.
 */
export function assertEntriesInLog(lo: number, hi: number, startIndex: number, lastIndex: number): void {
  if (lo <= startIndex) throw new CompactedError(lo, startIndex + 1);
  if (hi > lastIndex + 1) throw new UnavailableError(hi - 1, lastIndex);
}

/** The same bounds for `term(i)`; `i === startIndex` is answered by the caller from the log start. */
export function assertTermInLog(i: number, startIndex: number, lastIndex: number): void {
  if (i < startIndex) throw new CompactedError(i, startIndex + 1);
  if (i > lastIndex) throw new UnavailableError(i, lastIndex);
}
