import type { CommandInput, StepError, Usage } from '../commands/command.schema';
import type { JsonValue } from '../definition/json-value';
import { apply, type ApplyResult, type HistoryRecord } from '../machine/apply';
import type { Effect } from '../machine/effects';
import { initialMachineState } from '../machine/machine-state';
import type { MachineEvent } from '../machine/machine-events';
import type { MachineState, RunState } from '../machine/run-state';

/** A command input whose timestamp defaults to the harness clock. */
export type CommandWithoutTime = CommandInput extends infer T ? (T extends unknown ? Omit<T, 'at'> & { at?: number } : never) : never;

/**
 * A deterministic driver for tests and benchmarks: applies commands with increasing log
 * indexes and a simulated clock, keeps every run's history records, and offers shortcuts that
 * address the current attempt of a step (as the leader's completion service would).
 */
export class WorkflowHarness {
  state: MachineState = initialMachineState();
  logIndex = 0;
  now: number;
  readonly histories = new Map<string, HistoryRecord[]>();
  readonly effects: Effect[] = [];
  readonly events: MachineEvent[] = [];
  last: ApplyResult | undefined;

  constructor(startAt = 1_700_000_000_000) {
    this.now = startAt;
  }

  /** Applies one command (timestamp defaults to the simulated clock). */
  send(command: CommandWithoutTime): ApplyResult {
    this.logIndex++;
    const at = command.at ?? this.now;
    this.now = Math.max(this.now, at);
    const result = apply(this.state, { ...command, at }, { logIndex: this.logIndex, term: 1 });
    this.state = result.state;
    this.effects.push(...result.effects);
    this.events.push(...result.events);
    if (result.record !== undefined) {
      const list = this.histories.get(result.record.runId) ?? [];
      list.push(result.record);
      this.histories.set(result.record.runId, list);
    }
    this.last = result;
    return result;
  }

  advanceClock(ms: number): void {
    this.now += ms;
  }

  run(runId: string): RunState {
    const run = this.state.runs[runId];
    if (run === undefined) throw new Error(`no run ${runId}`);
    return run;
  }

  register(definition: unknown): ApplyResult {
    return this.send({ type: 'RegisterWorkflow', definition });
  }

  start(runId: string, workflow: string, input: JsonValue = {}, extra: { idempotencyKey?: string; version?: number } = {}): ApplyResult {
    return this.send({ type: 'StartRun', runId, workflow, input, ...extra });
  }

  private address(runId: string, stepKey: string, itemIndex?: number): { runId: string; stepKey: string; itemIndex?: number; attempt: number; generation: number } {
    const run = this.run(runId);
    const step = run.data.steps[stepKey];
    if (step === undefined) throw new Error(`no step ${stepKey} in ${runId}`);
    const leaf = itemIndex === undefined ? step : step.items?.[itemIndex];
    if (leaf === undefined) throw new Error(`no item ${itemIndex} of ${stepKey}`);
    return { runId, stepKey, ...(itemIndex === undefined ? {} : { itemIndex }), attempt: leaf.attempt, generation: run.generation };
  }

  started(runId: string, stepKey: string, itemIndex?: number): ApplyResult {
    return this.send({ type: 'StepAttemptStarted', ...this.address(runId, stepKey, itemIndex) });
  }

  complete(runId: string, stepKey: string, output: JsonValue = null, options: { itemIndex?: number; usage?: Partial<Usage> } = {}): ApplyResult {
    return this.send({ type: 'StepCompleted', ...this.address(runId, stepKey, options.itemIndex), output, ...(options.usage === undefined ? {} : { usage: options.usage }) });
  }

  fail(runId: string, stepKey: string, error: Partial<StepError> = {}, itemIndex?: number): ApplyResult {
    return this.send({ type: 'StepFailed', ...this.address(runId, stepKey, itemIndex), error: { message: 'boom', ...error } });
  }

  /** Timers of a run that are due at the simulated clock, earliest first (ties by id). */
  dueTimers(runId: string): string[] {
    const timers = this.run(runId).timers;
    return Object.keys(timers)
      .filter((id) => timers[id].dueAt <= this.now)
      .sort((a, b) => timers[a].dueAt - timers[b].dueAt || (a < b ? -1 : 1));
  }

  /** Moves the clock to the run's earliest timer and fires it; returns its id (undefined if none). */
  fireNextTimer(runId: string, kind?: string): string | undefined {
    const timers = this.run(runId).timers;
    const ids = Object.keys(timers)
      .filter((id) => kind === undefined || timers[id].kind === kind)
      .sort((a, b) => timers[a].dueAt - timers[b].dueAt || (a < b ? -1 : 1));
    const id = ids[0];
    if (id === undefined) return undefined;
    this.now = Math.max(this.now, timers[id].dueAt);
    this.send({ type: 'TimerFired', runId, timerId: id });
    return id;
  }

  signal(runId: string, signal: string, payload: JsonValue = null): ApplyResult {
    return this.send({ type: 'SignalReceived', runId, signal, payload });
  }

  history(runId: string): HistoryRecord[] {
    return this.histories.get(runId) ?? [];
  }

  /** Dispatch effects emitted so far for a run (optionally one step key). */
  dispatches(runId: string, stepKey?: string): Extract<Effect, { type: 'dispatch' }>[] {
    return this.effects.filter((effect): effect is Extract<Effect, { type: 'dispatch' }> => effect.type === 'dispatch' && effect.runId === runId && (stepKey === undefined || effect.stepKey === stepKey));
  }
}
