import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeKvCommand } from '../kv/kv-commands';
import { KvStateMachine } from '../kv/kv-state-machine';
import { LmdbLogStore } from '../storage/lmdb-log-store';
import type { LogStore } from '../storage/log-store';
import { WalLogStore } from '../storage/wal-log-store';
import { MemoryLogger } from '../transport/logger';
import { ShutdownError } from './errors';
import { RaftNode } from './raft-node';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('a failed disk write', () => {
  it.each([
    ['wal', WalLogStore.prototype],
    ['lmdb', LmdbLogStore.prototype],
  ] as const)('stops the node (no message or apply after it), reports it once, and fails pending work with ShutdownError (%s)', async (storage, proto) => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-fatal-'));
    dirs.push(dir);
    const fatal: Error[] = [];
    const logger = new MemoryLogger();
    const sm = new KvStateMachine();
    const node = await RaftNode.start({ id: 'solo', dataDir: dir, listen: { host: '127.0.0.1', port: 0 }, peers: {}, storage, bootstrap: ['solo'], secret: 'fatal-spec-secret', stateMachine: sm, tickMs: 10, logger, onFatal: (e) => fatal.push(e) });
    node.campaign();
    for (let i = 0; i < 300 && node.status().role !== 'leader'; i++) await new Promise((r) => setTimeout(r, 5));
    await node.propose(encodeKvCommand({ op: 'put', key: 'ok', value: '1' }));
    vi.spyOn(proto as LogStore, 'persist').mockRejectedValue(Object.assign(new Error('EIO: disk on fire'), { code: 'EIO' }));
    const failed = await node.propose(encodeKvCommand({ op: 'put', key: 'lost', value: '2' })).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ShutdownError);
    expect(fatal.map((e) => e.message)).toEqual(['EIO: disk on fire']);
    expect(sm.get('lost')).toBeUndefined(); // never applied: it was never durable
    expect(logger.lines.some((l) => l.level === 'error' && l.msg.includes('fatal'))).toBe(true);
    await expect(node.propose(encodeKvCommand({ op: 'put', key: 'x', value: '3' }))).rejects.toBeInstanceOf(ShutdownError);
    await node.stop();
  });
});
