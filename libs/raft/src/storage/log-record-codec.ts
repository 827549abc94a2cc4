import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import type { Entry, EntryType } from '../core';

/**
 * Byte layout of log records in LMDB. Part of the persisted format: never change a byte
 * assignment without a migration.
 *
 * - key: the entry index as 8 bytes big-endian, so LMDB's lexicographic order is log order
 *   (the BoltDB layout of hashicorp/raft-boltdb);
 * - value: crc32 (u32 BE) | term (u64 BE) | type (u8: 0 normal, 1 conf-change) | data.
 *   The crc covers the key bytes and everything after the crc, so a value that ends up under
 *   the wrong key is detected as well as a flipped bit.
 */
const TYPE_BYTE: Record<EntryType, number> = { normal: 0, 'conf-change': 1 };
const VALUE_HEADER_BYTES = 13;
const TWO_32 = 2 ** 32;

/** The LMDB key of log index `index`: 8 bytes big-endian (lexicographic order = log order). */
export function encodeIndexKey(index: number): Buffer {
  const key = Buffer.allocUnsafe(8);
  key.writeUInt32BE(Math.floor(index / TWO_32), 0);
  key.writeUInt32BE(index >>> 0, 4);
  return key;
}

/** Inverse of {@link encodeIndexKey}. */
export function decodeIndexKey(key: Uint8Array): number {
  const b = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return b.readUInt32BE(0) * TWO_32 + b.readUInt32BE(4);
}

/** Encodes an entry's stored value (crc32 over key and value, term, type, data). */
export function encodeEntryValue(entry: Entry): Buffer {
  const value = Buffer.allocUnsafe(VALUE_HEADER_BYTES + entry.data.byteLength);
  value.writeUInt32BE(Math.floor(entry.term / TWO_32), 4);
  value.writeUInt32BE(entry.term >>> 0, 8);
  value[12] = TYPE_BYTE[entry.type];
  value.set(entry.data, VALUE_HEADER_BYTES);
  value.writeUInt32BE(crc32(value.subarray(4), crc32(encodeIndexKey(entry.index))), 0);
  return value;
}

/** Decodes a stored entry; returns a problem description when the record fails its checks. */
export function decodeEntryValue(index: number, value: Uint8Array): Entry | string {
  if (value.byteLength < VALUE_HEADER_BYTES) return `record too short (${value.byteLength} bytes)`;
  const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const expected = crc32(b.subarray(4), crc32(encodeIndexKey(index)));
  if (b.readUInt32BE(0) !== expected) return 'crc32 mismatch';
  const typeByte = b[12];
  if (typeByte > 1) return `unknown entry type byte ${typeByte}`;
  return {
    index,
    term: b.readUInt32BE(4) * TWO_32 + b.readUInt32BE(8),
    type: typeByte === 0 ? 'normal' : 'conf-change',
    data: new Uint8Array(b.subarray(VALUE_HEADER_BYTES)),
  };
}

/** Term of a stored entry without copying its data (the crc is checked by full reads and at open). */
export function entryValueTerm(value: Uint8Array): number {
  const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return b.readUInt32BE(4) * TWO_32 + b.readUInt32BE(8);
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** Meta records (hard state, membership, log start, snapshot position): crc32 (u32 BE) | msgpack. */
export function encodeMetaValue(value: unknown): Buffer {
  const body = packr.pack(value);
  const out = Buffer.allocUnsafe(4 + body.length);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 0);
  return out;
}

/** Verifies and decodes a meta record; a problem description instead of a throw. */
export function decodeMetaValue(value: Uint8Array): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (value.byteLength < 5) return { ok: false, problem: 'record too short' };
  const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (crc32(b.subarray(4)) !== b.readUInt32BE(0)) return { ok: false, problem: 'crc32 mismatch' };
  try {
    return { ok: true, value: packr.unpack(b.subarray(4)) };
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
}
