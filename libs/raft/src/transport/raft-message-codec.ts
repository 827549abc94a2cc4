import { MESSAGE_TYPES, type Entry, type Message, type MessageType } from '../core';

/**
 * Binary wire format of Raft messages — the hot path between peers (MsgApp carries every
 * entry, MsgAppResp answers it). Hand-written because a generic msgpack map with named keys
 * cost about a tenth of a replica's CPU per committed write.
 *
 * ```
 * TAG (0xc1) | version u8 | type u8 (index in MESSAGE_TYPES) | flags u8 (1 reject, 2 context, 4 snapshot)
 * from: u8 length + utf8 | to: u8 length + utf8
 * term, logTerm, index, commit, rejectHint: f64 BE each (non-negative safe integers)
 * entries: u32 count, then per entry: index f64 | term f64 | type u8 (0 normal, 1 conf-change) | u32 length + data
 * [flags & 2] context: u32 length + bytes
 * [flags & 4] snapshot: index f64 | term f64 | voters, learners: u16 count + (u8 length + utf8)… | u32 length + data
 * ```
 *
 * 0xc1 is the one byte msgpack never uses, so a frame body starting with it is unambiguous
 * next to the msgpack frames of the handshake and the KV protocol.
 *
 * Invariants: `decodeRaftMessage(encodeRaftMessageBody(m))` returns a payload with the same
 * fields as `m` (entry and snapshot data are views into the frame, not copies); the decoder
 * throws {@link RangeError} on any truncated, overlong or out-of-range input and never reads
 * past the body. What it returns is still untrusted: the node validates it like any payload.
 */
export const RAFT_MESSAGE_TAG = 0xc1;
const VERSION = 1;
const FLAG_REJECT = 1;
const FLAG_CONTEXT = 2;
const FLAG_SNAPSHOT = 4;
const TYPE_CODE = new Map<string, number>(MESSAGE_TYPES.map((type, i) => [type, i]));

/** Whether `payload` has the shape of a Raft {@link Message} (what the node hands the transport). */
export function isRaftMessage(payload: unknown): payload is Message {
  if (typeof payload !== 'object' || payload === null) return false;
  const p = payload as Partial<Message>;
  return typeof p.type === 'string' && TYPE_CODE.has(p.type) && Array.isArray(p.entries) && typeof p.from === 'string' && typeof p.to === 'string';
}

/** Encodes `m` as a frame body (without the length prefix); see the layout above. */
export function encodeRaftMessageBody(m: Message, headerBytes = 0): Buffer {
  const from = Buffer.from(m.from, 'utf8');
  const to = Buffer.from(m.to, 'utf8');
  if (from.length > 255 || to.length > 255) throw new RangeError('node id longer than 255 bytes');
  let size = headerBytes + 4 + 1 + from.length + 1 + to.length + 5 * 8 + 4;
  for (const e of m.entries) size += 8 + 8 + 1 + 4 + e.data.byteLength;
  if (m.context) size += 4 + m.context.byteLength;
  const snapshotIds = m.snapshot ? [...m.snapshot.metadata.confState.voters, ...m.snapshot.metadata.confState.learners].map((id) => Buffer.from(id, 'utf8')) : [];
  if (m.snapshot) {
    size += 8 + 8 + 2 + 2 + 4 + m.snapshot.data.byteLength;
    for (const id of snapshotIds) {
      if (id.length > 255) throw new RangeError('node id longer than 255 bytes');
      size += 1 + id.length;
    }
  }
  const out = Buffer.allocUnsafe(size);
  let o = headerBytes;
  out[o++] = RAFT_MESSAGE_TAG;
  out[o++] = VERSION;
  out[o++] = TYPE_CODE.get(m.type)!;
  out[o++] = (m.reject ? FLAG_REJECT : 0) | (m.context ? FLAG_CONTEXT : 0) | (m.snapshot ? FLAG_SNAPSHOT : 0);
  o = putShortBytes(out, o, from);
  o = putShortBytes(out, o, to);
  o = out.writeDoubleBE(m.term, o);
  o = out.writeDoubleBE(m.logTerm, o);
  o = out.writeDoubleBE(m.index, o);
  o = out.writeDoubleBE(m.commit, o);
  o = out.writeDoubleBE(m.rejectHint, o);
  o = out.writeUInt32BE(m.entries.length, o);
  for (const e of m.entries) {
    o = out.writeDoubleBE(e.index, o);
    o = out.writeDoubleBE(e.term, o);
    out[o++] = e.type === 'conf-change' ? 1 : 0;
    o = putLongBytes(out, o, e.data);
  }
  if (m.context) o = putLongBytes(out, o, m.context);
  if (m.snapshot) {
    const { metadata, data } = m.snapshot;
    o = out.writeDoubleBE(metadata.index, o);
    o = out.writeDoubleBE(metadata.term, o);
    let next = 0;
    for (const group of [metadata.confState.voters, metadata.confState.learners]) {
      o = out.writeUInt16BE(group.length, o);
      for (let i = 0; i < group.length; i++) o = putShortBytes(out, o, snapshotIds[next++]);
    }
    o = putLongBytes(out, o, data);
  }
  return out;
}

/** Decodes a body produced by {@link encodeRaftMessageBody}; throws RangeError on malformed input. */
export function decodeRaftMessage(body: Buffer): Record<string, unknown> {
  const r = new Reader(body);
  if (r.u8() !== RAFT_MESSAGE_TAG) throw new RangeError('not a raft message frame');
  const version = r.u8();
  if (version !== VERSION) throw new RangeError(`unsupported raft message version ${version}`);
  const type: MessageType | undefined = MESSAGE_TYPES[r.u8()];
  if (type === undefined) throw new RangeError('unknown raft message type');
  const flags = r.u8();
  const from = r.shortString();
  const to = r.shortString();
  const term = r.f64();
  const logTerm = r.f64();
  const index = r.f64();
  const commit = r.f64();
  const rejectHint = r.f64();
  const count = r.u32();
  // Each entry takes at least 21 bytes: refuse counts the body cannot hold before allocating.
  if (count * 21 > r.remaining()) throw new RangeError('entry count exceeds the frame');
  const entries: Entry[] = new Array<Entry>(count);
  for (let i = 0; i < count; i++) {
    const entryIndex = r.f64();
    const entryTerm = r.f64();
    const kind = r.u8();
    if (kind > 1) throw new RangeError('unknown entry type');
    entries[i] = { index: entryIndex, term: entryTerm, type: kind === 1 ? 'conf-change' : 'normal', data: r.longBytes() };
  }
  const context = flags & FLAG_CONTEXT ? r.longBytes() : undefined;
  let snapshot: Record<string, unknown> | undefined;
  if (flags & FLAG_SNAPSHOT) {
    const snapIndex = r.f64();
    const snapTerm = r.f64();
    const voters = r.stringList();
    const learners = r.stringList();
    snapshot = { metadata: { index: snapIndex, term: snapTerm, confState: { voters, learners } }, data: r.longBytes() };
  }
  if (r.remaining() !== 0) throw new RangeError('trailing bytes after raft message');
  return { type, from, to, term, logTerm, index, entries, commit, snapshot, reject: (flags & FLAG_REJECT) !== 0, rejectHint, context };
}

function putShortBytes(out: Buffer, o: number, bytes: Buffer): number {
  out[o] = bytes.length;
  bytes.copy(out, o + 1);
  return o + 1 + bytes.length;
}

function putLongBytes(out: Buffer, o: number, bytes: Uint8Array): number {
  o = out.writeUInt32BE(bytes.byteLength, o);
  out.set(bytes, o);
  return o + bytes.byteLength;
}

/** Bounds-checked cursor over a frame body. */
class Reader {
  private o = 0;

  constructor(private readonly b: Buffer) {}

  remaining(): number {
    return this.b.length - this.o;
  }

  u8(): number {
    this.need(1);
    return this.b[this.o++];
  }

  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.o);
    this.o += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.b.readDoubleBE(this.o);
    this.o += 8;
    return v;
  }

  shortString(): string {
    const n = this.u8();
    this.need(n);
    const s = this.b.toString('utf8', this.o, this.o + n);
    this.o += n;
    return s;
  }

  stringList(): string[] {
    this.need(2);
    const n = this.b.readUInt16BE(this.o);
    this.o += 2;
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.shortString());
    return out;
  }

  longBytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const v = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return v;
  }

  private need(n: number): void {
    if (this.o + n > this.b.length) throw new RangeError('raft message truncated');
  }
}
