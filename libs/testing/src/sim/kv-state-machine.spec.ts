import { describe, expect, it } from 'vitest';
import { decodePut, encodePut, KvStateMachine } from './kv-state-machine';

describe('KvStateMachine', () => {
  it('applies puts, ignores a duplicate or stale request of a client, and snapshots both', () => {
    const kv = new KvStateMachine();
    expect(kv.apply({ client: 'c1', request: 1, key: 'x', value: 'a' })).toBe(true);
    expect(kv.apply({ client: 'c2', request: 1, key: 'x', value: 'b' })).toBe(true);
    // c1's first put committed a second time (a duplicated forwarded proposal): no effect.
    expect(kv.apply({ client: 'c1', request: 1, key: 'x', value: 'a' })).toBe(false);
    expect(kv.get('x')).toBe('b');
    expect(kv.get('y')).toBeNull();
    const copy = new KvStateMachine();
    copy.restore(kv.snapshot());
    expect(copy.fingerprint()).toBe(kv.fingerprint());
    expect(copy.apply({ client: 'c1', request: 1, key: 'x', value: 'a' })).toBe(false);
    expect(copy.apply({ client: 'c1', request: 2, key: 'x', value: 'c' })).toBe(true);
    expect(copy.fingerprint()).not.toBe(kv.fingerprint());
  });

  it('round-trips commands; an empty entry is a no-op', () => {
    const cmd = { client: 'c1', request: 7, key: 'k0', value: 'c1-7' };
    expect(decodePut(encodePut(cmd))).toEqual(cmd);
    expect(decodePut(new Uint8Array(0))).toBeNull();
  });
});
