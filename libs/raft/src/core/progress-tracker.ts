import { Progress } from './progress';
import type { ConfState, NodeId } from './types';

/** Outcome of counting votes in an election. */
export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * Membership plus per-peer {@link Progress} and the votes of the current election.
 *
 * Invariants: `voters` and `learners` are disjoint; `progress` has exactly one entry per member;
 * quorum is a strict majority of `voters` (learners never count).
 */
export class ProgressTracker {
  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  private matchScratch: number[] = [];

  constructor(
    private readonly maxInflightMsgs: number,
    private readonly maxInflightBytes: number,
  ) {}

  /** Replace the whole configuration (restart or snapshot restore); progress starts at `next`. */
  reset(cs: ConfState, next: number): void {
    this.voters.clear();
    this.learners.clear();
    this.progress.clear();
    for (const id of cs.voters) this.addVoter(id, next);
    for (const id of cs.learners) this.addLearner(id, next);
  }

  confState(): ConfState {
    return { voters: [...this.voters].sort(), learners: [...this.learners].sort() };
  }

  /**
   * Move to membership `cs`, keeping the progress of nodes that stay (so replication state
   * survives a change) and creating progress for new ones. Returns the ids of new members.
   */
  applyConfState(cs: ConfState, next: number): NodeId[] {
    const keep = new Set<NodeId>([...cs.voters, ...cs.learners]);
    const added = [...keep].filter((id) => !this.progress.has(id));
    for (const id of [...this.progress.keys()]) if (!keep.has(id)) this.remove(id);
    for (const id of cs.voters) this.addVoter(id, next);
    for (const id of cs.learners) {
      if (this.voters.has(id)) {
        this.voters.delete(id);
        const pr = this.progress.get(id);
        if (pr) pr.isLearner = true;
      }
      this.addLearner(id, next);
    }
    return added;
  }

  addVoter(id: NodeId, next: number): void {
    this.learners.delete(id);
    this.voters.add(id);
    const pr = this.progress.get(id);
    if (pr) pr.isLearner = false;
    else this.progress.set(id, this.newProgress(next, false));
  }

  addLearner(id: NodeId, next: number): void {
    if (this.voters.has(id)) return;
    this.learners.add(id);
    const existing = this.progress.get(id);
    if (existing) existing.isLearner = true;
    if (!this.progress.has(id)) this.progress.set(id, this.newProgress(next, true));
  }

  remove(id: NodeId): void {
    this.voters.delete(id);
    this.learners.delete(id);
    this.progress.delete(id);
  }

  private newProgress(next: number, isLearner: boolean): Progress {
    const pr = new Progress(next, this.maxInflightMsgs, this.maxInflightBytes, isLearner);
    // A new member counts as active until the first check-quorum round proves otherwise.
    pr.recentActive = true;
    return pr;
  }

  quorum(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  /**
   * Largest index stored on a quorum of voters (the quorum-th largest `match`). 0 for an empty
   * voter set.
   */
  committed(): number {
    const n = this.voters.size;
    if (n === 0) return 0;
    const m = this.matchScratch;
    m.length = 0;
    for (const id of this.voters) m.push(this.progress.get(id)?.match ?? 0);
    if (n === 1) return m[0];
    m.sort(descending);
    return m[this.quorum() - 1];
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Record `id`'s vote (first answer wins) and return the tally. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    const q = this.quorum();
    const result: VoteResult = granted >= q ? 'won' : rejected > this.voters.size - q ? 'lost' : 'pending';
    return { granted, rejected, result };
  }

  /** Whether a quorum of voters (counting `self`) was recently active. */
  quorumActive(self: NodeId): boolean {
    let active = 0;
    for (const id of this.voters) {
      if (id === self || this.progress.get(id)?.recentActive) active++;
    }
    return active >= this.quorum();
  }
}

const descending = (a: number, b: number): number => b - a;
