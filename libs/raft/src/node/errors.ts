import { NotLeaderError } from '../core/errors';

export { NotLeaderError };

/** Codes of the driver's own errors (the core's errors carry their own). */
export type NodeErrorCode = 'timeout' | 'shutdown' | 'fatal';

/**
 * The operation did not complete in time. For a proposal the outcome is UNKNOWN: the command
 * may still commit later (Raft cannot un-send it), so callers must treat it as "maybe applied"
 * (e.g. retry with an idempotency key).
 */
export class TimeoutError extends Error {
  readonly code = 'timeout' as const;
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${operation} timed out after ${timeoutMs} ms (outcome unknown)`);
    this.name = 'TimeoutError';
  }
}

/** The node is stopping or stopped; the operation was abandoned (its outcome may be unknown). */
export class ShutdownError extends Error {
  readonly code = 'shutdown' as const;
  constructor(readonly operation: string) {
    super(`${operation} abandoned: the raft node is shutting down`);
    this.name = 'ShutdownError';
  }
}
