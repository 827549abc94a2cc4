import { randomBytes } from 'node:crypto';
import {
  decodeMembershipChange,
  NotLeaderError,
  ProposalDroppedError,
  RawNode,
  type ConfState,
  type Entry,
  type HardState,
  type MembershipChange,
  type Message,
  type NodeId,
  type ProgressState,
  type Ready,
  type Role,
  type Snapshot,
} from '../core';
import type { LogStore, LogStoreStats } from '../storage/log-store';
import { openLogStore } from '../storage/open-log-store';
import { WalLogStore, type WalFlushMode } from '../storage/wal-log-store';
import { silentLogger, type RaftLogger } from '../transport/logger';
import type { PeerAddress } from '../transport/peer-link';
import { TcpTransport } from '../transport/tcp-transport';
import type { TransportStats } from '../transport/transport-stats';
import {
  decodeEnvelope,
  decodeMemberRecord,
  decodeSnapshotEnvelope,
  encodeEnvelope,
  encodeMemberRecord,
  encodeSnapshotEnvelope,
  ENVELOPE_COMMAND,
  ENVELOPE_MEMBER,
  type MemberRecord,
} from './entry-envelope';
import { ShutdownError, TimeoutError } from './errors';
import type { RaftNodeOptions } from './raft-node-options';
import type { StateMachine } from './state-machine';
import { parseWireMessage } from './wire-message';

/** Leader's view of one member, as reported by {@link RaftNode.status}. */
export interface PeerStatus {
  readonly match: number;
  readonly next: number;
  /** lastIndex − match: how many entries the member is behind the leader's log. */
  readonly lag: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  /** Whether the outbound connection to the member is authenticated and open. */
  readonly connected: boolean;
}

/** Observability snapshot of a node (`RaftNode.status()`, served as GET /status by the KV server). */
export interface NodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly leader: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly snapshotIndex: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly confState: ConfState;
  readonly leadTransferee: NodeId | null;
  /** Per-member replication progress; only on the leader. */
  readonly peers: Readonly<Record<NodeId, PeerStatus>>;
  readonly members: Readonly<Record<NodeId, PeerAddress>>;
  readonly transport: TransportStats;
  /** Write-path counters, plus (WAL only) how flushes currently reach the disk. */
  readonly store: LogStoreStats & { readonly flushMode?: WalFlushMode };
  /** Messages from peers refused by validation. */
  readonly badMessages: number;
}

/**
 * A caller waiting for an operation. No timer per operation: {@link RaftNode.expireWaiters}
 * rejects waiters past their `deadline` (`performance.now()` ms) on every tick, so a timeout
 * fires within one tick of it.
 */
interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  deadline: number;
  /** Operation name for the TimeoutError. */
  op: string;
}

interface ReadWaiter {
  /** Serve once applied ≥ index. */
  index: number;
  waiter: Waiter<number>;
}

/**
 * Runs a Raft node for real: the IO-free {@link RawNode} on wall-clock ticks, the durable
 * {@link LogStore} (LMDB or write-ahead log, `storage` option), the authenticated {@link TcpTransport}, and a pluggable
 * {@link StateMachine}.
 *
 * Host loop, one Ready at a time, in the only safe order: persist snapshot, entries and hard
 * state (awaiting the disk flush whenever `mustSync`) → send messages → apply committed
 * entries → serve reads → `advance`. Hence no message that depends on a vote or an entry
 * leaves the node before that vote or entry is on disk (Raft's crash-recovery rule).
 *
 * Guarantees to callers:
 * - `propose(cmd)` resolves with `StateMachine.apply`'s result once the command is committed
 *   and applied on THIS node (followers forward to the leader); rejects with NotLeaderError
 *   (no leader known), ProposalDroppedError (leader refuses now; safe to retry),
 *   TimeoutError (outcome unknown) or ShutdownError.
 * - `read(fn)` runs `fn` only once the local state machine has applied everything committed
 *   before the call (ReadIndex, thesis §6.4): the result is linearizable on any node.
 * - Snapshots every `snapshotEntries` entries / `snapshotBytes` bytes; the log is truncated
 *   below min(snapshot index, `compactionWatermark()`) − `catchUpEntries`, never above a
 *   snapshot.
 */
export class RaftNode {
  private readonly logger: RaftLogger;
  private readonly sm: StateMachine;
  private readonly members = new Map<NodeId, PeerAddress>();
  /** Unique per process start, so request ids of an earlier incarnation never match. */
  private readonly incarnation: string;
  private seq = 0;
  private applied: number;
  private entriesSinceSnapshot = 0;
  private bytesSinceSnapshot = 0;
  private running = true;
  private loop: Promise<void> | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private readonly pending = new Map<number, Waiter<unknown>>();
  private readonly confWaiters = new Map<number, Waiter<void> & { change: MembershipChange }>();
  private readonly readCtx = new Map<string, Waiter<number>>();
  private readonly readWaiters: ReadWaiter[] = [];
  private readonly tickWaiters = new Set<() => void>();
  private badMessages = 0;
  /** Latest commit-only hard state not yet written (see handleReady). */
  private deferredHardState: HardState | undefined;
  private readonly timeoutMs: number;
  /** A snapshot was requested (`snapshotNow`), possibly forced. */
  private maintenanceRequested = false;
  private maintenanceForced = false;
  private maintenanceWaiters: (() => void)[] = [];
  /** Set once a fatal error stopped the node: nothing more is written. */
  private failed = false;
  /** A kick() arrived while the loop was finishing: run it again. */
  private rekick = false;
  /**
   * Pipeline (see {@link handlePipelinedReady}): Readys taken with `advanceAsync` whose write
   * is not yet durable, oldest first; `done` settles once its after-write work ran.
   */
  private readonly inflight: { firstIndex: number; lastIndex: number | undefined; done: Promise<void> }[] = [];
  /** Chain of after-write work, in Ready order. */
  private tail: Promise<void> = Promise.resolve();
  /** Last log index known durable (flushed) in the store. */
  private durableLast: number;
  /** Term and vote of the latest Ready handed to the store (all Readys in flight share them). */
  private handedTermVote: { term: number; vote: NodeId | null };
  /** Committed entries handed out but not yet applied (they wait for their write), in order. */
  private readonly applyQueue: Entry[] = [];

  private constructor(
    private readonly opts: RaftNodeOptions,
    private readonly store: LogStore,
    private readonly transport: TcpTransport,
    private readonly raw: RawNode,
    members: Map<NodeId, PeerAddress>,
  ) {
    this.logger = opts.logger ?? silentLogger;
    this.sm = opts.stateMachine;
    this.incarnation = `${opts.id}#${randomBytes(6).toString('hex')}`;
    this.applied = store.snapshot().metadata.index;
    this.timeoutMs = opts.operationTimeoutMs ?? 5000;
    this.durableLast = store.lastIndex();
    const hs = store.initialState().hardState;
    this.handedTermVote = { term: hs.term, vote: hs.vote };
    for (const [id, a] of members) this.members.set(id, a);
  }

  /** Opens the store (running its integrity checks), restores the latest snapshot, starts transport and ticks. */
  static async start(opts: RaftNodeOptions): Promise<RaftNode> {
    const logger = opts.logger ?? silentLogger;
    const store = await openLogStore(opts.storage ?? 'wal', {
      dir: opts.dataDir,
      // 'by-role' starts as a follower does; see onRoleChange.
      flushMode: opts.walFlushMode === 'threadpool' ? 'threadpool' : 'inline',
      bootstrap: opts.bootstrap ? { voters: opts.bootstrap, learners: [] } : undefined,
      keepSnapshots: opts.keepSnapshots,
      logger,
    });
    try {
      const snap = store.snapshot();
      const envelope = decodeSnapshotEnvelope(snap.data);
      if (envelope) opts.stateMachine.restore(envelope.app);
      const members = new Map<NodeId, PeerAddress>(Object.entries({ ...(envelope?.members ?? {}), ...opts.peers }));
      const transport = new TcpTransport({
        selfId: opts.id,
        listen: opts.listen,
        secret: opts.secret,
        peers: Object.fromEntries([...members].filter(([id]) => id !== opts.id)),
        logger,
        ...opts.transport,
      });
      const raw = new RawNode(
        {
          id: opts.id,
          electionTick: opts.electionTicks ?? 10,
          heartbeatTick: opts.heartbeatTicks ?? 1,
          random: Math.random,
          forwardProposals: true,
          appliedIndex: snap.metadata.index,
          ...opts.raft,
        },
        store,
      );
      const node = new RaftNode(opts, store, transport, raw, members);
      transport.onMessage((from, payload) => node.onWire(from, payload));
      const port = await transport.start();
      if (!node.members.has(opts.id) || opts.listen.port === 0) node.members.set(opts.id, { host: opts.listen.host, port });
      node.ticker = setInterval(() => node.onTick(), opts.tickMs ?? 50);
      logger.info({ id: opts.id, port, firstIndex: store.firstIndex(), lastIndex: store.lastIndex(), snapshot: snap.metadata.index }, 'raft node started');
      node.kick();
      return node;
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  get id(): NodeId {
    return this.opts.id;
  }

  /** Port the transport listens on. */
  get port(): number {
    return this.transport.port;
  }

  // ---- client operations -----------------------------------------------------------------

  /** Replicates `command`; resolves with the local `StateMachine.apply` result. */
  propose(command: Uint8Array): Promise<unknown> {
    return this.proposeEnvelope(ENVELOPE_COMMAND, command, 'propose');
  }

  /** Resolves with a read index once this node has applied up to it (linearizable read barrier). */
  readIndex(): Promise<number> {
    if (!this.running) return Promise.reject(new ShutdownError('read'));
    const key = `${this.incarnation}/${++this.seq}`;
    return new Promise<number>((resolve, reject) => {
      try {
        this.raw.readIndex(Buffer.from(key, 'latin1'));
      } catch (err) {
        reject(err as Error);
        return;
      }
      this.readCtx.set(key, { resolve, reject, deadline: performance.now() + this.timeoutMs, op: 'read' });
      this.kick();
    });
  }

  /** Runs `fn` against the state machine after a linearizable read barrier. */
  async read<T>(fn: () => T): Promise<T> {
    await this.readIndex();
    return fn();
  }

  /**
   * Adds a member (leader only): replicates its address, adds it as a learner, waits until it
   * has caught up with the commit index, then promotes it to voter (unless `asLearner`).
   */
  async addMember(id: NodeId, address: PeerAddress, options: { asLearner?: boolean } = {}): Promise<void> {
    this.requireLeader();
    await this.proposeEnvelope(ENVELOPE_MEMBER, encodeMemberRecord({ id, host: address.host, port: address.port }), 'add member address');
    if (!this.raw.confState().learners.includes(id) && !this.raw.confState().voters.includes(id)) {
      await this.proposeConfChange({ type: 'add-learner', node: id });
    }
    if (options.asLearner || this.raw.confState().voters.includes(id)) return;
    await this.waitUntil(
      () => {
        const st = this.raw.status();
        const pr = st.progress?.[id];
        return pr !== undefined && pr.match >= st.commit;
      },
      `catch-up of ${id}`,
    );
    await this.proposeConfChange({ type: 'promote', node: id });
  }

  /** Removes a member (leader only) and forgets its address. */
  async removeMember(id: NodeId): Promise<void> {
    this.requireLeader();
    await this.proposeConfChange({ type: 'remove', node: id });
    // A leader that removed itself no longer accepts proposals; the address record is only
    // bookkeeping, so it is skipped then.
    if (id !== this.id) await this.proposeEnvelope(ENVELOPE_MEMBER, encodeMemberRecord({ id, removed: true }), 'remove member address');
  }

  /** Hands leadership to `to`; resolves once this node sees `to` as leader. */
  async transferLeadership(to: NodeId): Promise<void> {
    this.assertRunning('transfer leadership');
    this.raw.transferLeadership(to);
    this.kick();
    // The core aborts a transfer after one election timeout (e.g. when the target had not yet
    // applied its own promotion and ignored MsgTimeoutNow); re-issue it until it lands.
    await this.waitUntil(() => {
      const s = this.raw.status();
      if (s.leader === to) return true;
      if (s.role === 'leader' && s.leadTransferee === null) {
        this.raw.transferLeadership(to);
        this.kick();
      }
      return false;
    }, `leadership transfer to ${to}`);
  }

  /** Starts an election now (e.g. to speed up a test); a no-op on leaders and learners. */
  campaign(): void {
    this.raw.campaign();
    this.kick();
  }

  /** Takes a snapshot now (if anything was applied since the last one) and compacts the log. */
  async snapshotNow(): Promise<void> {
    await this.enqueueMaintenance(true);
  }

  status(): NodeStatus {
    const s = this.raw.status();
    const peers: Record<NodeId, PeerStatus> = {};
    for (const [id, pr] of Object.entries(s.progress ?? {})) {
      peers[id] = {
        match: pr.match,
        next: pr.next,
        lag: Math.max(0, s.lastIndex - pr.match),
        state: pr.state,
        isLearner: pr.isLearner,
        connected: id === this.id || this.transport.isConnected(id),
      };
    }
    return {
      id: s.id,
      role: s.role,
      term: s.term,
      leader: s.leader,
      commit: s.commit,
      applied: this.applied,
      snapshotIndex: this.store.snapshot().metadata.index,
      firstIndex: this.store.firstIndex(),
      lastIndex: s.lastIndex,
      confState: s.confState,
      leadTransferee: s.leadTransferee,
      peers,
      members: Object.fromEntries(this.members),
      transport: this.transport.stats(),
      store: this.store instanceof WalLogStore ? { ...this.store.stats(), flushMode: this.store.flushMode } : this.store.stats(),
      badMessages: this.badMessages,
    };
  }

  /** Stops ticking, abandons pending operations with ShutdownError, closes transport and store. */
  async stop(): Promise<void> {
    if (!this.running) {
      if (this.loop) await this.loop;
      return;
    }
    this.running = false;
    clearInterval(this.ticker);
    const abandon = (waiters: Iterable<Waiter<never>>, op: string): void => {
      for (const w of waiters) {
        w.reject(new ShutdownError(op));
      }
    };
    abandon(this.pending.values(), 'propose');
    abandon(this.confWaiters.values(), 'membership change');
    abandon(this.readCtx.values(), 'read');
    abandon(this.readWaiters.map((r) => r.waiter), 'read');
    this.pending.clear();
    this.confWaiters.clear();
    this.readCtx.clear();
    this.readWaiters.length = 0;
    this.resolveMaintenance();
    for (const wake of this.tickWaiters) wake();
    await this.transport.close();
    while (this.loop) await this.loop;
    await this.tail.catch(() => undefined);
    if (this.deferredHardState && !this.failed) await this.store.setHardState(this.deferredHardState);
    await this.store.close();
    this.logger.info({ id: this.id }, 'raft node stopped');
  }

  // ---- the host loop ---------------------------------------------------------------------

  private onTick(): void {
    this.expireWaiters(performance.now());
    this.raw.tick();
    for (const wake of this.tickWaiters) wake();
    this.kick();
  }

  private onWire(from: string, payload: unknown): void {
    if (!this.running) return;
    const m = parseWireMessage(payload, from, this.id);
    if (typeof m === 'string') {
      this.badMessages++;
      this.logger.warn({ peer: from, reason: m }, 'raft node: refused message');
      return;
    }
    try {
      this.raw.step(m);
    } catch (err) {
      this.badMessages++;
      this.logger.warn({ peer: from, type: m.type, err: (err as Error).message }, 'raft node: step failed');
      return;
    }
    this.kick();
  }

  /**
   * Rejects with TimeoutError every waiter whose deadline passed (outcome unknown: a timed-out
   * proposal may still commit). `pending` and `readCtx` are in insertion order, hence in
   * deadline order (one timeout for all): the scan stops at the first live waiter.
   */
  private expireWaiters(now: number): void {
    const expireOrdered = <K, T>(map: Map<K, Waiter<T>>): void => {
      for (const [key, w] of map) {
        if (w.deadline > now) break;
        map.delete(key);
        w.reject(new TimeoutError(w.op, this.timeoutMs));
      }
    };
    expireOrdered(this.pending);
    expireOrdered(this.readCtx);
    for (const [index, w] of this.confWaiters) {
      if (w.deadline > now) continue;
      this.confWaiters.delete(index);
      w.reject(new TimeoutError(w.op, this.timeoutMs));
    }
    if (this.readWaiters.some((r) => r.waiter.deadline <= now)) {
      const live = this.readWaiters.filter((r) => r.waiter.deadline > now);
      const expired = this.readWaiters.filter((r) => r.waiter.deadline <= now);
      this.readWaiters.length = 0;
      this.readWaiters.push(...live);
      for (const r of expired) r.waiter.reject(new TimeoutError(r.waiter.op, this.timeoutMs));
    }
  }

  /** Ensures the loop runs; it drains every available Ready before going idle. */
  private kick(): void {
    if (!this.running) return;
    if (this.loop) {
      this.rekick = true;
      return;
    }
    this.rekick = false;
    this.loop = this.runLoop().finally(() => {
      this.loop = undefined;
      if (this.rekick) this.kick();
    });
  }

  private async runLoop(): Promise<void> {
    // Yield once so that a burst of proposals/messages in this event turn shares one Ready.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.running) {
        // Between Readys (never inside one): snapshot/compaction when due. Checked before
        // every Ready so that sustained load, which never lets the loop go idle, still
        // snapshots on schedule.
        if (this.maintenanceRequested || this.snapshotDue()) {
          await this.drainPipeline();
          const forced = this.maintenanceForced;
          this.maintenanceRequested = this.maintenanceForced = false;
          await this.maintain(forced);
          this.resolveMaintenance();
        }
        this.rekick = false;
        if (!this.raw.hasReady()) break;
        const rd = this.raw.ready();
        if (this.isBarrier(rd)) {
          // Elections, snapshots and membership changes take the strict path: nothing else
          // in flight, then persist → send → apply → advance.
          await this.drainPipeline();
          this.applyDurable();
          if (this.applyQueue.length > 0) {
            // Cannot happen (committed entries are never rewritten, so all are durable once
            // nothing is in flight); applying rd's entries now would break the apply order.
            throw new Error(`raft node: ${this.applyQueue.length} committed entries not durable after draining the pipeline (first ${this.applyQueue[0].index}, durable ${this.durableLast})`);
          }
          await this.handleReady(rd);
          this.raw.advance(rd);
          if (rd.hardState) this.handedTermVote = { term: rd.hardState.term, vote: rd.hardState.vote };
          if (rd.entries.length > 0) this.durableLast = rd.entries[rd.entries.length - 1].index;
          if (rd.snapshot && rd.entries.length === 0) this.durableLast = rd.snapshot.metadata.index;
          continue;
        }
        this.handlePipelinedReady(rd);
        // Bounded pipeline: wait for the oldest write when too many are in flight.
        if (this.inflight.length >= MAX_WRITES_IN_FLIGHT) await this.inflight[0].done;
      }
    } catch (err) {
      this.fatal(err as Error);
    }
  }

  /**
   * Whether `rd` must take the strict, unpipelined path: it installs a snapshot, changes term
   * or vote (its messages — votes above all — must not overtake that write, and the
   * pipeline's early sends rely on all writes in flight sharing one term and vote), or
   * carries a membership change to apply (the core counts handed-out entries as applied, so
   * the change must really be applied before the next Ready).
   */
  private isBarrier(rd: Ready): boolean {
    if (rd.snapshot) return true;
    if (rd.hardState && (rd.hardState.term !== this.handedTermVote.term || rd.hardState.vote !== this.handedTermVote.vote)) return true;
    return rd.committedEntries.some((e) => e.type === 'conf-change');
  }

  /**
   * Pipelined Ready (the core's `advanceAsync` contract; etcd's async storage writes, tikv's
   * numbered Readys): the write is queued to the store — which group-commits everything that
   * queued while its previous flush ran — and the loop goes on to the next Ready without
   * waiting for it. Per Ready, in this order:
   *
   * - now, even before the write is queued: `MsgApp`/`MsgHeartbeat` are sent (a leader's own
   *   entries count toward commit only after `onPersisted`, thesis §10.2.1), and forwarded
   *   `MsgProp`/`MsgReadIndex`; committed entries that are already durable (at or
   *   below the durable last index, below every in-flight write's first index) are applied
   *   and their callers answered; read states are queued;
   * - once this write AND every earlier one is durable (writes flush in order): `onPersisted`,
   *   then every other message (acks, votes, …) is sent and the committed entries that waited
   *   for it are applied.
   */
  private handlePipelinedReady(rd: Ready): void {
    if (rd.softState) {
      this.onRoleChange(rd.softState.role, rd.softState.leader);
    }
    // Replication first: the followers' network hop and flush are the longer path to commit.
    const afterWrite: Message[] = [];
    for (const m of rd.messages) {
      if (sendableBeforeWrite(m)) this.send(m);
      else afterWrite.push(m);
    }
    const needsWrite = rd.entries.length > 0 || rd.mustSync;
    let written: Promise<void> = Promise.resolve();
    if (needsWrite) {
      const hardState = rd.hardState ?? this.deferredHardState;
      this.deferredHardState = undefined;
      written = this.store.persist({ entries: rd.entries, hardState });
      written.catch(() => undefined); // observed below, in the chain
    } else if (rd.hardState) {
      // Commit-index only: rides along with the next durable write (see handleReady).
      this.deferredHardState = rd.hardState;
    }
    const firstIndex = rd.entries.length > 0 ? rd.entries[0].index : Number.POSITIVE_INFINITY;
    const lastIndex = rd.entries.length > 0 ? rd.entries[rd.entries.length - 1].index : undefined;
    const slot = { firstIndex, lastIndex, done: Promise.resolve() };
    this.inflight.push(slot);
    for (const e of rd.committedEntries) this.applyQueue.push(e);
    this.applyDurable();
    this.collectReadStates(rd);
    this.raw.advanceAsync(rd);
    const previous = this.tail;
    slot.done = this.tail = (async () => {
      await previous;
      await written;
      this.inflight.shift();
      if (lastIndex !== undefined) this.durableLast = lastIndex;
      this.raw.onPersisted(rd);
      if (!this.running) return;
      for (const m of afterWrite) this.send(m);
      this.applyDurable();
      this.serveReads();
      this.kick();
    })();
    // A failed write stops the node; later links of the chain see the rejection and skip.
    slot.done.catch((err: unknown) => this.fatal(err as Error));
  }

  /** Applies queued committed entries, in order, while each is durable and not being rewritten. */
  private applyDurable(): void {
    let bound = this.durableLast;
    for (const w of this.inflight) bound = Math.min(bound, w.firstIndex - 1);
    let n = 0;
    while (n < this.applyQueue.length && this.applyQueue[n].index <= bound) this.applyNormalEntry(this.applyQueue[n++]);
    if (n > 0) this.applyQueue.splice(0, n);
  }

  /** Waits until every pipelined write is durable and its after-write work done. */
  private async drainPipeline(): Promise<void> {
    while (this.inflight.length > 0) await this.tail;
  }

  /**
   * Performs one Ready. Order, and why each step may happen when it does:
   *
   * 1. The write (snapshot, entries, hard state) starts; one LMDB transaction, one flush.
   * 2. Replication messages (`MsgApp`, `MsgHeartbeat`) leave WITHOUT waiting for that flush
   *    when the Ready changes neither term nor vote: the core counts the leader's own entries
   *    toward the commit quorum only once `advance` reports them persisted (thesis §10.2.1),
   *    so followers store them in parallel with the leader's flush. Every other message —
   *    votes, append acknowledgements, anything of a Ready that changes term or vote or
   *    installs a snapshot — waits for the flush.
   * 3. While it is in flight, committed entries that are ALREADY durable locally (at or below
   *    the store's last index before this write, and below the first entry this write
   *    replaces) are applied and their callers answered. Entries of this Ready's write are
   *    applied only after the flush.
   * 4. After the flush: install the snapshot, send the remaining messages, apply the rest,
   *    serve reads. The caller then calls `advance`.
   */
  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState) {
      this.onRoleChange(rd.softState.role, rd.softState.leader);
    }
    const needsWrite = rd.snapshot !== undefined || rd.entries.length > 0 || rd.mustSync;
    if (!needsWrite) {
      // A commit-index-only change (mustSync false) is not written now: losing it in a crash
      // is harmless (the commit index is re-learned from the leader), so it rides along with
      // the next durable write — or the final one in stop().
      if (rd.hardState) this.deferredHardState = rd.hardState;
      for (const m of rd.messages) this.send(m);
      for (const e of rd.committedEntries) await this.applyEntry(e);
      this.collectReadStates(rd);
      return;
    }
    // Everything written before this Ready is flushed (the loop awaits every write), so the
    // store's current last index and hard state are durable.
    const durableLast = this.store.lastIndex();
    const durableHard = this.store.initialState().hardState;
    const termVoteUnchanged = rd.hardState === undefined || (rd.hardState.term === durableHard.term && rd.hardState.vote === durableHard.vote);
    // 1. The write starts (queued for the store's next group commit) …
    const hardState = rd.hardState ?? this.deferredHardState;
    this.deferredHardState = undefined;
    const written = this.store.persist({ snapshot: rd.snapshot, entries: rd.entries, hardState });
    // Observed at once so a failure during step 3 is never an unhandled rejection; the
    // `await written` below still throws it.
    written.catch(() => undefined);
    // 2. … and replication messages leave in parallel with it.
    const afterWrite: Message[] = [];
    const replicateNow = !rd.snapshot && termVoteUnchanged;
    for (const m of rd.messages) {
      if (replicateNow && (m.type === 'MsgApp' || m.type === 'MsgHeartbeat')) this.send(m);
      else afterWrite.push(m);
    }
    // 3. Apply what is already durable while the flush is in flight.
    let applied = 0;
    if (!rd.snapshot) {
      const firstReplaced = rd.entries.length > 0 ? rd.entries[0].index : Number.POSITIVE_INFINITY;
      const durableBound = Math.min(durableLast, firstReplaced - 1);
      while (applied < rd.committedEntries.length && rd.committedEntries[applied].index <= durableBound) {
        await this.applyEntry(rd.committedEntries[applied++]);
      }
    }
    await written;
    if (rd.snapshot) this.installSnapshot(rd.snapshot);
    // 4. Everything that depends on this write.
    for (const m of afterWrite) this.send(m);
    for (let i = applied; i < rd.committedEntries.length; i++) await this.applyEntry(rd.committedEntries[i]);
    this.collectReadStates(rd);
  }

  private onRoleChange(role: Role, leader: NodeId | null): void {
    this.logger.info({ id: this.id, role, leader }, 'raft node: role changed');
    if (this.opts.walFlushMode === 'by-role' || this.opts.walFlushMode === undefined) {
      if (this.store instanceof WalLogStore) this.store.setFlushMode(role === 'leader' ? 'threadpool' : 'inline');
    }
  }

  private collectReadStates(rd: Ready): void {
    for (const rs of rd.readStates) {
      const key = Buffer.from(rs.requestCtx).toString('latin1');
      const w = this.readCtx.get(key);
      if (!w) continue;
      this.readCtx.delete(key);
      this.readWaiters.push({ index: rs.index, waiter: w });
    }
    this.serveReads();
  }

  private send(m: Message): void {
    const forwarded = m.type === 'MsgProp' || m.type === 'MsgReadIndex';
    const onDrop = forwarded ? () => this.failUndelivered(m) : undefined;
    const ok = this.transport.send(m.to, m, onDrop);
    if (m.type === 'MsgSnap') this.raw.reportSnapshot(m.to, ok);
    else if (!ok && m.type === 'MsgApp') this.raw.reportUnreachable(m.to);
    else if (!ok) onDrop?.();
  }

  /**
   * A forwarded proposal or read the transport discarded unsent (the leader's link is down)
   * certainly never reached the leader: fail its waiters now with a retryable
   * ProposalDroppedError instead of letting them run into the timeout, so clients move on at
   * once. (Proposals that were sent stay pending: they may still commit.)
   */
  private failUndelivered(m: Message): void {
    if (!this.running) return;
    if (m.type === 'MsgReadIndex') {
      const key = m.entries[0] ? Buffer.from(m.entries[0].data).toString('latin1') : '';
      const w = this.readCtx.get(key);
      if (!w) return;
      this.readCtx.delete(key);
      w.reject(new ProposalDroppedError('no-leader'));
      return;
    }
    for (const e of m.entries) {
      const envelope = decodeEnvelope(e.data);
      if (!envelope || envelope.origin !== this.incarnation) continue;
      const w = this.pending.get(envelope.seq);
      if (!w) continue;
      this.pending.delete(envelope.seq);
      w.reject(new ProposalDroppedError('no-leader'));
    }
  }

  private installSnapshot(snapshot: Snapshot): void {
    const envelope = decodeSnapshotEnvelope(snapshot.data);
    this.sm.restore(envelope?.app ?? new Uint8Array(0));
    for (const [id, address] of Object.entries(envelope?.members ?? {})) this.learnMember({ id, ...address });
    this.applied = snapshot.metadata.index;
    this.entriesSinceSnapshot = 0;
    this.bytesSinceSnapshot = 0;
    this.logger.info({ id: this.id, index: snapshot.metadata.index }, 'raft node: installed snapshot from leader');
  }

  private async applyEntry(e: Entry): Promise<void> {
    if (e.type !== 'conf-change') {
      this.applyNormalEntry(e);
      return;
    }
    if (e.index <= this.applied) return;
    const change = decodeMembershipChange(e.data);
    const confState = this.raw.applyConfChange(e);
    await this.store.setConfState(confState);
    if (change.type === 'remove' && change.node !== this.id) this.transport.removePeer(change.node);
    this.logger.info({ id: this.id, change, confState }, 'raft node: membership changed');
    this.finishApply(e);
  }

  /** Applies a normal (non-membership) committed entry synchronously and answers its caller. */
  private applyNormalEntry(e: Entry): void {
    if (e.index <= this.applied) return;
    if (e.data.byteLength > 0) {
      const envelope = decodeEnvelope(e.data);
      if (!envelope) {
        this.logger.warn({ index: e.index }, 'raft node: skipping entry without a driver envelope');
      } else {
        let result: unknown;
        let error: Error | undefined;
        if (envelope.kind === ENVELOPE_COMMAND) {
          try {
            result = this.sm.apply(envelope.body, { index: e.index, term: e.term });
          } catch (err) {
            error = err as Error;
          }
        } else {
          const record = decodeMemberRecord(envelope.body);
          if (record) this.learnMember(record);
        }
        if (envelope.origin === this.incarnation) {
          const w = this.pending.get(envelope.seq);
          if (w) {
            this.pending.delete(envelope.seq);
            if (error) w.reject(error);
            else w.resolve(result);
          }
        }
      }
    }
    this.finishApply(e);
  }

  private finishApply(e: Entry): void {
    const confWaiter = this.confWaiters.get(e.index);
    if (confWaiter) {
      this.confWaiters.delete(e.index);
      if (e.type === 'conf-change' && sameChange(decodeMembershipChange(e.data), confWaiter.change)) confWaiter.resolve();
      else confWaiter.reject(new NotLeaderError(this.id, this.raw.status().leader, this.raw.status().term));
    }
    this.applied = e.index;
    this.entriesSinceSnapshot++;
    this.bytesSinceSnapshot += e.data.byteLength;
  }

  /**
   * Records a member address learned from the log or a snapshot. Addresses given in the
   * node's own configuration (`peers`) win: an operator (or a test's fault proxy) may route a
   * peer differently from how it advertises itself.
   */
  private learnMember(record: MemberRecord): void {
    if (record.id in this.opts.peers && !record.removed) return;
    if (record.removed) {
      this.members.delete(record.id);
      if (record.id !== this.id) this.transport.removePeer(record.id);
      return;
    }
    if (record.host === undefined || record.port === undefined) return;
    const address = { host: record.host, port: record.port };
    this.members.set(record.id, address);
    if (record.id !== this.id) this.transport.setPeer(record.id, address);
  }

  private serveReads(): void {
    if (this.readWaiters.length === 0) return;
    const ready = this.readWaiters.filter((w) => w.index <= this.applied);
    if (ready.length === 0) return;
    const rest = this.readWaiters.filter((w) => w.index > this.applied);
    this.readWaiters.length = 0;
    this.readWaiters.push(...rest);
    for (const r of ready) r.waiter.resolve(r.index);
  }

  // ---- snapshots and compaction ------------------------------------------------------------

  private enqueueMaintenance(force: boolean): Promise<void> {
    this.assertRunning('snapshot');
    this.maintenanceRequested = true;
    this.maintenanceForced ||= force;
    const done = new Promise<void>((r) => this.maintenanceWaiters.push(r));
    this.kick();
    return done;
  }

  private resolveMaintenance(): void {
    const waiters = this.maintenanceWaiters;
    this.maintenanceWaiters = [];
    for (const w of waiters) w();
  }

  private snapshotDue(): boolean {
    return this.entriesSinceSnapshot >= (this.opts.snapshotEntries ?? 10_000) || this.bytesSinceSnapshot >= (this.opts.snapshotBytes ?? 64 * 1024 * 1024);
  }

  private async maintain(force: boolean): Promise<void> {
    const snapIndex = this.store.snapshot().metadata.index;
    if ((force || this.snapshotDue()) && this.applied > snapIndex) {
      const data = encodeSnapshotEnvelope({ members: Object.fromEntries(this.members), app: this.sm.snapshot() });
      await this.store.createSnapshot(this.applied, this.raw.confState(), data);
      this.entriesSinceSnapshot = 0;
      this.bytesSinceSnapshot = 0;
      this.logger.info({ id: this.id, index: this.applied, bytes: data.byteLength }, 'raft node: snapshot taken');
    }
    const watermark = this.opts.compactionWatermark?.() ?? Number.POSITIVE_INFINITY;
    const target = Math.min(this.store.snapshot().metadata.index, watermark) - (this.opts.catchUpEntries ?? 1000);
    if (target > this.store.firstIndex() - 1 && target <= this.store.lastIndex()) {
      await this.store.compact(target);
      this.logger.debug({ id: this.id, firstIndex: target + 1 }, 'raft node: log compacted');
    }
  }

  // ---- helpers ---------------------------------------------------------------------------

  private proposeEnvelope(kind: typeof ENVELOPE_COMMAND | typeof ENVELOPE_MEMBER, body: Uint8Array, op: string): Promise<unknown> {
    if (!this.running) return Promise.reject(new ShutdownError(op));
    const seq = ++this.seq;
    const data = encodeEnvelope({ kind, origin: this.incarnation, seq, body });
    return new Promise<unknown>((resolve, reject) => {
      try {
        this.raw.propose(data);
      } catch (err) {
        reject(err as Error);
        return;
      }
      this.pending.set(seq, { resolve, reject, deadline: performance.now() + this.timeoutMs, op });
      this.kick();
    });
  }

  private proposeConfChange(change: MembershipChange): Promise<void> {
    const index = this.raw.proposeMembershipChange(change);
    if (index === null) return Promise.reject(new NotLeaderError(this.id, this.raw.status().leader, this.raw.status().term));
    return new Promise<void>((resolve, reject) => {
      this.confWaiters.set(index, { resolve, reject, deadline: performance.now() + this.timeoutMs, op: `membership change ${change.type} ${change.node}`, change });
      this.kick();
    });
  }

  private requireLeader(): void {
    this.assertRunning('membership change');
    const s = this.raw.status();
    if (s.role !== 'leader') throw new NotLeaderError(this.id, s.leader, s.term);
  }

  private assertRunning(op: string): void {
    if (!this.running) throw new ShutdownError(op);
  }

  /** Re-checks `cond` on every tick until it holds; TimeoutError after the operation timeout. */
  private waitUntil(cond: () => boolean, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!this.running) finish(new ShutdownError(what));
        else if (cond()) finish();
      };
      const finish = (err?: Error): void => {
        this.tickWaiters.delete(check);
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => finish(new TimeoutError(what, this.timeoutMs)), this.timeoutMs);
      this.tickWaiters.add(check);
    });
  }

  private fatal(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.logger.error({ id: this.id, err: err.message, stack: err.stack }, 'raft node: fatal error, stopping');
    this.opts.onFatal?.(err);
    this.stop().catch((stopErr: unknown) => this.logger.error({ id: this.id, err: (stopErr as Error).message }, 'raft node: error while stopping after a fatal error'));
  }
}

/**
 * Messages of a pipelined Ready that may leave before its write (and earlier ones) is
 * durable: a leader's appends and heartbeats (its own entries count toward commit only once
 * persisted) and forwarded requests (they carry only the client's data). Acknowledgements,
 * votes and everything else wait.
 */
function sendableBeforeWrite(m: Message): boolean {
  return m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgProp' || m.type === 'MsgReadIndex';
}

/** Readys whose write may be in flight at once (each group-commits what queued behind it). */
const MAX_WRITES_IN_FLIGHT = 8;

function sameChange(a: MembershipChange, b: MembershipChange): boolean {
  return a.type === b.type && a.node === b.node;
}
