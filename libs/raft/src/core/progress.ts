import { Inflights } from './inflights';
import type { ProgressState } from './types';

/**
 * The leader's view of one follower (etcd's tracker.Progress).
 *
 * - `probe`: the leader does not know where the follower's log matches; it sends one MsgApp
 *   at a time (then pauses until a response or heartbeat response) and backs `next` off on
 *   rejection using the follower's conflict hint.
 * - `replicate`: the follower's log matches up to `match`; the leader streams MsgApp
 *   optimistically (advancing `next` on send), bounded by the {@link Inflights} window.
 * - `snapshot`: the entries the follower needs were compacted; a MsgSnap at `pendingSnapshot`
 *   is in flight and no MsgApp is sent until the follower reports having applied it.
 *
 * Invariants: `match < next`; `match` never decreases while the leader stays in its term.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** Index of the snapshot being sent while in `snapshot` state, else 0. */
  pendingSnapshot = 0;
  /** Ticks spent in `snapshot` state; the leader re-probes after an election timeout (lost MsgSnap). */
  snapshotTicks = 0;
  /** Highest commit index this follower was told (in a MsgApp it can accept), to avoid redundant commit-only appends. */
  sentCommit = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** In `probe` state: a MsgApp was sent and the leader waits for a response or heartbeat response. */
  msgAppFlowPaused = false;
  readonly inflights: Inflights;

  constructor(
    next: number,
    maxInflightMsgs: number,
    maxInflightBytes: number,
    public isLearner: boolean,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.snapshotTicks = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** Enter probe state; after a snapshot, resume after it. */
  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** The follower acknowledged up to `n`; returns whether `match` advanced. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * A MsgApp at `rejected` (its prev index) was refused; `matchHint` is the largest index the
   * follower may match. Returns false when the rejection is stale (already superseded).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** Account for a MsgApp carrying `entries` entries (last index `lastIndex`) and `bytes` payload. */
  sentEntries(entries: number, lastIndex: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (entries > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'probe') {
      this.msgAppFlowPaused = true;
    }
  }

  /** Whether the leader must not send a MsgApp now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.msgAppFlowPaused;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
