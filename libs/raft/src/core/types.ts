/**
 * Data types of the IO-free Raft core. Names follow the Raft paper and etcd-io/raft
 * (`HardState`, `ConfState`, `MsgApp`, `Ready`, …) so readers can cross-reference them.
 *
 * All types are plain data: they can be encoded by a transport (msgpack) or stored by a log
 * store without conversion. The core never mutates an object after handing it out in a
 * {@link Ready}, and never keeps a reference to an object it receives in a {@link Message}
 * that it mutates later.
 */

/** Identity of a Raft peer. Stable for the life of the peer; never reused after removal. */
export type NodeId = string;

/**
 * Kind of a log entry. `normal` entries carry opaque application commands (an empty `data`
 * is the no-op a new leader appends to commit entries of earlier terms); `conf-change`
 * entries carry an encoded {@link MembershipChange} (see `encodeMembershipChange`).
 */
export type EntryType = 'normal' | 'conf-change';

/**
 * One log entry. Invariant (Log Matching, paper §5.3): if two logs hold an entry with the same
 * `index` and `term`, the logs are identical in all entries up through that index.
 */
export interface Entry {
  /** Position in the log, starting at 1; contiguous. */
  readonly index: number;
  /** Term of the leader that created the entry. */
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/**
 * The state a node must persist (fsync) before it sends any message produced in the same
 * {@link Ready}: the current term, the vote granted in that term, and the commit index.
 * Losing `term` or `vote` could let a node vote twice in one term (Election Safety, §5.2).
 */
export interface HardState {
  readonly term: number;
  /** Candidate voted for in `term`, or `null` if none. */
  readonly vote: NodeId | null;
  /** Highest index known committed (persisting it is an optimisation, never required for safety). */
  readonly commit: number;
}

/**
 * Cluster membership. Voters count towards quorums (elections, commit); learners receive
 * replication but never vote and never count. A node is in at most one of the two lists.
 * Flotilla changes membership one node at a time (no joint consensus), so there is no
 * outgoing configuration.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** Position and membership a snapshot covers: the state machine up to and including `index`. */
export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/** An application state-machine snapshot plus the log position and membership it covers. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

/**
 * Message kinds, with etcd's names. "Local" kinds never travel on the wire: `MsgHup`
 * (start an election), `MsgBeat` (leader: send heartbeats), `MsgUnreachable` and
 * `MsgSnapStatus` (host reports about a peer to the leader). `MsgProp` is local unless
 * proposal forwarding is enabled, in which case a follower sends it to the leader.
 */
export type MessageType =
  | 'MsgHup'
  | 'MsgBeat'
  | 'MsgProp'
  | 'MsgApp'
  | 'MsgAppResp'
  | 'MsgVote'
  | 'MsgVoteResp'
  | 'MsgPreVote'
  | 'MsgPreVoteResp'
  | 'MsgSnap'
  | 'MsgHeartbeat'
  | 'MsgHeartbeatResp'
  | 'MsgReadIndex'
  | 'MsgReadIndexResp'
  | 'MsgTransferLeader'
  | 'MsgTimeoutNow'
  | 'MsgUnreachable'
  | 'MsgSnapStatus'
  | 'MsgCheckQuorum';

/** Every {@link MessageType}, in a stable order (for codecs and exhaustive tests). */
export const MESSAGE_TYPES: readonly MessageType[] = [
  'MsgHup',
  'MsgBeat',
  'MsgProp',
  'MsgApp',
  'MsgAppResp',
  'MsgVote',
  'MsgVoteResp',
  'MsgPreVote',
  'MsgPreVoteResp',
  'MsgSnap',
  'MsgHeartbeat',
  'MsgHeartbeatResp',
  'MsgReadIndex',
  'MsgReadIndexResp',
  'MsgTransferLeader',
  'MsgTimeoutNow',
  'MsgUnreachable',
  'MsgSnapStatus',
  'MsgCheckQuorum',
];

/**
 * A Raft message. One flat shape for every {@link MessageType} (as in etcd), so a transport
 * encodes a single record type. Field meaning per type:
 *
 * - `MsgApp`: `index`/`logTerm` identify the entry preceding `entries`; `commit` is the
 *   leader's commit index.
 * - `MsgAppResp`: on success `index` is the last index the follower now matches; on
 *   rejection `reject` is set, `index` echoes the rejected `MsgApp.index`, and
 *   `rejectHint`/`logTerm` give the conflict hint: the largest index ≤ `rejectHint` at
 *   which the follower's term is ≤ `logTerm` (etcd's fast back-off).
 * - `MsgVote`/`MsgPreVote`: `index`/`logTerm` are the candidate's last entry; `term` is the
 *   term it campaigns for; `context` is set for leader-transfer campaigns.
 * - `MsgHeartbeat`: `commit` is min(follower match, leader commit); `context` carries a
 *   ReadIndex request context when the heartbeat confirms a read.
 * - `MsgSnap`: `snapshot` is set.
 * - `MsgReadIndex`/`MsgReadIndexResp`: `entries[0].data` is the request context; the response
 *   `index` is the read index.
 * - `MsgSnapStatus`: `reject` reports a failed snapshot delivery.
 * - `MsgTransferLeader`: `context` is the UTF-8 id of the transferee; `from` is always the real
 *   sender (a follower forwarding the request to the leader), so transports may authenticate it.
 * - `MsgProp`, `MsgReadIndex`, `MsgTransferLeader` forwarded by a follower carry `term` 0.
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  /** Sender's term, or 0 for local messages. */
  readonly term: number;
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly snapshot?: Snapshot;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly context?: Uint8Array;
}

/**
 * Result of a linearizable read request: once the local applied index reaches `index`, the
 * state machine reflects every write committed before the read was requested.
 */
export interface ReadState {
  readonly index: number;
  /** The context passed to `readIndex(ctx)`, echoed so the host can match the request. */
  readonly requestCtx: Uint8Array;
}

/** A node's role. `pre-candidate` is the pre-vote phase (thesis §9.6): it does not bump the term. */
export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state that is useful to the host (logging, routing) but never persisted. */
export interface SoftState {
  readonly leader: NodeId | null;
  readonly role: Role;
}

/**
 * A batch of work the core hands to the host. The host must perform it in this order:
 *
 * 1. persist `snapshot` (if set), append `entries` and persist `hardState` (if set) durably
 *    (fsync when `mustSync`);
 * 2. only then send `messages` — they may depend on (1): a vote grant depends on the
 *    persisted vote, an append ack on the persisted entries;
 * 3. apply `committedEntries` to the state machine (in order; for `conf-change` entries call
 *    `RawNode.applyConfChange`), and serve `readStates` once applied ≥ their index;
 * 4. call `RawNode.advance(ready)`.
 *
 * Invariant: `committedEntries` never contains an entry that is not in the persisted log
 * after step (1) of this same Ready.
 */
export interface Ready {
  /** Set when the leader or role changed since the previous Ready. */
  readonly softState?: SoftState;
  /** Set when term, vote or commit changed since the previous Ready. */
  readonly hardState?: HardState;
  /** Entries to append to stable storage (may overwrite a suffix: truncate from `entries[0].index`). */
  readonly entries: readonly Entry[];
  /** Snapshot to install into stable storage and the state machine. */
  readonly snapshot?: Snapshot;
  /** Committed entries to apply, in index order. */
  readonly committedEntries: readonly Entry[];
  /** Messages to send after persisting. */
  readonly messages: readonly Message[];
  /** Linearizable reads that became ready. */
  readonly readStates: readonly ReadState[];
  /** True when `entries`, `hardState.term` or `hardState.vote` changed: the write must be fsynced. */
  readonly mustSync: boolean;
}

/**
 * One membership change. Flotilla changes membership one node at a time:
 * `add-learner` (new non-voting member), `promote` (learner → voter, once caught up),
 * `add-voter` (directly as a voter; prefer learner + promote), `remove` (voter or learner).
 */
export interface MembershipChange {
  readonly type: 'add-learner' | 'promote' | 'add-voter' | 'remove';
  readonly node: NodeId;
}

/** Replication state of a follower as tracked by the leader (etcd's tracker.StateType). */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** Leader's view of one peer, as reported by `RawNode.status()`. */
export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  readonly recentActive: boolean;
  readonly inflightMsgs: number;
  readonly inflightBytes: number;
  readonly pendingSnapshot: number;
}

/** A snapshot of a node's state for observability. `progress` is set only on the leader. */
export interface Status {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly confState: ConfState;
  readonly leadTransferee: NodeId | null;
  readonly progress?: Readonly<Record<NodeId, ProgressStatus>>;
}

/** What `Storage.initialState()` returns: the persisted hard state and membership. */
export interface InitialState {
  readonly hardState: HardState;
  readonly confState: ConfState;
}

/**
 * The core's read-only view of stable storage. Writes belong to the host's store.
 *
 * Invariants the implementation must keep:
 * - entries in [firstIndex(), lastIndex()] are available and contiguous;
 * - `term(firstIndex() - 1)` returns the term of the latest snapshot (or 0 for an empty log);
 * - everything the core read from storage was durably written (the core never reads back
 *   entries that are only in an un-persisted Ready).
 */
export interface Storage {
  initialState(): InitialState;
  /**
   * Entries in [lo, hi), at least one (if lo < hi) and otherwise at most `maxBytes` of
   * payload. Throws `CompactedError` if lo < firstIndex(), `UnavailableError` if
   * hi > lastIndex() + 1.
   */
  entries(lo: number, hi: number, maxBytes?: number): Entry[];
  /** Term of entry i, for firstIndex()-1 ≤ i ≤ lastIndex(). Throws CompactedError / UnavailableError otherwise. */
  term(i: number): number;
  /** Index of the first entry still in the log (the snapshot index + 1). */
  firstIndex(): number;
  /** Index of the last entry (the snapshot index if the log is empty). */
  lastIndex(): number;
  /**
   * The most recent snapshot. Throws `SnapshotTemporarilyUnavailableError` if one is
   * being produced; the core then retries later.
   */
  snapshot(): Snapshot;
}
