import { fdatasyncSync, ftruncateSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import type { ConfState, HardState } from '../core';
import type { RaftLogger } from '../transport/logger';
import { LogCorruptError, LogHoleError } from './errors';
import { fsyncDirectory } from './fsync';
import type { WalIndex } from './wal-index';
import { readWalFrame, WalRecordType, type DecodedWalRecord, type WalPosition, type WalRecordFields } from './wal-record-codec';
import { listWalSegments, WalSegment } from './wal-segment';

/** Hard state, membership, log start, snapshot position and last index of a write-ahead log after some prefix of its records. */
export interface WalLogState {
  hard: HardState;
  /** Undefined until a record carried a membership (a log opened without bootstrap). */
  conf: ConfState | undefined;
  start: WalPosition;
  snap: WalPosition;
  last: number;
}

const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

/** Writes all of `bytes` at `position` (positional, synchronous). */
export function writeAllSync(fd: number, bytes: Buffer, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/** The fields a SegmentHeader record repeats: the state as of the segment's creation. */
export function headerFields(s: WalLogState): WalRecordFields {
  return { start: s.start, snapshot: s.snap, hardState: s.hard, confState: s.conf };
}

/** Applies a record's effect on hard state, membership, log start and snapshot position. */
export function advance(s: WalLogState, f: WalRecordFields | DecodedWalRecord): void {
  if (f.reset) {
    s.start = { ...f.reset };
    s.snap = { ...f.reset };
    s.last = f.reset.index;
  }
  if (f.start && f.start.index > s.start.index) {
    s.start = { ...f.start };
    if (s.last < f.start.index) s.last = f.start.index;
  }
  if (f.snapshot) s.snap = { ...f.snapshot };
  if (f.hardState) s.hard = f.hardState;
  if (f.confState) s.conf = f.confState;
  const e = f.entries;
  if (e) {
    const n = 'terms' in e ? e.terms.length : e.length;
    const first = 'firstIndex' in e ? e.firstIndex : e[0]?.index;
    if (n > 0) s.last = first + n - 1;
  }
}

const ZERO_CHUNK = Buffer.alloc(1 << 20);

/** Offset of the first non-zero byte of `b` in [from, to), or -1; compares in chunks (memcmp), not byte by byte in JS. */
function firstNonZero(b: Buffer, from: number, to: number = b.length): number {
  for (let at = from; at < to; at += ZERO_CHUNK.length) {
    const n = Math.min(ZERO_CHUNK.length, to - at);
    if (b.subarray(at, at + n).equals(ZERO_CHUNK.subarray(0, n))) continue;
    for (let i = at; i < at + n; i++) if (b[i] !== 0) return i;
  }
  return -1;
}

/** Offset of the last non-zero byte of `b` in [from, b.length), or -1; chunked from the end. */
function lastNonZero(b: Buffer, from: number): number {
  for (let to = b.length; to > from; to -= ZERO_CHUNK.length) {
    const at = Math.max(from, to - ZERO_CHUNK.length);
    if (b.subarray(at, to).equals(ZERO_CHUNK.subarray(0, to - at))) continue;
    for (let i = to - 1; i >= at; i--) if (b[i] !== 0) return i;
  }
  return -1;
}

/** How replay ends a segment's records: at the logical end, or at a torn write of the last segment. */
type SegmentEnd = { kind: 'clean' } | { kind: 'truncate'; detail: string } | { kind: 'zero-fill'; to: number; detail: string };

/**
 * Replays every segment of `walDir` into `index` and `segments` (opened), applying the
 * torn-tail rule to the last one. Returns the resulting state; throws typed errors on corruption.
 *
 * Each segment is read from offset 0 up to its logical end: an all-zero frame header, or EOF
 * (a file written before segments were preallocated). Every byte after the logical end must be
 * zero; a non-zero byte there is a {@link LogCorruptError} naming the file and offset.
 *
 * A frame is COMPLETE when its declared span fits in the file and its last byte is the trailer
 * (`WAL_FRAME_TRAILER`, 0xA5; see wal-record-codec.ts). A complete frame that fails its crc or
 * decoding, and a frame whose trailer byte is neither zero nor the trailer value, is a
 * {@link LogCorruptError} in every segment — whatever its payload ends with.
 *
 * Torn-tail rule, LAST segment only — at the first frame that is not complete (at `offset`,
 * declared to end at `frameEnd`):
 * - the frame header is cut off by EOF or the frame runs past EOF (old-style file, or a batch
 *   that was growing the file): a write cut short; the file is truncated to `offset`;
 * - a frame within the file whose trailer byte is zero and after whose declared end every byte
 *   is zero (so the bytes from some position inside its span up to EOF are all zero): the write
 *   stopped part-way and its tail never reached the disk; the bytes from `offset` to the last
 *   non-zero byte are zero-filled (pwrite + fdatasync);
 * - a frame without its trailer followed by non-zero bytes after its declared end (something
 *   later was written) is a {@link LogCorruptError}.
 * A torn write was never acknowledged (its sync never returned), so cutting it loses nothing
 * acknowledged; the cut is logged as a warning with path and offset, and the logical end
 * becomes `offset`. In any earlier segment every invalid frame is a {@link LogCorruptError}.
 * A last segment without a single valid record (its header never reached the disk: crash
 * during rollover) is deleted.
 */
export async function replayWal(walDir: string, segments: Map<number, WalSegment>, index: WalIndex, logger: RaftLogger): Promise<WalLogState> {
  const state: WalLogState = { hard: EMPTY_HARD_STATE, conf: undefined, start: { index: 0, term: 0 }, snap: { index: 0, term: 0 }, last: 0 };
  const files = listWalSegments(walDir);
  let dirChanged = false;
  for (let n = 0; n < files.length; n++) {
    const file = files[n];
    const isLast = n === files.length - 1;
    if (n > 0 && file.seq !== files[n - 1].seq + 1) throw new LogCorruptError(file.path, 'segment', `segment ${files[n - 1].seq + 1} is missing before this one`);
    const bytes = readFileSync(file.path);
    let offset = 0;
    let records = 0;
    let end: SegmentEnd = { kind: 'clean' };
    for (;;) {
      const r = readWalFrame(bytes, offset);
      if (r.kind === 'end') {
        const junk = firstNonZero(bytes, offset);
        if (junk >= 0) throw new LogCorruptError(file.path, `offset ${junk}`, `non-zero bytes after the logical end of the segment at offset ${offset}`);
        break;
      }
      if (r.kind === 'torn' && isLast) {
        end = { kind: 'truncate', detail: r.detail };
        break;
      }
      if (r.kind === 'incomplete' && isLast) {
        // The trailer (the frame's last byte) is zero, so lastByte < frameEnd - 1 unless
        // something was written after the frame's declared end.
        const lastByte = lastNonZero(bytes, offset);
        if (lastByte + 1 < r.frameEnd) {
          end = { kind: 'zero-fill', to: lastByte + 1, detail: `${r.detail}; the record's last ${r.frameEnd - lastByte - 1} bytes and everything after them are zero` };
          break;
        }
        throw new LogCorruptError(file.path, `offset ${offset}`, `${r.detail}; the record looks torn but non-zero bytes follow it (at offset ${firstNonZero(bytes, r.frameEnd)})`);
      }
      if (r.kind !== 'record') throw new LogCorruptError(file.path, `offset ${offset}`, r.detail);
      if (records === 0 && r.record.type !== WalRecordType.SegmentHeader) throw new LogCorruptError(file.path, `offset ${offset}`, 'segment does not start with a header record');
      applyReplayed(state, index, r.record, file.seq, offset, file.path);
      offset += r.length;
      records++;
    }
    if (records === 0) {
      // A segment whose header never reached the disk (crash during rollover); only possible for the last one.
      if (!isLast) throw new LogCorruptError(file.path, 'offset 0', 'segment has no header record');
      logger.warn({ path: file.path }, 'log store: removing an empty segment left by an interrupted rollover');
      unlinkSync(file.path);
      dirChanged = true;
      continue;
    }
    const segment = WalSegment.open(file.seq, file.firstIndex, file.path, offset);
    segments.set(file.seq, segment);
    if (end.kind !== 'clean') {
      logger.warn({ path: file.path, offset, detail: end.detail }, 'log store: truncating a torn write at the end of the log (never acknowledged)');
      if (end.kind === 'truncate') ftruncateSync(segment.fd, offset);
      else writeAllSync(segment.fd, Buffer.alloc(end.to - offset), offset);
      fdatasyncSync(segment.fd);
    }
  }
  if (dirChanged) await fsyncDirectory(walDir);
  const last = index.size > 0 ? index.lastIndex : state.start.index;
  if (last > state.start.index && index.firstIndex > state.start.index + 1) throw new LogHoleError(walDir, state.start.index + 1, index.firstIndex);
  state.last = last;
  return state;
}

/** Applies one replayed record to `state` and `index` (the same rules the live store follows). */
function applyReplayed(state: WalLogState, index: WalIndex, r: DecodedWalRecord, seq: number, frameOffset: number, path: string): void {
  if (r.reset) index.reset(r.reset.index + 1);
  if (r.start && r.start.index > state.start.index) index.dropThrough(r.start.index);
  advance(state, { ...r, entries: undefined });
  const e = r.entries;
  if (!e) return;
  for (let k = 0; k < e.terms.length; k++) {
    const i = e.firstIndex + k;
    if (i <= state.start.index) continue;
    const lastKnown = index.size > 0 ? index.lastIndex : state.start.index;
    // The oldest retained segment may start above the log start (the segments before it held
    // entries a later compaction marker covers), and an overwrite there may reach below the
    // first indexed entry. Either way what lies below `i` is unknown here: a later compaction
    // marker must cover it, which the final contiguity check (LogHoleError) verifies.
    if (i > lastKnown + 1 || (index.size > 0 && i < index.firstIndex)) index.reset(i);
    if (!Number.isSafeInteger(i)) throw new LogCorruptError(path, `offset ${frameOffset}`, `bad entry index ${i}`);
    index.set(i, seq, frameOffset + e.dataOffsets[k], e.dataLengths[k], e.terms[k], e.types[k]);
  }
  state.last = index.size > 0 ? index.lastIndex : state.start.index;
}
