import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../core';
import { MemoryLogger } from '../transport/logger';
import { SnapshotCorruptError } from './errors';
import { SnapshotStore } from './snapshot-store';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'flotilla-snap-'));
  dirs.push(d);
  return d;
}
function snap(index: number, term: number, text: string): Snapshot {
  return { metadata: { index, term, confState: { voters: ['a', 'b'], learners: ['c'] } }, data: new TextEncoder().encode(text) };
}

describe('SnapshotStore', () => {
  it('saves and loads a snapshot with its metadata intact', async () => {
    const store = await SnapshotStore.open(tempDir());
    const path = await store.save(snap(42, 7, 'hello state'));
    expect(path).toMatch(/snapshot-0{14}42-0{15}7\.snap$/);
    const loaded = await store.loadLatest();
    expect(loaded?.metadata).toEqual({ index: 42, term: 7, confState: { voters: ['a', 'b'], learners: ['c'] } });
    expect(new TextDecoder().decode(loaded!.data)).toBe('hello state');
  });

  it('keeps only the newest N snapshots', async () => {
    const store = await SnapshotStore.open(tempDir(), { keep: 2 });
    for (const i of [10, 20, 30, 40]) await store.save(snap(i, 1, `s${i}`));
    expect((await store.list()).map((f) => f.index)).toEqual([40, 30]);
    expect(new TextDecoder().decode((await store.loadLatest())!.data)).toBe('s40');
  });

  it('detects any flipped byte and any truncation, naming the file', async () => {
    const dir = tempDir();
    const store = await SnapshotStore.open(dir);
    const path = await store.save(snap(5, 1, 'x'.repeat(200)));
    const original = readFileSync(path);
    for (const offset of [0, 9, 15, 100, original.length - 1]) {
      const bytes = Buffer.from(original);
      bytes[offset] ^= 0x40;
      writeFileSync(path, bytes);
      const err = await store.load(path).catch((e: unknown) => e);
      expect(err, `flip at ${offset}`).toBeInstanceOf(SnapshotCorruptError);
      expect((err as SnapshotCorruptError).path).toBe(path);
    }
    writeFileSync(path, original.subarray(0, original.length - 10));
    await expect(store.load(path)).rejects.toThrow(SnapshotCorruptError);
    writeFileSync(path, original);
    await expect(store.load(path)).resolves.toBeDefined();
  });

  it('removes temp files left by an interrupted save at open, and ignores them before that', async () => {
    const dir = tempDir();
    const store = await SnapshotStore.open(dir);
    await store.save(snap(5, 1, 'complete'));
    writeFileSync(join(dir, 'snapshot-0000000000000009-0000000000000001.snap.123.456.tmp'), 'half a snapsh');
    expect((await store.list()).map((f) => f.index)).toEqual([5]);
    const logger = new MemoryLogger();
    await SnapshotStore.open(dir, { logger });
    expect(readdirSync(dir)).toEqual(['snapshot-0000000000000005-0000000000000001.snap']);
    expect(logger.lines.some((l) => l.level === 'warn')).toBe(true);
  });
});
