import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { LogCorruptError, LogHoleError } from './errors';
import { LmdbLogStore } from './lmdb-log-store';
import { ents, logStoreContract, useTempDirs } from './log-store.contract';
import { encodeIndexKey } from './log-record-codec';

logStoreContract({ name: 'LmdbLogStore', harnessArgs: ['lmdb'], open: (opts) => LmdbLogStore.open(opts) });

const tempDir = useTempDirs();
const stores: LmdbLogStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function openStore(dir: string, bootstrap = { voters: ['a', 'b', 'c'], learners: [] }): Promise<LmdbLogStore> {
  const s = await LmdbLogStore.open({ dir, bootstrap });
  stores.push(s);
  return s;
}

describe('LmdbLogStore', () => {
  it('acknowledges an append only after LMDB reports it flushed, not merely committed', async () => {
    const s = await openStore(tempDir());
    const env = s.environment;
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // LMDB's `flushed` thenable (inherited from the store prototype), shadowed on this instance.
    const real = env.flushed;
    expect(typeof real.then).toBe('function');
    expect(Object.getOwnPropertyDescriptor(env, 'flushed')).toBeUndefined();
    Object.defineProperty(env, 'flushed', {
      configurable: true,
      value: {
        then: (ok: (v: boolean) => unknown, fail: (e: unknown) => unknown) =>
          Promise.resolve(real)
            .then(() => gate)
            .then(() => {
              events.push('flushed');
              return true;
            })
            .then(ok, fail),
      },
    });
    const ack = s.append(ents(1, 3, 1)).then(() => events.push('ack'));
    const committed = env.committed.then(() => events.push('committed'));
    await committed;
    await new Promise((r) => setTimeout(r, 30));
    expect(events).toEqual(['committed']);
    expect(s.lastIndex()).toBe(3); // visible once committed …
    release();
    await ack;
    expect(events).toEqual(['committed', 'flushed', 'ack']); // … acknowledged only once flushed
    delete (env as { flushed?: unknown }).flushed;
    expect(env.flushed).toBe(real);
  });

  describe('start-up checks', () => {
    async function storeWith20(): Promise<string> {
      const dir = tempDir();
      const s = await LmdbLogStore.open({ dir });
      await s.append(ents(1, 20, 1));
      await s.setHardState({ term: 1, vote: 'a', commit: 20 });
      await s.close();
      return dir;
    }

    it('stops with a LogCorruptError naming the file and index when an entry fails its checksum', async () => {
      const dir = await storeWith20();
      const env = open({ path: join(dir, 'raft-log.mdb'), maxDbs: 4 });
      const db = env.openDB<Buffer, Buffer>({ name: 'entries', keyEncoding: 'binary', encoding: 'binary' });
      const value = Buffer.from(db.get(encodeIndexKey(7))!);
      value[value.length - 1] ^= 0x01; // one flipped bit in the payload
      await db.put(encodeIndexKey(7), value);
      await env.close();
      const err = await LmdbLogStore.open({ dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LogCorruptError);
      expect((err as LogCorruptError).record).toBe(7);
      expect((err as LogCorruptError).path).toBe(join(dir, 'raft-log.mdb'));
      expect((err as Error).message).toContain(join(dir, 'raft-log.mdb'));
    });

    it('stops with a LogHoleError when an entry in the middle is missing', async () => {
      const dir = await storeWith20();
      const env = open({ path: join(dir, 'raft-log.mdb'), maxDbs: 4 });
      const db = env.openDB<Buffer, Buffer>({ name: 'entries', keyEncoding: 'binary', encoding: 'binary' });
      await db.remove(encodeIndexKey(12));
      await env.close();
      const err = await LmdbLogStore.open({ dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LogHoleError);
      expect(err).toMatchObject({ expectedIndex: 12, foundIndex: 13 });
    });

    it('refuses to start when committed entries at the tail are missing (never silently truncates)', async () => {
      const dir = await storeWith20();
      const env = open({ path: join(dir, 'raft-log.mdb'), maxDbs: 4 });
      const db = env.openDB<Buffer, Buffer>({ name: 'entries', keyEncoding: 'binary', encoding: 'binary' });
      for (let i = 15; i <= 20; i++) await db.remove(encodeIndexKey(i));
      await env.close();
      await expect(LmdbLogStore.open({ dir })).rejects.toThrow(/commit index 20 is beyond the last stored index 14/);
    });

    it('ignores a torn extension of the data file past the last committed transaction', async () => {
      const dir = await storeWith20();
      // What an interrupted write that grew the file leaves behind: bytes LMDB's meta page never points to.
      appendFileSync(join(dir, 'raft-log.mdb'), randomBytes(3000));
      const s = await openStore(dir);
      expect(s.lastIndex()).toBe(20);
      expect(s.entries(1, 21)).toEqual(ents(1, 20, 1));
      await s.append(ents(21, 21, 1)); // and the log keeps working
      expect(s.lastIndex()).toBe(21);
    });
  });
});
