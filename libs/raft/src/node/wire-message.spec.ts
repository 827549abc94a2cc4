import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { newMessage } from '../core';
import { encodeFrame, FrameDecoder } from '../transport/frame-codec';
import { parseWireMessage } from './wire-message';

/** What a message looks like after a trip through the transport's codec. */
function viaWire(payload: unknown): unknown {
  return new FrameDecoder(1 << 20).push(encodeFrame(payload))[0];
}

/**
 * What a hostile or buggy peer can deliver: any msgpack frame (the binary Raft format cannot
 * even express most malformed shapes, but the decoder accepts msgpack frames too).
 */
function viaMsgpackFrame(payload: unknown): unknown {
  const body = new Packr({ useRecords: false, mapsAsObjects: true }).pack(payload);
  const frame = Buffer.alloc(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return new FrameDecoder(1 << 20).push(frame)[0];
}

describe('parseWireMessage', () => {
  const app = newMessage('MsgApp', 'a', 'b', 3, {
    index: 5,
    logTerm: 2,
    commit: 4,
    entries: [{ index: 6, term: 3, type: 'normal', data: new Uint8Array([1, 2]) }],
  });

  it('accepts a message that went through the codec, field for field', () => {
    const m = parseWireMessage(viaWire(app), 'a', 'b');
    expect(typeof m).toBe('object');
    expect(m).toMatchObject({ type: 'MsgApp', from: 'a', to: 'b', term: 3, index: 5, logTerm: 2, commit: 4, reject: false });
    const parsed = m as typeof app;
    expect(Buffer.from(parsed.entries[0].data)).toEqual(Buffer.from([1, 2]));
  });

  it('accepts a MsgSnap with its snapshot', () => {
    const snap = newMessage('MsgSnap', 'a', 'b', 3, { snapshot: { metadata: { index: 10, term: 2, confState: { voters: ['a', 'b'], learners: [] } }, data: new Uint8Array([9]) } });
    expect(parseWireMessage(viaWire(snap), 'a', 'b')).toMatchObject({ snapshot: { metadata: { index: 10 } } });
  });

  it.each([
    ['a sender spoofing another peer', { ...app, from: 'c' }, /claims sender c/],
    ['a message for another node', { ...app, to: 'z' }, /addressed to z/],
    ['a local-only kind', { ...app, type: 'MsgHup' }, /local-only/],
    ['an unknown kind', { ...app, type: 'MsgEvil' }, /unknown message type/],
    ['a negative term', { ...app, term: -1 }, /term/],
    ['a fractional index', { ...app, index: 1.5 }, /index/],
    ['a malformed entry', { ...app, entries: [{ index: 1, term: 1, type: 'normal', data: 'str' }] }, /malformed entry/],
    ['a bad entry type', { ...app, entries: [{ index: 1, term: 1, type: 'weird', data: new Uint8Array() }] }, /malformed entry/],
    ['a malformed snapshot', { ...app, snapshot: { metadata: { index: 1 } } }, /malformed snapshot/],
    ['a non-object', 42, /not an object/],
  ])('refuses %s (msgpack frame)', (_what, payload, reason) => {
    const r = parseWireMessage(viaMsgpackFrame(payload), 'a', 'b');
    expect(typeof r).toBe('string');
    expect(r).toMatch(reason);
  });

  it.each([
    ['a sender spoofing another peer', { ...app, from: 'c' }, /claims sender c/],
    ['a message for another node', { ...app, to: 'z' }, /addressed to z/],
    ['a local-only kind', { ...app, type: 'MsgHup' }, /local-only/],
    ['a negative term', { ...app, term: -1 }, /term/],
    ['a fractional index', { ...app, index: 1.5 }, /index/],
  ] as const)('refuses %s (binary Raft frame)', (_what, payload, reason) => {
    const r = parseWireMessage(viaWire(payload), 'a', 'b');
    expect(typeof r).toBe('string');
    expect(r).toMatch(reason);
  });
});
