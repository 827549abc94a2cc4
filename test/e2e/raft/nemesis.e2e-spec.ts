import { checkLinearizability, kvRegisterModel } from '@flotilla/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { KvProcessCluster, sleep } from './support/kv-process-cluster';
import { lostWrites, Workload } from './support/workload';
import { seededRandom } from '@flotilla/raft/core/testing/network';

let cluster: KvProcessCluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

describe('seeded nemesis: kill -9, restarts, partitions and slow links under load (5 nodes)', () => {
  const seed = Number(process.env.RAFT_E2E_SEED ?? Math.floor(Math.random() * 1_000_000));

  it(`keeps every acknowledged write and stays linearizable (seed ${seed})`, async () => {
    console.log(`[nemesis] seed ${seed} (replay with RAFT_E2E_SEED=${seed})`);
    const random = seededRandom(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
    cluster = await KvProcessCluster.create({ ids, proxies: true, timeoutMs: 1500, snapshotEntries: 300, catchUpEntries: 50 });
    await cluster.startAll();
    await cluster.waitForLeader();
    const load = new Workload(cluster, { clients: 8, sharedKeys: 4 });
    load.start();
    const schedule: string[] = [];
    const end = Date.now() + 14_000;
    while (Date.now() < end) {
      const down = ids.filter((id) => !cluster!.isRunning(id));
      const roll = random();
      if (roll < 0.3 && down.length < 2) {
        const victim = pick(cluster.running());
        schedule.push(`kill ${victim}`);
        await cluster.kill(victim);
      } else if (roll < 0.5 && down.length > 0) {
        const back = pick(down);
        schedule.push(`restart ${back}`);
        await cluster.start(back);
      } else if (roll < 0.7) {
        const shuffled = [...ids].sort(() => random() - 0.5);
        const minority = shuffled.slice(0, 1 + Math.floor(random() * 2));
        schedule.push(`partition ${minority.join(',')} | rest`);
        cluster.healAll();
        cluster.setLinks(minority, ids.filter((id) => !minority.includes(id)), { kind: 'cut' });
      } else if (roll < 0.85) {
        const a = pick(ids);
        const b = pick(ids.filter((id) => id !== a));
        const delayMs = 5 + Math.floor(random() * 40);
        schedule.push(`delay ${a}<->${b} ${delayMs}ms`);
        cluster.setLinks([a], [b], { kind: 'delay', delayMs });
      } else {
        schedule.push('heal');
        cluster.healAll();
      }
      await sleep(600 + Math.floor(random() * 900));
    }
    schedule.push('heal all, restart all');
    cluster.healAll();
    for (const id of ids) if (!cluster.isRunning(id)) await cluster.start(id);
    await sleep(1500);
    const result = await load.stop();
    const context = `seed ${seed}; schedule: ${schedule.join('; ')}`;
    console.log(`[nemesis] ${context}; ${result.acked.size} acknowledged unique writes, ${result.maybe.size} unknown, ${result.history.length} register ops`);

    await cluster.waitConverged(20_000);
    for (const id of ids) {
      const c = cluster.client(id);
      expect(await lostWrites(result.acked, (k) => c.get(k)), `lost writes via ${id}; ${context}`).toEqual([]);
    }
    const verdict = checkLinearizability(kvRegisterModel, result.history);
    expect(verdict.kind, `${context}\n${JSON.stringify(verdict).slice(0, 2000)}`).toBe('linearizable');
    expect(result.acked.size, context).toBeGreaterThan(20);
  });
});
