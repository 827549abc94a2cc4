import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeKvCommand } from '../kv/kv-commands';
import { KvStateMachine } from '../kv/kv-state-machine';
import { RaftNode } from './raft-node';

const dirs: string[] = [];
const nodes: RaftNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function soloNode(watermark: { value: number }, sm = new KvStateMachine(), dir = mkdtempSync(join(tmpdir(), 'flotilla-compaction-'))): Promise<{ node: RaftNode; dir: string; sm: KvStateMachine }> {
  if (!dirs.includes(dir)) dirs.push(dir);
  const node = await RaftNode.start({
    id: 'solo',
    dataDir: dir,
    listen: { host: '127.0.0.1', port: 0 },
    peers: {},
    bootstrap: ['solo'],
    secret: 'compaction-spec-secret',
    stateMachine: sm,
    tickMs: 10,
    snapshotEntries: 50,
    catchUpEntries: 10,
    keepSnapshots: 2,
    compactionWatermark: () => watermark.value,
  });
  nodes.push(node);
  node.campaign();
  for (let i = 0; i < 300 && node.status().role !== 'leader'; i++) await new Promise((r) => setTimeout(r, 5));
  return { node, dir, sm };
}

async function write(node: RaftNode, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) await node.propose(encodeKvCommand({ op: 'put', key: `k${i % 7}`, value: `v${i}` }));
}

describe('snapshot and truncation policy', () => {
  it('snapshots every N entries but truncates only below min(snapshot, watermark) − catch-up tail', async () => {
    const watermark = { value: 40 };
    const { node, dir } = await soloNode(watermark);
    await write(node, 200);
    await node.snapshotNow();
    let s = node.status();
    expect(s.snapshotIndex).toBeGreaterThanOrEqual(150);
    expect(s.firstIndex).toBe(40 - 10 + 1); // held back by the watermark
    watermark.value = 1_000_000;
    await write(node, 60, 200);
    await node.snapshotNow();
    s = node.status();
    expect(s.firstIndex).toBe(s.snapshotIndex - 10 + 1); // now only the snapshot and the tail bound it
    expect(readdirSync(join(dir, 'snapshots')).filter((f) => f.endsWith('.snap'))).toHaveLength(2); // pruned to keepSnapshots
  });

  it('restarts from the snapshot plus the log tail with the same state', async () => {
    const watermark = { value: Number.POSITIVE_INFINITY };
    const first = await soloNode(watermark);
    await write(first.node, 137);
    const applied = first.node.status().applied;
    expect(first.node.status().snapshotIndex).toBeGreaterThanOrEqual(100); // automatic, under continuous load
    await first.node.stop();
    nodes.splice(nodes.indexOf(first.node), 1);
    const again = await soloNode(watermark, new KvStateMachine(), first.dir);
    const s = again.node.status();
    expect(s.snapshotIndex).toBeGreaterThan(0);
    expect(s.firstIndex).toBeGreaterThan(1);
    await again.node.readIndex(); // a fresh leader's read barrier waits for its own no-op: everything before it is applied
    expect(again.node.status().applied).toBeGreaterThan(applied);
    for (let k = 0; k < 7; k++) expect(again.sm.get(`k${k}`)).toBe(first.sm.get(`k${k}`));
  });
});
