import { z } from 'zod';
import { JsonValueSchema } from './json-value';

/**
 * The zod schema of a workflow definition (DESIGN.md, "Workflow state machine").
 *
 * Two views of every type exist: `…Input` is what a client may send (optional fields omitted),
 * the plain name is the parsed form with every schema default filled in. The parsed form is
 * what gets replicated and pinned by runs; re-validating a parsed definition yields the same
 * definition (normalisation is idempotent).
 *
 * Structural rules that need the whole document (unique ids, dependsOn DAG, CEL checks,
 * compensate/effect pairing) live in `validateDefinition`, not here, so that a rejected
 * definition reports every problem at once.
 */

/**
 * Characters allowed in step ids: a letter, then letters, digits, `_` or `-` (≤ 64 chars).
 *
 * Why so narrow: step ids are embedded in BullMQ job ids (which forbid `:`), in timer ids and in
 * CEL (`steps.<id>`); `.`, `:` and `/` would make those ambiguous. Note that CEL parses
 * `steps.cool-off` as a subtraction: refer to such ids as `steps['cool-off']`.
 */
export const STEP_ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Characters allowed in workflow names, task names, queue names and signal names. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Largest duration accepted anywhere (one year), so due times never leave the safe-integer range. */
export const MAX_DURATION_MS = 366 * 24 * 60 * 60 * 1000;

/** Most steps a definition may hold, loop bodies included. */
export const MAX_STEPS = 1000;

/** Deepest loop nesting accepted (a top-level loop is depth 1). */
export const MAX_LOOP_DEPTH = 8;

/** Deepest JSON nesting accepted anywhere in a submitted document (guards recursive checks). */
export const MAX_DOCUMENT_DEPTH = 64;

/** Upper bound of `maxAttempts`, `maxIterations` and `maxConcurrency`. */
export const MAX_REPEAT = 10_000;

export const StepIdSchema = z
  .string()
  .regex(STEP_ID_PATTERN, 'step id must start with a letter and contain only letters, digits, "_" or "-" (at most 64 characters)');

const NameSchema = (what: string) =>
  z.string().regex(NAME_PATTERN, `${what} must start with a letter or digit and contain only letters, digits, ".", "_" or "-" (at most 128 characters)`);

export const WorkflowNameSchema = NameSchema('workflow name');
export const TaskNameSchema = NameSchema('task name');
export const QueueNameSchema = NameSchema('queue name');
export const SignalNameSchema = NameSchema('signal name');

/** A CEL expression over `{input, steps, run}` (plus `item`, `index` inside map inputs). */
/** Longest accepted expression; bounds parse depth and the cost of nested comprehensions. */
export const MAX_EXPRESSION_LENGTH = 4096;

export const ExpressionSchema = z
  .string()
  .min(1, 'expression must not be empty')
  .max(MAX_EXPRESSION_LENGTH, `expression must be at most ${MAX_EXPRESSION_LENGTH} characters`)
  .describe('CEL expression over {input, steps, run}');

const DurationMsSchema = z.number().int().min(0).max(MAX_DURATION_MS);
const PositiveDurationMsSchema = z.number().int().min(1).max(MAX_DURATION_MS);

/**
 * A JSON value in which strings may contain `${expr}` CEL templates. A string that is exactly
 * one `${expr}` evaluates to the expression's typed value; otherwise each `${…}` is replaced by
 * its stringified value. `$${` escapes a literal `${`.
 */
export const TemplateSchema = JsonValueSchema.describe('JSON value; strings may contain ${cel} templates');

/** Exponential backoff of a retry policy, as written in a definition (all fields optional). */
export const BackoffInputSchema = z.strictObject({
  /** Delay before the 2nd attempt, ms. */
  initialMs: DurationMsSchema.optional(),
  /** Growth factor per further attempt (≥ 1). */
  multiplier: z.number().min(1).max(100).optional(),
  /** Cap on any single delay, ms. */
  maxMs: DurationMsSchema.optional(),
  /** Fraction in [0, 1] of the delay that deterministic jitter may remove. */
  jitter: z.number().min(0).max(1).optional(),
});

/** A retry policy as written in a definition; unset fields inherit from `defaults.retry`, then built-ins. */
export const RetryPolicyInputSchema = z.strictObject({
  /** Total attempts including the first (1 = no retry). */
  maxAttempts: z.number().int().min(1).max(MAX_REPEAT).optional(),
  backoff: BackoffInputSchema.optional(),
  /** Failure `errorType`s that are never retried. */
  nonRetryableErrors: z.array(z.string().min(1)).optional(),
});

/** What a task's side effect means for rollback (see `planRollback`). */
export const EffectKindSchema = z.enum(['pure', 'idempotent', 'compensable', 'irreversible']);

/** The compensation task of a `compensable` step; its input templates may read `steps.<self>.output`. */
export const CompensationSchema = z.strictObject({
  task: TaskNameSchema,
  input: TemplateSchema.optional(),
  queue: QueueNameSchema.optional(),
  timeoutMs: PositiveDurationMsSchema.optional(),
  retry: RetryPolicyInputSchema.optional(),
});

const commonStepFields = {
  id: StepIdSchema,
  description: z.string().max(2000).optional(),
  /** CEL guard; when it evaluates to false the step is `skipped`. */
  when: ExpressionSchema.optional().describe('CEL bool guard; false skips the step'),
  /** Ids of steps at the same level that must finish first; default: the previous step ([] = none). */
  dependsOn: z.array(StepIdSchema).optional().describe('ids of sibling steps that must finish first; default: the previous step, [] for none'),
  /** Take a checkpoint after this step completes. */
  checkpoint: z.boolean().default(false).describe('take a checkpoint after this step completes'),
};

const taskExecutionFields = {
  task: TaskNameSchema,
  input: TemplateSchema.optional(),
  queue: QueueNameSchema.optional(),
  timeoutMs: PositiveDurationMsSchema.optional(),
  heartbeatTimeoutMs: PositiveDurationMsSchema.optional(),
  retry: RetryPolicyInputSchema.optional(),
  effect: EffectKindSchema.default('idempotent').describe('side-effect kind for rollback plans; default idempotent, or compensable when compensate is set'),
  compensate: CompensationSchema.optional(),
};

/** `task` (the default type): one worker call on a named queue. */
export const TaskStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal('task').default('task'),
  ...taskExecutionFields,
});

/** `sleep`: a durable timer of `durationMs` from the moment the step starts. */
export const SleepStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal('sleep'),
  durationMs: DurationMsSchema,
});

/** `signal`: waits for an external signal named `signal`; its payload becomes the output. */
export const SignalStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal('signal'),
  signal: SignalNameSchema,
  /** Fail the step if no signal arrived within this many ms (unset: wait indefinitely). */
  timeoutMs: PositiveDurationMsSchema.optional().describe('fail the step if no signal arrives within this many ms'),
});

/** `map`: runs `task` once per element of the list `items`, ≤ maxConcurrency at a time, outputs in item order. */
export const MapStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal('map'),
  items: ExpressionSchema.describe('CEL expression yielding the list to fan out over'),
  maxConcurrency: z.number().int().min(1).max(MAX_REPEAT).default(4).describe('items in flight at once'),
  ...taskExecutionFields,
});

const LoopStepBaseSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal('loop'),
  /** CEL condition evaluated after each iteration of the body; true ends the loop. */
  until: ExpressionSchema.describe('CEL bool evaluated after each iteration; true ends the loop'),
  maxIterations: z.number().int().min(1).max(MAX_REPEAT).default(10),
  /** What happens when `until` is still false after `maxIterations`: fail the step (default) or complete it. */
  onMaxIterations: z.enum(['fail', 'complete']).default('fail'),
});

export type TaskStepDefinition = z.output<typeof TaskStepSchema>;
export type SleepStepDefinition = z.output<typeof SleepStepSchema>;
export type SignalStepDefinition = z.output<typeof SignalStepSchema>;
export type MapStepDefinition = z.output<typeof MapStepSchema>;
/** `loop`: repeats its body `steps` (a nested DAG) until `until` holds, at most `maxIterations` times. */
export interface LoopStepDefinition extends z.output<typeof LoopStepBaseSchema> {
  steps: StepDefinition[];
}

export type TaskStepInput = z.input<typeof TaskStepSchema>;
export type SleepStepInput = z.input<typeof SleepStepSchema>;
export type SignalStepInput = z.input<typeof SignalStepSchema>;
export type MapStepInput = z.input<typeof MapStepSchema>;
export interface LoopStepInput extends z.input<typeof LoopStepBaseSchema> {
  steps: StepDefinitionInput[];
}

/** Any step, parsed (defaults filled). Discriminated by `type`. */
export type StepDefinition = TaskStepDefinition | SleepStepDefinition | SignalStepDefinition | MapStepDefinition | LoopStepDefinition;
/** Any step as a client may write it (`type` may be omitted for tasks). */
export type StepDefinitionInput = TaskStepInput | SleepStepInput | SignalStepInput | MapStepInput | LoopStepInput;
/** The `type` discriminator values. */
export type StepType = StepDefinition['type'];
/** Steps that call a worker task (and therefore have retry, timeout, effect, compensate). */
export type TaskLikeStepDefinition = TaskStepDefinition | MapStepDefinition;

export const LoopStepSchema = LoopStepBaseSchema.extend({
  get steps(): z.ZodArray<z.ZodType<StepDefinition, StepDefinitionInput>> {
    return z.array(StepDefinitionSchema).min(1, 'a loop needs at least one body step');
  },
});

export const StepDefinitionSchema: z.ZodType<StepDefinition, StepDefinitionInput> = z
  .discriminatedUnion('type', [TaskStepSchema, SleepStepSchema, SignalStepSchema, MapStepSchema, LoopStepSchema], {
    error: (issue) => (issue.code === 'invalid_union' ? 'type must be one of "task" (the default), "sleep", "signal", "map", "loop"' : undefined),
  })
  .meta({ id: 'StepDefinition' });

/** Workflow-level defaults applied to task and map steps that do not set the field. */
export const WorkflowDefaultsSchema = z.strictObject({
  timeoutMs: PositiveDurationMsSchema.optional(),
  heartbeatTimeoutMs: PositiveDurationMsSchema.optional(),
  queue: QueueNameSchema.optional(),
  retry: RetryPolicyInputSchema.optional(),
});

/** Automatic rollback to the last checkpoint when a step fails after its retries. */
export const OnFailureSchema = z.strictObject({
  rollbackTo: z.literal('lastCheckpoint').default('lastCheckpoint'),
  maxRollbacks: z.number().int().min(0).max(100).default(1),
});

/** Spending limits of one run; a run that would exceed one pauses with reason `budget_exceeded`. */
export const BudgetSchema = z
  .strictObject({
    maxTokens: z.number().int().min(0).optional(),
    maxCost: z.number().min(0).optional(),
  })
  .refine((budget) => budget.maxTokens !== undefined || budget.maxCost !== undefined, 'a budget needs maxTokens or maxCost');

/** A JSON Schema document (supported subset: see `validateAgainstInputSchema`). */
export const InputSchemaSchema = z.record(z.string(), JsonValueSchema).describe('JSON Schema subset: type, required, properties, additionalProperties, items, enum, const, minItems, maxItems, minLength, maxLength, minimum, maximum');

/** A whole workflow definition. Registering the same `name` again creates version N+1. */
export const WorkflowDefinitionSchema = z.strictObject({
  name: WorkflowNameSchema,
  description: z.string().max(10_000).optional(),
  inputSchema: InputSchemaSchema.optional(),
  defaults: WorkflowDefaultsSchema.optional(),
  /** Take a checkpoint every N completed steps (in addition to start and `checkpoint` steps). */
  checkpointEvery: z.number().int().min(1).max(MAX_REPEAT).optional().describe('take a checkpoint every N completed steps'),
  onFailure: OnFailureSchema.optional(),
  budget: BudgetSchema.optional(),
  steps: z.array(StepDefinitionSchema).min(1, 'a workflow needs at least one step'),
  /** Template for the run's output; default: the output of the last completed step. */
  output: TemplateSchema.optional().describe('template of the run output; default: output of the last completed step'),
});

/** A parsed workflow definition: defaults filled, `dependsOn` explicit on every step (after `validateDefinition`). */
export type WorkflowDefinition = z.output<typeof WorkflowDefinitionSchema>;
/** A workflow definition as a client sends it. */
export type WorkflowDefinitionInput = z.input<typeof WorkflowDefinitionSchema>;
export type EffectKind = z.output<typeof EffectKindSchema>;
export type RetryPolicyInput = z.output<typeof RetryPolicyInputSchema>;
export type BackoffInput = z.output<typeof BackoffInputSchema>;
export type Compensation = z.output<typeof CompensationSchema>;
export type WorkflowDefaults = z.output<typeof WorkflowDefaultsSchema>;
export type OnFailurePolicy = z.output<typeof OnFailureSchema>;
export type Budget = z.output<typeof BudgetSchema>;
