import type { StepError } from '../commands/command.schema';
import type { StepGraph } from '../definition/step-graph';
import type { WorkflowDefinition } from '../definition/definition.schema';
import type { Effect } from './effects';
import type { MachineEvent } from './machine-events';
import type { RunState, StepState } from './run-state';

/**
 * Position of a command in the replicated log, passed next to (not inside) the command:
 * the same command has the same hash wherever it sits, while checkpoints still record the
 * log index they were taken at. `apply` never reads a clock: `at` comes from the command.
 */
export interface ApplyMeta {
  readonly logIndex: number;
  readonly term?: number;
}

/** A step failure that must be handled at run level once the current advance pass stops. */
export interface PendingFailure {
  readonly stepKey: string;
  readonly itemIndex?: number;
  readonly error: StepError;
}

/**
 * Everything one `apply` works on for one run. `run` is a private copy of the addressed run
 * (step objects are copied on first write, see `mutableStep`; the input state is never
 * mutated); effects and events accumulate in order.
 */
export interface RunContext {
  readonly at: number;
  readonly meta: ApplyMeta;
  readonly run: RunState;
  readonly definition: WorkflowDefinition;
  readonly graph: StepGraph;
  readonly effects: Effect[];
  readonly events: MachineEvent[];
  /** Set by a step failure that reached the top level; advance stops, then the run-level policy runs. */
  pendingFailure?: PendingFailure;
  /** Step keys whose objects were copied (or created) in this apply and may be mutated (see `mutableStep`). */
  readonly ownedSteps: Set<string>;
  /** True when every step object belongs to this apply (new run, or data just restored). */
  ownsAllSteps: boolean;
  /**
   * In-place applies only: step key → value before its first write in this apply, for the step
   * record shared with the committed run (to undo the apply after an internal error).
   */
  readonly stepUndo?: { readonly steps: Record<string, StepState>; readonly before: Map<string, StepState | undefined> };
}
