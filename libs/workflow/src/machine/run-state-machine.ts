import type { ApplyMeta } from './apply-context';
import { applyInPlace, type ApplyResult } from './apply';
import { initialMachineState } from './machine-state';
import type { MachineState } from './run-state';
import { machineStateHash, restoreMachine, snapshotMachine } from '../snapshot/machine-snapshot';

/**
 * The FSM a Raft node hosts (hashicorp/raft naming: apply / snapshot / restore). Owns its
 * state and applies committed commands in place (`applyInPlace`: per-command cost independent of
 * the run's history length and of the number of runs);
 * `apply` (the pure reducer) stays the reference semantics and is what this delegates to.
 * Apply committed entries strictly in log order, each exactly once.
 */
export class RunStateMachine {
  private current: MachineState;

  constructor(state: MachineState = initialMachineState()) {
    this.current = state;
  }

  /** Applies one committed command. Never throws. */
  apply(command: unknown, meta: ApplyMeta): Omit<ApplyResult, 'state'> {
    return applyInPlace(this.current, command, meta);
  }

  /** The current state. Treat as read-only: it is mutated by the next `apply`. */
  get state(): MachineState {
    return this.current;
  }

  snapshot(): Uint8Array {
    return snapshotMachine(this.current);
  }

  /** Replaces the state with a snapshot's; returns false (state unchanged) if it is corrupt. */
  restore(bytes: Uint8Array): boolean {
    const restored = restoreMachine(bytes);
    if (!restored.ok) return false;
    this.current = restored.state;
    return true;
  }

  hash(): string {
    return machineStateHash(this.current);
  }
}
