import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, decodeMemberRecord, decodeSnapshotEnvelope, encodeEnvelope, encodeMemberRecord, encodeSnapshotEnvelope, ENVELOPE_COMMAND, ENVELOPE_MEMBER } from './entry-envelope';

describe('entry envelope', () => {
  it('round-trips any origin, seq and body', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.nat(), fc.uint8Array({ maxLength: 300 }), fc.constantFrom(ENVELOPE_COMMAND, ENVELOPE_MEMBER), (origin, seq, body, kind) => {
        const decoded = decodeEnvelope(encodeEnvelope({ kind, origin, seq, body }));
        expect(decoded).toBeDefined();
        expect(decoded!.kind).toBe(kind);
        expect(decoded!.origin).toBe(origin);
        expect(decoded!.seq).toBe(seq);
        expect(Buffer.from(decoded!.body)).toEqual(Buffer.from(body));
      }),
    );
  });

  it('returns undefined (never throws) for data it did not frame', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const d = decodeEnvelope(bytes);
        if (d) expect([ENVELOPE_COMMAND, ENVELOPE_MEMBER]).toContain(d.kind);
      }),
    );
    expect(decodeEnvelope(new Uint8Array(0))).toBeUndefined();
    expect(decodeEnvelope(new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined();
  });

  it('round-trips member records and snapshot envelopes', () => {
    expect(decodeMemberRecord(encodeMemberRecord({ id: 'n4', host: '10.0.0.4', port: 7004 }))).toEqual({ id: 'n4', host: '10.0.0.4', port: 7004 });
    expect(decodeMemberRecord(new Uint8Array([0xc1]))).toBeUndefined();
    const s = decodeSnapshotEnvelope(encodeSnapshotEnvelope({ members: { a: { host: 'h', port: 1 } }, app: new Uint8Array([1, 2, 3]) }));
    expect(s?.members).toEqual({ a: { host: 'h', port: 1 } });
    expect(Buffer.from(s!.app)).toEqual(Buffer.from([1, 2, 3]));
    expect(decodeSnapshotEnvelope(new Uint8Array(0))).toBeUndefined();
  });
});
