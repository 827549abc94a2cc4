import type { JsonValue } from '../definition/json-value';
import type { WorkflowDefinition } from '../definition/definition.schema';
import { buildStepGraph, type StepGraph } from '../definition/step-graph';
import { hashJson } from '../hashing/sha256';
import type { ApplyResult } from '../machine/apply';
import { planRollback } from '../machine/plan-rollback';
import { patchRunData } from '../machine/run-data-patch';
import { runDataHash, runDataHashFromScratch, runStateHashFromScratch } from '../machine/run-hash';
import type { RunState } from '../machine/run-state';
import { WorkflowHarness, type CommandWithoutTime } from './workflow-harness';

/** One scheduling decision of a property test: what to do and which candidate to pick. */
export interface DriverAction {
  readonly kind: DriverActionKind;
  /** Selects among the candidates of this kind (modulo their count). */
  readonly pick: number;
  readonly flag: boolean;
}

export type DriverActionKind =
  | 'complete'
  | 'fail'
  | 'timeout'
  | 'start'
  | 'heartbeat'
  | 'stale'
  | 'timer'
  | 'stale-timer'
  | 'signal'
  | 'cancel'
  | 'checkpoint'
  | 'rollback'
  | 'compensation'
  | 'budget'
  | 'clock'
  | 'fork';

/** Kinds with repetition as weights (fast-check `constantFrom` picks uniformly). */
export const DRIVER_ACTION_WEIGHTS: readonly DriverActionKind[] = [
  ...Array<DriverActionKind>(8).fill('complete'),
  ...Array<DriverActionKind>(3).fill('fail'),
  'timeout',
  'start',
  'start',
  'heartbeat',
  'stale',
  'stale',
  ...Array<DriverActionKind>(4).fill('timer'),
  'stale-timer',
  'signal',
  'signal',
  'checkpoint',
  'rollback',
  'rollback',
  'compensation',
  'compensation',
  'compensation',
  'budget',
  'clock',
];

/** Rarer kinds, added by callers that want them. */
export const RARE_DRIVER_ACTIONS: readonly DriverActionKind[] = ['cancel', 'fork'];

interface Leaf {
  runId: string;
  stepKey: string;
  itemIndex?: number;
  attempt: number;
  generation: number;
}

/** A violated invariant: thrown by the driver's checks so fast-check reports and shrinks it. */
export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
}

/**
 * Drives runs of one definition through arbitrary interleavings of results, failures,
 * timeouts, stale results, timers, signals, cancels, checkpoints, rollbacks, compensations,
 * budget raises and forks, checking the machine's invariants after every command.
 */
export class MachineDriver {
  readonly h = new WorkflowHarness();
  readonly graph: StepGraph;
  /** Applied result count per attempt address (invariant: at most one). */
  private readonly resultsApplied = new Map<string, number>();
  private readonly sentResults: CommandWithoutTime[] = [];
  /** Full (unmemoised) hash of every run object when it was committed. */
  private readonly committedHashes = new WeakMap<RunState, string>();
  private readonly seenTimers: Array<{ runId: string; timerId: string }> = [];
  readonly runIds: string[] = [];
  readonly forks: Array<{ runId: string; base: RunState['data'] }> = [];
  commandsApplied = 0;

  constructor(readonly definition: WorkflowDefinition, readonly raw: unknown) {
    this.graph = buildStepGraph(definition);
    const registered = this.h.register(raw);
    if (registered.events[0]?.type !== 'applied') throw new InvariantViolation(`definition rejected: ${JSON.stringify(registered.events)}`);
  }

  start(runId: string, input: JsonValue): void {
    this.send({ type: 'StartRun', runId, workflow: this.definition.name, input });
    if (this.h.state.runs[runId] === undefined) throw new InvariantViolation(`run ${runId} did not start: ${JSON.stringify(this.h.last?.events)}`);
    this.runIds.push(runId);
  }

  /** Applies a command through the harness and checks every invariant. */
  send(command: CommandWithoutTime): ApplyResult {
    const before = this.h.state;
    let result: ApplyResult;
    try {
      result = this.h.send(command);
    } catch (error) {
      throw new InvariantViolation(`apply threw on ${JSON.stringify(command)}: ${String(error)}`);
    }
    this.commandsApplied++;
    // Purity: the addressed run's previous object must still hash (fully, without memoisation)
    // as it did when it was committed; other runs are checked by identity below.
    const addressedId = result.record?.runId;
    const previous = addressedId === undefined ? undefined : before.runs[addressedId];
    if (previous !== undefined && this.committedHashes.get(previous) !== undefined && hashJson(previous) !== this.committedHashes.get(previous))
      throw new InvariantViolation(`apply mutated its input state on ${JSON.stringify(command)}`);
    if (addressedId !== undefined && result.state.runs[addressedId] !== undefined) this.committedHashes.set(result.state.runs[addressedId], hashJson(result.state.runs[addressedId]));
    for (const event of result.events) {
      if (event.type === 'rejected' && (event.reason === 'internal_error' || event.reason === 'invalid_command'))
        throw new InvariantViolation(`command ${JSON.stringify(command)} hit ${event.reason}: ${event.detail} ${JSON.stringify(event.problems ?? [])}`);
    }
    const addressed = result.record?.runId;
    // Incremental hashing: the recorded state hash equals the run hashed from nothing (no cache).
    const addressedRun = addressed === undefined ? undefined : result.state.runs[addressed];
    if (result.record !== undefined && addressedRun !== undefined && runStateHashFromScratch(addressedRun) !== result.record.stateHash)
      throw new InvariantViolation(`incremental state hash differs from the full hash after ${JSON.stringify(command)}`);
    // Per-run decomposition: no other run changes.
    for (const runId of Object.keys(before.runs)) {
      if (runId !== addressed && result.state.runs[runId] !== before.runs[runId]) throw new InvariantViolation(`command for ${addressed} changed run ${runId}`);
    }
    for (const effect of result.effects) if (effect.type === 'arm-timer') this.seenTimers.push({ runId: effect.runId, timerId: effect.timerId });
    if ((command.type === 'StepCompleted' || command.type === 'StepFailed' || command.type === 'StepTimedOut') && result.events.some((e) => e.type === 'applied')) {
      const key = `${command.runId}|${command.stepKey}|${command.itemIndex ?? '-'}|${command.generation}|${command.attempt}`;
      const count = (this.resultsApplied.get(key) ?? 0) + 1;
      this.resultsApplied.set(key, count);
      if (count > 1) throw new InvariantViolation(`a result of ${key} was applied twice`);
    }
    if (command.type === 'StepCompleted' || command.type === 'StepFailed' || command.type === 'StepTimedOut') this.sentResults.push(command);
    // A rollback does exactly what its dry run announced.
    if (command.type === 'RollbackRun' && result.events.some((event) => event.type === 'rollback-started')) {
      const planned = planRollback(before, command.runId, command.checkpointId);
      // the operator's record is the first one this command added (an automatic rollback may follow it)
      const record = result.state.runs[command.runId]?.rollbacks[before.runs[command.runId]?.rollbacks.length ?? 0];
      if (!planned.ok || record === undefined) throw new InvariantViolation('applied rollback had no plan or record');
      const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
      if (!same(record.compensations, planned.plan.compensations.map((c) => ({ stepKey: c.stepKey, ...(c.itemIndex === undefined ? {} : { itemIndex: c.itemIndex }), task: c.task }))))
        throw new InvariantViolation('rollback compensations differ from its plan');
      if (!same(record.discarded.map((d) => d.stepKey), planned.plan.discarded.map((d) => d.stepKey))) throw new InvariantViolation('rollback discarded steps differ from its plan');
      if (planned.plan.requiresForce && !command.force) throw new InvariantViolation('rollback crossed irreversible effects without force');
    }
    const restores = result.events.filter((event) => event.type === 'rollback-restored');
    restores.forEach((event, index) => this.checkRestore(result.state.runs[event.runId], event.checkpointId, event.generation, event.restoredStateHash, index === restores.length - 1));
    for (const runId of Object.keys(result.state.runs)) this.checkRun(result.state.runs[runId]);
    // Checkpoints taken by this command: their recorded hash must match their data hashed afresh
    // (no memoisation), i.e. nothing shared with the checkpoint was changed after it was taken.
    for (const run of Object.values(result.state.runs)) {
      for (const checkpoint of run.checkpoints) {
        if (checkpoint.logIndex !== this.h.logIndex) continue;
        if (runDataHashFromScratch(checkpoint.data) !== checkpoint.stateHash) throw new InvariantViolation(`checkpoint ${run.runId}/${checkpoint.id} changed after it was taken`);
      }
    }
    return result;
  }

  /** After a rollback the run's data equals the checkpoint's data plus the patch (before execution resumes). */
  private checkRestore(after: RunState | undefined, checkpointId: string, generation: number, restoredHash: string, isLast: boolean): void {
    if (after === undefined) throw new InvariantViolation('restored run vanished');
    const checkpoint = after.checkpoints.find((c) => c.id === checkpointId);
    // one command may restore more than once (an automatic rollback right after an operator's): match by generation
    const record = after.rollbacks.find((entry) => entry.generation === generation);
    if (checkpoint === undefined || record === undefined) throw new InvariantViolation('restore without checkpoint or record');
    const expected = patchRunData(checkpoint.data, record.patch, this.graph);
    if (!expected.ok) throw new InvariantViolation(`recorded patch no longer applies: ${expected.detail}`);
    if (runDataHash(expected.data) !== restoredHash) throw new InvariantViolation('restored data is not checkpoint + patch');
    if (!isLast) return; // a later restore in the same command replaced the data again
    for (const [key, step] of Object.entries(expected.data.steps)) {
      if (step.status !== 'completed' && step.status !== 'skipped') continue;
      if (hashJson(after.data.steps[key]) !== hashJson(step)) throw new InvariantViolation(`restored step ${key} differs from the checkpoint`);
    }
  }

  private checkRun(run: RunState): void {
    if (run.status === 'rolling_back') return;
    const active = run.status === 'running' || run.status === 'waiting' || run.status === 'pending';
    for (const [key, step] of Object.entries(run.data.steps)) {
      // Work in flight only exists in the active scope (the scheduler's status and signal scans rely on it).
      if (active && (step.status === 'scheduled' || step.status === 'running')) this.checkInActiveScope(run, key);
      if (step.status === 'pending' || step.status === 'rolled_back' || step.status === 'compensated') continue;
      const cut = key.lastIndexOf('/');
      const prefix = cut < 0 ? '' : key.slice(0, cut + 1);
      for (const dep of this.graph.dependenciesOf(step.stepId)) {
        const depState = run.data.steps[prefix + dep];
        if (depState === undefined || (depState.status !== 'completed' && depState.status !== 'skipped'))
          throw new InvariantViolation(`step ${key} is ${step.status} but its dependency ${prefix + dep} is ${depState?.status ?? 'missing'}`);
      }
      if (step.type === 'map' && step.items !== undefined) {
        const location = this.graph.locations.get(step.stepId);
        const limit = location?.step.type === 'map' ? location.step.maxConcurrency : 0;
        const inFlight = step.items.filter((item) => item.status === 'scheduled' || item.status === 'running').length;
        if (inFlight > limit) throw new InvariantViolation(`map ${key} has ${inFlight} items in flight, maxConcurrency ${limit}`);
      }
    }
  }

  /** Every enclosing loop of `key` is running and `key` lies in its current iteration. */
  private checkInActiveScope(run: RunState, key: string): void {
    const parts = key.split('/');
    for (let i = 1; i + 1 < parts.length; i += 2) {
      const loopKey = parts.slice(0, i).join('/');
      const loop = run.data.steps[loopKey];
      if (loop === undefined || loop.status !== 'running' || String(loop.iteration ?? 0) !== parts[i])
        throw new InvariantViolation(`step ${key} is ${run.data.steps[key]?.status} outside the active scope (loop ${loopKey} is ${loop?.status ?? 'missing'} at iteration ${loop?.iteration ?? '-'})`);
    }
  }

  private leaves(filter: (leaf: { status: string; retryAt?: number; held?: boolean }) => boolean): Leaf[] {
    const out: Leaf[] = [];
    for (const runId of Object.keys(this.h.state.runs).sort()) {
      const run = this.h.state.runs[runId];
      for (const key of Object.keys(run.data.steps).sort()) {
        const step = run.data.steps[key];
        if (step.type === 'task' && filter(step)) out.push({ runId, stepKey: key, attempt: step.attempt, generation: step.generation });
        step.items?.forEach((item, index) => {
          if (filter(item)) out.push({ runId, stepKey: key, itemIndex: index, attempt: item.attempt, generation: item.generation });
        });
      }
    }
    return out;
  }

  /** Leaves whose current attempt awaits a result. */
  awaiting(): Leaf[] {
    return this.leaves((leaf) => (leaf.status === 'scheduled' || leaf.status === 'running') && leaf.retryAt === undefined && leaf.held !== true);
  }

  private address(leaf: Leaf): { runId: string; stepKey: string; itemIndex?: number; attempt: number; generation: number } {
    return { runId: leaf.runId, stepKey: leaf.stepKey, ...(leaf.itemIndex === undefined ? {} : { itemIndex: leaf.itemIndex }), attempt: leaf.attempt, generation: leaf.generation };
  }

  private activeRuns(): RunState[] {
    return Object.keys(this.h.state.runs)
      .sort()
      .map((id) => this.h.state.runs[id])
      .filter((run) => run.status !== 'completed' && run.status !== 'failed' && run.status !== 'cancelled');
  }

  /** Performs one arbitrary action; returns false if it had no candidate. */
  act(action: DriverAction): boolean {
    const pickFrom = <T>(list: readonly T[]): T | undefined => (list.length === 0 ? undefined : list[action.pick % list.length]);
    switch (action.kind) {
      case 'complete': {
        const leaf = pickFrom(this.awaiting());
        if (leaf === undefined) return false;
        const outputs: JsonValue[] = [{ done: true }, 1.5, 'x', [1.0, 2.0], { done: false, n: action.pick }];
        this.send({ type: 'StepCompleted', ...this.address(leaf), output: outputs[action.pick % outputs.length], ...(action.flag ? { usage: { inputTokens: 40 * (action.pick % 7), outputTokens: 10, cost: 0.01 } } : {}) });
        return true;
      }
      case 'fail': {
        const leaf = pickFrom(this.awaiting());
        if (leaf === undefined) return false;
        this.send({ type: 'StepFailed', ...this.address(leaf), error: { message: `failure ${action.pick}`, errorType: action.flag ? 'Fatal' : 'Error', ...(action.pick % 5 === 0 ? { retryable: false } : {}) } });
        return true;
      }
      case 'timeout': {
        const leaf = pickFrom(this.awaiting());
        if (leaf === undefined) return false;
        this.send({ type: 'StepTimedOut', ...this.address(leaf) });
        return true;
      }
      case 'start':
      case 'heartbeat': {
        const leaf = pickFrom(this.awaiting());
        if (leaf === undefined) return false;
        this.send({ type: action.kind === 'start' ? 'StepAttemptStarted' : 'StepHeartbeat', ...this.address(leaf) });
        return true;
      }
      case 'stale': {
        const old = pickFrom(this.sentResults);
        if (old === undefined) return false;
        this.send(old);
        return true;
      }
      case 'timer': {
        const timers = this.activeRuns().flatMap((run) => Object.keys(run.timers).sort().map((timerId) => ({ runId: run.runId, timerId, dueAt: run.timers[timerId].dueAt })));
        const timer = pickFrom(timers);
        if (timer === undefined) return false;
        this.h.now = Math.max(this.h.now, timer.dueAt);
        this.send({ type: 'TimerFired', runId: timer.runId, timerId: timer.timerId });
        return true;
      }
      case 'stale-timer': {
        const timer = pickFrom(this.seenTimers);
        if (timer === undefined) return false;
        this.send({ type: 'TimerFired', runId: timer.runId, timerId: timer.timerId });
        return true;
      }
      case 'signal': {
        const run = pickFrom(this.activeRuns());
        const signals = [...this.graph.locations.values()].filter((l) => l.step.type === 'signal').map((l) => `sig_${l.step.id}`);
        const signal = pickFrom([...signals, 'unrelated']);
        if (run === undefined || signal === undefined) return false;
        this.send({ type: 'SignalReceived', runId: run.runId, signal, payload: action.pick });
        return true;
      }
      case 'cancel': {
        const run = pickFrom(this.activeRuns());
        if (run === undefined) return false;
        this.send({ type: 'CancelRun', runId: run.runId, reason: 'property test', actor: 'fc' });
        return true;
      }
      case 'checkpoint': {
        const run = pickFrom(this.activeRuns());
        if (run === undefined) return false;
        this.send({ type: 'TakeCheckpoint', runId: run.runId, label: `cp${action.pick}` });
        return true;
      }
      case 'rollback': {
        const run = pickFrom(Object.keys(this.h.state.runs).sort().map((id) => this.h.state.runs[id]));
        if (run === undefined) return false;
        const checkpoint = run.checkpoints[action.pick % run.checkpoints.length];
        const completed = Object.keys(checkpoint.data.steps)
          .sort()
          .filter((key) => checkpoint.data.steps[key].status === 'completed' && checkpoint.data.steps[key].type === 'task');
        const patchKey = completed.length > 0 && action.pick % 3 === 0 ? completed[action.pick % completed.length] : undefined;
        this.send({
          type: 'RollbackRun',
          runId: run.runId,
          checkpointId: checkpoint.id,
          reason: 'property test',
          actor: 'fc',
          force: action.flag,
          ...(patchKey === undefined ? {} : { patch: [{ op: 'replace' as const, path: `/steps/${patchKey}/output`, value: { patched: action.pick } }] }),
        });
        return true;
      }
      case 'compensation': {
        const candidates = this.activeRuns().flatMap((run) =>
          (run.pendingRollback?.compensations ?? []).filter((c) => c.status === 'running').map((c) => ({ run, c })),
        );
        const found = pickFrom(candidates);
        if (found === undefined) return false;
        const base = { runId: found.run.runId, stepKey: found.c.stepKey, ...(found.c.itemIndex === undefined ? {} : { itemIndex: found.c.itemIndex }), generation: found.run.generation, attempt: found.c.attempt };
        if (action.flag && action.pick % 4 === 0) this.send({ type: 'CompensationFailed', ...base, error: { message: 'undo failed' } });
        else this.send({ type: 'CompensationCompleted', ...base });
        return true;
      }
      case 'budget': {
        const run = pickFrom(this.activeRuns());
        if (run === undefined) return false;
        this.send({ type: 'RaiseBudget', runId: run.runId, maxTokens: 1_000_000 + action.pick, reason: 'raise', actor: 'fc' });
        return true;
      }
      case 'clock':
        this.h.advanceClock(action.pick * 10);
        return true;
      case 'fork': {
        const source = pickFrom(Object.keys(this.h.state.runs).sort().map((id) => this.h.state.runs[id]));
        if (source === undefined) return false;
        const checkpoint = source.checkpoints[action.pick % source.checkpoints.length];
        const runId = `fork${this.forks.length + 1}`;
        const result = this.send({ type: 'ForkRun', runId, sourceRunId: source.runId, checkpointId: checkpoint.id, reason: 'what if', actor: 'fc' });
        if (result.state.runs[source.runId] !== this.h.state.runs[source.runId]) throw new InvariantViolation('fork changed its source run');
        if (this.h.state.runs[runId] !== undefined) this.forks.push({ runId, base: checkpoint.data });
        return true;
      }
    }
  }

  /**
   * Fair scheduling: every awaited result eventually arrives, timers fire, signals come,
   * compensations finish, an operator retries a stuck rollback and raises an exhausted budget.
   * Returns the number of commands it needed; throws if some run does not terminate.
   */
  driveToCompletion(limit = 5000): number {
    let steps = 0;
    for (; steps < limit; steps++) {
      const active = this.activeRuns();
      if (active.length === 0) return steps;
      const run = active[0];
      const compensation = run.pendingRollback?.compensations.find((c) => c.status === 'running');
      if (run.status === 'rolling_back') {
        const timerId = Object.keys(run.timers).sort((a, b) => run.timers[a].dueAt - run.timers[b].dueAt || (a < b ? -1 : 1))[0];
        if (compensation !== undefined && compensation.retryAt === undefined) {
          this.send({ type: 'CompensationCompleted', runId: run.runId, stepKey: compensation.stepKey, ...(compensation.itemIndex === undefined ? {} : { itemIndex: compensation.itemIndex }), generation: run.generation, attempt: compensation.attempt });
        } else if (compensation !== undefined && timerId !== undefined) {
          this.h.now = Math.max(this.h.now, run.timers[timerId].dueAt);
          this.send({ type: 'TimerFired', runId: run.runId, timerId });
        } else {
          this.send({ type: 'RollbackRun', runId: run.runId, checkpointId: run.pendingRollback?.checkpointId ?? run.checkpoints[0].id, reason: 'operator retries', actor: 'fair', force: true });
        }
        continue;
      }
      if (run.waitReason === 'budget_exceeded') {
        this.send({ type: 'RaiseBudget', runId: run.runId, maxTokens: 1e12, reason: 'fair', actor: 'fair' });
        continue;
      }
      const leaf = this.awaiting().find((l) => l.runId === run.runId);
      if (leaf !== undefined) {
        this.send({ type: 'StepCompleted', ...this.address(leaf), output: { done: true } });
        continue;
      }
      const waiting = Object.keys(run.data.steps)
        .sort()
        .map((key) => run.data.steps[key])
        .find((step) => step.type === 'signal' && step.status === 'running');
      if (waiting !== undefined) {
        this.send({ type: 'SignalReceived', runId: run.runId, signal: `sig_${waiting.stepId}`, payload: 'fair' });
        continue;
      }
      const timerId = Object.keys(run.timers).sort((a, b) => run.timers[a].dueAt - run.timers[b].dueAt || (a < b ? -1 : 1))[0];
      if (timerId !== undefined) {
        this.h.now = Math.max(this.h.now, run.timers[timerId].dueAt);
        this.send({ type: 'TimerFired', runId: run.runId, timerId });
        continue;
      }
      throw new InvariantViolation(`run ${run.runId} is ${run.status} with nothing left to do: ${JSON.stringify(run.data.steps)}`);
    }
    throw new InvariantViolation(`runs did not terminate within ${limit} fair commands`);
  }
}
