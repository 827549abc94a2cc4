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

/**
 * Replays every segment of `walDir` into `index` and `segments` (opened), applying the
 * torn-tail rule to the last one. Returns the resulting state; throws typed errors on corruption.
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
    for (;;) {
      const r = readWalFrame(bytes, offset);
      if (r.kind === 'end') break;
      if (r.kind === 'torn' && isLast) {
        logger.warn({ path: file.path, offset, detail: r.detail }, 'log store: truncating a torn write at the end of the log (never acknowledged)');
        break;
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
    if (offset < bytes.length) {
      ftruncateSync(segment.fd, offset);
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
