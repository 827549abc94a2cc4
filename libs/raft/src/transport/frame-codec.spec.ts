import { describe, expect, it } from 'vitest';
import { FrameDecodeError, FrameTooLargeError } from './errors';
import { encodeFrame, FrameDecoder } from './frame-codec';
import { backoffDelayMs } from './backoff';

describe('frame codec', () => {
  const payloads = [{ type: 'MsgApp', term: 3, entries: [{ index: 1, data: new Uint8Array([1, 2, 3]) }] }, 'text', 42, [1, [2, [3]]], { big: 'x'.repeat(70_000) }];

  it('round-trips payloads fed one byte at a time', () => {
    const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
    const decoder = new FrameDecoder(1 << 20);
    const out: unknown[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...decoder.push(stream.subarray(i, i + 1)));
    expect(out).toHaveLength(payloads.length);
    expect(out[0]).toMatchObject({ type: 'MsgApp', term: 3 });
    expect(Buffer.from((out[0] as { entries: { data: Uint8Array }[] }).entries[0].data)).toEqual(Buffer.from([1, 2, 3]));
    expect(out.slice(1)).toEqual(payloads.slice(1));
  });

  it('decodes many frames delivered in a single chunk', () => {
    const stream = Buffer.concat(Array.from({ length: 100 }, (_, i) => encodeFrame({ i })));
    expect(new FrameDecoder(1024).push(stream).map((p) => (p as { i: number }).i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('rejects a frame above the limit from its header alone, then stays poisoned', () => {
    const decoder = new FrameDecoder(1000);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1001);
    expect(() => decoder.push(header)).toThrow(FrameTooLargeError);
    expect(() => decoder.push(encodeFrame(1))).toThrow(FrameDecodeError);
  });

  it('accepts a frame exactly at the limit', () => {
    const frame = encodeFrame('y'.repeat(95));
    const decoder = new FrameDecoder(frame.length - 4);
    expect(decoder.push(frame)).toEqual(['y'.repeat(95)]);
  });

  it('rejects an undecodable body with a typed error', () => {
    const body = Buffer.from([0x92, 0x01]); // a 2-element array holding only one element
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 2]), body]);
    expect(() => new FrameDecoder(100).push(frame)).toThrow(FrameDecodeError);
  });

  it('computes jittered exponential backoff within [d/2, d]', () => {
    const policy = { minMs: 10, maxMs: 1000 };
    expect(backoffDelayMs(policy, 0, () => 0)).toBe(5);
    expect(backoffDelayMs(policy, 0, () => 1)).toBe(10);
    expect(backoffDelayMs(policy, 3, () => 1)).toBe(80);
    expect(backoffDelayMs(policy, 50, () => 0.999)).toBeLessThanOrEqual(1000);
    expect(backoffDelayMs(policy, 50, () => 0)).toBe(500);
  });
});
