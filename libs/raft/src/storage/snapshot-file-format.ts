import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import type { ConfState, Snapshot } from '../core';

/**
 * On-disk layout of one snapshot file:
 *
 * ```
 * "FLSNAP01" (8 bytes) | header length (u32 BE) | header (msgpack) | data | SHA-256 of all preceding bytes (32)
 * ```
 *
 * The header holds index, term, membership and the data length. The trailing digest covers
 * header and data, so a torn, truncated or bit-flipped file is always detected.
 */
export const SNAPSHOT_MAGIC = Buffer.from('FLSNAP01', 'latin1');
const DIGEST_BYTES = 32;
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

interface SnapshotHeader {
  index: number;
  term: number;
  voters: string[];
  learners: string[];
  dataBytes: number;
}

/** The complete bytes of a snapshot file, SHA-256 trailer included. */
export function encodeSnapshotFile(snapshot: Snapshot): Buffer {
  const { index, term, confState } = snapshot.metadata;
  const header: SnapshotHeader = { index, term, voters: [...confState.voters], learners: [...confState.learners], dataBytes: snapshot.data.byteLength };
  const headerBytes = packr.pack(header);
  const lengthBytes = Buffer.alloc(4);
  lengthBytes.writeUInt32BE(headerBytes.length);
  const body = Buffer.concat([SNAPSHOT_MAGIC, lengthBytes, headerBytes, snapshot.data]);
  const digest = createHash('sha256').update(body).digest();
  return Buffer.concat([body, digest]);
}

/** Decodes and verifies a snapshot file; returns a description of the problem instead of throwing. */
export function decodeSnapshotFile(bytes: Buffer): { ok: true; snapshot: Snapshot } | { ok: false; problem: string } {
  if (bytes.length < SNAPSHOT_MAGIC.length + 4 + DIGEST_BYTES) return { ok: false, problem: `file too short (${bytes.length} bytes)` };
  if (!bytes.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) return { ok: false, problem: 'bad magic' };
  const body = bytes.subarray(0, bytes.length - DIGEST_BYTES);
  const digest = createHash('sha256').update(body).digest();
  if (!digest.equals(bytes.subarray(bytes.length - DIGEST_BYTES))) return { ok: false, problem: 'sha256 checksum mismatch' };
  const headerLength = body.readUInt32BE(SNAPSHOT_MAGIC.length);
  const headerStart = SNAPSHOT_MAGIC.length + 4;
  if (headerStart + headerLength > body.length) return { ok: false, problem: 'header length beyond end of file' };
  let header: SnapshotHeader;
  try {
    header = packr.unpack(body.subarray(headerStart, headerStart + headerLength)) as SnapshotHeader;
  } catch (err) {
    return { ok: false, problem: `undecodable header: ${(err as Error).message}` };
  }
  const dataStart = headerStart + headerLength;
  if (dataStart + header.dataBytes !== body.length) return { ok: false, problem: 'data length does not match header' };
  const confState: ConfState = { voters: header.voters, learners: header.learners };
  const data = new Uint8Array(body.subarray(dataStart));
  return { ok: true, snapshot: { metadata: { index: header.index, term: header.term, confState }, data } };
}
