import { Packr } from 'msgpackr';
import { canonicalJson } from '../hashing/canonical-json';
import { hashJson } from '../hashing/sha256';
import { runStateHash } from '../machine/run-hash';
import type { MachineState } from '../machine/run-state';

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

/** Format tag and version prefixed to every binary snapshot. */
const MAGIC = 'FLWS1';

/**
 * Whole-machine snapshot (hashicorp FSM `Snapshot`): the state is plain JSON data, so a
 * snapshot is its msgpack encoding behind a small header. Invariant: `restoreMachine(
 * snapshotMachine(s))` has the same `machineStateHash` as `s`, and applying the same suffix of
 * commands to either yields identical states (snapshot + suffix = full replay).
 */
export function snapshotMachine(state: MachineState): Uint8Array {
  const body = packr.pack(state);
  const out = new Uint8Array(MAGIC.length + body.length);
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i);
  out.set(body, MAGIC.length);
  return out;
}

export type RestoreResult = { ok: true; state: MachineState } | { ok: false; detail: string };

/** Decodes a binary snapshot; never throws (a corrupt snapshot is reported, not raised). */
export function restoreMachine(bytes: Uint8Array): RestoreResult {
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) return { ok: false, detail: 'not a workflow machine snapshot (bad header)' };
  try {
    const state = packr.unpack(bytes.subarray(MAGIC.length)) as MachineState;
    if (state === null || typeof state !== 'object' || state.stateVersion !== 1) return { ok: false, detail: 'unsupported snapshot state version' };
    return { ok: true, state };
  } catch (error) {
    return { ok: false, detail: `corrupt snapshot: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Snapshot as RFC 8785 canonical JSON (portable, diffable; larger and slower than msgpack). */
export function snapshotMachineJson(state: MachineState): string {
  return canonicalJson(state);
}

/**
 * Hash of the whole machine: canonical JSON of the machine-level indexes plus each run's
 * `runStateHash`. Equal on every node that applied the same log (invariant 2).
 */
export function machineStateHash(state: MachineState): string {
  const runs: Record<string, string> = {};
  for (const runId of Object.keys(state.runs)) runs[runId] = runStateHash(state.runs[runId]);
  return hashJson({ ...state, runs });
}
