import { z } from 'zod';
import { JsonValueSchema } from '../definition/json-value';

/**
 * The closed, versioned set of commands the workflow state machine applies (DESIGN.md
 * invariant 2). Every command is plain JSON and carries every nondeterministic value it needs:
 * ids (run ids, the proposer's choice) and the timestamp `at` (ms since the epoch, chosen by the
 * leader when it proposes; non-decreasing along the log). `apply` reads nothing else.
 *
 * Versioning: `v` is the schema version of the command set. Version 1 is the only one; a future
 * incompatible change adds a new version and keeps decoding the old one, because replicated
 * logs and exported histories outlive releases. Command `type` strings are persisted: never
 * rename one.
 */
export const COMMAND_SET_VERSION = 1 as const;

/** Ids chosen by proposers (run ids, idempotency keys): no `:` (BullMQ job ids) and no `|` (our job id separator). */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const RunIdSchema = z.string().regex(ID_PATTERN, 'run id must start with a letter or digit and contain only letters, digits, ".", "_" or "-" (at most 128)');

/** A step instance key: the step id, or for steps inside a loop iteration `loopKey/iteration/stepId`. */
export const StepKeySchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}(\/\d+\/[A-Za-z][A-Za-z0-9_-]{0,63})*$/, 'invalid step key');

const TimestampSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const ActorSchema = z.string().min(1).max(200);
const ReasonSchema = z.string().min(1).max(2000);
const base = { v: z.literal(COMMAND_SET_VERSION).default(COMMAND_SET_VERSION), at: TimestampSchema };

/** Token usage and cost reported with a task result. */
export const UsageSchema = z.strictObject({
  inputTokens: z.number().int().min(0).default(0),
  outputTokens: z.number().int().min(0).default(0),
  cost: z.number().min(0).default(0),
});

/** A task failure as reported by a worker; `errorType` drives `nonRetryableErrors`, `retryable: false` stops retries. */
export const StepErrorSchema = z.strictObject({
  message: z.string().max(10_000),
  errorType: z.string().min(1).max(200).default('Error'),
  retryable: z.boolean().optional(),
  details: JsonValueSchema.optional(),
});

/** RFC 6902 JSON patch operations (validated structurally here, semantically by apply). */
export const JsonPatchOperationSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('add'), path: z.string(), value: JsonValueSchema }),
  z.strictObject({ op: z.literal('remove'), path: z.string() }),
  z.strictObject({ op: z.literal('replace'), path: z.string(), value: JsonValueSchema }),
  z.strictObject({ op: z.literal('move'), path: z.string(), from: z.string() }),
  z.strictObject({ op: z.literal('copy'), path: z.string(), from: z.string() }),
  z.strictObject({ op: z.literal('test'), path: z.string(), value: JsonValueSchema }),
]);
export const JsonPatchSchema = z.array(JsonPatchOperationSchema).max(1000);

/** Addresses one attempt of one task leaf (a task step, or one item of a map step). */
const attemptAddress = {
  runId: RunIdSchema,
  stepKey: StepKeySchema,
  /** Map item index; absent for task steps. */
  itemIndex: z.number().int().min(0).optional(),
  attempt: z.number().int().min(1),
  generation: z.number().int().min(1),
};

export const RegisterWorkflowSchema = z.strictObject({ ...base, type: z.literal('RegisterWorkflow'), definition: JsonValueSchema, actor: ActorSchema.optional() });
export const StartRunSchema = z.strictObject({
  ...base,
  type: z.literal('StartRun'),
  runId: RunIdSchema,
  workflow: z.string().min(1).max(128),
  /** Pinned version; absent = the latest version at the time the command is applied. */
  version: z.number().int().min(1).optional(),
  input: JsonValueSchema.default({}),
  idempotencyKey: z.string().min(1).max(256).optional(),
  actor: ActorSchema.optional(),
});
export const StepAttemptDispatchedSchema = z.strictObject({ ...base, type: z.literal('StepAttemptDispatched'), ...attemptAddress, jobId: z.string().max(512).optional() });
export const StepAttemptStartedSchema = z.strictObject({ ...base, type: z.literal('StepAttemptStarted'), ...attemptAddress, workerId: z.string().max(200).optional() });
export const StepHeartbeatSchema = z.strictObject({ ...base, type: z.literal('StepHeartbeat'), ...attemptAddress, details: JsonValueSchema.optional() });
export const StepCompletedSchema = z.strictObject({ ...base, type: z.literal('StepCompleted'), ...attemptAddress, output: JsonValueSchema.default(null), usage: UsageSchema.optional() });
export const StepFailedSchema = z.strictObject({ ...base, type: z.literal('StepFailed'), ...attemptAddress, error: StepErrorSchema, usage: UsageSchema.optional() });
export const StepTimedOutSchema = z.strictObject({ ...base, type: z.literal('StepTimedOut'), ...attemptAddress });
export const TimerFiredSchema = z.strictObject({ ...base, type: z.literal('TimerFired'), runId: RunIdSchema, timerId: z.string().min(1).max(1024) });
export const SignalReceivedSchema = z.strictObject({ ...base, type: z.literal('SignalReceived'), runId: RunIdSchema, signal: z.string().min(1).max(128), payload: JsonValueSchema.default(null) });
export const CancelRunSchema = z.strictObject({ ...base, type: z.literal('CancelRun'), runId: RunIdSchema, reason: ReasonSchema, actor: ActorSchema });
export const TakeCheckpointSchema = z.strictObject({ ...base, type: z.literal('TakeCheckpoint'), runId: RunIdSchema, label: z.string().max(200).optional(), actor: ActorSchema.optional() });
export const RollbackRunSchema = z.strictObject({
  ...base,
  type: z.literal('RollbackRun'),
  runId: RunIdSchema,
  checkpointId: z.string().min(1).max(200),
  patch: JsonPatchSchema.optional(),
  reason: ReasonSchema,
  actor: ActorSchema,
  /** Required to cross irreversible effects; the reason is recorded with it. */
  force: z.boolean().default(false),
});
export const ForkRunSchema = z.strictObject({
  ...base,
  type: z.literal('ForkRun'),
  /** The new run's id (chosen by the proposer). */
  runId: RunIdSchema,
  sourceRunId: RunIdSchema,
  checkpointId: z.string().min(1).max(200),
  patch: JsonPatchSchema.optional(),
  reason: ReasonSchema,
  actor: ActorSchema,
});
export const RaiseBudgetSchema = z.strictObject({
  ...base,
  type: z.literal('RaiseBudget'),
  runId: RunIdSchema,
  maxTokens: z.number().int().min(0).optional(),
  maxCost: z.number().min(0).optional(),
  reason: ReasonSchema,
  actor: ActorSchema,
});
const compensationAddress = {
  runId: RunIdSchema,
  stepKey: StepKeySchema,
  itemIndex: z.number().int().min(0).optional(),
  generation: z.number().int().min(1),
  /** Compensation attempt (compensations retry under their own retry policy). */
  attempt: z.number().int().min(1).default(1),
};
export const CompensationCompletedSchema = z.strictObject({ ...base, type: z.literal('CompensationCompleted'), ...compensationAddress, output: JsonValueSchema.default(null) });
export const CompensationFailedSchema = z.strictObject({ ...base, type: z.literal('CompensationFailed'), ...compensationAddress, error: StepErrorSchema });
export const ArchiveRunSchema = z.strictObject({ ...base, type: z.literal('ArchiveRun'), runId: RunIdSchema });
export const ArchivedWatermarkSchema = z.strictObject({ ...base, type: z.literal('ArchivedWatermark'), index: z.number().int().min(0) });

/** Every command the state machine understands, discriminated by `type`. */
export const CommandSchema = z.discriminatedUnion('type', [
  RegisterWorkflowSchema,
  StartRunSchema,
  StepAttemptDispatchedSchema,
  StepAttemptStartedSchema,
  StepHeartbeatSchema,
  StepCompletedSchema,
  StepFailedSchema,
  StepTimedOutSchema,
  TimerFiredSchema,
  SignalReceivedSchema,
  CancelRunSchema,
  TakeCheckpointSchema,
  RollbackRunSchema,
  ForkRunSchema,
  RaiseBudgetSchema,
  CompensationCompletedSchema,
  CompensationFailedSchema,
  ArchiveRunSchema,
  ArchivedWatermarkSchema,
]);

/** A parsed command (defaults filled): what is hashed into a run's chain and replicated. */
export type Command = z.output<typeof CommandSchema>;
/** A command as a proposer may write it (`v` and some fields optional). */
export type CommandInput = z.input<typeof CommandSchema>;
export type CommandType = Command['type'];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;
export type Usage = z.output<typeof UsageSchema>;
export type StepError = z.output<typeof StepErrorSchema>;
export type JsonPatchOperation = z.output<typeof JsonPatchOperationSchema>;

/** Commands that address one run, i.e. carry `runId` and enter that run's history chain. */
export type RunCommand = Exclude<Command, { type: 'RegisterWorkflow' } | { type: 'ArchivedWatermark' }>;

/** True when the command is addressed to a run (and therefore hashed into that run's chain). */
export function isRunCommand(command: Command): command is RunCommand {
  return command.type !== 'RegisterWorkflow' && command.type !== 'ArchivedWatermark';
}
