import type { ResolvedRaftConfig } from './config';
import { entriesPayloadSize } from './entry-size';
import {
  CompactedError,
  ConfChangePendingError,
  InvalidConfChangeError,
  NotLeaderError,
  ProposalDroppedError,
  SnapshotTemporarilyUnavailableError,
} from './errors';
import { decodeConfChange, encodeConfChange, type ConfChangeRecord } from './membership-change-codec';
import { CAMPAIGN_TRANSFER_CONTEXT, isCampaignTransfer, newMessage, transfereeOf, type MessageFields } from './message';
import { applyChangeToConfState, validateMembershipChange } from './membership';
import { ProgressTracker } from './progress-tracker';
import { RaftLog, RaftLogInvariantError } from './raft-log';
import { ReadOnlyQueue, readContext } from './read-only';
import type { ConfState, Entry, HardState, Message, MessageType, NodeId, ReadState, Role, Snapshot, SoftState, Storage } from './types';

type CampaignType = 'pre-election' | 'election' | 'transfer';

/**
 * The Raft state machine (etcd's `raft` struct): roles, terms, elections, replication,
 * commit, ReadIndex, leadership transfer and membership. It performs no IO: outbound
 * messages accumulate in {@link msgs}, read results in {@link readStates}, and the log's
 * unstable tail / commit index are collected into a `Ready` by `RawNode`.
 *
 * Safety invariants kept here (paper §5.2–5.4, Figure 3):
 * - Election Safety: at most one vote per term (`vote` is persisted via HardState before the
 *   MsgVoteResp is sent), so at most one leader per term.
 * - Leader Append-Only: a leader only appends to its log.
 * - Log Matching: followers accept MsgApp only if the entry before it matches.
 * - Leader Completeness: votes only go to candidates whose log is at least as up-to-date.
 * - State Machine Safety: a leader commits only entries of its own term by counting replicas
 *   (Figure 8); earlier entries commit indirectly.
 * - Durable quorum: every copy counted toward a commit is persisted — followers acknowledge
 *   only persisted entries, and the leader's own `match` rises only in
 *   {@link onAppendPersisted} (never at append time), so the leader may replicate entries in
 *   parallel with its own write of them (thesis §10.2.1).
 *
 * Not exported from the package: hosts use `RawNode`.
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId | null = null;
  lead: NodeId | null = null;
  role: Role = 'follower';
  readonly raftLog: RaftLog;
  readonly prs: ProgressTracker;
  msgs: Message[] = [];
  readStates: ReadState[] = [];

  /** Leader: index of the latest conf-change entry appended; no new change until it is applied. */
  pendingConfIndex = 0;
  /** Leader: payload bytes of uncommitted entries (for maxUncommittedEntriesSize). */
  uncommittedSize = 0;
  leadTransferee: NodeId | null = null;
  /** Leader: entries were proposed or the commit index advanced since the last broadcast (coalesced until the next Ready). */
  private appendsToBroadcast = false;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly readOnly = new ReadOnlyQueue();
  /** ReadIndex requests held until the leader commits an entry of its own term. */
  private pendingReadIndexMessages: Message[] = [];

  constructor(
    readonly cfg: ResolvedRaftConfig,
    storage: Storage,
  ) {
    this.id = cfg.id;
    this.raftLog = new RaftLog(storage, cfg.maxCommittedSizePerReady);
    this.prs = new ProgressTracker(cfg.maxInflightMsgs, cfg.maxInflightBytes);
    const { hardState, confState } = storage.initialState();
    this.prs.reset(confState, this.raftLog.lastIndex() + 1);
    if (hardState.term !== 0 || hardState.vote !== null || hardState.commit !== 0) this.loadHardState(hardState);
    if (cfg.appliedIndex !== undefined && cfg.appliedIndex > this.raftLog.applied) {
      this.raftLog.appliedTo(Math.min(cfg.appliedIndex, this.raftLog.committed));
    }
    this.becomeFollower(this.term, null);
  }

  private loadHardState(hs: HardState): void {
    // A persisted commit beyond the log means the store lost entries it acknowledged.
    if (hs.commit > this.raftLog.lastIndex()) {
      throw new RaftLogInvariantError(`hard state commit ${hs.commit} is beyond the last index ${this.raftLog.lastIndex()}`);
    }
    if (hs.commit > this.raftLog.committed) this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  softState(): SoftState {
    return { leader: this.lead, role: this.role };
  }

  /** Whether this node may campaign: it is a voter and has no snapshot pending installation. */
  promotable(): boolean {
    return this.prs.voters.has(this.id) && !this.raftLog.hasPendingSnapshot();
  }

  private electionTimeout(): number {
    return this.cfg.electionTick;
  }

  // ---------------------------------------------------------------- sending

  private send(type: MessageType, to: NodeId, term: number, fields?: MessageFields): void {
    this.msgs.push(newMessage(type, this.id, to, term, fields));
  }

  /**
   * Send a MsgApp (or MsgSnap when the needed entries are compacted) to `to` if its progress
   * allows. With `sendIfEmpty` false, nothing is sent when there are no new entries. Returns
   * whether a message was sent.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.raftLog.maybeTerm(prevIndex);
    // The entry before `next` was compacted: only a snapshot can bring this follower up to date.
    if (prevTerm === undefined) return prevIndex < this.raftLog.firstIndex() ? this.sendSnapshot(to) : false;
    let budget = this.cfg.maxSizePerMsg;
    if (pr.state === 'replicate') budget = Math.min(budget, pr.inflights.remainingBytes());
    let ents: Entry[];
    try {
      ents = this.raftLog.entriesFrom(pr.next, Math.max(budget, 0));
    } catch (e) {
      if (!(e instanceof CompactedError)) throw e;
      return this.sendSnapshot(to);
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    const bytes = entriesPayloadSize(ents);
    // Strict byte cap: a batch over the remaining budget only goes out into an empty window.
    if (pr.state === 'replicate' && ents.length > 0 && bytes > budget && pr.inflights.count > 0) return false;
    const commit = this.raftLog.committed;
    this.send('MsgApp', to, this.term, { index: prevIndex, logTerm: prevTerm, entries: ents, commit });
    pr.sentEntries(ents.length, prevIndex + ents.length, bytes);
    // The follower adopts at most min(commit, last index of this message).
    pr.sentCommit = Math.max(pr.sentCommit, Math.min(commit, prevIndex + ents.length));
    return true;
  }

  private sendSnapshot(to: NodeId): boolean {
    const pr = this.prs.progress.get(to);
    if (!pr || !pr.recentActive) return false;
    let snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (e) {
      if (e instanceof SnapshotTemporarilyUnavailableError) return false;
      throw e;
    }
    if (snapshot.metadata.index === 0) return false;
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send('MsgSnap', to, this.term, { snapshot });
    return true;
  }

  /**
   * Broadcast entries proposed, and the commit index advanced, since the last Ready. Called by
   * RawNode before it collects messages, so that many proposals (or acks) between two Readys
   * cost one MsgApp per follower.
   */
  flushPendingAppends(): void {
    if (!this.appendsToBroadcast) return;
    this.appendsToBroadcast = false;
    if (this.role !== 'leader') return;
    const committed = this.raftLog.committed;
    for (const [id, pr] of this.prs.progress) {
      // New entries go to everyone; a commit-only append only to followers not yet told.
      if (id !== this.id) this.maybeSendAppend(id, pr.sentCommit < committed);
    }
  }

  /** Send MsgApp to every peer with something to send (or a probe). */
  private bcastAppend(): void {
    for (const id of this.prs.progress.keys()) {
      if (id !== this.id) this.maybeSendAppend(id, true);
    }
  }

  private bcastHeartbeat(ctx?: Uint8Array): void {
    for (const [id, pr] of this.prs.progress) {
      if (id === this.id) continue;
      // Never advance a follower's commit beyond what it is known to store.
      const commit = Math.min(pr.match, this.raftLog.committed);
      this.send('MsgHeartbeat', id, this.term, { commit, context: ctx });
    }
  }

  // ---------------------------------------------------------------- role transitions

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = null;
    }
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = null;
    this.prs.resetVotes();
    const last = this.raftLog.lastIndex();
    // The node's own match counts only what it has persisted (see onAppendPersisted).
    const persisted = this.raftLog.persistedLastIndex();
    for (const [id, pr] of this.prs.progress) {
      pr.becomeProbe();
      pr.match = id === this.id ? persisted : 0;
      pr.next = last + 1;
      pr.recentActive = id === this.id;
      pr.sentCommit = 0;
    }
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly.clear();
    this.pendingReadIndexMessages = [];
  }

  private resetRandomizedElectionTimeout(): void {
    const r = this.cfg.random();
    this.randomizedElectionTimeout = this.cfg.electionTick + Math.floor(Math.min(Math.max(r, 0), 0.999999) * this.cfg.electionTick);
  }

  becomeFollower(term: number, lead: NodeId | null): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  private becomePreCandidate(): void {
    // Pre-vote (thesis §9.6): neither term nor vote change, so a node that cannot win does not
    // disrupt the cluster by bumping terms.
    this.prs.resetVotes();
    this.lead = null;
    this.role = 'pre-candidate';
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const self = this.prs.progress.get(this.id);
    if (self) self.becomeReplicate();
    // Entries of earlier terms may hold a conf change we cannot see is applied; be conservative.
    this.pendingConfIndex = this.raftLog.lastIndex();
    if (!this.cfg.testFaults.commitPriorTermByCounting) {
      // An empty entry of the new term lets the leader commit earlier entries (Figure 8) and
      // learn the commit index it needs for ReadIndex (thesis §6.4).
      this.appendEntries([{ index: 0, term: 0, type: 'normal', data: new Uint8Array(0) }]);
    }
  }

  // ---------------------------------------------------------------- ticks

  /** Advance logical time by one tick. */
  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(this.cfg.preVote ? 'pre-election' : 'election');
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    for (const [id, pr] of this.prs.progress) {
      if (id !== this.id && pr.state === 'snapshot' && ++pr.snapshotTicks >= this.electionTimeout()) {
        // The MsgSnap (or its acknowledgement) was probably lost: probe again, which re-sends it if needed.
        pr.becomeProbe();
      }
    }
    if (this.electionElapsed >= this.electionTimeout()) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) {
        this.checkQuorum();
        if (this.role !== 'leader') return;
      }
      if (this.leadTransferee !== null) this.leadTransferee = null; // transfer did not finish in time
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.readOnly.lastPendingContext());
    }
  }

  /** Check-quorum: step down unless a quorum of voters was heard from since the last check. */
  private checkQuorum(): void {
    const active = this.prs.quorumActive(this.id);
    for (const [id, pr] of this.prs.progress) if (id !== this.id) pr.recentActive = false;
    if (!active) this.becomeFollower(this.term, null);
  }

  // ---------------------------------------------------------------- elections

  /** Start an election (or pre-election) unless this node cannot or should not campaign. */
  hup(t: CampaignType): void {
    if (this.role === 'leader' || !this.promotable()) return;
    if (this.hasUnappliedConfChanges()) return; // campaign only with the configuration that is in force
    this.campaign(t);
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.raftLog.applied >= this.raftLog.committed) return false;
    const lo = Math.max(this.raftLog.applied + 1, this.raftLog.firstIndex());
    const ents = this.raftLog.slice(lo, this.raftLog.committed + 1, Number.MAX_SAFE_INTEGER);
    return ents.some((e) => e.type === 'conf-change');
  }

  private campaign(t: CampaignType): void {
    let voteType: MessageType;
    let term: number;
    if (t === 'pre-election') {
      this.becomePreCandidate();
      voteType = 'MsgPreVote';
      term = this.term + 1; // the term we would campaign for; not adopted yet
    } else {
      this.becomeCandidate();
      voteType = 'MsgVote';
      term = this.term;
    }
    this.prs.recordVote(this.id, true);
    if (this.prs.tallyVotes().result === 'won') {
      // Single-voter cluster.
      if (t === 'pre-election') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    const context = t === 'transfer' ? CAMPAIGN_TRANSFER_CONTEXT : undefined;
    for (const id of this.prs.voters) {
      if (id === this.id) continue;
      this.send(voteType, id, term, { index: lastIndex, logTerm: lastTerm, context });
    }
  }

  // ---------------------------------------------------------------- step

  /** Process one message (network or local). Never throws for protocol-level conditions. */
  step(m: Message): void {
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        const force = isCampaignTransfer(m.context);
        const inLease = this.cfg.checkQuorum && this.lead !== null && this.electionElapsed < this.electionTimeout();
        // Leader lease (thesis §4.2.3): while we hear from a live leader, ignore disruptive candidates.
        if (!force && inLease) return;
      }
      if (m.type === 'MsgPreVote') {
        // Never change our term in response to a pre-vote.
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // The pre-candidate adopts the term only when it wins and becomes a candidate.
      } else if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
        // A stale leader (e.g. partitioned, now rejoining) learns our higher term and steps down.
        this.send('MsgAppResp', m.from, this.term);
      } else if (m.type === 'MsgPreVote') {
        this.send('MsgPreVoteResp', m.from, this.term, { reject: true });
      }
      return;
    }

    switch (m.type) {
      case 'MsgHup':
        this.hup(this.cfg.preVote ? 'pre-election' : 'election');
        return;
      case 'MsgVote':
      case 'MsgPreVote':
        this.handleVoteRequest(m);
        return;
      default:
        break;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'pre-candidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  private handleVoteRequest(m: Message): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.lead === null) ||
      (m.type === 'MsgPreVote' && m.term > this.term);
    const respType: MessageType = m.type === 'MsgVote' ? 'MsgVoteResp' : 'MsgPreVoteResp';
    const upToDate = this.cfg.testFaults.voteWithoutLogCheck || this.raftLog.isUpToDate(m.index, m.logTerm);
    if (canVote && upToDate) {
      // Answer a pre-vote with the term it asked about, so the pre-candidate counts it.
      this.send(respType, m.from, m.term);
      if (m.type === 'MsgVote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(respType, m.from, this.term, { reject: true });
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'MsgBeat':
        this.bcastHeartbeat(this.readOnly.lastPendingContext());
        return;
      case 'MsgCheckQuorum':
        this.checkQuorum();
        return;
      case 'MsgProp':
        try {
          this.leaderPropose(m.entries);
        } catch (e) {
          if (!(e instanceof ProposalDroppedError || e instanceof ConfChangePendingError || e instanceof InvalidConfChangeError)) throw e;
          // A forwarded proposal that cannot be accepted is dropped; the originator retries.
        }
        return;
      case 'MsgReadIndex':
        this.leaderReadIndex(m);
        return;
      case 'MsgTransferLeader':
        this.leaderTransfer(transfereeOf(m));
        return;
      default:
        break;
    }
    const pr = this.prs.progress.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case 'MsgAppResp':
        pr.recentActive = true;
        if (m.reject) {
          let nextProbeIdx = m.rejectHint;
          if (m.logTerm > 0) nextProbeIdx = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm)[0];
          if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
            if (pr.state === 'replicate') pr.becomeProbe();
            this.maybeSendAppend(m.from, true);
          }
          return;
        }
        {
          const oldPaused = pr.isPaused();
          if (pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === 'probe')) {
            if (pr.state === 'probe') pr.becomeReplicate();
            else if (pr.state === 'snapshot' && pr.match + 1 >= this.raftLog.firstIndex()) {
              pr.becomeProbe();
              pr.becomeReplicate();
            } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);

            if (this.maybeCommit()) {
              this.releasePendingReadIndexMessages();
              // Tell followers the new commit index once per Ready, however many acks advanced it.
              this.appendsToBroadcast = true;
            } else if (oldPaused) {
              this.maybeSendAppend(m.from, true);
            }
            // Pipelining: keep sending while the window and the log allow.
            while (this.maybeSendAppend(m.from, false)) {
              /* loop */
            }
            if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
              this.send('MsgTimeoutNow', m.from, this.term);
            }
          }
        }
        return;
      case 'MsgHeartbeatResp':
        pr.recentActive = true;
        pr.msgAppFlowPaused = false;
        if (pr.match < this.raftLog.lastIndex() || pr.state === 'probe') {
          if (!this.maybeSendAppend(m.from, true) && pr.state === 'replicate' && pr.inflights.count > 0) {
            // The window is blocked and its acks may have been lost: free the oldest slot so
            // replication cannot stall forever (a lost MsgApp then surfaces as a rejection).
            pr.inflights.freeFirstOne();
            this.maybeSendAppend(m.from, true);
          }
        }
        if (m.context && m.context.length > 0) this.handleReadIndexAck(m.from, m.context);
        return;
      case 'MsgSnapStatus':
        if (pr.state !== 'snapshot') return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for a heartbeat response before probing again.
        pr.msgAppFlowPaused = true;
        return;
      case 'MsgUnreachable':
        if (pr.state === 'replicate') pr.becomeProbe();
        return;
      default:
        return;
    }
  }

  private stepCandidate(m: Message): void {
    const myVoteResp: MessageType = this.role === 'pre-candidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
    switch (m.type) {
      case 'MsgProp':
        return; // dropped: no leader
      case 'MsgApp':
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'MsgTimeoutNow':
        return;
      default:
        break;
    }
    if (m.type !== myVoteResp) return;
    if (!this.prs.voters.has(m.from)) return;
    this.prs.recordVote(m.from, !m.reject);
    const { result } = this.prs.tallyVotes();
    if (result === 'won') {
      if (this.role === 'pre-candidate') {
        this.campaign('election');
      } else {
        this.becomeLeader();
        this.bcastAppend();
      }
    } else if (result === 'lost') {
      // A pre-candidate's rejections may carry a higher term, which step() already adopted.
      this.becomeFollower(this.term, null);
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'MsgProp':
        // Forward only proposals made on this node (never re-forward), and only to a known leader.
        if (this.lead === null || m.from !== this.id) return;
        this.msgs.push({ ...m, to: this.lead, term: 0 });
        return;
      case 'MsgApp':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'MsgTransferLeader':
        if (this.lead === null) return;
        this.msgs.push({ ...m, to: this.lead, term: 0 });
        return;
      case 'MsgTimeoutNow':
        // Leadership transfer: campaign at once, skipping pre-vote and the leader lease.
        this.hup('transfer');
        return;
      case 'MsgReadIndex':
        if (this.lead === null || m.from !== this.id) return;
        this.msgs.push({ ...m, to: this.lead, term: 0 });
        return;
      case 'MsgReadIndexResp':
        if (m.entries.length !== 1) return;
        this.readStates.push({ index: m.index, requestCtx: m.entries[0].data });
        return;
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- follower handlers

  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      this.send('MsgAppResp', m.from, this.term, { index: this.raftLog.committed });
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send('MsgAppResp', m.from, this.term, { index: lastNew });
      return;
    }
    // Conflict hint (etcd's fast back-off): the largest index ≤ min(m.index, lastIndex) whose
    // term is ≤ m.logTerm; the leader can skip every entry between it and m.index.
    const [hintIndex, hintTerm] = this.raftLog.findConflictByTerm(Math.min(m.index, this.raftLog.lastIndex()), m.logTerm);
    this.send('MsgAppResp', m.from, this.term, { index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm });
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(Math.min(m.commit, this.raftLog.lastIndex()));
    this.send('MsgHeartbeatResp', m.from, this.term, { context: m.context });
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (!s) return;
    if (this.restore(s)) {
      this.send('MsgAppResp', m.from, this.term, { index: this.raftLog.lastIndex() });
    } else {
      this.send('MsgAppResp', m.from, this.term, { index: this.raftLog.committed });
    }
  }

  /** Install a leader's snapshot unless our log already covers it. Returns whether it was installed. */
  private restore(s: Snapshot): boolean {
    const { index, term } = s.metadata;
    if (index <= this.raftLog.committed) return false;
    if (this.raftLog.matchTerm(index, term)) {
      // We already hold the entries the snapshot covers: just fast-forward the commit index.
      this.raftLog.commitTo(index);
      return false;
    }
    this.raftLog.restore(s);
    this.prs.reset(s.metadata.confState, this.raftLog.lastIndex() + 1);
    const self = this.prs.progress.get(this.id);
    if (self) self.match = index;
    return true;
  }

  // ---------------------------------------------------------------- leader operations

  /** Append entries proposed to the leader; returns the index of the last one. Throws typed errors. */
  leaderPropose(entries: readonly Entry[]): number {
    if (!this.prs.progress.has(this.id)) throw new ProposalDroppedError('removed');
    if (this.leadTransferee !== null) throw new ProposalDroppedError('leader-transfer-in-progress');
    let toAppend = entries;
    let hasConfChange = false;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e.type !== 'conf-change') continue;
      if (hasConfChange || this.pendingConfIndex > this.raftLog.applied) {
        throw new ConfChangePendingError(hasConfChange ? this.raftLog.lastIndex() + 1 : this.pendingConfIndex);
      }
      hasConfChange = true;
      const { change } = decodeConfChange(e.data);
      validateMembershipChange(this.prs, this.raftLog.committed, change);
      // Stamp the resulting membership into the entry: applying it is then idempotent and a new
      // node learns the whole configuration from it.
      const confState = applyChangeToConfState(this.prs.confState(), change);
      if (toAppend === entries) toAppend = entries.slice();
      (toAppend as Entry[])[i] = { ...e, data: encodeConfChange({ change, confState }) };
    }
    const last = this.appendEntries(toAppend);
    if (hasConfChange) this.pendingConfIndex = last;
    // Proposals made before the next Ready share one MsgApp per follower (see flushPendingAppends).
    this.appendsToBroadcast = true;
    return last;
  }

  private appendEntries(entries: readonly Entry[]): number {
    let li = this.raftLog.lastIndex();
    const size = entriesPayloadSize(entries);
    const limit = this.cfg.maxUncommittedEntriesSize;
    if (limit > 0 && size > 0 && this.uncommittedSize > 0 && this.uncommittedSize + size > limit) {
      throw new ProposalDroppedError('uncommitted-size-limit');
    }
    this.uncommittedSize += size;
    const stamped: Entry[] = new Array<Entry>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      stamped[i] = { index: ++li, term: this.term, type: e.type, data: e.data };
    }
    // The leader does NOT count these entries yet: its own match advances only when the host
    // reports them persisted (onAppendPersisted, from RawNode.advance). So the leader may send
    // MsgApp for them in parallel with its own disk write (thesis §10.2.1) and no entry is ever
    // committed on the strength of an un-persisted local copy.
    return this.raftLog.append(stamped);
  }

  /**
   * The host persisted the local log up to (index, term) — called by `RawNode.advance` for the
   * last entry of the acknowledged Ready. On a leader this is the self-acknowledgement of
   * etcd's async storage writes: the leader's own `match` rises only here, never at append
   * time, and the commit index is re-evaluated (a commit advance is broadcast with the next
   * Ready, like one caused by a follower's MsgAppResp). Ignored when the entry at `index` was
   * replaced meanwhile (term differs) or the node is no longer leader.
   *
   * Invariant kept: every entry counted toward a commit quorum is durable on each counted
   * voter, the leader included (DESIGN invariant 1).
   */
  onAppendPersisted(index: number, term: number): void {
    if (this.role !== 'leader') return;
    if (this.raftLog.maybeTerm(index) !== term) return;
    const self = this.prs.progress.get(this.id);
    if (!self || !self.maybeUpdate(index)) return;
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.appendsToBroadcast = true;
    }
  }

  /** Advance the commit index to what a quorum stores, subject to the current-term rule. */
  private maybeCommit(): boolean {
    const mci = this.prs.committed();
    if (this.cfg.testFaults.commitPriorTermByCounting) {
      // FAULT (a): counting replicas is enough — unsafe for earlier-term entries (Figure 8).
      if (mci > this.raftLog.committed && mci <= this.raftLog.lastIndex()) {
        this.raftLog.commitTo(mci);
        return true;
      }
      return false;
    }
    return this.raftLog.maybeCommit(mci, this.term);
  }

  /** Reduce the uncommitted-bytes account once entries are applied. */
  reduceUncommittedSize(applied: readonly Entry[]): void {
    if (this.role !== 'leader') return;
    this.uncommittedSize = Math.max(0, this.uncommittedSize - entriesPayloadSize(applied));
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.zeroTermOnOutOfRange(this.raftLog.committed) === this.term;
  }

  private leaderReadIndex(m: Message): void {
    if (this.cfg.testFaults.readIndexWithoutHeartbeat) {
      // FAULT (d): answer at once from the local commit index — no check that it is current
      // (new leader) nor that we still lead (deposed leader): stale reads.
      this.respondReadIndex(m, this.raftLog.committed);
      return;
    }
    // The commit index is only known to be current once an entry of this term committed —
    // also for a single voter, whose persisted commit index may lag entries it acknowledged
    // before a restart (commit-only hard state is not flushed) and whose own no-op commits
    // only once persisted.
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.startReadIndex(m);
  }

  private startReadIndex(m: Message): void {
    if (this.prs.voters.size <= 1) {
      // No one else can be leader: no heartbeat round needed.
      this.respondReadIndex(m, this.raftLog.committed);
      return;
    }
    const ctx = readContext(m);
    if (!this.readOnly.add(this.raftLog.committed, m, ctx, this.id)) return;
    this.bcastHeartbeat(ctx);
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.startReadIndex(m);
  }

  private handleReadIndexAck(from: NodeId, ctx: Uint8Array): void {
    const acks = this.readOnly.recvAck(from, ctx);
    if (!acks) return;
    let voterAcks = 0;
    for (const id of acks) if (this.prs.voters.has(id)) voterAcks++;
    if (voterAcks < this.prs.quorum()) return;
    for (const rs of this.readOnly.advance(ctx)) this.respondReadIndex(rs.req, rs.index);
  }

  private respondReadIndex(req: Message, index: number): void {
    if (req.from === this.id) {
      this.readStates.push({ index, requestCtx: readContext(req) });
    } else {
      this.send('MsgReadIndexResp', req.from, this.term, { index, entries: req.entries });
    }
  }

  private leaderTransfer(transferee: NodeId): void {
    const pr = this.prs.progress.get(transferee);
    if (!pr || pr.isLearner || transferee === this.id) return;
    if (this.leadTransferee !== null) {
      if (this.leadTransferee === transferee) return;
      this.leadTransferee = null;
    }
    // The transfer must finish within one election timeout or it is aborted (tickHeartbeat).
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.raftLog.lastIndex()) this.send('MsgTimeoutNow', transferee, this.term);
    else this.maybeSendAppend(transferee, true);
  }

  // ---------------------------------------------------------------- membership

  /**
   * Apply a committed membership change (called by the host when it applies a `conf-change`
   * entry). Idempotent for repeated application. A leader that removed itself steps down and
   * hands leadership to the most up-to-date remaining voter.
   */
  applyConfChange(record: ConfChangeRecord): ConfState {
    const next = this.raftLog.lastIndex() + 1;
    const target = record.confState ?? applyChangeToConfState(this.prs.confState(), record.change);
    const added = this.prs.applyConfState(target, next);
    if (this.role === 'leader') {
      if (!this.prs.voters.has(this.id)) {
        this.stepDownAfterRemoval();
      } else {
        if (this.leadTransferee !== null && !this.prs.voters.has(this.leadTransferee)) this.leadTransferee = null;
        // A smaller quorum may commit more; new members need a probe.
        if (this.maybeCommit()) this.bcastAppend();
        else for (const id of this.prs.progress.keys()) if (id !== this.id) this.maybeSendAppend(id, added.includes(id));
      }
    }
    return this.prs.confState();
  }

  private stepDownAfterRemoval(): void {
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const id of this.prs.voters) {
      const pr = this.prs.progress.get(id);
      if (pr && pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    if (best !== null && bestMatch === this.raftLog.lastIndex()) this.send('MsgTimeoutNow', best, this.term);
    this.becomeFollower(this.term, null);
  }

  // ---------------------------------------------------------------- helpers for RawNode

  notLeader(): NotLeaderError {
    return new NotLeaderError(this.id, this.lead, this.term);
  }
}
