import { crc32 } from 'node:zlib';
import type { ConfState, Entry, EntryType, HardState } from '../core';

/**
 * Byte layout of write-ahead-log records. Part of the persisted format: never change a byte
 * assignment without a migration. All integers are little-endian; log indexes and terms are
 * float64 (exact for every integer below 2^53).
 *
 * Frame: `u32 payloadLength | u32 crc32(type byte + payload) | u8 type | payload | u8 trailer (0xA5)`:
 * {@link WAL_FRAME_HEADER_BYTES} + payloadLength + {@link WAL_FRAME_TRAILER_BYTES} bytes. The length
 * field counts the payload only; the trailer is accounted for explicitly, is not covered by the
 * crc, and is always {@link WAL_FRAME_TRAILER} (non-zero). The stored type byte is the
 * {@link WalRecordType} with {@link WAL_TRAILER_FORMAT_BIT} set (0x41..0x44): frames of the older
 * format without a trailer stored 0x01..0x04 and are refused as such, not misread.
 * Payload: `u8 flags`, then each present field in this fixed order:
 * - RESET    (0x01) index, term — a snapshot install: the log becomes empty at that position;
 * - START    (0x02) index, term — the log start (compaction point);
 * - SNAPSHOT (0x04) index, term — the newest snapshot file recorded;
 * - HARD     (0x08) term, commit, u16 vote length (0xffff = null) + UTF-8;
 * - CONF     (0x10) u16 voter count + (u16 length + UTF-8)…, u16 learner count + …;
 * - ENTRIES  (0x20) firstIndex, u32 count, then per entry: term, u8 type (0 normal, 1 conf-change), u32 data length, data.
 *
 * A record is the unit of atomicity: replay applies all of its fields or (torn / corrupt) none.
 * Segments are preallocated (zero-filled), so an all-zero frame header (length 0, crc 0, type 0;
 * type 0 is never valid) marks the logical end of a segment's records.
 *
 * The trailer tells a torn write from a damaged record without looking at the payload (which may
 * legitimately end in zero bytes): a frame whose declared span fits in the file and whose last
 * byte is the trailer is COMPLETE, and a complete frame failing its crc or decoding is corruption
 * wherever it is. A zero where the trailer belongs means the write never finished (the trailer is
 * the frame's last byte); any other value there is corruption.
 */

/** Bytes before a record's payload: length (4), crc32 (4), type (1). */
export const WAL_FRAME_HEADER_BYTES = 9;

/** Bytes after a record's payload: the trailer byte. */
export const WAL_FRAME_TRAILER_BYTES = 1;

/** The value of every frame's trailer byte (non-zero, so a zero-filled tail never looks complete). */
export const WAL_FRAME_TRAILER = 0xa5;

/**
 * Set in every stored type byte of the trailer format. The format before trailers stored the
 * bare type (1..4); a frame carrying one of those is reported as written by that older format
 * (its records would otherwise be misread — the byte after one looks like a missing trailer).
 */
export const WAL_TRAILER_FORMAT_BIT = 0x40;

/** Total bytes of a frame whose length field is `payloadLength`. */
export function walFrameBytes(payloadLength: number): number {
  return WAL_FRAME_HEADER_BYTES + payloadLength + WAL_FRAME_TRAILER_BYTES;
}

/** What a record is for; the fields it carries say what it changes. */
export enum WalRecordType {
  /** Entries and/or hard state and/or membership of one write (or a snapshot install). */
  Batch = 1,
  /** createSnapshot recorded a snapshot file. */
  Snapshot = 2,
  /** compact moved the log start. */
  Compaction = 3,
  /** First record of every segment: the hard state, membership, log start and snapshot as of its creation. */
  SegmentHeader = 4,
}

/** A log position: index and the term of the entry there. */
export interface WalPosition {
  readonly index: number;
  readonly term: number;
}

/** The fields of one record (see the layout above). */
export interface WalRecordFields {
  readonly reset?: WalPosition;
  readonly start?: WalPosition;
  readonly snapshot?: WalPosition;
  readonly hardState?: HardState;
  readonly confState?: ConfState;
  readonly entries?: readonly Entry[];
}

/** An encoded record and where each entry's data starts within it. */
export interface EncodedWalRecord {
  readonly bytes: Buffer;
  /** Byte offset of entry k's data relative to the start of the frame. */
  readonly dataOffsets: Uint32Array;
}

/** Entry locations of a decoded record, without copying any entry data. */
export interface DecodedWalEntries {
  readonly firstIndex: number;
  readonly terms: Float64Array;
  readonly types: Uint8Array;
  /** Offset of each entry's data relative to the start of the frame. */
  readonly dataOffsets: Uint32Array;
  readonly dataLengths: Uint32Array;
}

/** A decoded record (entries as locations). */
export interface DecodedWalRecord {
  readonly type: WalRecordType;
  readonly reset?: WalPosition;
  readonly start?: WalPosition;
  readonly snapshot?: WalPosition;
  readonly hardState?: HardState;
  readonly confState?: ConfState;
  readonly entries?: DecodedWalEntries;
}

const F_RESET = 0x01;
const F_START = 0x02;
const F_SNAPSHOT = 0x04;
const F_HARD = 0x08;
const F_CONF = 0x10;
const F_ENTRIES = 0x20;
const NULL_VOTE = 0xffff;
const ENTRY_HEADER_BYTES = 13;
const TYPE_BYTE: Record<EntryType, number> = { normal: 0, 'conf-change': 1 };

function confBytes(c: ConfState): number {
  let n = 4;
  for (const id of c.voters) n += 2 + Buffer.byteLength(id);
  for (const id of c.learners) n += 2 + Buffer.byteLength(id);
  return n;
}

function writeIds(buf: Buffer, at: number, ids: readonly string[]): number {
  buf.writeUInt16LE(ids.length, at);
  at += 2;
  for (const id of ids) {
    const n = buf.write(id, at + 2, 'utf8');
    buf.writeUInt16LE(n, at);
    at += 2 + n;
  }
  return at;
}

/** Encodes one framed record, crc and trailer included. */
export function encodeWalRecord(type: WalRecordType, f: WalRecordFields): EncodedWalRecord {
  let size = 1;
  let flags = 0;
  if (f.reset) {
    flags |= F_RESET;
    size += 16;
  }
  if (f.start) {
    flags |= F_START;
    size += 16;
  }
  if (f.snapshot) {
    flags |= F_SNAPSHOT;
    size += 16;
  }
  if (f.hardState) {
    flags |= F_HARD;
    size += 18 + (f.hardState.vote === null ? 0 : Buffer.byteLength(f.hardState.vote));
  }
  if (f.confState) {
    flags |= F_CONF;
    size += confBytes(f.confState);
  }
  const entries = f.entries ?? [];
  if (entries.length > 0) {
    flags |= F_ENTRIES;
    size += 12;
    for (const e of entries) size += ENTRY_HEADER_BYTES + e.data.byteLength;
  }
  const buf = Buffer.allocUnsafe(walFrameBytes(size));
  buf.writeUInt32LE(size, 0);
  buf[8] = type | WAL_TRAILER_FORMAT_BIT;
  buf[9] = flags;
  let at = 10;
  const pos = (p: WalPosition): void => {
    buf.writeDoubleLE(p.index, at);
    buf.writeDoubleLE(p.term, at + 8);
    at += 16;
  };
  if (f.reset) pos(f.reset);
  if (f.start) pos(f.start);
  if (f.snapshot) pos(f.snapshot);
  if (f.hardState) {
    const hs = f.hardState;
    buf.writeDoubleLE(hs.term, at);
    buf.writeDoubleLE(hs.commit, at + 8);
    if (hs.vote === null) {
      buf.writeUInt16LE(NULL_VOTE, at + 16);
      at += 18;
    } else {
      const n = buf.write(hs.vote, at + 18, 'utf8');
      buf.writeUInt16LE(n, at + 16);
      at += 18 + n;
    }
  }
  if (f.confState) at = writeIds(buf, writeIds(buf, at, f.confState.voters), f.confState.learners);
  const dataOffsets = new Uint32Array(entries.length);
  if (entries.length > 0) {
    buf.writeDoubleLE(entries[0].index, at);
    buf.writeUInt32LE(entries.length, at + 8);
    at += 12;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k];
      buf.writeDoubleLE(e.term, at);
      buf[at + 8] = TYPE_BYTE[e.type];
      buf.writeUInt32LE(e.data.byteLength, at + 9);
      at += ENTRY_HEADER_BYTES;
      dataOffsets[k] = at;
      buf.set(e.data, at);
      at += e.data.byteLength;
    }
  }
  const payloadEnd = WAL_FRAME_HEADER_BYTES + size;
  buf[payloadEnd] = WAL_FRAME_TRAILER;
  buf.writeUInt32LE(crc32(buf.subarray(8, payloadEnd)), 4);
  return { bytes: buf, dataOffsets };
}

/** Outcome of reading the frame at `offset` of a segment's bytes. */
export type WalFrameRead =
  | { kind: 'record'; record: DecodedWalRecord; length: number }
  /**
   * The logical end of the segment: offset is the end of the data, or the frame header there is
   * all zero (length 0, crc 0, type 0 — never a valid record, types start at 1). The caller
   * verifies that every byte after it is zero too.
   */
  | { kind: 'end' }
  /** The frame header is cut off by the end of the data, or the frame runs past it (a write cut short, old-style file). */
  | { kind: 'torn'; detail: string }
  /**
   * A frame within the data whose trailer byte is zero: the write stopped before its last byte.
   * Whether that is a torn tail (nothing non-zero after `frameEnd`, last segment) is the caller's
   * call; `frameEnd` = offset + the declared frame size.
   */
  | { kind: 'incomplete'; detail: string; frameEnd: number }
  /**
   * A complete frame (trailer present) that fails its crc or cannot be decoded, or a frame whose
   * trailer byte is neither zero nor {@link WAL_FRAME_TRAILER}: corruption, in any segment.
   */
  | { kind: 'corrupt'; detail: string; frameEnd: number };

/** Reads and verifies the frame at `offset`; never throws on bad data. */
export function readWalFrame(b: Buffer, offset: number): WalFrameRead {
  const headerEnd = Math.min(b.length, offset + WAL_FRAME_HEADER_BYTES);
  let zeroHeader = true;
  for (let i = offset; i < headerEnd; i++) {
    if (b[i] !== 0) {
      zeroHeader = false;
      break;
    }
  }
  if (zeroHeader) return { kind: 'end' };
  if (offset + WAL_FRAME_HEADER_BYTES > b.length) return { kind: 'torn', detail: 'frame header cut off' };
  const storedType = b[offset + 8];
  if (storedType >= WalRecordType.Batch && storedType <= WalRecordType.SegmentHeader) {
    return { kind: 'corrupt', detail: `record type byte ${storedType} of the WAL format without trailers (written by an older version; not readable by this one)`, frameEnd: offset + WAL_FRAME_HEADER_BYTES };
  }
  const size = b.readUInt32LE(offset);
  const end = offset + walFrameBytes(size);
  if (end > b.length) return { kind: 'torn', detail: `frame of ${size} payload bytes runs past the end of the file` };
  const payloadEnd = end - WAL_FRAME_TRAILER_BYTES;
  const trailer = b[payloadEnd];
  if (trailer === 0) return { kind: 'incomplete', detail: `frame of ${size} payload bytes has no trailer byte (the write did not finish)`, frameEnd: end };
  if (trailer !== WAL_FRAME_TRAILER) return { kind: 'corrupt', detail: `bad trailer byte 0x${trailer.toString(16)} at offset ${payloadEnd}`, frameEnd: end };
  if (crc32(b.subarray(offset + 8, payloadEnd)) !== b.readUInt32LE(offset + 4)) return { kind: 'corrupt', detail: 'crc32 mismatch', frameEnd: end };
  try {
    return { kind: 'record', record: decodeBody(b, offset, payloadEnd), length: end - offset };
  } catch (err) {
    return { kind: 'corrupt', detail: (err as Error).message, frameEnd: end };
  }
}

/** Decodes the payload of the frame at `frame`; `end` = where its payload ends (its trailer). */
function decodeBody(b: Buffer, frame: number, end: number): DecodedWalRecord {
  const stored = b[frame + 8];
  const type = (stored & ~WAL_TRAILER_FORMAT_BIT) as WalRecordType;
  if ((stored & WAL_TRAILER_FORMAT_BIT) === 0 || type < WalRecordType.Batch || type > WalRecordType.SegmentHeader) throw new Error(`unknown record type byte ${stored}`);
  const flags = b[frame + 9];
  let at = frame + 10;
  const need = (n: number): void => {
    if (at + n > end) throw new Error('record body shorter than its fields');
  };
  const pos = (): WalPosition => {
    need(16);
    const p = { index: b.readDoubleLE(at), term: b.readDoubleLE(at + 8) };
    at += 16;
    return p;
  };
  const ids = (): string[] => {
    need(2);
    const n = b.readUInt16LE(at);
    at += 2;
    const out: string[] = [];
    for (let k = 0; k < n; k++) {
      need(2);
      const len = b.readUInt16LE(at);
      need(2 + len);
      out.push(b.toString('utf8', at + 2, at + 2 + len));
      at += 2 + len;
    }
    return out;
  };
  const out: { -readonly [K in keyof DecodedWalRecord]: DecodedWalRecord[K] } = { type };
  if (flags & F_RESET) out.reset = pos();
  if (flags & F_START) out.start = pos();
  if (flags & F_SNAPSHOT) out.snapshot = pos();
  if (flags & F_HARD) {
    need(18);
    const term = b.readDoubleLE(at);
    const commit = b.readDoubleLE(at + 8);
    const vlen = b.readUInt16LE(at + 16);
    at += 18;
    let vote: string | null = null;
    if (vlen !== NULL_VOTE) {
      need(vlen);
      vote = b.toString('utf8', at, at + vlen);
      at += vlen;
    }
    out.hardState = { term, vote, commit };
  }
  if (flags & F_CONF) {
    const voters = ids();
    out.confState = { voters, learners: ids() };
  }
  if (flags & F_ENTRIES) {
    need(12);
    const firstIndex = b.readDoubleLE(at);
    const count = b.readUInt32LE(at + 8);
    at += 12;
    const terms = new Float64Array(count);
    const types = new Uint8Array(count);
    const dataOffsets = new Uint32Array(count);
    const dataLengths = new Uint32Array(count);
    for (let k = 0; k < count; k++) {
      need(ENTRY_HEADER_BYTES);
      terms[k] = b.readDoubleLE(at);
      types[k] = b[at + 8];
      if (types[k] > 1) throw new Error(`unknown entry type byte ${types[k]}`);
      const len = b.readUInt32LE(at + 9);
      at += ENTRY_HEADER_BYTES;
      need(len);
      dataOffsets[k] = at - frame;
      dataLengths[k] = len;
      at += len;
    }
    out.entries = { firstIndex, terms, types, dataOffsets, dataLengths };
  }
  if (at !== end) throw new Error(`${end - at} unexpected bytes after the record's fields`);
  return out;
}

/** Entry type of a stored type byte. */
export function entryTypeOf(byte: number): EntryType {
  return byte === 0 ? 'normal' : 'conf-change';
}

/** Stored type byte of an entry type. */
export function entryTypeByte(type: EntryType): number {
  return TYPE_BYTE[type];
}
