import { canonicalJson } from './canonical-json';
import { sha256Hex } from './sha256';

/** h_0 of every run's history chain: 64 zero hex digits. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * One link of a run's history hash chain (DESIGN.md "Replay verification"):
 * `h_n = SHA-256(h_{n-1} ‖ canonical(command))`, where `‖` concatenates the previous link's
 * lower-case hex digest and the RFC 8785 canonical JSON of the command.
 *
 * Invariant: changing any byte of any command (or reordering commands) changes every later
 * link, so the first divergent link locates the first tampered or reordered command.
 */
export function chainHash(previous: string, command: unknown): string {
  return sha256Hex(previous + canonicalJson(command));
}
