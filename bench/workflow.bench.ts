/**
 * Workflow state machine benchmarks (libs/workflow), no IO:
 *  1. apply throughput (commands/s) over a recorded 10,000-command log of interleaved agent-loop
 *     runs — through the pure reducer `apply` and through `RunStateMachine` (in place);
 *  2. replay throughput: `replay()` of every run's history in that log (hash chain + state hash
 *     verified after every command);
 *  3. snapshot size and serialize / restore / hash time with 10,000 active runs;
 *  4. apply (pure and in place) and replay throughput of one long run (a 4,000-command history
 *     by default), with the first- and last-quarter rates (flat = cost independent of length).
 * Figures are printed and written to bench/results/workflow.json.
 *
 *   npx tsx bench/workflow.bench.ts [--commands 10000] [--runs 10000] [--long 4000]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import {
  agentLoopDefinition,
  apply,
  initialMachineState,
  machineStateHash,
  replay,
  restoreMachine,
  RunStateMachine,
  snapshotMachine,
  snapshotMachineJson,
  type HistoryRecord,
  type JsonValue,
  type MachineState,
} from '@flotilla/workflow';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const TARGET_COMMANDS = arg('commands', 10_000);
const ACTIVE_RUNS = arg('runs', 10_000);
const LONG_RUN = arg('long', 4_000);
const T0 = 1_700_000_000_000;

interface LogEntry {
  readonly command: Record<string, unknown>;
  readonly logIndex: number;
}

/** Records a log of interleaved agent-loop runs (3 loop iterations, 3 tool calls each) until it holds `target` commands. */
function recordLog(target: number): { log: LogEntry[]; histories: Map<string, HistoryRecord[]> } {
  const log: LogEntry[] = [];
  const histories = new Map<string, HistoryRecord[]>();
  let state: MachineState = initialMachineState();
  let now = T0;
  const send = (command: Record<string, unknown>): void => {
    now += 7;
    const entry = { command: { ...command, at: now }, logIndex: log.length + 1 };
    const result = apply(state, entry.command, { logIndex: entry.logIndex, term: 1 });
    state = result.state;
    log.push(entry);
    if (result.record !== undefined) histories.set(result.record.runId, [...(histories.get(result.record.runId) ?? []), result.record]);
  };
  send({ type: 'RegisterWorkflow', definition: agentLoopDefinition as unknown as JsonValue });
  let next = 0;
  const active: string[] = [];
  while (log.length < target) {
    if (active.length < 50) {
      const runId = `run-${++next}`;
      send({ type: 'StartRun', runId, workflow: 'agent-loop', input: { goal: `goal ${next}`, tools: ['search'] } });
      active.push(runId);
      continue;
    }
    // one event for each active run, round-robin: start or complete one awaiting attempt
    for (const runId of [...active]) {
      if (log.length >= target) break;
      const run = state.runs[runId];
      if (run.status === 'completed' || run.status === 'failed') {
        active.splice(active.indexOf(runId), 1);
        continue;
      }
      const leaf = Object.keys(run.data.steps)
        .sort()
        .flatMap((key) => {
          const step = run.data.steps[key];
          const own = step.type === 'task' && (step.status === 'scheduled' || step.status === 'running') && step.retryAt === undefined ? [{ key, step: step.stepId, itemIndex: undefined as number | undefined, leaf: step }] : [];
          const items = (step.items ?? []).flatMap((item, index) => ((item.status === 'scheduled' || item.status === 'running') && item.retryAt === undefined ? [{ key, step: step.stepId, itemIndex: index as number | undefined, leaf: item }] : []));
          return [...own, ...items];
        })[0];
      if (leaf === undefined) continue;
      const address = { runId, stepKey: leaf.key, ...(leaf.itemIndex === undefined ? {} : { itemIndex: leaf.itemIndex }), attempt: leaf.leaf.attempt, generation: run.generation };
      if (leaf.leaf.status === 'scheduled') {
        send({ type: 'StepAttemptStarted', ...address, workerId: 'w1' });
        continue;
      }
      const iteration = Number(leaf.key.split('/')[1] ?? 0);
      const output: JsonValue =
        leaf.step === 'reason' ? (iteration < 2 ? { done: false, toolCalls: ['search a', 'search b', 'search c'] } : { done: true, toolCalls: [], answer: 'ok' }) : { result: `${leaf.key}#${leaf.itemIndex ?? ''}`, text: 'lorem ipsum dolor sit amet '.repeat(4) };
      send({ type: 'StepCompleted', ...address, output, usage: { inputTokens: 300, outputTokens: 80, cost: 0.001 } });
    }
  }
  return { log, histories };
}

/**
 * One long run: a loop whose single task body runs once per iteration (started + completed per
 * iteration) until the run's history holds `target` commands, through the pure reducer or in
 * place (`RunStateMachine`). Returns the commands/s of the first and the last quarter of the
 * history too: equal figures mean the per-command cost does not grow with the run's length.
 */
function recordLongRun(target: number, mode: 'pure' | 'inPlace', checkpointEvery?: number): { history: HistoryRecord[]; definition: JsonValue; ms: number; firstQuarterPerSecond: number; lastQuarterPerSecond: number } {
  const definition = { name: 'long-loop', ...(checkpointEvery === undefined ? {} : { checkpointEvery }), steps: [{ id: 'l', type: 'loop', until: 'false', maxIterations: 10_000, onMaxIterations: 'complete', steps: [{ id: 'b', task: 'b' }] }] };
  let state = apply(initialMachineState(), { type: 'RegisterWorkflow', definition, at: T0 }, { logIndex: 1 }).state;
  const machine = new RunStateMachine(mode === 'inPlace' ? state : initialMachineState());
  const history: HistoryRecord[] = [];
  let index = 1;
  const send = (command: Record<string, unknown>): void => {
    index++;
    const stamped = { ...command, at: T0 + index };
    const meta = { logIndex: index, term: 1 };
    let record: HistoryRecord | undefined;
    if (mode === 'pure') {
      const result = apply(state, stamped, meta);
      state = result.state;
      record = result.record;
    } else record = machine.apply(stamped, meta).record;
    if (record === undefined) throw new Error(`long run: command ${index} not recorded`);
    history.push(record);
  };
  const quarter = Math.floor(target / 4);
  const marks: number[] = [];
  const start = performance.now();
  send({ type: 'StartRun', runId: 'long', workflow: 'long-loop' });
  for (let i = 0; history.length < target; i++) {
    send({ type: 'StepAttemptStarted', runId: 'long', stepKey: `l/${i}/b`, attempt: 1, generation: 1 });
    if (history.length < target) send({ type: 'StepCompleted', runId: 'long', stepKey: `l/${i}/b`, attempt: 1, generation: 1, output: { i } });
    if (marks.length < 2 && history.length >= (marks.length === 0 ? quarter : target - quarter)) marks.push(performance.now());
  }
  const end = performance.now();
  const rate = (commands: number, ms: number): number => Math.round((commands / ms) * 1000);
  return { history, definition, ms: end - start, firstQuarterPerSecond: rate(quarter, marks[0] - start), lastQuarterPerSecond: rate(quarter, end - marks[1]) };
}

function time<T>(fn: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = fn();
  return { result, ms: performance.now() - start };
}

function main(): void {
  const { result: recorded, ms: recordMs } = time(() => recordLog(TARGET_COMMANDS));
  const { log, histories } = recorded;
  console.log(`recorded ${log.length} commands over ${histories.size} runs in ${recordMs.toFixed(0)} ms`);

  // 1a. pure reducer
  const pure = time(() => {
    let state = initialMachineState();
    for (const entry of log) state = apply(state, entry.command, { logIndex: entry.logIndex, term: 1 }).state;
    return state;
  });
  // 1b. in place (what a server node runs)
  const inPlace = time(() => {
    const machine = new RunStateMachine();
    for (const entry of log) machine.apply(entry.command, { logIndex: entry.logIndex, term: 1 });
    return machine;
  });
  if (machineStateHash(pure.result) !== inPlace.result.hash()) throw new Error('pure and in-place apply disagree');

  // 2. replay verification of every run
  const historyCommands = [...histories.values()].reduce((sum, h) => sum + h.length, 0);
  const replayed = time(() => {
    let verified = 0;
    for (const history of histories.values()) if (replay(agentLoopDefinition, history).verified) verified++;
    return verified;
  });
  if (replayed.result !== histories.size) throw new Error(`replay verified ${replayed.result}/${histories.size} runs`);

  // 4. one long run (history of LONG_RUN commands) — measured before 3 so that the 10,000-run
  //    state does not sit in the heap (its GC cost would be charged to the long run)
  const long = recordLongRun(LONG_RUN, 'pure');
  const longInPlace = recordLongRun(LONG_RUN, 'inPlace');
  if (longInPlace.history[longInPlace.history.length - 1].stateHash !== long.history[long.history.length - 1].stateHash) throw new Error('long run: pure and in-place disagree');
  const longCheckpointed = recordLongRun(LONG_RUN, 'inPlace', 3);
  const longReplay = time(() => replay(long.definition, long.history));
  if (!longReplay.result.verified) throw new Error('long run replay failed');

  // 3. snapshot with many active runs
  const machine = new RunStateMachine();
  machine.apply({ type: 'RegisterWorkflow', definition: agentLoopDefinition, at: T0 }, { logIndex: 1 });
  const started = time(() => {
    for (let i = 0; i < ACTIVE_RUNS; i++) machine.apply({ type: 'StartRun', runId: `active-${i}`, workflow: 'agent-loop', input: { goal: `goal ${i}` }, at: T0 + i }, { logIndex: i + 2 });
  });
  const activeCount = Object.keys(machine.state.runs).length;
  const packed = time(() => snapshotMachine(machine.state));
  const restored = time(() => restoreMachine(packed.result));
  if (!restored.result.ok) throw new Error(restored.result.detail);
  const json = time(() => snapshotMachineJson(machine.state));
  const hashed = time(() => machineStateHash(machine.state));
  if (machineStateHash(restored.result.state) !== hashed.result) throw new Error('restored snapshot hash differs');

  const perSecond = (count: number, ms: number): number => Math.round((count / ms) * 1000);
  const results = {
    bench: 'workflow',
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
    workload: `agent-loop definition (plan, 3 reason/act iterations with 3 tool calls each, answer); ${histories.size} runs interleaved 50 at a time; every attempt started then completed with usage`,
    apply: {
      commands: log.length,
      pureReducer: { ms: Math.round(pure.ms), commandsPerSecond: perSecond(log.length, pure.ms) },
      inPlace: { ms: Math.round(inPlace.ms), commandsPerSecond: perSecond(log.length, inPlace.ms) },
    },
    replay: { runs: histories.size, commands: historyCommands, ms: Math.round(replayed.ms), commandsPerSecond: perSecond(historyCommands, replayed.ms) },
    singleLongRun: {
      note: 'one run whose loop body runs once per iteration (2 commands per iteration); first/last quarter = commands/s over the first and last quarter of its history',
      commands: long.history.length,
      stepInstances: Math.floor(long.history.length / 2),
      applyCommandsPerSecond: perSecond(long.history.length, long.ms),
      applyFirstQuarterPerSecond: long.firstQuarterPerSecond,
      applyLastQuarterPerSecond: long.lastQuarterPerSecond,
      inPlaceCommandsPerSecond: perSecond(longInPlace.history.length, longInPlace.ms),
      inPlaceFirstQuarterPerSecond: longInPlace.firstQuarterPerSecond,
      inPlaceLastQuarterPerSecond: longInPlace.lastQuarterPerSecond,
      inPlaceCheckpointEvery3: {
        note: 'same run with checkpointEvery: 3 (a checkpoint still copies the step record: O(step instances) each)',
        commandsPerSecond: perSecond(longCheckpointed.history.length, longCheckpointed.ms),
        firstQuarterPerSecond: longCheckpointed.firstQuarterPerSecond,
        lastQuarterPerSecond: longCheckpointed.lastQuarterPerSecond,
      },
      replayMs: Math.round(longReplay.ms),
      replayCommandsPerSecond: perSecond(long.history.length, longReplay.ms),
    },
    snapshot: {
      activeRuns: activeCount,
      startRunsMs: Math.round(started.ms),
      msgpackBytes: packed.result.byteLength,
      bytesPerRun: Math.round(packed.result.byteLength / activeCount),
      serializeMs: Math.round(packed.ms),
      restoreMs: Math.round(restored.ms),
      canonicalJsonBytes: Buffer.byteLength(json.result),
      canonicalJsonMs: Math.round(json.ms),
      machineStateHashMs: Math.round(hashed.ms),
    },
  };
  console.log(JSON.stringify(results, null, 2));
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'workflow.json'), JSON.stringify(results, null, 2) + '\n');
}

main();
