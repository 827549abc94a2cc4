import { checkLinearizability, kvRegisterModel } from '@flotilla/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { KvProcessCluster, sleep } from './support/kv-process-cluster';
import { probeFirstAck } from './support/probe';
import { lostWrites, Workload } from './support/workload';

/** A new leader must serve writes within this bound after kill -9 of the old one. */
const FAILOVER_BOUND_MS = 2500;

let cluster: KvProcessCluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

// The default write-ahead log on 3 and 5 nodes, and the LMDB store (still selectable) on 3.
describe.each([
  [3, 'wal'],
  [5, 'wal'],
  [3, 'lmdb'],
] as const)('kill -9 the leader of a %i-node cluster under write load (%s)', (size, storage) => {
  it('loses no acknowledged write, elects a new leader within the bound, stays linearizable', async () => {
    const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
    cluster = await KvProcessCluster.create({ ids, storage });
    await cluster.startAll();
    const oldLeader = await cluster.waitForLeader();
    const load = new Workload(cluster, { clients: 8, sharedKeys: 4 });
    load.start();
    await sleep(1500);
    const killedAt = performance.now();
    await cluster.kill(oldLeader);
    // Probe: a fresh write to every surviving node every 10 ms (not waiting for earlier ones,
    // which may hang until their timeout if they were in flight to the dead leader).
    const probeAck = probeFirstAck(cluster, killedAt);
    const newLeader = await cluster.waitForLeader(cluster.running());
    const failoverMs = (await probeAck) - killedAt;
    await sleep(2000);
    await cluster.start(oldLeader); // the old leader comes back as a follower and catches up
    await sleep(1000);
    const result = await load.stop();

    expect(result.ackedWrites.some((w) => w.call > killedAt), 'the workload kept writing after the kill').toBe(true);
    console.log(
      `[${size} nodes, ${storage}] failover: ${failoverMs.toFixed(0)} ms (kill -9 ${oldLeader} → first acknowledged write, new leader ${newLeader}); ` +
        `${result.acked.size} unique writes acknowledged, ${result.maybe.size} unknown, ${result.refused} refused, ${result.history.length} register ops`,
    );
    expect(newLeader).not.toBe(oldLeader);
    expect(failoverMs).toBeLessThan(FAILOVER_BOUND_MS);
    expect(result.acked.size).toBeGreaterThan(30);

    // Every acknowledged write survives, read back through every node (including the restarted one).
    await cluster.waitConverged();
    for (const id of cluster.running()) {
      const c = cluster.client(id);
      expect(await lostWrites(result.acked, (k) => c.get(k)), `lost writes read via ${id}`).toEqual([]);
    }
    const verdict = checkLinearizability(kvRegisterModel, result.history);
    expect(verdict.kind, JSON.stringify(verdict).slice(0, 2000)).toBe('linearizable');
  });
});
