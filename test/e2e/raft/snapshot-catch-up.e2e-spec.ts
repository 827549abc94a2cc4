import { afterEach, describe, expect, it } from 'vitest';
import { KvProcessCluster, sleep } from './support/kv-process-cluster';

let cluster: KvProcessCluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

describe('a node restarted after missing compacted entries', () => {
  it('catches up by InstallSnapshot and converges to the same state', async () => {
    cluster = await KvProcessCluster.create({ ids: ['n1', 'n2', 'n3'], snapshotEntries: 200, catchUpEntries: 50 });
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    const lagging = cluster.opts.ids.find((id) => id !== leader)!;
    await cluster.client(leader).put('before', 'kill');
    await cluster.kill(lagging);
    const c = cluster.client(leader);
    for (let round = 0; round < 15; round++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => c.put(`k${round * 100 + i}`, `v${round}`)));
    }
    const leaderStatus = await cluster.status(leader);
    // The entries the lagging node misses are gone from the leader's log.
    expect(leaderStatus.firstIndex).toBeGreaterThan(300);
    expect(leaderStatus.snapshotIndex).toBeGreaterThan(1000);

    await cluster.start(lagging);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const s = await cluster.status(lagging);
      if (s.applied >= leaderStatus.commit) break;
      if (Date.now() > deadline) throw new Error(`lagging node stuck at applied ${s.applied} < ${leaderStatus.commit}`);
      await sleep(50);
    }
    expect(cluster.logs(lagging)).toContain('installed snapshot from leader');
    const s = await cluster.status(lagging);
    expect(s.snapshotIndex).toBeGreaterThanOrEqual(leaderStatus.firstIndex - 1);
    const lc = cluster.client(lagging);
    expect(await lc.get('before')).toBe('kill');
    expect(await lc.get('k1499')).toBe('v14');
    expect(await lc.get('k0')).toBe('v0');
  });
});
