import type { Entry, HardState, Message, NodeId } from '@flotilla/raft';
import { hashBytes } from './kv-state-machine';

/** The properties the simulator checks; each failing seed reports exactly one of them. */
export type InvariantName =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'commit-rule'
  | 'persist-before-ack'
  | 'state-machine-safety'
  | 'acknowledged-write-lost'
  | 'snapshot-divergence'
  | 'linearizability'
  | 'liveness'
  | 'convergence'
  | 'core-exception';

/** Thrown by the checks; the runner turns it into a failed seed. */
export class InvariantViolation extends Error {
  constructor(
    readonly invariant: InvariantName,
    readonly detail: string,
  ) {
    super(`${invariant}: ${detail}`);
    this.name = 'InvariantViolation';
  }
}

/** A node's log as the host can see it: term at an index, or `undefined` if absent or compacted. */
export interface LogView {
  termAt(index: number): number | undefined;
}

/** A node currently acting as leader, as the cluster reports it to the checks. */
export interface LeaderView {
  readonly id: NodeId;
  readonly term: number;
  readonly log: LogView;
}

/** A write the cluster acknowledged to a client: it was applied at (index, term). */
export interface AcknowledgedWrite {
  readonly index: number;
  readonly term: number;
  readonly client: string;
  readonly request: number;
}

interface EntryIdentity {
  readonly term: number;
  readonly fingerprint: string;
  readonly node: NodeId;
}

function fingerprint(e: Entry): string {
  return `${e.type}:${e.data.length}:${hashBytes(e.data)}`;
}

/**
 * Incremental checks of Raft's safety properties (paper §5.4, Figure 3), fed by the simulated
 * hosts as things happen, so that every simulated step is checked in O(work done by the step):
 *
 * - election safety: at most one node is observed as leader in any term, and no node grants
 *   its vote to two candidates in one term (§5.2; seen in the MsgVoteResp messages it sends);
 * - log matching: two persisted entries with the same (index, term) carry the same payload and
 *   follow an entry of the same term (by induction: identical prefixes);
 * - leader completeness (terms, not wall-clock time): an entry committed by the leader of term
 *   C is in the log of every leader of a term > C — checked when a leader is observed (against
 *   everything committed in earlier terms) and when a commit is observed (against every current
 *   leader of a later term);
 * - persist before answering (DESIGN invariant 1): an append ack or a vote grant leaves a node
 *   only once the entries or the vote it vouches for are durable;
 * - the commit rule (§5.4.2, Figure 8): a leader advances its commit index only to an entry of
 *   its own term — earlier-term entries are committed indirectly, never by counting replicas;
 * - state machine safety: no two nodes apply different entries at one index;
 * - no acknowledged write is lost: the entry applied at an acknowledged write's index is that write;
 * - snapshots taken at one index by different nodes hold the same state.
 */
export class SafetyInvariants {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** "voter@term" → the candidate it granted its vote to. */
  private readonly votes = new Map<string, NodeId>();
  private readonly persisted = new Map<string, { fingerprint: string; prevTerm: number | undefined; node: NodeId }>();
  private readonly applied = new Map<number, EntryIdentity>();
  /** index → term of the committed entry and the lowest term of a leader that committed it. */
  private readonly committed = new Map<number, { readonly term: number; commitTerm: number; readonly node: NodeId }>();
  private readonly acknowledged = new Map<number, AcknowledgedWrite>();
  private readonly snapshotState = new Map<number, { fingerprint: string; node: NodeId }>();
  private maxAppliedIndex = 0;

  /**
   * @param currentLeaders the nodes acting as leader right now, with their logs
   * @param checkCommitRule check the Figure-8 commit rule directly (on by default); with it off,
   *   a broken rule is only caught by its consequences (a committed entry lost later)
   * @param checkPersistBeforeAck check directly that acks and votes follow the fsync (on by
   *   default); with it off, only the consequences (lost entries, double votes) are caught
   */
  constructor(
    private readonly currentLeaders: () => readonly LeaderView[],
    private readonly checkCommitRule = true,
    private readonly checkPersistBeforeAck = true,
  ) {}

  /** Number of terms in which a leader was observed. */
  get leadersObserved(): number {
    return this.leaderOfTerm.size;
  }

  /** Highest index any node applied. */
  get highestApplied(): number {
    return this.maxAppliedIndex;
  }

  get acknowledgedWrites(): readonly AcknowledgedWrite[] {
    return [...this.acknowledged.values()];
  }

  /** A node was observed as leader of `term` with log `log` (complete at this moment). */
  onLeader(id: NodeId, term: number, log: LogView): void {
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== id) throw new InvariantViolation('election-safety', `nodes ${other} and ${id} both led term ${term}`);
    this.leaderOfTerm.set(term, id);
    for (const [index, c] of this.committed) {
      if (c.commitTerm >= term) continue;
      const t = log.termAt(index);
      if (t !== undefined && t !== c.term)
        throw new InvariantViolation(
          'leader-completeness',
          `leader ${id} of term ${term} has term ${t} at index ${index}, where node ${c.node} committed an entry of term ${c.term} in term ${c.commitTerm}`,
        );
    }
  }

  /**
   * A node sends a message; `durable` is what its disk holds right now. Append acks must not
   * run ahead of the durable log, vote grants not ahead of the durable vote — unless the node
   * has durably moved to a later term meanwhile (a message answered earlier in the same Ready):
   * it will never act in the older term again, so nothing it vouched for there can be undone.
   */
  onSend(m: Message, durable: { readonly lastIndex: number; readonly hardState: HardState }): void {
    if (!this.checkPersistBeforeAck || durable.hardState.term > m.term) return;
    if (m.type === 'MsgAppResp' && !m.reject && m.index > durable.lastIndex)
      throw new InvariantViolation('persist-before-ack', `node ${m.from} acknowledged entries up to ${m.index} but has only ${durable.lastIndex} on disk`);
    if (m.type === 'MsgVoteResp' && !m.reject && (durable.hardState.term !== m.term || durable.hardState.vote !== m.to))
      throw new InvariantViolation(
        'persist-before-ack',
        `node ${m.from} granted its term-${m.term} vote to ${m.to} but its disk holds term ${durable.hardState.term}, vote ${durable.hardState.vote ?? 'none'}`,
      );
  }

  /** `voter` sent a vote grant to `candidate` for `term`. */
  onVoteGranted(voter: NodeId, term: number, candidate: NodeId): void {
    const key = `${voter}@${term}`;
    const earlier = this.votes.get(key);
    if (earlier === undefined) this.votes.set(key, candidate);
    else if (earlier !== candidate) throw new InvariantViolation('election-safety', `node ${voter} voted for both ${earlier} and ${candidate} in term ${term}`);
  }

  /**
   * The leader `id` of `term` advanced its commit index over (`from`, `to`]; `log` is its log.
   * Records what was committed and checks it against every current leader of a later term.
   */
  onCommit(id: NodeId, term: number, from: number, to: number, log: LogView): void {
    const last = log.termAt(to);
    if (this.checkCommitRule && last !== undefined && last !== term)
      throw new InvariantViolation('commit-rule', `leader ${id} of term ${term} advanced its commit index to ${to}, an entry of term ${last}`);
    const leaders = this.currentLeaders();
    for (let index = from + 1; index <= to; index++) {
      const t = log.termAt(index);
      if (t === undefined) continue;
      const seen = this.committed.get(index);
      if (seen !== undefined) {
        if (seen.term !== t)
          throw new InvariantViolation(
            'state-machine-safety',
            `index ${index}: leader ${id} committed an entry of term ${t} in term ${term}, leader ${seen.node} one of term ${seen.term} in term ${seen.commitTerm}`,
          );
        if (term < seen.commitTerm) seen.commitTerm = term;
        continue;
      }
      this.committed.set(index, { term: t, commitTerm: term, node: id });
      for (const leader of leaders) {
        if (leader.term <= term) continue;
        const lt = leader.log.termAt(index);
        if (lt !== undefined && lt !== t)
          throw new InvariantViolation(
            'leader-completeness',
            `leader ${id} committed index ${index} (term ${t}) in term ${term}, but leader ${leader.id} of term ${leader.term} has term ${lt} there`,
          );
      }
    }
  }

  /**
   * A node durably appended `entries` (contiguous); `prevTerm` is the term of the entry just
   * before them in its log (`undefined` if compacted and unknown).
   */
  onPersist(node: NodeId, entries: readonly Entry[], prevTerm: number | undefined): void {
    let prev = prevTerm;
    for (const e of entries) {
      const key = `${e.index}:${e.term}`;
      const fp = fingerprint(e);
      const seen = this.persisted.get(key);
      if (seen === undefined) this.persisted.set(key, { fingerprint: fp, prevTerm: prev, node });
      else {
        if (seen.fingerprint !== fp)
          throw new InvariantViolation('log-matching', `index ${e.index} term ${e.term}: node ${node} persisted a different payload than node ${seen.node}`);
        if (prev !== undefined && seen.prevTerm !== undefined && prev !== seen.prevTerm)
          throw new InvariantViolation(
            'log-matching',
            `index ${e.index} term ${e.term}: preceded by term ${prev} on node ${node} but by term ${seen.prevTerm} on node ${seen.node}`,
          );
        if (seen.prevTerm === undefined && prev !== undefined) this.persisted.set(key, { ...seen, prevTerm: prev });
      }
      prev = e.term;
    }
  }

  /** A node applied `entry` to its state machine. */
  onApply(node: NodeId, entry: Entry): void {
    const fp = fingerprint(entry);
    const seen = this.applied.get(entry.index);
    if (seen === undefined) {
      this.applied.set(entry.index, { term: entry.term, fingerprint: fp, node });
      if (entry.index > this.maxAppliedIndex) this.maxAppliedIndex = entry.index;
    } else if (seen.term !== entry.term || seen.fingerprint !== fp) {
      throw new InvariantViolation(
        'state-machine-safety',
        `index ${entry.index}: node ${node} applied term ${entry.term} but node ${seen.node} applied term ${seen.term}${seen.term === entry.term ? ' with another payload' : ''}`,
      );
    }
    const c = this.committed.get(entry.index);
    if (c !== undefined && c.term !== entry.term)
      throw new InvariantViolation('state-machine-safety', `index ${entry.index}: node ${node} applied term ${entry.term} but leader ${c.node} committed term ${c.term}`);
    const ack = this.acknowledged.get(entry.index);
    if (ack !== undefined && ack.term !== entry.term)
      throw new InvariantViolation(
        'acknowledged-write-lost',
        `write ${ack.client}#${ack.request} was acknowledged at index ${ack.index} term ${ack.term}, but node ${node} applied term ${entry.term} there`,
      );
  }

  /** A write was acknowledged to its client (after being applied at index/term on some node). */
  onAcknowledge(write: AcknowledgedWrite): void {
    const seen = this.applied.get(write.index);
    if (seen !== undefined && seen.term !== write.term)
      throw new InvariantViolation(
        'acknowledged-write-lost',
        `write ${write.client}#${write.request} acknowledged at index ${write.index} term ${write.term}, but term ${seen.term} was applied there`,
      );
    this.acknowledged.set(write.index, write);
  }

  /** A node's state machine at `index` (just created or installed snapshot) has this fingerprint. */
  onSnapshotState(node: NodeId, index: number, stateFingerprint: string): void {
    const seen = this.snapshotState.get(index);
    if (seen === undefined) this.snapshotState.set(index, { fingerprint: stateFingerprint, node });
    else if (seen.fingerprint !== stateFingerprint)
      throw new InvariantViolation('snapshot-divergence', `state at index ${index} differs between node ${seen.node} and node ${node}`);
  }

  /** The term of the entry applied at `index`, if any node applied one. */
  appliedTerm(index: number): number | undefined {
    return this.applied.get(index)?.term;
  }
}
