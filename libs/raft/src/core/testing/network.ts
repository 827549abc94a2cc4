import type { RaftConfig, RaftTestFaults } from '../config';
import { MemoryStorage } from '../memory-storage';
import { RawNode } from '../raw-node';
import type { ConfState, Entry, Message, MessageType, NodeId, ReadState, Ready } from '../types';

/** Seeded PRNG (mulberry32): deterministic `random` for RaftConfig in tests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const bytes = (s: string): Uint8Array => encoder.encode(s);
export const text = (b: Uint8Array): string => decoder.decode(b);

/** One simulated peer: its RawNode, its "disk" and what it applied. */
export interface Peer {
  node: RawNode;
  readonly storage: MemoryStorage;
  /** Every entry applied, in order (including empty and conf-change entries). */
  applied: Entry[];
  readStates: ReadState[];
  /** Index of the last applied entry (including via snapshot). */
  appliedIndex: number;
  config: RaftConfig;
}

/** Options for {@link Network}: cluster members and per-node config overrides. */
export interface NetworkOptions {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /** Nodes that exist (and receive messages) but start with an empty configuration (to be added later). */
  readonly joiners?: readonly NodeId[];
  readonly seed?: number;
  readonly config?: Partial<Omit<RaftConfig, 'id' | 'random'>>;
  readonly perNode?: Readonly<Record<NodeId, Partial<Omit<RaftConfig, 'id' | 'random'>>>>;
  readonly faults?: RaftTestFaults;
  /** Called with each node's fresh storage before its RawNode is created (to preload logs). */
  readonly setup?: (id: NodeId, storage: MemoryStorage) => void;
}

/**
 * A synchronous in-memory network of RawNodes for unit tests (like etcd's raft_test.go
 * `newNetwork`). The host loop it runs per node follows the Ready contract exactly: persist
 * snapshot, entries and hard state into MemoryStorage → queue messages → apply committed
 * entries (conf changes via applyConfChange) → advance. Messages are delivered only by
 * {@link deliverAll}/{@link stabilize}/{@link deliverWhere}, so a test can hold, drop or
 * reorder them. A crashed node loses its un-persisted state only (its MemoryStorage survives).
 */
export class Network {
  readonly peers = new Map<NodeId, Peer>();
  /**
   * Safety violations observed so far: two different entries applied at one index (State
   * Machine Safety, across nodes and restarts) or two leaders in one term (Election Safety).
   */
  readonly violations: string[] = [];
  private readonly appliedAt = new Map<number, { id: NodeId; term: number; data: string }>();
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Messages sent but not yet delivered, in send order. */
  queue: Message[] = [];
  /** Every message that was delivered (for traces and flow-control assertions). */
  readonly delivered: Message[] = [];
  private readonly cut = new Set<string>();
  private readonly down = new Set<NodeId>();
  private readonly random: () => number;
  /** Drop filter: return true to drop a message before it is queued. */
  dropFilter: ((m: Message) => boolean) | null = null;
  /** Rewrite hook applied to each sent message after the drop filter; return null to drop. */
  rewrite: ((m: Message) => Message | null) | null = null;

  constructor(readonly opts: NetworkOptions) {
    this.random = seededRandom(opts.seed ?? 1);
    const confState: ConfState = { voters: [...opts.voters], learners: [...(opts.learners ?? [])] };
    for (const id of [...opts.voters, ...(opts.learners ?? [])]) this.addPeer(id, new MemoryStorage({ confState }));
    for (const id of opts.joiners ?? []) this.addPeer(id, new MemoryStorage());
  }

  private preload(id: NodeId, storage: MemoryStorage): MemoryStorage {
    this.opts.setup?.(id, storage);
    return storage;
  }

  private configFor(id: NodeId): RaftConfig {
    return {
      electionTick: 10,
      heartbeatTick: 1,
      ...this.opts.config,
      ...this.opts.perNode?.[id],
      id,
      random: this.random,
      testFaults: this.opts.faults,
    };
  }

  private addPeer(id: NodeId, fresh: MemoryStorage): void {
    const storage = this.preload(id, fresh);
    const config = this.configFor(id);
    this.peers.set(id, { node: new RawNode(config, storage), storage, applied: [], readStates: [], appliedIndex: 0, config });
  }

  peer(id: NodeId): Peer {
    const p = this.peers.get(id);
    if (!p) throw new Error(`no peer ${id}`);
    return p;
  }

  node(id: NodeId): RawNode {
    return this.peer(id).node;
  }

  /** Cut the link between a and b in both directions. */
  partition(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}->${b}`);
    this.cut.add(`${b}->${a}`);
  }

  /** Cut every link of `id`. */
  isolate(id: NodeId): void {
    for (const other of this.peers.keys()) if (other !== id) this.partition(id, other);
  }

  /** Split into two groups that cannot talk to each other. */
  split(groupA: readonly NodeId[], groupB: readonly NodeId[]): void {
    for (const a of groupA) for (const b of groupB) this.partition(a, b);
  }

  heal(): void {
    this.cut.clear();
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.has(`${from}->${to}`);
  }

  /** Crash a node: un-persisted state is lost, messages to it are dropped until restart. */
  crash(id: NodeId): void {
    this.down.add(id);
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
  }

  /** Restart a crashed node from its MemoryStorage. */
  restart(id: NodeId, overrides: Partial<Omit<RaftConfig, 'id' | 'random'>> = {}): void {
    const p = this.peer(id);
    this.down.delete(id);
    const snapIndex = p.storage.snapshot().metadata.index;
    p.config = { ...this.configFor(id), ...overrides };
    // The in-test state machine restarts from the snapshot and replays committed entries.
    p.applied = p.applied.filter((e) => e.index <= snapIndex);
    p.appliedIndex = snapIndex;
    p.node = new RawNode({ ...p.config, appliedIndex: snapIndex }, p.storage);
  }

  isDown(id: NodeId): boolean {
    return this.down.has(id);
  }

  /** Run the host loop for one node until it has no Ready; its messages join the queue. */
  flush(id: NodeId): void {
    const p = this.peer(id);
    if (this.down.has(id)) return;
    while (p.node.hasReady()) {
      const rd = p.node.ready();
      this.handleReady(p, rd);
    }
    if (p.node.isLeader()) {
      const term = p.node.status().term;
      const seen = this.leaderOfTerm.get(term);
      if (seen === undefined) this.leaderOfTerm.set(term, id);
      else if (seen !== id) this.violations.push(`term ${term}: both ${seen} and ${id} were leader`);
    }
  }

  private handleReady(p: Peer, rd: Ready): void {
    // 1. persist
    if (rd.snapshot) {
      p.storage.applySnapshot(rd.snapshot);
      p.appliedIndex = rd.snapshot.metadata.index;
    }
    p.storage.append(rd.entries);
    if (rd.hardState) p.storage.setHardState(rd.hardState);
    // 2. send
    for (const m of rd.messages) {
      if (this.dropFilter?.(m)) continue;
      const out = this.rewrite ? this.rewrite(m) : m;
      if (out) this.queue.push(out);
    }
    // 3. apply
    for (const e of rd.committedEntries) {
      if (e.type === 'conf-change') {
        const cs = p.node.applyConfChange(e);
        p.storage.setConfState(cs);
      }
      p.applied.push(e);
      p.appliedIndex = e.index;
      this.checkApplied(p.node.id, e);
    }
    for (const rs of rd.readStates) p.readStates.push(rs);
    // 4. advance
    p.node.advance(rd);
  }

  private checkApplied(id: NodeId, e: Entry): void {
    const data = text(e.data);
    const seen = this.appliedAt.get(e.index);
    if (!seen) this.appliedAt.set(e.index, { id, term: e.term, data });
    else if (seen.term !== e.term || seen.data !== data) {
      this.violations.push(
        `index ${e.index}: ${seen.id} applied (term ${seen.term}, "${seen.data}") but ${id} applied (term ${e.term}, "${data}")`,
      );
    }
  }

  flushAll(): void {
    for (const id of this.peers.keys()) this.flush(id);
  }

  /** Deliver one message now (if its link is up and target alive). Returns whether it was stepped. */
  deliver(m: Message): boolean {
    if (this.down.has(m.to) || this.down.has(m.from) || this.isCut(m.from, m.to)) return false;
    const p = this.peers.get(m.to);
    if (!p) return false;
    this.delivered.push(m);
    p.node.step(m);
    return true;
  }

  /** Deliver every queued message matching `pred` (others stay queued); returns how many were delivered. */
  deliverWhere(pred: (m: Message) => boolean): number {
    const take = this.queue.filter(pred);
    this.queue = this.queue.filter((m) => !pred(m));
    let n = 0;
    for (const m of take) if (this.deliver(m)) n++;
    return n;
  }

  /** Discard queued messages matching `pred`. */
  dropWhere(pred: (m: Message) => boolean): number {
    const before = this.queue.length;
    this.queue = this.queue.filter((m) => !pred(m));
    return before - this.queue.length;
  }

  /** Flush all nodes, then deliver everything queued (one round). */
  deliverAll(): number {
    this.flushAll();
    const batch = this.queue;
    this.queue = [];
    let n = 0;
    for (const m of batch) if (this.deliver(m)) n++;
    this.flushAll();
    return n;
  }

  /** Repeat rounds until no message is in flight. Throws if it does not settle. */
  stabilize(maxRounds = 10_000): void {
    this.flushAll();
    for (let i = 0; i < maxRounds; i++) {
      if (this.queue.length === 0) return;
      this.deliverAll();
    }
    throw new Error('network did not stabilize');
  }

  /** Like {@link stabilize}, but stops right after the round in which `pred` became true; returns whether it did. */
  stabilizeUntil(pred: () => boolean, maxRounds = 10_000): boolean {
    this.flushAll();
    for (let i = 0; i < maxRounds; i++) {
      if (pred()) return true;
      if (this.queue.length === 0) return false;
      this.deliverAll();
    }
    throw new Error('network did not stabilize');
  }

  /** Tick the given nodes (default: all live ones) `n` times, stabilizing after each tick. */
  tick(n = 1, ids: readonly NodeId[] = [...this.peers.keys()]): void {
    for (let i = 0; i < n; i++) {
      for (const id of ids) if (!this.down.has(id)) this.node(id).tick();
      this.stabilize();
    }
  }

  /** Campaign on `id` and let the election finish. */
  elect(id: NodeId): void {
    this.node(id).campaign();
    this.stabilize();
  }

  /** The node(s) that currently believe they lead. */
  leaders(): NodeId[] {
    return [...this.peers.keys()].filter((id) => !this.down.has(id) && this.node(id).isLeader());
  }

  /** Propose on `id` and stabilize; returns the entry index. */
  propose(id: NodeId, data: string): number {
    const idx = this.node(id).propose(bytes(data));
    this.stabilize();
    if (idx === null) throw new Error('proposal was forwarded');
    return idx;
  }

  /** Application payloads (non-empty normal entries) applied on `id`, decoded as text. */
  appliedData(id: NodeId): string[] {
    return this.peer(id)
      .applied.filter((e) => e.type === 'normal' && e.data.length > 0)
      .map((e) => text(e.data));
  }

  /** Full log (index, term) of a node as persisted in its storage. */
  persistedLog(id: NodeId): Entry[] {
    const s = this.peer(id).storage;
    return s.lastIndex() >= s.firstIndex() ? s.entries(s.firstIndex(), s.lastIndex() + 1) : [];
  }

  /** Count delivered messages of a type. */
  countDelivered(type: MessageType): number {
    return this.delivered.filter((m) => m.type === type).length;
  }
}

/** First safety violation the network observed, or null. */
export function findAppliedDivergence(net: Network): string | null {
  return net.violations[0] ?? null;
}
