import { checkLinearizability, kvRegisterModel } from '@flotilla/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { KvRequestError } from '../../../libs/raft/src/kv/kv-client';
import { KvProcessCluster, sleep } from './support/kv-process-cluster';
import { lostWrites, Workload } from './support/workload';

let cluster: KvProcessCluster | undefined;

async function putWithRetry(c: KvProcessCluster, ids: string[], key: string, value: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    try {
      await c.client(ids[i % ids.length]).put(key, value);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

describe('network partitions through a TCP fault proxy (5 nodes)', () => {
  it('the minority never acknowledges a write; the majority elects a leader; the healed cluster converges', async () => {
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
    cluster = await KvProcessCluster.create({ ids, proxies: true, timeoutMs: 1500 });
    await cluster.startAll();
    const oldLeader = await cluster.waitForLeader();
    const minority = [oldLeader, ids.find((id) => id !== oldLeader)!];
    const majority = ids.filter((id) => !minority.includes(id));

    // Load on every node throughout; clients on the minority side stay there.
    const load = new Workload(cluster, { clients: 10, sharedKeys: 3 });
    load.start();
    await sleep(800);

    cluster.setLinks(minority, majority, { kind: 'cut' });
    const cutAt = performance.now();
    const newLeader = await cluster.waitForLeader(majority);
    expect(majority).toContain(newLeader);

    // Writes sent straight to the minority side must not be acknowledged while it is cut off.
    const minorityAttempts = await Promise.all(
      minority.flatMap((id) => Array.from({ length: 5 }, (_, i) => cluster!.client(id).put(`minority-${id}-${i}`, 'x').then(() => 'acked', (e: unknown) => (e instanceof KvRequestError ? e.error.code : String(e))))),
    );
    expect(minorityAttempts.filter((r) => r === 'acked')).toEqual([]);
    await sleep(1000);

    // Slow links on the majority side, then a black hole (bytes silently dropped) between the
    // majority's leader and one of its followers, then heal everything.
    cluster.setLinks([majority[0]], majority.slice(1), { kind: 'delay', delayMs: 30 });
    await sleep(1000);
    cluster.setLinks([majority[0]], majority.slice(1), { kind: 'pass' });
    const majorityLeader = await cluster.waitForLeader(majority);
    const blackholed = majority.find((id) => id !== majorityLeader)!;
    cluster.setLinks([majorityLeader], [blackholed], { kind: 'drop' });
    await sleep(1000);
    // The majority side still contains a node that reaches a quorum (the third majority node
    // reaches both others), so writes keep being acknowledged — after a re-election if needed.
    await putWithRetry(cluster, majority, 'during-blackhole', 'ok');
    cluster.healAll();
    const healedAt = performance.now();
    await sleep(1500);
    const result = await load.stop();

    // No write issued by a client talking to the minority during the cut was acknowledged
    // by a minority node (they may only be acknowledged after the heal, via the new leader).
    const minorityAcks = result.ackedWrites.filter((w) => minority.includes(w.node) && w.call > cutAt + 100 && w.ret < healedAt);
    expect(minorityAcks).toEqual([]);

    // Converged: every node applied the same log.
    const leader = await cluster.waitForLeader(ids);
    await cluster.client(leader).put('barrier', 'x');
    const deadline = Date.now() + 10_000;
    for (;;) {
      const statuses = await Promise.all(ids.map((id) => cluster!.status(id)));
      const applied = new Set(statuses.map((s) => s.applied));
      if (applied.size === 1) break;
      if (Date.now() > deadline) throw new Error(`not converged: ${statuses.map((s) => `${s.id}@${s.applied}`)}`);
      await sleep(50);
    }
    for (const id of ids) {
      const c = cluster.client(id);
      expect(await lostWrites(result.acked, (k) => c.get(k)), `lost writes via ${id}`).toEqual([]);
      for (let i = 0; i < 5; i++) expect(await c.get(`minority-${minority[0]}-${i}`)).toSatisfy((v: string | null) => v === null || v === 'x');
    }
    console.log(`[partition] ${result.acked.size} unique writes acknowledged, ${result.history.length} register ops, old leader ${oldLeader}, new leader ${newLeader}`);
    const verdict = checkLinearizability(kvRegisterModel, result.history);
    expect(verdict.kind, JSON.stringify(verdict).slice(0, 2000)).toBe('linearizable');
  });
});
