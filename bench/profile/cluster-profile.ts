/**
 * CPU profiles of a 3-node kv-server cluster under the 64-client write load of
 * bench/raft-cluster.bench.ts, for finding where each committed write's CPU goes.
 *
 *   npx tsx bench/profile/cluster-profile.ts [--clients 64] [--seconds 6] [--out DIR]
 *
 * Writes one .cpuprofile per server (open in Chrome DevTools or speedscope) and prints the
 * heaviest functions by self time for the leader and one follower.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KvClient } from '../../libs/raft/src/kv/kv-client';
import { KvProcessCluster } from '../../test/e2e/raft/support/kv-process-cluster';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function topSelf(file: string, n: number): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const counts = new Map<string, number>();
  for (const id of profile.samples) {
    const frame = byNode.get(id)!.callFrame;
    const key = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(node_modules|libs)\//, '$1/')}:${frame.lineNumber + 1}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, c]) => `${((100 * c) / total).toFixed(1).padStart(5)}%  ${key}`);
}

async function main(): Promise<void> {
  const clientsN = Number(arg('clients', '64'));
  const seconds = Number(arg('seconds', '6'));
  const out = resolve(arg('out', join(__dirname, '../../.data/profiles', String(Date.now()))));
  mkdirSync(out, { recursive: true });
  const cluster = await KvProcessCluster.create({ ids: ['n1', 'n2', 'n3'], tickMs: 20, electionTicks: 10, timeoutMs: 5000, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${out}`] });
  let leader = '';
  let writes = 0;
  const roles = new Map<string, string>();
  try {
    await cluster.startAll();
    leader = await cluster.waitForLeader();
    for (const node of cluster.nodes.values()) roles.set(String(node.proc?.pid), node.id === leader ? `${node.id} (leader)` : node.id);
    const addr = { host: '127.0.0.1', port: cluster.nodes.get(leader)!.clientPort };
    const clients = Array.from({ length: clientsN }, () => new KvClient(addr));
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      clients.map(async (c, ci) => {
        let i = 0;
        while (performance.now() < end) {
          await c.put(`c${ci}-${i++ % 1000}`, 'sixteen-byte-val');
          writes++;
        }
      }),
    );
    clients.forEach((c) => c.close());
    console.log(`${writes} writes in ${seconds} s = ${Math.round(writes / seconds)}/s; leader ${leader}`);
    for (const id of cluster.opts.ids) await cluster.terminate(id);
  } finally {
    await cluster.destroy();
  }
  for (const file of readdirSync(out).filter((f) => f.endsWith('.cpuprofile'))) {
    const pid = /\.(\d+)\.\d+\.cpuprofile$/.exec(file)?.[1] ?? '';
    console.log(`\n${roles.get(pid) ?? '?'}: ${file}`);
    for (const line of topSelf(join(out, file), 25)) console.log(line);
  }
  console.log(`\nprofiles in ${out}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
