import { afterEach, describe, expect, it } from 'vitest';
import { KvProcessCluster, sleep } from './support/kv-process-cluster';

let cluster: KvProcessCluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

/** The procedure of libs/raft/RUNNING.md, through the client API of real processes. */
describe('membership changes and leader transfer over the client API', () => {
  it('adds a fourth member, moves leadership to it, removes an original member, and keeps serving', async () => {
    cluster = await KvProcessCluster.create({ ids: ['n1', 'n2', 'n3', 'n4'], bootstrap: ['n1', 'n2', 'n3'] });
    await Promise.all(['n1', 'n2', 'n3'].map((id) => cluster!.start(id)));
    const leader = await cluster.waitForLeader();
    const c = cluster.client(leader);
    await Promise.all(Array.from({ length: 50 }, (_, i) => c.put(`k${i}`, `v${i}`)));

    // 1. start the new node without --bootstrap; 2. ask the leader to add it.
    await cluster.start('n4', { bootstrap: false });
    const n4 = cluster.nodes.get('n4')!;
    await c.request({ op: 'add-member', member: 'n4', host: '127.0.0.1', port: n4.raftPort });
    const afterAdd = await cluster.status(leader);
    expect([...afterAdd.confState.voters].sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(await cluster.client('n4').get('k49')).toBe('v49'); // linearizable read on the new member

    // Asking a follower for a membership change is refused with a leader hint.
    const follower = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
    const refused = await cluster
      .client(follower)
      .request({ op: 'remove-member', member: 'n4' })
      .catch((e: unknown) => e as { error: { code: string; leader: string } });
    expect(refused).toMatchObject({ error: { code: 'not-leader', leader } });

    // Move leadership to the new member, then remove one of the original ones.
    await c.request({ op: 'transfer-leader', to: 'n4' });
    expect(await cluster.waitForLeader()).toBe('n4');
    const removed = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
    await cluster.client('n4').request({ op: 'remove-member', member: removed });
    await cluster.kill(removed);
    const s = await cluster.status('n4');
    expect([...s.confState.voters].sort()).toEqual(['n1', 'n2', 'n3', 'n4'].filter((id) => id !== removed));
    expect(Object.keys(s.peers)).not.toContain(removed);

    // Three voters remain: a write through every remaining member still commits.
    for (const id of cluster.running()) await cluster.client(id).put(`after-${id}`, 'ok');
    await sleep(100);
    for (const id of cluster.running()) expect(await cluster.client(id).get(`after-${cluster.running()[0]}`)).toBe('ok');
  });
});
