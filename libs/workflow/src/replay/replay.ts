import { parseCommand } from '../commands/parse-command';
import { validateDefinition } from '../definition/validate-definition';
import { hashJson } from '../hashing/sha256';
import type { ApplyMeta } from '../machine/apply-context';
import { applyInPlace, forkFromCheckpointData } from '../machine/apply';
import { inPlaceWriter, initialMachineState } from '../machine/machine-state';
import type { MachineState, RegisteredWorkflow, RunData } from '../machine/run-state';

/** One exported history entry of a run (what the projector archives and `GET …/history` returns). */
export interface ReplayEntry {
  /** 1-based position in the run's history. */
  readonly seq: number;
  readonly logIndex: number;
  readonly term?: number;
  readonly command: unknown;
  /** Recorded h_seq of the run's chain. */
  readonly chainHash: string;
  /** Recorded run state hash after the command (optional: older exports may lack it). */
  readonly stateHash?: string;
}

/** Where replay first disagreed with the recorded history. */
export interface ReplayDivergence {
  /** `seq` of the first divergent entry (0: the definition or the input as a whole). */
  readonly index: number;
  readonly kind: 'definition' | 'sequence' | 'command' | 'not_applied' | 'chain' | 'state' | 'fork_base';
  readonly expected?: string;
  readonly actual?: string;
  readonly detail: string;
}

export type ReplayResult =
  | { readonly verified: true; readonly commands: number; readonly chainHash: string; readonly stateHash: string }
  | { readonly verified: false; readonly commands: number; readonly divergence: ReplayDivergence };

export interface ReplayOptions {
  /** The version the run pinned (default: `version` of the StartRun command, else 1). */
  readonly version?: number;
  /** For a forked run: the data of the source checkpoint the fork started from. */
  readonly forkBase?: RunData;
}

/**
 * Replay verification (DESIGN.md "Replay verification"): re-applies a run's recorded history,
 * in order, through the state machine, starting from nothing but the pinned definition, and
 * checks after each command that the recomputed chain link h_n and the run state hash equal the
 * recorded ones. Returns `verified`, or the first index where a hash diverges — a tampered
 * command (e.g. one changed output) diverges at its own index.
 *
 * Sound because of per-run decomposition (invariant 7): a run's state depends only on its
 * pinned definition and the commands addressed to it. Pure; never throws.
 */
export function replay(definition: unknown, history: readonly ReplayEntry[], options: ReplayOptions = {}): ReplayResult {
  const validation = validateDefinition(definition);
  if (!validation.ok) return diverged(0, 0, { kind: 'definition', detail: `definition is invalid: ${validation.problems.map((p) => `${p.path} ${p.message}`).join('; ')}` });
  const first = history.length > 0 ? parseCommand(history[0].command) : undefined;
  const firstCommand = first?.ok === true ? first.command : undefined;
  const version = options.version ?? (firstCommand?.type === 'StartRun' ? firstCommand.version : undefined) ?? 1;
  const registered: RegisteredWorkflow = {
    name: validation.definition.name,
    version,
    definition: validation.definition,
    definitionHash: hashJson(validation.definition),
    registeredAt: 0,
  };
  const state: MachineState = { ...initialMachineState(), workflows: { [registered.name]: { latest: version, versions: { [String(version)]: registered } } } };
  let runId: string | undefined;
  let lastChain = '';
  let lastState = '';
  for (let i = 0; i < history.length; i++) {
    const entry = history[i];
    if (entry.seq !== i + 1) return diverged(i, entry.seq, { kind: 'sequence', expected: String(i + 1), actual: String(entry.seq), detail: 'history is not contiguous' });
    const parsed = parseCommand(entry.command);
    if (!parsed.ok) return diverged(i, entry.seq, { kind: 'command', detail: `command is invalid: ${parsed.problems.map((p) => `${p.path} ${p.message}`).join('; ')}` });
    const meta: ApplyMeta = { logIndex: entry.logIndex, ...(entry.term === undefined ? {} : { term: entry.term }) };
    const command = parsed.command;
    let result;
    if (i === 0 && command.type === 'ForkRun') {
      if (options.forkBase === undefined) return diverged(i, entry.seq, { kind: 'fork_base', detail: 'history starts with ForkRun: pass the source checkpoint data as forkBase' });
      const writer = inPlaceWriter(state);
      const source = { workflow: registered.name, version };
      result = forkFromCheckpointData(writer, command, meta, options.forkBase, source);
    } else {
      result = applyInPlace(state, command, meta);
    }
    const record = result.record;
    if (record === undefined || (runId !== undefined && record.runId !== runId))
      return diverged(i, entry.seq, { kind: 'not_applied', detail: `command ${command.type} was not recorded on the run (${result.events.map((e) => e.type).join(', ')})` });
    runId = record.runId;
    if (record.chainHash !== entry.chainHash) return diverged(i, entry.seq, { kind: 'chain', expected: entry.chainHash, actual: record.chainHash, detail: `chain link h_${entry.seq} differs: command ${command.type} is not the recorded one` });
    if (entry.stateHash !== undefined && record.stateHash !== entry.stateHash)
      return diverged(i, entry.seq, { kind: 'state', expected: entry.stateHash, actual: record.stateHash, detail: `run state after command ${entry.seq} (${command.type}) differs` });
    lastChain = record.chainHash;
    lastState = record.stateHash;
  }
  return { verified: true, commands: history.length, chainHash: lastChain, stateHash: lastState };
}

function diverged(commands: number, index: number, divergence: Omit<ReplayDivergence, 'index'>): ReplayResult {
  return { verified: false, commands, divergence: { index, ...divergence } };
}
