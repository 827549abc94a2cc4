import { Packr } from 'msgpackr';
import { FrameDecodeError, FrameTooLargeError } from './errors';
import { decodeRaftMessage, encodeRaftMessageBody, isRaftMessage, RAFT_MESSAGE_TAG } from './raft-message-codec';

/** Bytes of the big-endian length prefix in front of every frame. */
export const FRAME_HEADER_BYTES = 4;

// One shared codec without record structures: every frame is self-describing, so a peer that
// restarts (and loses any shared structure table) can always decode what it receives.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/**
 * Encodes `payload` and prefixes it with its length (u32, big-endian): Raft messages in their
 * binary format (see raft-message-codec.ts), anything else as msgpack.
 */
export function encodeFrame(payload: unknown): Buffer {
  if (isRaftMessage(payload)) {
    const frame = encodeRaftMessageBody(payload, FRAME_HEADER_BYTES);
    frame.writeUInt32BE(frame.length - FRAME_HEADER_BYTES, 0);
    return frame;
  }
  const body = packr.pack(payload);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Incremental decoder for a stream of length-prefixed frames (binary Raft messages or msgpack).
 *
 * Invariants: a frame whose announced length exceeds `maxFrameBytes` is rejected as soon as its
 * header arrives (nothing of it is buffered); an undecodable body throws {@link FrameDecodeError}.
 * After either error the decoder is poisoned and the caller must drop the connection: the
 * stream is no longer aligned on frame boundaries.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private poisoned = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds received bytes; returns every payload completed by them, in order. */
  push(chunk: Buffer): unknown[] {
    if (this.poisoned) throw new FrameDecodeError('decoder already failed');
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: unknown[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) break;
      const head = this.peek(FRAME_HEADER_BYTES);
      const length = head.readUInt32BE(0);
      if (length > this.maxFrameBytes) {
        this.poisoned = true;
        throw new FrameTooLargeError(length, this.maxFrameBytes);
      }
      if (this.buffered < FRAME_HEADER_BYTES + length) break;
      const frame = this.take(FRAME_HEADER_BYTES + length);
      try {
        const body = frame.subarray(FRAME_HEADER_BYTES);
        out.push(body[0] === RAFT_MESSAGE_TAG ? decodeRaftMessage(body) : packr.unpack(body));
      } catch (err) {
        this.poisoned = true;
        throw new FrameDecodeError(err instanceof Error ? err.message : String(err));
      }
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0];
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}
