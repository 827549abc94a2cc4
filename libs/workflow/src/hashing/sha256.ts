import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/** Lower-case hex SHA-256 of a UTF-8 string. Pure: no randomness, no IO. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Hash of a JSON value: SHA-256 over its RFC 8785 canonical form. Equal JSON data (in any key
 * order) always has the same hash; this is the `stateHash` of runs and checkpoints.
 */
export function hashJson(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
