import { parseCommand } from '../commands/parse-command';
import { isRunCommand, type Command, type CommandOf, type RunCommand } from '../commands/command.schema';
import { validateAgainstInputSchema } from '../definition/input-schema';
import { validateDefinition } from '../definition/validate-definition';
import { chainHash, GENESIS_HASH } from '../hashing/hash-chain';
import { hashJson } from '../hashing/sha256';
import type { ApplyMeta, RunContext } from './apply-context';
import { findCheckpoint, takeCheckpoint } from './checkpoints';
import { graphOf } from './definition-lookup';
import type { Effect } from './effects';
import type { MachineEvent } from './machine-events';
import { adoptRun, cloneRun, copyOnWriteWriter, inPlaceWriter, revertAdoptedRun, type StateWriter } from './machine-state';
import { settle } from './run-failure';
import { patchRunData } from './run-data-patch';
import {
  ignore,
  onAttemptCommand,
  onCancelRun,
  onCompensationResult,
  onRaiseBudget,
  onRollbackRun,
  onSignalReceived,
  onTakeCheckpoint,
  onTimerFired,
} from './run-handlers';
import { runDataHash, runStateHash } from './run-hash';
import { createLevelSteps } from './step-lifecycle';
import { TERMINAL_RUN_STATUSES, type MachineState, type RegisteredWorkflow, type RunData, type RunState } from './run-state';

export type { ApplyMeta } from './apply-context';

/** One entry of a run's history: the command, where it sat in the log, and the hashes after it. */
export interface HistoryRecord {
  readonly runId: string;
  /** 1-based position in the run's history. */
  readonly seq: number;
  readonly logIndex: number;
  readonly term?: number;
  readonly command: Command;
  /** h_seq of the run's chain. */
  readonly chainHash: string;
  /** `runStateHash` of the run after this command. */
  readonly stateHash: string;
}

/** What `apply` returns: the next state, the leader's effects, what happened, and the run history record. */
export interface ApplyResult {
  readonly state: MachineState;
  readonly effects: Effect[];
  readonly events: MachineEvent[];
  /** Present when the command was addressed to an existing (or newly created) run. */
  readonly record?: HistoryRecord;
}

/**
 * The workflow state machine: `apply(state, command, meta)` → next state + effects.
 *
 * Invariants (DESIGN.md 2–4):
 * - pure and deterministic: reads no clock, random, env or IO; `at` comes from the command and
 *   `logIndex`/`term` from `meta`; the input state is never mutated;
 * - total: never throws. A malformed command is recorded as `rejected` (state unchanged); a
 *   well-formed but late or inapplicable one (stale attempt or generation, finished run, unknown
 *   checkpoint…) is recorded as `ignored`/`rejected` in the run's history chain;
 * - each result counts once: only the first result of the current attempt of the current
 *   generation changes a step;
 * - per-run decomposition: a command changes at most the run it addresses (plus machine-level
 *   indexes: definitions, idempotency keys, archive tombstones).
 */
export function apply(state: MachineState, command: unknown, meta: ApplyMeta): ApplyResult {
  const writer = copyOnWriteWriter(state);
  const { effects, events, record } = applyWith(writer, command, meta);
  return { state: writer.result(), effects, events, ...(record === undefined ? {} : { record }) };
}

/**
 * Same semantics as `apply` (same events, effects, records and resulting state) but mutates
 * `state`, which the caller owns: the addressed run's step record, completion list and checkpoint
 * list are changed in place (`adoptRun`) and the run index is not copied, so a command costs
 * O(step instances it touches + the active scope), independent of the run's history length and
 * of the number of runs. Objects previously read out of `state` must be treated as stale. After
 * an internal error the shared containers are restored, leaving `state` unchanged.
 */
export function applyInPlace(state: MachineState, command: unknown, meta: ApplyMeta): Omit<ApplyResult, 'state'> {
  return applyWith(inPlaceWriter(state), command, meta);
}

function applyWith(writer: StateWriter, input: unknown, meta: ApplyMeta): Omit<ApplyResult, 'state'> {
  const parsed = parseCommand(input);
  if (!parsed.ok) {
    return { effects: [], events: [{ type: 'rejected', command: 'unknown', reason: 'invalid_command', detail: 'command failed validation', problems: parsed.problems }] };
  }
  const command = parsed.command;
  try {
    if (!isRunCommand(command)) return applyMachineCommand(writer, command);
    return applyRunCommand(writer, command, meta);
  } catch (error) {
    // A bug, not an input problem: record it deterministically instead of halting every node.
    const detail = error instanceof Error ? error.message : String(error);
    return { effects: [], events: [{ type: 'rejected', command: command.type, reason: 'internal_error', detail }] };
  }
}

function applyMachineCommand(writer: StateWriter, command: CommandOf<'RegisterWorkflow' | 'ArchivedWatermark'>): Omit<ApplyResult, 'state'> {
  const state = writer.state;
  if (command.type === 'ArchivedWatermark') {
    writer.update({ archivedWatermark: Math.max(state.archivedWatermark, command.index) });
    return { effects: [], events: [{ type: 'applied', command: command.type }] };
  }
  const validation = validateDefinition(command.definition);
  if (!validation.ok) {
    const problems = validation.problems.map((problem) => ({ path: problem.path, message: problem.message }));
    return { effects: [], events: [{ type: 'rejected', command: command.type, reason: 'invalid_definition', detail: `${problems.length} problem(s)`, problems }] };
  }
  const definition = validation.definition;
  const existing = state.workflows[definition.name];
  const version = (existing?.latest ?? 0) + 1;
  const registered: RegisteredWorkflow = { name: definition.name, version, definition, definitionHash: hashJson(definition), registeredAt: command.at };
  writer.update({
    workflows: { ...state.workflows, [definition.name]: { latest: version, versions: { ...(existing?.versions ?? {}), [String(version)]: registered } } },
  });
  return { effects: [], events: [{ type: 'applied', command: command.type }, { type: 'workflow-registered', name: definition.name, version }] };
}

function applyRunCommand(writer: StateWriter, command: RunCommand, meta: ApplyMeta): Omit<ApplyResult, 'state'> {
  const state = writer.state;
  const existing = state.runs[command.runId];
  if (existing === undefined) {
    if (state.archivedRuns[command.runId] !== undefined)
      return { effects: [], events: [{ type: 'ignored', command: command.type, runId: command.runId, reason: 'run_archived', detail: 'run is archived' }] };
    if (command.type === 'StartRun') return startRun(writer, command, meta);
    if (command.type === 'ForkRun') return forkRun(writer, command, meta);
    return { effects: [], events: [{ type: 'ignored', command: command.type, runId: command.runId, reason: 'unknown_run', detail: `no run ${command.runId}` }] };
  }
  if (command.type === 'ArchiveRun') {
    if (!TERMINAL_RUN_STATUSES.includes(existing.status))
      return recordOnRun(writer, existing, command, meta, (ctx) => {
        ctx.run.ignoredCommands++;
        ctx.events.push({ type: 'rejected', command: command.type, runId: command.runId, reason: 'run_not_finished', detail: `run is ${existing.status}` });
      });
    writer.deleteRun(existing.runId);
    writer.setArchivedRun(existing.runId, { status: existing.status, stateHash: runStateHash(existing), archivedAt: command.at });
    return { effects: [], events: [{ type: 'applied', command: command.type, runId: command.runId }] };
  }
  return recordOnRun(writer, existing, command, meta, (ctx) => dispatchRunCommand(ctx, command));
}

function dispatchRunCommand(ctx: RunContext, command: RunCommand): void {
  switch (command.type) {
    case 'StartRun':
      return ignore(ctx, command, 'run_exists', `run ${command.runId} already exists`);
    case 'ForkRun':
      return ignore(ctx, command, 'run_exists', `run ${command.runId} already exists`);
    case 'StepAttemptDispatched':
    case 'StepAttemptStarted':
    case 'StepHeartbeat':
    case 'StepCompleted':
    case 'StepFailed':
    case 'StepTimedOut':
      return onAttemptCommand(ctx, command);
    case 'TimerFired':
      return onTimerFired(ctx, command);
    case 'SignalReceived':
      return onSignalReceived(ctx, command);
    case 'CancelRun':
      return onCancelRun(ctx, command);
    case 'TakeCheckpoint':
      return onTakeCheckpoint(ctx, command);
    case 'RollbackRun':
      return onRollbackRun(ctx, command);
    case 'RaiseBudget':
      return onRaiseBudget(ctx, command);
    case 'CompensationCompleted':
    case 'CompensationFailed':
      return onCompensationResult(ctx, command);
    case 'ArchiveRun':
      return;
  }
}

/** Runs `handle` on a private copy of `run`, then appends the command to the run's hash chain. */
function recordOnRun(writer: StateWriter, run: RunState, command: RunCommand, meta: ApplyMeta, handle: (ctx: RunContext) => void): Omit<ApplyResult, 'state'> {
  const definition = writer.state.workflows[run.workflow]?.versions[String(run.version)]?.definition;
  const adopted = writer.inPlace ? adoptRun(run) : undefined;
  const draft = adopted?.draft ?? cloneRun(run);
  if (definition === undefined) {
    // Unreachable while definitions are never removed; recorded rather than thrown (apply is total).
    draft.ignoredCommands++;
    const events: MachineEvent[] = [{ type: 'rejected', command: command.type, runId: run.runId, reason: 'unknown_version', detail: 'pinned definition missing' }];
    return finishRunCommand(writer, draft, command, meta, [], events);
  }
  const ctx: RunContext = {
    // Timestamps are non-decreasing by contract; clamping keeps due times monotonic per run even
    // if a new leader's clock lags (deterministic: depends only on the run and the command).
    at: Math.max(command.at, run.updatedAt),
    meta,
    run: draft,
    definition,
    graph: graphOf(definition),
    effects: [],
    events: [],
    ownedSteps: new Set(),
    ownsAllSteps: false,
    ...(adopted === undefined ? {} : { stepUndo: { steps: adopted.undo.steps, before: adopted.undo.stepsBefore } }),
  };
  try {
    handle(ctx);
  } catch (error) {
    // In place, the step record and lists are shared with the committed run: put them back so that
    // an internal error leaves the state exactly as the pure `apply` would (unchanged).
    if (adopted !== undefined) revertAdoptedRun(adopted.undo);
    throw error;
  }
  return finishRunCommand(writer, draft, command, meta, ctx.effects, ctx.events);
}

function finishRunCommand(writer: StateWriter, draft: RunState, command: RunCommand, meta: ApplyMeta, effects: Effect[], events: MachineEvent[]): Omit<ApplyResult, 'state'> {
  const head = chainHash(draft.history.head, command);
  draft.history = { length: draft.history.length + 1, head };
  draft.updatedAt = Math.max(draft.updatedAt, command.at);
  writer.setRun(draft);
  const record: HistoryRecord = {
    runId: draft.runId,
    seq: draft.history.length,
    logIndex: meta.logIndex,
    ...(meta.term === undefined ? {} : { term: meta.term }),
    command,
    chainHash: head,
    stateHash: runStateHash(draft),
  };
  return { effects, events, record };
}

function newRun(command: { runId: string; at: number }, registered: RegisteredWorkflow, data: RunData): RunState {
  const budget = registered.definition.budget;
  return {
    runId: command.runId,
    workflow: registered.name,
    version: registered.version,
    definitionHash: registered.definitionHash,
    status: 'running',
    generation: 1,
    createdAt: command.at,
    updatedAt: command.at,
    data,
    timers: {},
    signalBuffer: [],
    checkpoints: [],
    checkpointSeq: 0,
    completionSeq: 0,
    rollbacks: [],
    autoRollbacks: 0,
    usage: { inputTokens: 0, outputTokens: 0, cost: 0 },
    ...(budget === undefined
      ? {}
      : { budget: { ...(budget.maxTokens === undefined ? {} : { maxTokens: budget.maxTokens }), ...(budget.maxCost === undefined ? {} : { maxCost: budget.maxCost }) } }),
    budgetChanges: [],
    history: { length: 0, head: GENESIS_HASH },
    ignoredCommands: 0,
  };
}

function startRun(writer: StateWriter, command: CommandOf<'StartRun'>, meta: ApplyMeta): Omit<ApplyResult, 'state'> {
  const state = writer.state;
  const rejected = (reason: 'unknown_workflow' | 'unknown_version' | 'invalid_input', detail: string, problems?: Array<{ path: string; message: string }>) => ({
    effects: [],
    events: [{ type: 'rejected' as const, command: command.type, runId: command.runId, reason, detail, ...(problems === undefined ? {} : { problems }) }],
  });
  const idempotencyKey = command.idempotencyKey === undefined ? undefined : `${command.workflow}\u0000${command.idempotencyKey}`;
  if (idempotencyKey !== undefined && state.idempotencyKeys[idempotencyKey] !== undefined) {
    const existingRunId = state.idempotencyKeys[idempotencyKey];
    return { effects: [], events: [{ type: 'ignored', command: command.type, runId: existingRunId, reason: 'duplicate_idempotency_key', detail: `key already started run ${existingRunId}` }] };
  }
  const workflow = state.workflows[command.workflow];
  if (workflow === undefined) return rejected('unknown_workflow', `no workflow ${command.workflow}`);
  const registered = workflow.versions[String(command.version ?? workflow.latest)];
  if (registered === undefined) return rejected('unknown_version', `workflow ${command.workflow} has no version ${command.version}`);
  const problems = validateAgainstInputSchema(registered.definition.inputSchema, command.input);
  if (problems.length > 0) return rejected('invalid_input', 'input does not match inputSchema', problems.map((problem) => ({ path: problem.path, message: problem.message })));

  const run = newRun(command, registered, { input: command.input, steps: {}, completions: [], completedSinceCheckpoint: 0 });
  const ctx = runContext(command, meta, run, registered);
  createLevelSteps(ctx, undefined, '');
  takeCheckpoint(ctx, 'start');
  ctx.events.push({ type: 'applied', command: command.type, runId: run.runId }, { type: 'run-started', runId: run.runId, workflow: registered.name, version: registered.version });
  settle(ctx);
  if (idempotencyKey !== undefined) writer.setIdempotencyKey(idempotencyKey, run.runId);
  return finishRunCommand(writer, run, command, meta, ctx.effects, ctx.events);
}

/**
 * ForkRun: a new run (id chosen by the proposer) starting from a checkpoint of another run,
 * optionally patched. The source run is untouched and the command enters only the new run's
 * history. The new run pins the source's definition version and records where it came from.
 */
function forkRun(writer: StateWriter, command: CommandOf<'ForkRun'>, meta: ApplyMeta): Omit<ApplyResult, 'state'> {
  const state = writer.state;
  const rejected = (reason: 'unknown_checkpoint' | 'invalid_patch' | 'unknown_version', detail: string) => ({
    effects: [],
    events: [{ type: 'rejected' as const, command: command.type, runId: command.runId, reason, detail }],
  });
  const source = state.runs[command.sourceRunId];
  if (source === undefined) return { effects: [], events: [{ type: 'ignored', command: command.type, runId: command.runId, reason: 'unknown_run', detail: `no source run ${command.sourceRunId}` }] };
  const checkpoint = findCheckpoint(source.checkpoints, command.checkpointId);
  if (checkpoint === undefined) return rejected('unknown_checkpoint', `run ${source.runId} has no checkpoint ${command.checkpointId}`);
  return forkFromCheckpointData(writer, command, meta, checkpoint.data, { workflow: source.workflow, version: source.version });
}

/**
 * Creates the forked run from checkpoint data. Exposed for replay, which verifies a forked run's
 * history offline given the source checkpoint's data instead of the source run.
 */
export function forkFromCheckpointData(
  writer: StateWriter,
  command: CommandOf<'ForkRun'>,
  meta: ApplyMeta,
  checkpointData: RunData,
  pinned: { workflow: string; version: number },
): Omit<ApplyResult, 'state'> {
  const registered = writer.state.workflows[pinned.workflow]?.versions[String(pinned.version)];
  if (registered === undefined)
    return { effects: [], events: [{ type: 'rejected', command: command.type, runId: command.runId, reason: 'unknown_version', detail: `definition ${pinned.workflow} v${pinned.version} missing` }] };
  const graph = graphOf(registered.definition);
  const patched = patchRunData(checkpointData, command.patch, graph);
  if (!patched.ok) return { effects: [], events: [{ type: 'rejected', command: command.type, runId: command.runId, reason: 'invalid_patch', detail: patched.detail }] };
  const run = newRun(command, registered, patched.data);
  run.forkedFrom = { runId: command.sourceRunId, checkpointId: command.checkpointId, checkpointStateHash: runDataHash(checkpointData), reason: command.reason, actor: command.actor };
  // Completion sequence numbers continue above the inherited ones so lineage stays a prefix check.
  run.completionSeq = patched.data.completions.reduce((max, record) => Math.max(max, record.seq), 0);
  const ctx = runContext(command, meta, run, registered);
  takeCheckpoint(ctx, 'fork', { label: `fork of ${command.sourceRunId}@${command.checkpointId}` });
  ctx.events.push({ type: 'applied', command: command.type, runId: run.runId }, { type: 'run-forked', runId: run.runId, sourceRunId: command.sourceRunId, checkpointId: command.checkpointId });
  settle(ctx);
  return finishRunCommand(writer, run, command, meta, ctx.effects, ctx.events);
}

function runContext(command: { at: number }, meta: ApplyMeta, run: RunState, registered: RegisteredWorkflow): RunContext {
  return { at: command.at, meta, run, definition: registered.definition, graph: graphOf(registered.definition), effects: [], events: [], ownedSteps: new Set(), ownsAllSteps: true };
}
