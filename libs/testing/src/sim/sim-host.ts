import {
  MemoryStorage,
  type ConfState,
  type Entry,
  type MembershipChange,
  type Message,
  type NodeId,
  type RaftTestFaults,
  type Ready,
  type Role,
  type Snapshot,
} from '@flotilla/raft';
import { InvariantViolation, type LogView, type SafetyInvariants } from './invariants';
import { decodePut, KvStateMachine, type KvPutCommand } from './kv-state-machine';
import type { RaftNodeFactory, SimRaftNode } from './sim-raft-node';
import type { SeededRandom } from './seeded-random';

/** Faults of the host (not the core): (c) acknowledging appends before they are durable. */
export interface HostFaults {
  /** Send a Ready's messages before its entries and hard state are persisted (bug (c)). */
  readonly ackBeforePersist?: boolean;
}

/** What a host needs from the simulated world around it. */
export interface HostEnvironment {
  readonly random: SeededRandom;
  readonly invariants: SafetyInvariants;
  readonly hostFaults: HostFaults;
  readonly coreFaults: RaftTestFaults;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly maxSizePerMsg: number;
  /** Followers forward client proposals to the leader (MsgProp) instead of refusing them. */
  readonly forwardProposals: boolean;
  /** Take a snapshot whenever the applied index is a multiple of this; keep this many entries behind it. */
  readonly snapshotEvery: number;
  readonly snapshotTail: number;
  fsyncLatency(): number;
  send(message: Message): void;
  scheduleDiskCompletion(node: NodeId, generation: number, delay: number): void;
  onWriteApplied(node: NodeId, cmd: KvPutCommand, entry: Entry): void;
  onReadServed(node: NodeId, ctx: string, value: string | null): void;
  /** This node just became leader (observed in a Ready). */
  onBecameLeader(node: NodeId): void;
  /** A client request held during a pause was refused when the node resumed (it had no effect). */
  onRequestRefused(node: NodeId, ctx: string): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One simulated server: a Raft node, its durable storage (a {@link MemoryStorage} that only
 * receives writes once their simulated fsync completes), its volatile state machine, and the
 * host loop in etcd's order — persist, then send, then apply, then advance.
 *
 * A crash throws away everything volatile: the node, the Ready being persisted, the state
 * machine and pending reads. A restart rebuilds the node from durable storage and the state
 * machine from the durable snapshot (committed entries after it are re-applied).
 */
export class SimHost {
  readonly storage: MemoryStorage;
  private node: SimRaftNode | null = null;
  private readonly kv = new KvStateMachine();
  private applied = 0;
  private confState: ConfState;
  private persisting: Ready | null = null;
  private generation = 0;
  private currentRole: Role = 'follower';
  private currentTerm = 0;
  private currentLeader: NodeId | null = null;
  /** Highest commit index this incarnation has reported in a Ready. */
  private commitSeen = 0;
  private paused = false;
  /** What reached the node while it was paused, in arrival order: peer messages and client requests. */
  private readonly inbox: Array<{ readonly message: Message } | { readonly request: () => void }> = [];
  private readonly pendingReads = new Map<string, { key: string }>();
  private readonly readyReads: Array<{ index: number; ctx: string }> = [];
  /** Number of times this host crashed. */
  crashes = 0;
  /** Committed commands this host's state machine ignored as duplicates (same client request twice). */
  duplicatesIgnored = 0;

  constructor(
    readonly id: NodeId,
    voters: readonly NodeId[],
    private readonly factory: RaftNodeFactory,
    private readonly env: HostEnvironment,
  ) {
    this.confState = { voters: [...voters], learners: [] };
    this.storage = new MemoryStorage({ confState: this.confState });
  }

  get isUp(): boolean {
    return this.node !== null;
  }

  /** Whether a Ready is waiting for its simulated fsync (a crash now loses it). */
  get isWritingToDisk(): boolean {
    return this.persisting !== null;
  }

  /** Number of entries in the Ready being persisted (0 if none). */
  get entriesBeingWritten(): number {
    return this.persisting?.entries.length ?? 0;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get role(): Role {
    return this.currentRole;
  }

  get term(): number {
    return this.currentTerm;
  }

  get leaderHint(): NodeId | null {
    return this.currentLeader;
  }

  get appliedIndex(): number {
    return this.applied;
  }

  get stateFingerprint(): string {
    return this.kv.fingerprint();
  }

  get membership(): ConfState {
    return this.confState;
  }

  /** The node's status, or null while it is down. */
  status(): ReturnType<SimRaftNode['status']> | null {
    return this.node ? this.node.status() : null;
  }

  /** Builds the node from durable storage (first start and every restart). */
  start(): void {
    if (this.node) return;
    const snapshot = this.storage.snapshot();
    this.kv.restore(snapshot.data);
    this.applied = snapshot.metadata.index;
    this.confState = snapshot.metadata.confState;
    this.currentTerm = this.storage.initialState().hardState.term;
    this.commitSeen = this.storage.initialState().hardState.commit;
    this.currentRole = 'follower';
    this.currentLeader = null;
    this.node = this.factory(
      {
        id: this.id,
        electionTick: this.env.electionTick,
        heartbeatTick: this.env.heartbeatTick,
        random: this.env.random.fork().asFunction(),
        preVote: true,
        checkQuorum: true,
        maxSizePerMsg: this.env.maxSizePerMsg,
        forwardProposals: this.env.forwardProposals,
        appliedIndex: this.applied,
        testFaults: this.env.coreFaults,
      },
      this.storage,
    );
    this.drive();
  }

  /** Loses everything that is not durable. Returns the read contexts that will never be answered. */
  /**
   * Loses everything that is not durable. `tornEntries` > 0 models a torn write: that many
   * leading entries of the Ready being persisted did reach the disk (never its hard state or
   * snapshot, and nothing was acknowledged for them).
   */
  crash(tornEntries = 0): void {
    const rd = this.persisting;
    if (rd && tornEntries > 0 && rd.snapshot === undefined && rd.entries.length > 0) {
      this.persist({ ...rd, entries: rd.entries.slice(0, tornEntries), hardState: undefined });
    }
    this.node = null;
    this.persisting = null;
    this.generation++;
    this.paused = false;
    this.inbox.length = 0;
    this.pendingReads.clear();
    this.readyReads.length = 0;
    this.currentRole = 'follower';
    this.currentLeader = null;
    this.crashes++;
  }

  pause(): void {
    if (this.node) this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.inbox.splice(0);
    for (const item of held) {
      if (!this.node) return;
      if ('message' in item) this.core((n) => n.step(item.message));
      else item.request();
    }
    this.drive();
  }

  tick(): void {
    if (!this.node || this.paused) return;
    this.core((n) => n.tick());
    this.drive();
  }

  receive(message: Message): void {
    if (!this.node) return;
    if (this.paused) {
      this.inbox.push({ message });
      return;
    }
    this.core((n) => n.step(message));
    this.drive();
  }

  /**
   * Proposes a client write; returns an error reason if it definitely did not enter the log.
   * With forwarding, a follower that knows a leader passes it on (MsgProp) — it may then be
   * lost, so its outcome is unknown until this node applies it.
   */
  proposePut(data: Uint8Array, ctx: string): string | null {
    if (!this.node) return 'unavailable';
    if (this.paused) return this.hold(ctx, () => this.proposePut(data, ctx));
    if (this.currentRole !== 'leader' && !(this.env.forwardProposals && this.currentLeader !== null)) return 'not-leader';
    const node = this.node;
    try {
      node.propose(data);
    } catch (err) {
      if (err instanceof Error && 'code' in err) return String((err as Error & { code: unknown }).code);
      throw err;
    }
    this.drive();
    return null;
  }

  /**
   * Starts a linearizable read; the answer comes through `onReadServed` (or never). On a
   * follower the core forwards the request to the leader (MsgReadIndex) and the read is
   * served locally once this node has applied up to the returned index.
   */
  requestRead(ctx: string, key: string): string | null {
    if (!this.node) return 'unavailable';
    if (this.paused) return this.hold(ctx, () => this.requestRead(ctx, key));
    if (this.currentRole !== 'leader' && this.currentLeader === null) return 'not-leader';
    const node = this.node;
    this.pendingReads.set(ctx, { key });
    try {
      node.readIndex(encoder.encode(ctx));
    } catch (err) {
      this.pendingReads.delete(ctx);
      if (err instanceof Error && 'code' in err) return String((err as Error & { code: unknown }).code);
      throw err;
    }
    this.drive();
    return null;
  }

  /**
   * A paused (stalled) process still has requests queue up in its socket: they are handled, in
   * arrival order with the peer messages, when it resumes — by a node that may no longer lead.
   */
  private hold(ctx: string, submit: () => string | null): null {
    this.inbox.push({
      request: () => {
        if (submit() !== null) this.env.onRequestRefused(this.id, ctx);
      },
    });
    return null;
  }

  /** Asks the leader to hand leadership to `to`; errors (not leader, transfer pending) are ignored. */
  transferLeadership(to: NodeId): void {
    if (!this.node || this.paused || this.currentRole !== 'leader') return;
    const node = this.node;
    try {
      node.transferLeadership(to);
    } catch (err) {
      if (!(err instanceof Error && 'code' in err)) throw err;
    }
    this.drive();
  }

  /** Proposes a membership change on the leader; typed refusals are ignored. */
  proposeMembershipChange(change: MembershipChange): boolean {
    if (!this.node || this.paused || this.currentRole !== 'leader') return false;
    const node = this.node;
    try {
      node.proposeMembershipChange(change);
    } catch (err) {
      if (err instanceof Error && 'code' in err) return false;
      throw err;
    }
    this.drive();
    return true;
  }

  /** A snapshot delivery to `peer` finished (or failed); tells the leader, as a transport would. */
  reportSnapshot(peer: NodeId, failed: boolean): void {
    if (!this.node || this.paused) return;
    this.core((n) => n.reportSnapshot(peer, !failed));
    this.drive();
  }

  /** The simulated fsync of the Ready being persisted completed. Ignored if the host crashed meanwhile. */
  onDiskCompletion(generation: number): void {
    if (generation !== this.generation || !this.node || !this.persisting) return;
    const rd = this.persisting;
    this.persisting = null;
    this.persist(rd);
    this.finish(rd, !this.env.hostFaults.ackBeforePersist);
    this.drive();
  }

  /** The node's log as far as the host can see it (durable storage overlaid with the Ready being persisted). */
  logView(): LogView {
    return this.viewWith(this.persisting);
  }

  private viewWith(rd: Ready | null): LogView {
    const storage = this.storage;
    const snap = rd?.snapshot?.metadata;
    const overlay = rd?.entries ?? [];
    return {
      termAt(index: number): number | undefined {
        if (overlay.length > 0 && index >= overlay[0].index) return overlay[index - overlay[0].index]?.term;
        if (snap) {
          if (index === snap.index) return snap.term;
          return undefined;
        }
        if (index < storage.firstIndex() - 1 || index > storage.lastIndex()) return undefined;
        return storage.term(index);
      },
    };
  }

  /** The host loop: take Readies while not waiting on the disk. */
  private drive(): void {
    while (this.node && !this.paused && this.persisting === null && this.node.hasReady()) {
      const node = this.node;
      const rd = this.core(() => node.ready());
      this.observe(rd);
      const early = this.env.hostFaults.ackBeforePersist === true;
      if (early) this.sendAll(rd.messages);
      const needsDisk = rd.entries.length > 0 || rd.hardState !== undefined || rd.snapshot !== undefined;
      if (needsDisk) {
        this.persisting = rd;
        this.env.scheduleDiskCompletion(this.id, this.generation, this.env.fsyncLatency());
        return;
      }
      this.finish(rd, !early);
    }
  }

  private observe(rd: Ready): void {
    if (rd.hardState) this.currentTerm = rd.hardState.term;
    if (rd.softState) {
      const becameLeader = rd.softState.role === 'leader' && this.currentRole !== 'leader';
      this.currentRole = rd.softState.role;
      this.currentLeader = rd.softState.leader;
      if (becameLeader) {
        this.env.invariants.onLeader(this.id, this.currentTerm, this.viewWith(rd));
        this.env.onBecameLeader(this.id);
      }
    }
  }

  /**
   * A leader's commit advance counts once the Ready carrying it is durable: a leader counts its
   * own copy of an entry before persisting it, so in a one-voter cluster a commit index can run
   * ahead of the disk — a crash then loses both, which is not a lost commit (nothing was applied,
   * acknowledged or sent).
   */
  private recordCommit(rd: Ready): void {
    if (!rd.hardState || rd.hardState.commit <= this.commitSeen) return;
    if (this.currentRole === 'leader') this.env.invariants.onCommit(this.id, this.currentTerm, this.commitSeen, rd.hardState.commit, this.logView());
    this.commitSeen = rd.hardState.commit;
  }

  private persist(rd: Ready): void {
    if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) {
      const prevIndex = rd.entries[0].index - 1;
      let prevTerm: number | undefined;
      if (prevIndex >= this.storage.firstIndex() - 1 && prevIndex <= this.storage.lastIndex()) prevTerm = this.storage.term(prevIndex);
      this.storage.append(rd.entries);
      this.env.invariants.onPersist(this.id, rd.entries, prevTerm);
    }
    if (rd.hardState) this.storage.setHardState(rd.hardState);
  }

  /** Steps 2–4 of the host loop: send, apply, serve reads, advance. */
  private finish(rd: Ready, send: boolean): void {
    const node = this.node;
    if (!node) return;
    this.recordCommit(rd);
    if (send) this.sendAll(rd.messages);
    if (rd.snapshot) this.installSnapshot(rd.snapshot);
    for (const e of rd.committedEntries) this.applyEntry(node, e);
    for (const rs of rd.readStates) {
      const ctx = decoder.decode(rs.requestCtx);
      if (this.pendingReads.has(ctx)) this.readyReads.push({ index: rs.index, ctx });
    }
    this.serveReads();
    this.core((n) => n.advance(rd));
  }

  private sendAll(messages: readonly Message[]): void {
    for (const m of messages) this.env.send(m);
  }

  private installSnapshot(snapshot: Snapshot): void {
    if (snapshot.metadata.index <= this.applied) return;
    this.kv.restore(snapshot.data);
    this.applied = snapshot.metadata.index;
    this.confState = snapshot.metadata.confState;
    this.env.invariants.onSnapshotState(this.id, this.applied, this.kv.fingerprint());
  }

  private applyEntry(node: SimRaftNode, e: Entry): void {
    if (e.index <= this.applied) return;
    if (e.index !== this.applied + 1) throw new InvariantViolation('core-exception', `node ${this.id} was given entry ${e.index} to apply after ${this.applied}`);
    this.env.invariants.onApply(this.id, e);
    this.applied = e.index;
    if (e.type === 'normal') {
      const cmd = decodePut(e.data);
      if (cmd && this.kv.apply(cmd)) this.env.onWriteApplied(this.id, cmd, e);
      else if (cmd) this.duplicatesIgnored++;
    } else {
      this.confState = this.core(() => node.applyConfChange(e));
      // Durable with the apply, so a restart whose snapshot already covers this entry (and so
      // will not re-apply it) still starts with the right membership.
      this.storage.setConfState(this.confState);
    }
    if (this.applied % this.env.snapshotEvery === 0) this.takeSnapshot();
  }

  private takeSnapshot(): void {
    const index = this.applied;
    if (index <= this.storage.snapshot().metadata.index || index > this.storage.lastIndex()) return;
    this.storage.createSnapshot(index, this.confState, this.kv.snapshot());
    const compactTo = index - this.env.snapshotTail;
    if (compactTo > this.storage.firstIndex() - 1) this.storage.compact(compactTo);
    this.env.invariants.onSnapshotState(this.id, index, this.kv.fingerprint());
  }

  private serveReads(): void {
    if (this.readyReads.length === 0) return;
    const still: Array<{ index: number; ctx: string }> = [];
    for (const r of this.readyReads) {
      const pending = this.pendingReads.get(r.ctx);
      if (!pending) continue;
      if (r.index <= this.applied) {
        this.pendingReads.delete(r.ctx);
        this.env.onReadServed(this.id, r.ctx, this.kv.get(pending.key));
      } else still.push(r);
    }
    this.readyReads.length = 0;
    this.readyReads.push(...still);
  }

  /** Runs a core call; an exception escaping the core is itself a failure of the run. */
  private core<T>(call: (node: SimRaftNode) => T): T {
    const node = this.node;
    if (!node) throw new InvariantViolation('core-exception', `node ${this.id} is down`);
    try {
      return call(node);
    } catch (err) {
      if (err instanceof InvariantViolation) throw err;
      const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new InvariantViolation('core-exception', `node ${this.id}: ${detail}`);
    }
  }
}
