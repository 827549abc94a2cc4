/**
 * CPU profiles of a 3-node kv-server cluster under the 64-client write load of
 * bench/raft-cluster.bench.ts, for finding where each committed write's CPU goes.
 *
 *   npx tsx bench/profile/cluster-profile.ts [--clients 64] [--conns 64] [--seconds 6] [--storage lmdb|wal] [--wal-flush-mode threadpool|inline] [--no-prof] [--node-args "--flag …"] [--out DIR]
 *
 * `--conns C` multiplexes the clients over C pipelined connections (default: one each).
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

/** CPU ms (user and sys) per thread name (summed over threads of one name) of a process, from /proc (Linux). */
function threadCpu(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (pid === undefined) return out;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Every thread of a Node process is called "node": tell the main (JS) thread from the rest.
      const name = tid === String(pid) ? 'main' : 'threads';
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${name} user`, (out.get(`${name} user`) ?? 0) + Number(fields[11]) * 10);
      out.set(`${name} sys`, (out.get(`${name} sys`) ?? 0) + Number(fields[12]) * 10);
    } catch {
      // thread exited
    }
  }
  return out;
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
  const cluster = await KvProcessCluster.create({ ids: ['n1', 'n2', 'n3'], tickMs: 20, electionTicks: 10, timeoutMs: 5000, storage: process.argv.includes('--storage') ? (arg('storage', 'lmdb') as 'lmdb' | 'wal') : undefined, walFlushMode: process.argv.includes('--wal-flush-mode') ? (arg('wal-flush-mode', 'by-role') as 'by-role' | 'threadpool' | 'inline') : undefined, nodeArgs: [...(process.argv.includes('--no-prof') ? [] : ['--cpu-prof', `--cpu-prof-dir=${out}`]), ...(process.argv.includes('--node-args') ? arg('node-args', '').split(' ') : [])] });
  let leader = '';
  let writes = 0;
  const latencies: number[] = [];
  const roles = new Map<string, string>();
  try {
    await cluster.startAll();
    leader = await cluster.waitForLeader();
    for (const node of cluster.nodes.values()) roles.set(String(node.proc?.pid), node.id === leader ? `${node.id} (leader)` : node.id);
    const addr = { host: '127.0.0.1', port: cluster.nodes.get(leader)!.clientPort };
    // --spread: connections round-robin over every node (followers forward to the leader), as
    // etcd's benchmark spreads --conns over --endpoints.
    const ports = process.argv.includes('--spread') ? [...cluster.nodes.values()].map((n) => n.clientPort) : [addr.port];
    const conns = Array.from({ length: Number(arg('conns', String(clientsN))) }, (_, i) => new KvClient({ host: '127.0.0.1', port: ports[i % ports.length] }));
    const clients = Array.from({ length: clientsN }, (_, i) => conns[i % conns.length]);
    const threadsBefore = new Map([...cluster.nodes.values()].map((n) => [n.id, threadCpu(n.proc?.pid)]));
    const lg0 = process.cpuUsage();
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      clients.map(async (c, ci) => {
        let i = 0;
        while (performance.now() < end) {
          const t = performance.now();
          await c.put(`c${ci}-${i++ % 1000}`, 'sixteen-byte-val');
          latencies.push(performance.now() - t);
          writes++;
        }
      }),
    );
    conns.forEach((c) => c.close());
    const lg = process.cpuUsage(lg0);
    console.log(`load generator: ${Math.round((lg.user + lg.system) / writes)} µs CPU per write`);
    for (const n of cluster.nodes.values()) {
      const before = threadsBefore.get(n.id)!;
      const after = threadCpu(n.proc?.pid);
      const parts = [...after].map(([name, ms]) => [name, ms - (before.get(name) ?? 0)] as const).filter(([, ms]) => ms > 0);
      const total = parts.reduce((a, [, ms]) => a + ms, 0);
      console.log(`${n.id}${n.id === leader ? ' (leader)' : ''}: ${((1000 * total) / writes).toFixed(1)} µs CPU per write — ${parts.map(([name, ms]) => `${name} ${((1000 * ms) / writes).toFixed(1)}`).join(', ')}`);
    }
    for (const n of cluster.nodes.values()) {
      const st = await cluster.status(n.id);
      console.log(`${n.id}: ${st.store.flushes} flushes (${(writes / st.store.flushes).toFixed(1)} writes each), ${st.transport.framesSent} frames sent in ${st.transport.socketWrites} socket writes, ${st.transport.framesReceived} received`);
    }
    latencies.sort((a, b) => a - b);
    const at = (p: number): string => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(3);
    console.log(`${writes} writes in ${seconds} s = ${Math.round(writes / seconds)}/s; latency p50 ${at(0.5)} ms, p99 ${at(0.99)} ms; leader ${leader}`);
    for (const id of cluster.opts.ids) await cluster.terminate(id);
  } finally {
    await cluster.destroy();
  }
  for (const file of readdirSync(out).filter((f) => f.endsWith('.cpuprofile'))) {
    const pid = /\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(file)?.[1] ?? '';
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
