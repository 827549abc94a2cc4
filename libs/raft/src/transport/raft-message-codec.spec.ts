import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MESSAGE_TYPES, type Message } from '../core';
import { parseWireMessage } from '../node/wire-message';
import { encodeFrame, FrameDecoder } from './frame-codec';
import { decodeRaftMessage, encodeRaftMessageBody, isRaftMessage, RAFT_MESSAGE_TAG } from './raft-message-codec';

const index = fc.maxSafeNat();
const bytes = fc.uint8Array({ maxLength: 64 });
const id = fc.string({ minLength: 1, maxLength: 12 });
const entry = fc.record({ index, term: index, type: fc.constantFrom('normal' as const, 'conf-change' as const), data: bytes });
const message: fc.Arbitrary<Message> = fc
  .record({
    type: fc.constantFrom(...MESSAGE_TYPES),
    from: id,
    to: id,
    term: index,
    logTerm: index,
    index,
    entries: fc.array(entry, { maxLength: 5 }),
    commit: index,
    reject: fc.boolean(),
    rejectHint: index,
    context: fc.option(bytes, { nil: undefined }),
    snapshot: fc.option(
      fc.record({ metadata: fc.record({ index, term: index, confState: fc.record({ voters: fc.array(id, { maxLength: 5 }), learners: fc.array(id, { maxLength: 3 }) }) }), data: bytes }),
      { nil: undefined },
    ),
  })
  .map((m) => m as Message);

/** What a message looks like after any wire round trip: byte fields as plain Uint8Array contents. */
function normalised(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: [...value] };
  if (Array.isArray(value)) return value.map(normalised);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, normalised(v)]),
    );
  }
  return value;
}

describe('raft message codec', () => {
  it('round-trips every message shape, field for field', () => {
    fc.assert(
      fc.property(message, (m) => {
        const decoded = decodeRaftMessage(encodeRaftMessageBody(m));
        expect(normalised(decoded)).toEqual(normalised({ ...m }));
      }),
      { numRuns: 500 },
    );
  });

  it('travels as a frame next to msgpack frames, and the node accepts what arrives', () => {
    const m: Message = {
      type: 'MsgApp',
      from: 'n1',
      to: 'n2',
      term: 3,
      logTerm: 2,
      index: 41,
      entries: [{ index: 42, term: 3, type: 'normal', data: Uint8Array.from([1, 2, 3]) }],
      commit: 40,
      reject: false,
      rejectHint: 0,
    };
    const stream = Buffer.concat([encodeFrame({ t: 'hello', v: 1 }), encodeFrame(m), encodeFrame({ id: 7, ok: true })]);
    expect(stream[8 + encodeFrame({ t: 'hello', v: 1 }).length - 4]).toBe(RAFT_MESSAGE_TAG);
    const decoder = new FrameDecoder(1 << 20);
    // Byte by byte, so frame boundaries fall everywhere.
    const out = [...stream].flatMap((byte) => decoder.push(Buffer.from([byte])));
    expect(out).toHaveLength(3);
    expect(out[0]).toEqual({ t: 'hello', v: 1 });
    expect(out[2]).toEqual({ id: 7, ok: true });
    const parsed = parseWireMessage(out[1], 'n1', 'n2');
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(normalised(parsed as unknown as Record<string, unknown>)).toEqual(normalised({ ...m, snapshot: undefined, context: undefined }));
  });

  it('refuses every truncation and any trailing byte with a RangeError, never reading past the body', () => {
    fc.assert(
      fc.property(message, (m) => {
        const body = encodeRaftMessageBody(m);
        for (let cut = 0; cut < body.length; cut++) expect(() => decodeRaftMessage(body.subarray(0, cut))).toThrow(RangeError);
        expect(() => decodeRaftMessage(Buffer.concat([body, Buffer.from([0])]))).toThrow(RangeError);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses an unknown version, message type or entry type, and absurd entry counts', () => {
    const m: Message = { type: 'MsgHeartbeat', from: 'a', to: 'b', term: 1, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 };
    const body = encodeRaftMessageBody(m);
    const corrupt = (offset: number, value: number): Buffer => {
      const copy = Buffer.from(body);
      copy[offset] = value;
      return copy;
    };
    expect(() => decodeRaftMessage(corrupt(1, 9))).toThrow(/version/);
    expect(() => decodeRaftMessage(corrupt(2, 200))).toThrow(/type/);
    const countAt = body.length - 4;
    const huge = Buffer.from(body);
    huge.writeUInt32BE(0xffffffff, countAt);
    expect(() => decodeRaftMessage(huge)).toThrow(/entry count/);
    const withEntry = encodeRaftMessageBody({ ...m, type: 'MsgApp', entries: [{ index: 1, term: 1, type: 'normal', data: new Uint8Array(0) }] });
    const badType = Buffer.from(withEntry);
    badType[countAt + 4 + 16] = 7;
    expect(() => decodeRaftMessage(badType)).toThrow(/entry type/);
  });

  it('recognises Raft messages only: handshake, KV and arbitrary payloads stay msgpack', () => {
    expect(isRaftMessage({ t: 'hello' })).toBe(false);
    expect(isRaftMessage({ id: 1, op: 'put', key: 'k', value: 'v' })).toBe(false);
    expect(isRaftMessage({ type: 'MsgNope', from: 'a', to: 'b', entries: [] })).toBe(false);
    expect(isRaftMessage(null)).toBe(false);
    fc.assert(fc.property(message, (m) => isRaftMessage(m)));
  });
});
