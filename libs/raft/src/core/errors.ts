import type { NodeId } from './types';

/**
 * Typed errors of the Raft core and of `Storage` implementations. Each class carries the
 * fields a caller needs to react; callers classify by `instanceof` or `code`, never by
 * message text.
 */
export abstract class RaftError extends Error {
  abstract readonly code: string;
}

/** `Storage`: the requested index is below `firstIndex` (compacted into a snapshot). */
export class CompactedError extends RaftError {
  readonly code = 'compacted' as const;
  constructor(
    readonly requestedIndex: number,
    readonly firstIndex: number,
  ) {
    super(`index ${requestedIndex} is compacted (first index is ${firstIndex})`);
    this.name = 'CompactedError';
  }
}

/** `Storage`: the requested index is above `lastIndex` (not yet appended). */
export class UnavailableError extends RaftError {
  readonly code = 'unavailable' as const;
  constructor(
    readonly requestedIndex: number,
    readonly lastIndex: number,
  ) {
    super(`index ${requestedIndex} is unavailable (last index is ${lastIndex})`);
    this.name = 'UnavailableError';
  }
}

/** `Storage.snapshot()`: a snapshot is being produced; the core retries on a later heartbeat. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  readonly code = 'snapshot-temporarily-unavailable' as const;
  constructor(readonly reason: string) {
    super(`snapshot temporarily unavailable: ${reason}`);
    this.name = 'SnapshotTemporarilyUnavailableError';
  }
}

/** Host store: a snapshot older than the one already held was offered. */
export class SnapshotOutOfDateError extends RaftError {
  readonly code = 'snapshot-out-of-date' as const;
  constructor(
    readonly offeredIndex: number,
    readonly currentIndex: number,
  ) {
    super(`snapshot at ${offeredIndex} is older than the current snapshot at ${currentIndex}`);
    this.name = 'SnapshotOutOfDateError';
  }
}

/**
 * A write (proposal, membership change, leader transfer request) reached a node that is not
 * the leader. `leaderHint` is the leader this node believes in, or `null` if it knows none;
 * the host may retry there.
 */
export class NotLeaderError extends RaftError {
  readonly code = 'not-leader' as const;
  constructor(
    readonly nodeId: NodeId,
    readonly leaderHint: NodeId | null,
    readonly term: number,
  ) {
    super(`node ${nodeId} is not the leader (leader hint: ${leaderHint ?? 'none'}, term ${term})`);
    this.name = 'NotLeaderError';
  }
}

/** Why a proposal was dropped without entering the log. */
export type ProposalDropReason =
  /** The leader is transferring leadership; proposals resume after the transfer or its abort. */
  | 'leader-transfer-in-progress'
  /** Appending would exceed `maxUncommittedEntriesSize`. */
  | 'uncommitted-size-limit'
  /** No leader is known (e.g. during an election) and forwarding was requested. */
  | 'no-leader'
  /** This node was removed from the cluster. */
  | 'removed';

/** A proposal was refused and is not in the log; it is safe to retry. */
export class ProposalDroppedError extends RaftError {
  readonly code = 'proposal-dropped' as const;
  constructor(readonly reason: ProposalDropReason) {
    super(`proposal dropped: ${reason}`);
    this.name = 'ProposalDroppedError';
  }
}

/**
 * A membership change was proposed while another one is appended but not yet applied.
 * Flotilla changes membership one node at a time; retry after index `pendingIndex` is applied.
 */
export class ConfChangePendingError extends RaftError {
  readonly code = 'conf-change-pending' as const;
  constructor(readonly pendingIndex: number) {
    super(`a membership change is already pending at index ${pendingIndex}`);
    this.name = 'ConfChangePendingError';
  }
}

/** A membership change that makes no sense for the current configuration (e.g. promote a non-learner). */
export class InvalidConfChangeError extends RaftError {
  readonly code = 'invalid-conf-change' as const;
  constructor(
    readonly change: { readonly type: string; readonly node: NodeId },
    readonly reason: string,
  ) {
    super(`invalid membership change ${change.type} ${change.node}: ${reason}`);
    this.name = 'InvalidConfChangeError';
  }
}

/** The `RaftConfig` is invalid; `problems` lists every offending field. */
export class InvalidRaftConfigError extends RaftError {
  readonly code = 'invalid-config' as const;
  constructor(readonly problems: readonly string[]) {
    super(`invalid raft config: ${problems.join('; ')}`);
    this.name = 'InvalidRaftConfigError';
  }
}

/** Misuse of the `Ready` protocol: `ready()` twice without `advance()`, or `advance()` of a foreign Ready. */
export class ReadyProtocolError extends RaftError {
  readonly code = 'ready-protocol' as const;
  constructor(readonly detail: string) {
    super(`ready protocol violated: ${detail}`);
    this.name = 'ReadyProtocolError';
  }
}
