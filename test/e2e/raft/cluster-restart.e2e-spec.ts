import { afterEach, describe, expect, it } from 'vitest';
import { KvProcessCluster, sleep } from './support/kv-process-cluster';
import { lostWrites, Workload } from './support/workload';

let cluster: KvProcessCluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

describe('whole-cluster restart', () => {
  it('kill -9 of every node at once keeps every acknowledged write', async () => {
    const ids = ['n1', 'n2', 'n3'];
    cluster = await KvProcessCluster.create({ ids, snapshotEntries: 60, catchUpEntries: 20 });
    await cluster.startAll();
    await cluster.waitForLeader();
    const load = new Workload(cluster, { clients: 8, sharedKeys: 4 });
    load.start();
    await sleep(2000);
    // Pull the plug on everything while writes are in flight.
    await Promise.all(ids.map((id) => cluster!.kill(id)));
    const result = await load.stop();
    expect(result.acked.size).toBeGreaterThan(30);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    await cluster.waitConverged();
    const statuses = await Promise.all(ids.map((id) => cluster!.status(id)));
    expect(statuses.some((s) => s.snapshotIndex > 0)).toBe(true); // restarted from snapshots + log tail
    for (const id of ids) {
      const c = cluster.client(id);
      expect(await lostWrites(result.acked, (k) => c.get(k)), `lost writes via ${id}`).toEqual([]);
    }
    console.log(`[restart] ${result.acked.size} acknowledged writes all present after kill -9 of all nodes; leader ${leader}`);
  });
});
