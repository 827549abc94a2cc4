import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KvClient, KvRequestError } from '../../../../libs/raft/src/kv/kv-client';
import type { NodeStatus } from '../../../../libs/raft/src/node/raft-node';
import { FaultProxy, type FaultMode } from './fault-proxy';
import { freePort } from '../../../support/ports';

const ROOT = resolve(__dirname, '../../../..');
const SERVER = join(ROOT, 'libs/raft/src/kv/kv-server.ts');
export const CLUSTER_SECRET = 'e2e-cluster-secret-0123456789';

export interface ProcessNode {
  id: string;
  raftPort: number;
  clientPort: number;
  dataDir: string;
  proc?: ChildProcess;
  client?: KvClient;
  stderr: string[];
}

export interface ClusterOptions {
  ids: string[];
  /** Initial voters passed as --bootstrap (default: all `ids`); others start empty and join. */
  bootstrap?: string[];
  /** Route every node-to-node link through a {@link FaultProxy}. */
  proxies?: boolean;
  tickMs?: number;
  electionTicks?: number;
  snapshotEntries?: number;
  catchUpEntries?: number;
  timeoutMs?: number;
  /** Log store of every server (`--storage`); the server's default when unset. */
  storage?: 'lmdb' | 'wal';
  /** With `storage: 'wal'`: `--wal-flush-mode`. */
  walFlushMode?: 'by-role' | 'threadpool' | 'inline';
  /** Extra Node.js flags for every server process (e.g. `--cpu-prof` in bench/profile). */
  nodeArgs?: string[];
}

/**
 * Real kv-server processes on 127.0.0.1 with real temp data dirs, optionally with a fault
 * proxy on every directed link (`link(a, b)` is what a uses to reach b).
 */
export class KvProcessCluster {
  readonly nodes = new Map<string, ProcessNode>();
  private readonly links = new Map<string, FaultProxy>();
  private readonly root = mkdtempSync(join(tmpdir(), 'flotilla-e2e-raft-'));

  private constructor(readonly opts: ClusterOptions) {}

  static async create(opts: ClusterOptions): Promise<KvProcessCluster> {
    const c = new KvProcessCluster(opts);
    for (const id of opts.ids) {
      c.nodes.set(id, { id, raftPort: await freePort(), clientPort: await freePort(), dataDir: join(c.root, id), stderr: [] });
    }
    if (opts.proxies) {
      for (const a of opts.ids) {
        for (const b of opts.ids) {
          if (a === b) continue;
          const proxy = new FaultProxy({ host: '127.0.0.1', port: c.nodes.get(b)!.raftPort });
          await proxy.listen();
          c.links.set(`${a}->${b}`, proxy);
        }
      }
    }
    return c;
  }

  /** Peers as node `id` must dial them (through proxies when enabled). */
  private peersFor(id: string): string {
    return this.opts.ids
      .filter((p) => p !== id)
      .map((p) => `${p}=127.0.0.1:${this.links.get(`${id}->${p}`)?.port ?? this.nodes.get(p)!.raftPort}`)
      .join(',');
  }

  async start(id: string, opts: { bootstrap?: boolean } = { bootstrap: true }): Promise<void> {
    const n = this.nodes.get(id)!;
    const args = [
      ...(this.opts.nodeArgs ?? []),
      '--import',
      'tsx',
      SERVER,
      '--id',
      id,
      '--raft',
      `127.0.0.1:${n.raftPort}`,
      '--client',
      `127.0.0.1:${n.clientPort}`,
      '--data-dir',
      n.dataDir,
      '--peers',
      this.peersFor(id),
      '--tick-ms',
      String(this.opts.tickMs ?? 20),
      '--election-ticks',
      String(this.opts.electionTicks ?? 10),
      '--snapshot-entries',
      String(this.opts.snapshotEntries ?? 10_000),
      '--catch-up-entries',
      String(this.opts.catchUpEntries ?? 1000),
      '--timeout-ms',
      String(this.opts.timeoutMs ?? 2000),
      '--log-level',
      'info',
    ];
    if (this.opts.storage) args.push('--storage', this.opts.storage);
    if (this.opts.walFlushMode) args.push('--wal-flush-mode', this.opts.walFlushMode);
    const voters = this.opts.bootstrap ?? this.opts.ids;
    if (opts.bootstrap !== false && voters.includes(id)) args.push('--bootstrap', voters.join(','));
    const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, FLOTILLA_RAFT_SECRET: CLUSTER_SECRET }, stdio: ['ignore', 'pipe', 'pipe'] });
    n.proc = proc;
    n.stderr = [];
    proc.stderr!.on('data', (d: Buffer) => n.stderr.push(d.toString()));
    await new Promise<void>((resolveReady, reject) => {
      let out = '';
      const onExit = (code: number | null): void => reject(new Error(`${id} exited with ${code} before ready:\n${n.stderr.join('')}`));
      proc.once('exit', onExit);
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"event":"ready"')) {
          proc.off('exit', onExit);
          resolveReady();
        }
      });
    });
    n.client = new KvClient({ host: '127.0.0.1', port: n.clientPort });
  }

  async startAll(): Promise<void> {
    await Promise.all(this.opts.ids.map((id) => this.start(id)));
  }

  /** kill -9: no graceful shutdown, no flush beyond what was already acknowledged. */
  kill(id: string): Promise<void> {
    return this.stopProcess(id, 'SIGKILL');
  }

  /** Graceful stop (SIGTERM), waiting for the process to exit. */
  terminate(id: string): Promise<void> {
    return this.stopProcess(id, 'SIGTERM');
  }

  private async stopProcess(id: string, signal: NodeJS.Signals): Promise<void> {
    const n = this.nodes.get(id)!;
    n.client?.close();
    n.client = undefined;
    if (!n.proc || n.proc.exitCode !== null) return;
    const exited = new Promise((r) => n.proc!.once('exit', r));
    n.proc.kill(signal);
    await exited;
    n.proc = undefined;
  }

  isRunning(id: string): boolean {
    return this.nodes.get(id)?.proc !== undefined;
  }

  running(): string[] {
    return this.opts.ids.filter((id) => this.isRunning(id));
  }

  client(id: string): KvClient {
    const c = this.nodes.get(id)?.client;
    if (!c) throw new Error(`${id} is not running`);
    return c;
  }

  async status(id: string): Promise<NodeStatus> {
    return (await this.client(id).request({ op: 'status' })) as NodeStatus;
  }

  /** Waits until exactly one running node among `among` reports itself leader and returns it. */
  async waitForLeader(among = this.running(), timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await Promise.all(among.map((id) => this.status(id).catch(() => undefined)));
      const leaders = statuses.filter((s) => s?.role === 'leader');
      if (leaders.length === 1) return leaders[0]!.id;
      if (Date.now() > deadline) throw new Error(`no leader among ${among.join(',')}: ${statuses.map((s) => s && `${s.id}:${s.role}@${s.term}`)}`);
      await sleep(20);
    }
  }

  /**
   * Waits until every running node knows the same leader and has applied everything that
   * leader had committed when the wait began.
   */
  async waitConverged(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const leader = await this.waitForLeader(this.running(), timeoutMs);
    const target = (await this.status(leader)).commit;
    for (;;) {
      const statuses = await Promise.all(this.running().map((id) => this.status(id).catch(() => undefined)));
      if (statuses.every((s) => s !== undefined && s.leader === leader && s.applied >= target)) return;
      if (Date.now() > deadline) throw new Error(`not converged on ${leader}@${target}: ${statuses.map((s) => s && `${s.id}:${s.leader}@${s.applied}`)}`);
      await sleep(20);
    }
  }

  /** Sets the fault mode of every link between group `a` and group `b`, both directions. */
  setLinks(a: string[], b: string[], mode: FaultMode): void {
    for (const x of a) {
      for (const y of b) {
        this.links.get(`${x}->${y}`)?.setMode(mode);
        this.links.get(`${y}->${x}`)?.setMode(mode);
      }
    }
  }

  healAll(): void {
    for (const p of this.links.values()) p.setMode({ kind: 'pass' });
  }

  logs(id: string): string {
    return this.nodes.get(id)!.stderr.join('');
  }

  async destroy(): Promise<void> {
    for (const id of this.opts.ids) await this.kill(id);
    for (const p of this.links.values()) await p.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function isNotLeader(err: unknown): boolean {
  return err instanceof KvRequestError && err.error.code === 'not-leader';
}
