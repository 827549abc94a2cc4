import { resolveRaftConfig, type RaftConfig } from './config';
import { ReadyProtocolError } from './errors';
import { decodeConfChange, encodeMembershipChange, type ConfChangeRecord } from './membership-change-codec';
import { isLocalMessageType, isResponseMessageType, newMessage } from './message';
import { Raft } from './raft';
import type {
  ConfState,
  Entry,
  EntryType,
  HardState,
  MembershipChange,
  Message,
  NodeId,
  ProgressStatus,
  Ready,
  SoftState,
  Status,
  Storage,
} from './types';

/**
 * The IO-free Raft node a host drives (etcd's RawNode). Synchronous: every method returns
 * after updating in-memory state; all IO it wants done is handed out as a {@link Ready}.
 *
 * Host loop (the only correct order — see `Ready`):
 * ```ts
 * node.tick() / node.step(msg) / node.propose(data) ...
 * if (node.hasReady()) {
 *   const rd = node.ready();
 *   if (rd.snapshot) store.applySnapshot(rd.snapshot);   // 1. persist snapshot,
 *   store.append(rd.entries);                            //    entries,
 *   if (rd.hardState) store.setHardState(rd.hardState);  //    hard state (fsync if rd.mustSync)
 *   transport.send(rd.messages);                         // 2. then send
 *   for (const e of rd.committedEntries) apply(e);       // 3. apply (conf-change → node.applyConfChange)
 *   node.advance(rd);                                    // 4. acknowledge
 * }
 * ```
 *
 * Invariants: at most one Ready is outstanding (a second `ready()` before `advance()` throws
 * {@link ReadyProtocolError}); the core never emits a message that depends on state it has not
 * first handed out for persistence in the same or an earlier Ready; a leader counts its own
 * entries toward the commit quorum only once the host reported them persisted (`advance`, or
 * `onPersisted` for pipelined hosts using {@link advanceAsync}) — so a leader may send a
 * Ready's `MsgApp`s before its own write of them completes (thesis §10.2.1).
 *
 * Membership changes take effect when APPLIED (etcd style): the host calls
 * {@link applyConfChange} when it applies a committed `conf-change` entry. A leader accepts
 * one change at a time: a second one before the first is applied throws
 * `ConfChangePendingError`.
 */
export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private outstanding: Ready | null = null;
  /** Readys taken with advanceAsync, oldest first, whose write is not yet reported durable. */
  private readonly writing: Ready[] = [];
  /** Conf-change records in the outstanding Ready's committedEntries, not yet applied. */
  private handedOutConfChanges: ConfChangeRecord[] = [];

  /**
   * Creates a node from its persisted state: `storage.initialState()` gives term, vote, commit
   * and membership; the log is read through `storage`. The node starts as a follower. Throws
   * `InvalidRaftConfigError` listing every invalid config field.
   */
  constructor(config: RaftConfig, storage: Storage) {
    this.raft = new Raft(resolveRaftConfig(config), storage);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /** This node's id (`RaftConfig.id`). */
  get id(): NodeId {
    return this.raft.id;
  }

  /** Advance logical time by one tick (drives elections, heartbeats, check-quorum, transfer timeout). */
  tick(): void {
    this.raft.tick();
  }

  /** Start an election now (etcd's Campaign / MsgHup); ignored by leaders and non-voters. */
  campaign(): void {
    this.raft.step(newMessage('MsgHup', this.raft.id, this.raft.id, 0));
  }

  /**
   * Feed a message received from a peer. Locally generated kinds (MsgHup, MsgBeat,
   * MsgCheckQuorum) are refused with a TypeError; responses from non-members are dropped.
   */
  step(m: Message): void {
    if (isLocalMessageType(m.type)) throw new TypeError(`${m.type} is a local message and cannot be stepped`);
    if (isResponseMessageType(m.type) && !this.raft.prs.progress.has(m.from)) return;
    this.raft.step(m);
  }

  /**
   * Propose an application command. On the leader the entry is appended and its index
   * returned (it is committed once it appears in a Ready's committedEntries). On a follower,
   * throws {@link NotLeaderError} with the leader hint, unless `forwardProposals` is set, in
   * which case a MsgProp is sent to the known leader and `null` is returned (no leader known:
   * NotLeaderError). Throws `ProposalDroppedError` when the leader cannot accept it now.
   */
  propose(data: Uint8Array): number | null {
    return this.proposeEntry('normal', data);
  }

  /**
   * Propose a membership change (one node at a time). Throws `ConfChangePendingError` while a
   * previous change is not yet applied, `InvalidConfChangeError` if it does not fit the current
   * configuration (e.g. promoting a learner that has not caught up with the commit index).
   */
  proposeMembershipChange(change: MembershipChange): number | null {
    return this.proposeEntry('conf-change', encodeMembershipChange(change));
  }

  private proposeEntry(type: EntryType, data: Uint8Array): number | null {
    const entry: Entry = { index: 0, term: 0, type, data };
    if (this.raft.role === 'leader') return this.raft.leaderPropose([entry]);
    if (!this.raft.cfg.forwardProposals || this.raft.lead === null) throw this.raft.notLeader();
    this.raft.step(newMessage('MsgProp', this.raft.id, this.raft.id, 0, { entries: [entry] }));
    return null;
  }

  /**
   * Apply a committed membership change; the host calls this when it applies a `conf-change`
   * entry (in log order), passing the entry itself (preferred: it carries the resulting
   * membership, so applying is idempotent) or its decoded change. Returns the new configuration, which the host should persist with its
   * applied index (e.g. `MemoryStorage.setConfState`).
   */
  applyConfChange(change: Entry | MembershipChange): ConfState {
    if ('data' in change) return this.raft.applyConfChange(decodeConfChange(change.data));
    // A bare change: use the full record of the matching conf-change entry handed out in the
    // outstanding Ready, so a new node still learns the whole membership.
    const head = this.handedOutConfChanges[0];
    if (head && head.change.type === change.type && head.change.node === change.node) {
      this.handedOutConfChanges.shift();
      return this.raft.applyConfChange(head);
    }
    return this.raft.applyConfChange({ change });
  }

  /**
   * Request a linearizable read. `ctx` must be unique among pending requests. When confirmed,
   * a {@link ReadState} with the same context appears in a Ready: the read may be served once
   * the applied index reaches `ReadState.index`. On the leader this needs a commit in its
   * current term and a heartbeat round acknowledged by a quorum; followers forward to the
   * leader. Throws NotLeaderError when no leader is known. A request may be dropped silently
   * (leader change, lost messages): the host should retry after a timeout with a new context.
   */
  readIndex(ctx: Uint8Array): void {
    if (this.raft.role !== 'leader' && this.raft.lead === null) throw this.raft.notLeader();
    const entry: Entry = { index: 0, term: 0, type: 'normal', data: ctx };
    this.raft.step(newMessage('MsgReadIndex', this.raft.id, this.raft.id, 0, { entries: [entry] }));
  }

  /**
   * Ask the leader to hand leadership to `to`: it stops accepting proposals, brings `to` up to
   * date, then sends MsgTimeoutNow; the transfer is aborted after one election timeout.
   * On a follower the request is forwarded to the leader (NotLeaderError if none is known).
   */
  transferLeadership(to: NodeId): void {
    if (this.raft.role !== 'leader' && this.raft.lead === null) throw this.raft.notLeader();
    this.raft.step(newMessage('MsgTransferLeader', this.raft.id, this.raft.id, 0, { context: new TextEncoder().encode(to) }));
  }

  /** Host report: `id` could not be reached (e.g. connection failed); the leader probes it again. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(newMessage('MsgUnreachable', id, this.raft.id, 0));
  }

  /** Host report: delivering a MsgSnap to `id` succeeded or failed. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(newMessage('MsgSnapStatus', id, this.raft.id, 0, { reject: !ok }));
  }

  /** Whether {@link ready} has work to hand out. False while a Ready is outstanding. */
  hasReady(): boolean {
    if (this.outstanding !== null) return false;
    const r = this.raft;
    r.flushPendingAppends();
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (r.raftLog.unstableEntries().length > 0 || r.raftLog.unstable.snapshotToHandOut() !== undefined) return true;
    if (r.raftLog.hasNextCommittedEntries()) return true;
    if (!hardStateEqual(r.hardState(), this.prevHardState)) return true;
    const ss = r.softState();
    return ss.leader !== this.prevSoftState.leader || ss.role !== this.prevSoftState.role;
  }

  /**
   * Collect the pending work. The caller must process it in the documented order and then call
   * {@link advance} with this same object before calling `ready()` again.
   */
  ready(): Ready {
    if (this.outstanding !== null) throw new ReadyProtocolError('ready() called again before advance()');
    const r = this.raft;
    r.flushPendingAppends();
    const ss = r.softState();
    const hs = r.hardState();
    const softChanged = ss.leader !== this.prevSoftState.leader || ss.role !== this.prevSoftState.role;
    const hardChanged = !hardStateEqual(hs, this.prevHardState);
    const entries = r.raftLog.unstableEntries().slice();
    const snapshot = r.raftLog.unstable.snapshotToHandOut();
    const rd: Ready = {
      softState: softChanged ? ss : undefined,
      hardState: hardChanged ? hs : undefined,
      entries,
      snapshot,
      committedEntries: r.raftLog.nextCommittedEntries(),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: entries.length > 0 || snapshot !== undefined || hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.readStates = [];
    // What this Ready asks to write is never handed out again (unless replaced meanwhile).
    r.raftLog.unstable.acceptInProgress();
    this.handedOutConfChanges = [];
    for (const e of rd.committedEntries) if (e.type === 'conf-change') this.handedOutConfChanges.push(decodeConfChange(e.data));
    this.outstanding = rd;
    return rd;
  }

  /**
   * Acknowledge that `rd` was persisted, its messages sent and its committed entries applied.
   * Throws {@link ReadyProtocolError} if `rd` is not the outstanding Ready.
   */
  advance(rd: Ready): void {
    if (this.outstanding === null || rd !== this.outstanding) {
      throw new ReadyProtocolError('advance() called with a Ready that is not the outstanding one');
    }
    if (this.writing.length > 0) throw new ReadyProtocolError('advance() while Readys taken with advanceAsync() are not yet persisted (call onPersisted first)');
    this.takeOver(rd);
    this.markPersisted(rd);
  }

  /**
   * Pipelined hosts (tikv's `advance_append_async`, etcd's async storage writes): acknowledge
   * `rd` WITHOUT waiting for its write, so the next Ready can be collected while the disk is
   * busy. By calling this the host promises, for `rd`:
   * - its write (snapshot, entries, hard state) was started, after every earlier Ready's write,
   *   and the host calls {@link onPersisted}(rd) once it is durable — in Ready order;
   * - only `MsgApp`/`MsgHeartbeat` may be sent before that write is durable, and only when
   *   `rd` changes neither term nor vote; every other message waits for it (and for every
   *   earlier write);
   * - its committed entries are applied in order, each only once it is durable locally.
   *
   * The core meanwhile treats `rd`'s entries as in progress (never handed out again unless a
   * new leader replaces them) and NOT persisted: the leader counts them toward commit only
   * after `onPersisted`. Conf-change entries are treated as applied when handed over, so a
   * host should apply a Ready carrying one before proposing another change. Throws
   * {@link ReadyProtocolError} if `rd` is not the outstanding Ready.
   */
  advanceAsync(rd: Ready): void {
    if (this.outstanding === null || rd !== this.outstanding) {
      throw new ReadyProtocolError('advanceAsync() called with a Ready that is not the outstanding one');
    }
    this.takeOver(rd);
    this.writing.push(rd);
  }

  /**
   * The write of `rd` (taken with {@link advanceAsync}) is durable. Must be called in the order
   * the Readys were taken; throws {@link ReadyProtocolError} otherwise. Marks its entries and
   * snapshot stable and, on a leader, counts its entries toward the commit quorum.
   */
  onPersisted(rd: Ready): void {
    if (this.writing[0] !== rd) throw new ReadyProtocolError('onPersisted() called out of order or for a Ready not taken with advanceAsync()');
    this.writing.shift();
    this.markPersisted(rd);
  }

  /** Readys taken with {@link advanceAsync} whose write is not yet reported durable. */
  get writesInProgress(): number {
    return this.writing.length;
  }

  private takeOver(rd: Ready): void {
    this.outstanding = null;
    this.handedOutConfChanges = [];
    const r = this.raft;
    if (rd.softState) this.prevSoftState = rd.softState;
    if (rd.hardState) this.prevHardState = rd.hardState;
    if (rd.snapshot) {
      const idx = rd.snapshot.metadata.index;
      if (idx > r.raftLog.applied) r.raftLog.applied = idx;
    }
    if (rd.committedEntries.length > 0) {
      r.raftLog.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index);
      r.reduceUncommittedSize(rd.committedEntries);
    }
  }

  private markPersisted(rd: Ready): void {
    const r = this.raft;
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      r.raftLog.stableTo(last.index, last.term);
      // The leader's self-acknowledgement: only now do its own entries count toward commit.
      r.onAppendPersisted(last.index, last.term);
    }
  }

  /** Observability snapshot (role, term, leader, commit, applied, per-peer progress on the leader). */
  status(): Status {
    const r = this.raft;
    let progress: Record<NodeId, ProgressStatus> | undefined;
    if (r.role === 'leader') {
      progress = {};
      for (const [id, pr] of r.prs.progress) {
        progress[id] = {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
          recentActive: pr.recentActive,
          inflightMsgs: pr.inflights.count,
          inflightBytes: pr.inflights.bytes,
          pendingSnapshot: pr.pendingSnapshot,
        };
      }
    }
    return {
      id: r.id,
      role: r.role,
      term: r.term,
      vote: r.vote,
      leader: r.lead,
      commit: r.raftLog.committed,
      applied: r.raftLog.applied,
      firstIndex: r.raftLog.firstIndex(),
      lastIndex: r.raftLog.lastIndex(),
      confState: r.prs.confState(),
      leadTransferee: r.leadTransferee,
      progress,
    };
  }

  /** The current membership (cheaper than `status().confState` for hosts that only need this). */
  confState(): ConfState {
    return this.raft.prs.confState();
  }

  /** Whether this node believes it is the leader. */
  isLeader(): boolean {
    return this.raft.role === 'leader';
  }
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
