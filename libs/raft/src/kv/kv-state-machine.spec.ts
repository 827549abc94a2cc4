import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeKvCommand, encodeKvCommand, type KvCommand } from './kv-commands';
import { KvStateMachine } from './kv-state-machine';

const command = fc.oneof(
  fc.record({ op: fc.constant('put' as const), key: fc.constantFrom('a', 'b', 'c', 'd'), value: fc.string({ maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c', 'd') }),
);

describe('KvStateMachine', () => {
  it('is deterministic and its snapshot restores an identical state (property)', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), fc.nat(60), (cmds: KvCommand[], cut) => {
        const a = new KvStateMachine();
        const b = new KvStateMachine();
        const results = cmds.map((c, i) => [a.apply(encodeKvCommand(c), { index: i + 1, term: 1 }), b.apply(encodeKvCommand(c), { index: i + 1, term: 1 })]);
        for (const [x, y] of results) expect(x).toEqual(y);
        expect(Buffer.from(a.snapshot())).toEqual(Buffer.from(b.snapshot()));
        // Restore from a snapshot taken part-way, replay the rest: same final state.
        const k = Math.min(cut, cmds.length);
        const c = new KvStateMachine();
        cmds.slice(0, k).forEach((cmd, i) => c.apply(encodeKvCommand(cmd), { index: i + 1, term: 1 }));
        const d = new KvStateMachine();
        d.restore(c.snapshot());
        cmds.slice(k).forEach((cmd, i) => d.apply(encodeKvCommand(cmd), { index: k + i + 1, term: 1 }));
        expect(Buffer.from(d.snapshot())).toEqual(Buffer.from(a.snapshot()));
      }),
    );
  });

  it('returns the previous value and the index', () => {
    const sm = new KvStateMachine();
    expect(sm.apply(encodeKvCommand({ op: 'put', key: 'k', value: '1' }), { index: 7, term: 2 })).toEqual({ index: 7 });
    expect(sm.apply(encodeKvCommand({ op: 'put', key: 'k', value: '2' }), { index: 8, term: 2 })).toEqual({ index: 8, previous: '1' });
    expect(sm.apply(encodeKvCommand({ op: 'delete', key: 'k' }), { index: 9, term: 2 })).toEqual({ index: 9, previous: '2' });
    expect(sm.get('k')).toBeUndefined();
    expect(sm.appliedIndex).toBe(9);
  });

  it('rejects malformed commands with a TypeError', () => {
    expect(() => decodeKvCommand(encodeKvCommand({ op: 'put', key: 'k' } as unknown as KvCommand))).toThrow(TypeError);
    expect(() => decodeKvCommand(new Uint8Array([0x92, 1]))).toThrow();
  });
});
