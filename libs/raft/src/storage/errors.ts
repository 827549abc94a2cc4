/**
 * Typed start-up and integrity errors of the durable store. Each names the file it concerns:
 * the operator must be able to find the damaged file from the error alone. None of them is
 * ever "handled" by truncating committed data — the node stops instead.
 */
export type StorageErrorCode = 'LOG_CORRUPT' | 'LOG_HOLE' | 'SNAPSHOT_CORRUPT' | 'SNAPSHOT_MISSING' | 'STORE_CLOSED' | 'APPEND_GAP' | 'DATA_DIR_LOCKED' | 'STORE_KIND_MISMATCH';

/** Base class of every storage error: a stable `code` and the file or directory concerned. */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    /** File or directory the error concerns. */
    readonly path: string,
    message: string,
  ) {
    super(`${message} (${path})`);
    this.name = 'StorageError';
  }
}

/** A log entry or the hard state failed its checksum, or cannot be decoded. */
export class LogCorruptError extends StorageError {
  constructor(
    path: string,
    /** The damaged record: a log index, or a meta key such as "hardState". */
    readonly record: number | string,
    detail: string,
  ) {
    super('LOG_CORRUPT', path, `raft log record ${record} is corrupt: ${detail}`);
    this.name = 'LogCorruptError';
  }
}

/** The log's entries are not contiguous between firstIndex and lastIndex. */
export class LogHoleError extends StorageError {
  constructor(
    path: string,
    readonly expectedIndex: number,
    readonly foundIndex: number | null,
  ) {
    super('LOG_HOLE', path, `raft log has a hole: expected index ${expectedIndex}, found ${foundIndex ?? 'end of log'}`);
    this.name = 'LogHoleError';
  }
}

/** An append would leave a gap after lastIndex (a host bug: Raft appends are contiguous). */
export class AppendGapError extends StorageError {
  constructor(
    path: string,
    readonly firstAppended: number,
    readonly lastIndex: number,
  ) {
    super('APPEND_GAP', path, `append starting at ${firstAppended} would leave a gap after last index ${lastIndex}`);
    this.name = 'AppendGapError';
  }
}

/** A snapshot file fails its checksum, is truncated, or has a malformed header. */
export class SnapshotCorruptError extends StorageError {
  constructor(path: string, detail: string) {
    super('SNAPSHOT_CORRUPT', path, `snapshot file is corrupt: ${detail}`);
    this.name = 'SnapshotCorruptError';
  }
}

/** The log store records a snapshot whose file is not on disk. */
export class SnapshotMissingError extends StorageError {
  constructor(
    path: string,
    readonly index: number,
  ) {
    super('SNAPSHOT_MISSING', path, `snapshot at index ${index} recorded in the log store has no file`);
    this.name = 'SnapshotMissingError';
  }
}

/** A write or read after `close()`. */
export class StoreClosedError extends StorageError {
  constructor(path: string) {
    super('STORE_CLOSED', path, 'store is closed');
    this.name = 'StoreClosedError';
  }
}

/** The data directory holds a log written by the other store kind (LMDB vs write-ahead log). */
export class StoreKindMismatchError extends StorageError {
  constructor(
    path: string,
    readonly wanted: string,
    readonly found: string,
  ) {
    super('STORE_KIND_MISMATCH', path, `data directory holds a ${found} log; refusing to open it as ${wanted} (pick the matching --storage, or wipe the directory)`);
    this.name = 'StoreKindMismatchError';
  }
}
