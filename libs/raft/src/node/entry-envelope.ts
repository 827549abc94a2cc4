import { Packr } from 'msgpackr';
import type { PeerAddress } from '../transport/peer-link';

/**
 * The driver's framing of `normal` entry data. Part of the persisted log format.
 *
 * ```
 * kind (u8) | origin length (u8) | origin (utf8) | seq (f64 BE) | body
 * ```
 * kind 1: application command — body is handed to `StateMachine.apply`;
 * kind 2: member address record — body is msgpack `{id, host, port}` (or `{id, removed: true}`),
 *         replicated so every node can dial members added at run time.
 *
 * `origin` + `seq` identify the proposing node incarnation and request, so the node that
 * proposed can resolve its pending promise when it applies the entry — also when the proposal
 * was forwarded to the leader. An empty `data` (the leader's no-op) carries no envelope.
 */
/** Envelope kind of an application command. Persisted: never renumber. */
export const ENVELOPE_COMMAND = 1;
/** Envelope kind of a member address record. Persisted: never renumber. */
export const ENVELOPE_MEMBER = 2;

/** A decoded driver envelope (see the layout above). */
export interface Envelope {
  kind: typeof ENVELOPE_COMMAND | typeof ENVELOPE_MEMBER;
  origin: string;
  seq: number;
  body: Uint8Array;
}

/** A replicated member address (or its removal). */
export interface MemberRecord {
  id: string;
  host?: string;
  port?: number;
  removed?: boolean;
}

/** Frames `e` as entry data; throws RangeError for an origin over 255 bytes. */
export function encodeEnvelope(e: Envelope): Uint8Array {
  const origin = Buffer.from(e.origin, 'utf8');
  if (origin.length > 255) throw new RangeError('origin id longer than 255 bytes');
  const out = Buffer.allocUnsafe(2 + origin.length + 8 + e.body.byteLength);
  out[0] = e.kind;
  out[1] = origin.length;
  origin.copy(out, 2);
  out.writeDoubleBE(e.seq, 2 + origin.length);
  out.set(e.body, 10 + origin.length);
  return out;
}

/** Decodes entry data; returns undefined for data this driver did not frame (never throws). */
export function decodeEnvelope(data: Uint8Array): Envelope | undefined {
  if (data.byteLength < 10) return undefined;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const kind = b[0];
  if (kind !== ENVELOPE_COMMAND && kind !== ENVELOPE_MEMBER) return undefined;
  const originLength = b[1];
  if (b.length < 10 + originLength) return undefined;
  return {
    kind,
    origin: b.toString('utf8', 2, 2 + originLength),
    seq: b.readDoubleBE(2 + originLength),
    body: b.subarray(10 + originLength),
  };
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** Body of an {@link ENVELOPE_MEMBER} envelope. */
export function encodeMemberRecord(r: MemberRecord): Uint8Array {
  return packr.pack(r);
}

/** Inverse of {@link encodeMemberRecord}; undefined for anything malformed. */
export function decodeMemberRecord(body: Uint8Array): MemberRecord | undefined {
  try {
    const v = packr.unpack(body) as MemberRecord;
    return typeof v === 'object' && v !== null && typeof v.id === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Snapshot data as the driver stores it: the member address book next to the application's
 * own snapshot, so a node restored from a snapshot can dial every member.
 */
export interface SnapshotEnvelope {
  members: Record<string, PeerAddress>;
  app: Uint8Array;
}

/** Snapshot data as stored and shipped (`Snapshot.data`). */
export function encodeSnapshotEnvelope(s: SnapshotEnvelope): Uint8Array {
  return packr.pack({ v: 1, members: s.members, app: s.app });
}

/** Inverse of {@link encodeSnapshotEnvelope}; undefined for the empty initial snapshot, TypeError for foreign data. */
export function decodeSnapshotEnvelope(data: Uint8Array): SnapshotEnvelope | undefined {
  if (data.byteLength === 0) return undefined;
  const v = packr.unpack(data) as { v?: number; members?: Record<string, PeerAddress>; app?: Uint8Array };
  if (v?.v !== 1 || !(v.app instanceof Uint8Array)) throw new TypeError('snapshot data is not a raft-node snapshot envelope');
  return { members: v.members ?? {}, app: v.app };
}
