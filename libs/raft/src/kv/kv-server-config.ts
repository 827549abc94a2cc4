import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { LogStoreKind } from '../storage/log-store';
import type { WalFlushMode } from '../storage/wal-log-store';
import type { PeerAddress } from '../transport/peer-link';

/** Everything a KV server process needs, parsed once at boot. */
export interface KvServerConfig {
  id: string;
  raft: PeerAddress;
  client: PeerAddress;
  http?: PeerAddress;
  dataDir: string;
  /** Durable log implementation (`--storage`). */
  storage: LogStoreKind;
  /** WAL flush mode (`--wal-flush-mode`). */
  walFlushMode: WalFlushMode | 'by-role';
  peers: Record<string, PeerAddress>;
  bootstrap?: string[];
  secret: string;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  snapshotEntries: number;
  catchUpEntries: number;
  timeoutMs: number;
  logLevel: string;
}

/** Thrown with every problem found in the arguments at once. */
export class KvServerConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid kv-server configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'KvServerConfigError';
  }
}

function parseAddress(v: string, what: string, problems: string[]): PeerAddress {
  const m = /^(.+):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) {
    problems.push(`${what}: expected host:port, got "${v}"`);
    return { host: '127.0.0.1', port: 0 };
  }
  return { host: m[1], port: Number(m[2]) };
}

function parseInt10(v: string, what: string, min: number, problems: string[]): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) problems.push(`${what}: expected an integer ≥ ${min}, got "${v}"`);
  return n;
}

/**
 * Parses `argv` (without node and script) and the environment. The secret comes from
 * `--secret-file` or `FLOTILLA_RAFT_SECRET`, never from the command line (it would show in ps).
 */
export function parseKvServerArgs(argv: string[], env: Record<string, string | undefined>): KvServerConfig {
  const program = new Command()
    .name('kv-server')
    .exitOverride()
    .requiredOption('--id <id>', 'this node id')
    .requiredOption('--raft <host:port>', 'raft transport listen address')
    .option('--client <host:port>', 'client TCP API address', '127.0.0.1:0')
    .option('--http <host:port>', 'HTTP API address (optional)')
    .requiredOption('--data-dir <dir>', 'data directory (log + snapshots)')
    .option('--storage <kind>', 'durable log: lmdb or wal (a data directory is tied to the kind that created it)', 'wal')
    .option('--wal-flush-mode <mode>', 'with --storage wal: by-role (threadpool while leading, inline otherwise), threadpool (fdatasync on the threadpool) or inline (fdatasyncSync on the main thread)', 'by-role')
    .option('--peers <list>', 'id=host:port,… raft addresses of the other members', '')
    .option('--bootstrap <ids>', 'initial voters id,id,… (first start only; omit to join)')
    .option('--secret-file <path>', 'file holding the cluster secret (else FLOTILLA_RAFT_SECRET)')
    .option('--tick-ms <n>', 'tick interval', '50')
    .option('--election-ticks <n>', 'election timeout in ticks', '10')
    .option('--heartbeat-ticks <n>', 'heartbeat interval in ticks', '1')
    .option('--snapshot-entries <n>', 'snapshot every n applied entries', '10000')
    .option('--catch-up-entries <n>', 'entries kept behind the snapshot', '1000')
    .option('--timeout-ms <n>', 'proposal/read timeout', '5000')
    .option('--log-level <level>', 'pino level', 'info');
  program.parse(argv, { from: 'user' });
  const o = program.opts<Record<string, string | undefined>>();
  const problems: string[] = [];
  const peers: Record<string, PeerAddress> = {};
  for (const item of (o.peers ?? '').split(',').filter(Boolean)) {
    const [id, addr] = item.split('=');
    if (!id || !addr) problems.push(`--peers: expected id=host:port, got "${item}"`);
    else peers[id] = parseAddress(addr, `--peers ${id}`, problems);
  }
  let secret = env.FLOTILLA_RAFT_SECRET ?? '';
  if (o.secretFile) {
    try {
      secret = readFileSync(o.secretFile, 'utf8').trim();
    } catch (err) {
      problems.push(`--secret-file: ${(err as Error).message}`);
    }
  }
  if (secret.length < 16) problems.push('cluster secret: set --secret-file or FLOTILLA_RAFT_SECRET (at least 16 characters)');
  const storage = o.storage as string;
  if (storage !== 'lmdb' && storage !== 'wal') problems.push(`--storage: expected lmdb or wal, got "${storage}"`);
  const walFlushMode = o.walFlushMode as string;
  if (walFlushMode !== 'by-role' && walFlushMode !== 'threadpool' && walFlushMode !== 'inline') problems.push(`--wal-flush-mode: expected by-role, threadpool or inline, got "${walFlushMode}"`);
  const config: KvServerConfig = {
    id: o.id as string,
    raft: parseAddress(o.raft as string, '--raft', problems),
    client: parseAddress(o.client as string, '--client', problems),
    http: o.http ? parseAddress(o.http, '--http', problems) : undefined,
    dataDir: o.dataDir as string,
    storage: storage as LogStoreKind,
    walFlushMode: walFlushMode as WalFlushMode | 'by-role',
    peers,
    bootstrap: o.bootstrap ? o.bootstrap.split(',').filter(Boolean) : undefined,
    secret,
    tickMs: parseInt10(o.tickMs as string, '--tick-ms', 1, problems),
    electionTicks: parseInt10(o.electionTicks as string, '--election-ticks', 2, problems),
    heartbeatTicks: parseInt10(o.heartbeatTicks as string, '--heartbeat-ticks', 1, problems),
    snapshotEntries: parseInt10(o.snapshotEntries as string, '--snapshot-entries', 1, problems),
    catchUpEntries: parseInt10(o.catchUpEntries as string, '--catch-up-entries', 0, problems),
    timeoutMs: parseInt10(o.timeoutMs as string, '--timeout-ms', 1, problems),
    logLevel: o.logLevel as string,
  };
  if (config.bootstrap && !config.bootstrap.includes(config.id)) problems.push('--bootstrap must include this node id');
  if (problems.length > 0) throw new KvServerConfigError(problems);
  return config;
}
