import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_FAULT_TICKS, type SimulationResult, type SimulationStats } from './cluster-simulation';
import type { FaultLevel } from './fault-profile';
import { faultHooks, type InjectableBug } from './fault-hooks';
import { rawNodeFactory } from './raw-node-factory';
import { describeFailure, runSeedBatch } from './sim-runner';

/**
 * `npm run sim -- --seeds N --from S --nodes K [--faults light|heavy]`
 *
 * Simulates seeds S … S+N-1, prints one line per failing seed (seed and broken invariant) and
 * ends with exactly `N passed, N failed`; exits 1 if any seed failed. Seeds are split across
 * worker processes (`--workers`); each seed's history depends only on the seed and the flags.
 */

interface CliOptions {
  seeds: number;
  from: number;
  nodes: number;
  faults: FaultLevel;
  workers: number;
  inject?: InjectableBug;
  faultTicks: number;
  log: boolean;
  messages: boolean;
  stats: boolean;
  stopAtFirst: boolean;
  maxMsgBytes?: number;
  commitRuleCheck: boolean;
  persistCheck: boolean;
  workerOffset?: number;
}

/** What a worker process sends to the parent per seed. */
interface WorkerMessage {
  readonly seed: number;
  readonly ok: boolean;
  readonly line: string;
  readonly log?: readonly string[];
  readonly stats: SimulationStats;
}

const int = (name: string, min: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
  return n;
};

function parse(argv: readonly string[]): CliOptions {
  const program = new Command('sim')
    .description('Deterministic Raft cluster simulator: runs many seeded histories and checks safety, liveness and linearizability.')
    .option('--seeds <n>', 'number of seeds', int('--seeds', 1), 100)
    .option('--from <s>', 'first seed', int('--from', 0), 1)
    .addOption(new Option('--nodes <k>', 'cluster size').choices(['3', '5', '7']).default('3'))
    .addOption(new Option('--faults <level>', 'fault intensity').choices(['none', 'light', 'heavy']).default('heavy'))
    .option('--workers <w>', 'worker processes', int('--workers', 1), Math.max(1, Math.min(2, availableParallelism())))
    .addOption(new Option('--inject <bug>', 'enable a test-only fault hook (a: commit prior term by counting, b: vote without log check, c: ack before persist, d: ReadIndex without heartbeat)').choices(['a', 'b', 'c', 'd']))
    .option('--fault-ticks <n>', 'length of the fault phase in ticks', int('--fault-ticks', 1), DEFAULT_FAULT_TICKS)
    .option('--stats', 'print totals of what happened (faults, messages, writes, reads) to stderr', false)
    .option('--log', 'print the event log of each failing seed', false)
    .option('--messages', 'with --log, include every message delivery and loss', false)
    .option('--stop-at-first', 'stop at the first failing seed', false)
    .option('--max-msg-bytes <n>', 'force RaftConfig.maxSizePerMsg (default: per seed, 1, 32 or 65536)', int('--max-msg-bytes', 1))
    .option('--no-commit-rule-check', 'do not check the Figure-8 commit rule directly (only its consequences)')
    .option('--no-persist-check', 'do not check directly that acks and votes follow the fsync (only their consequences)')
    .addOption(new Option('--worker-offset <i>').argParser(int('--worker-offset', 0)).hideHelp())
    .parse(argv, { from: 'node' });
  const o = program.opts<Omit<CliOptions, 'nodes'> & { nodes: string }>();
  return { ...o, nodes: Number(o.nodes) };
}

function runWorker(o: CliOptions, offset: number, stride: number): void {
  runSeedBatch(
    {
      from: o.from,
      count: o.seeds,
      stride,
      offset,
      nodes: o.nodes,
      faults: o.faults,
      faultTicks: o.faultTicks,
      factory: rawNodeFactory,
      recordLog: o.log,
      logMessages: o.messages,
      stopAtFirstFailure: o.stopAtFirst,
      checkCommitRule: o.commitRuleCheck,
      checkPersistBeforeAck: o.persistCheck,
      maxSizePerMsg: o.maxMsgBytes,
      ...(o.inject ? faultHooks(o.inject) : {}),
    },
    (r: SimulationResult) => {
      const msg: WorkerMessage = {
        seed: r.seed,
        ok: r.ok,
        line: describeFailure(r),
        log: r.ok ? undefined : r.log,
        stats: r.stats,
      };
      if (process.send) process.send(msg);
      else report(msg, o);
    },
  );
}

const totals = { passed: 0, failed: 0 };
const statTotals = new Map<string, number>();

/** On a terminal, a progress line on stderr (overwritten in place; never on stdout). */
function progress(o: CliOptions): void {
  const done = totals.passed + totals.failed;
  if (!process.stderr.isTTY || done % 100 !== 0) return;
  process.stderr.write(`\r${done}/${o.seeds} seeds, ${totals.failed} failed`);
}

function report(msg: WorkerMessage, o: CliOptions): void {
  for (const [k, v] of Object.entries(msg.stats)) statTotals.set(k, (statTotals.get(k) ?? 0) + v);
  if (msg.ok) totals.passed++;
  else {
    totals.failed++;
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    console.log(msg.line);
    if (o.log && msg.log) for (const l of msg.log) console.log(`    ${l}`);
  }
  progress(o);
}

async function main(): Promise<void> {
  const o = parse(process.argv);
  if (o.workerOffset !== undefined) {
    runWorker(o, o.workerOffset, o.workers);
    return;
  }
  const started = process.hrtime.bigint();
  const workers = Math.min(o.workers, o.seeds);
  if (workers <= 1) {
    runWorker(o, 0, 1);
  } else {
    const args = process.argv.slice(2);
    await Promise.all(
      Array.from(
        { length: workers },
        (_, i) =>
          new Promise<void>((resolve, reject) => {
            const child = fork(process.argv[1], [...args, '--worker-offset', String(i), '--workers', String(workers)], { execArgv: process.execArgv });
            child.on('message', (m: WorkerMessage) => report(m, o));
            child.on('error', reject);
            child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${i} exited with ${code}`))));
          }),
      ),
    );
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  console.error(
    `simulated ${totals.passed + totals.failed} seeds (${o.nodes} nodes, ${o.faults} faults${o.inject ? `, bug ${o.inject} injected` : ''}) in ${seconds.toFixed(1)} s: ` +
      `${statTotals.get('simulatedTicks') ?? 0} ticks, ${statTotals.get('events') ?? 0} events`,
  );
  if (o.stats) console.error([...statTotals].map(([k, v]) => `${k}=${v}`).join(' '));
  console.log(`${totals.passed} passed, ${totals.failed} failed`);
  process.exitCode = totals.failed > 0 ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 2;
});
