import { MESSAGE_TYPES, type Message, type NodeId } from '@flotilla/raft';
import { checkLinearizability } from '../linearizability/check-linearizability';
import { kvRegisterModel } from '../linearizability/kv-register-model';
import { ClientDriver } from './client-driver';
import { describeMessage, explainNonLinearizable } from './failure-report';
import { faultProfile, HEALED_PROFILE, NEMESIS_PERIOD, TICK } from './fault-profile';
import { InvariantViolation, SafetyInvariants, type LeaderView } from './invariants';
import { LivenessPhase } from './liveness-phase';
import { Nemesis } from './nemesis';
import { SeededRandom } from './seeded-random';
import { SimHost, type HostEnvironment } from './sim-host';
import { SimNetwork } from './sim-network';
import type { SimEvent } from './sim-world';
import { SimWorld } from './sim-world';
import { DEFAULT_FAULT_TICKS, type SimulationOptions, type SimulationResult } from './simulation-types';

export { DEFAULT_FAULT_TICKS } from './simulation-types';
export type { SimulationOptions, SimulationResult, SimulationStats } from './simulation-types';

const MESSAGE_CODE = new Map(MESSAGE_TYPES.map((t, i) => [t, i]));
/** A history that needs more events than this is reported as not live (a livelock). */
const EVENT_CAP = 3_000_000;

/**
 * A deterministic Raft cluster simulation: n hosts over a simulated network, disk and clock
 * ({@link SimWorld}), a {@link Nemesis} injecting faults for `faultTicks`, clients writing and
 * reading a replicated register ({@link ClientDriver}), incremental safety checks after every
 * event ({@link SafetyInvariants}), then — faults healed — the {@link LivenessPhase} and a
 * linearizability check of the clients' history. One seed determines everything.
 */
export class ClusterSimulation {
  private readonly rng: SeededRandom;
  private readonly world: SimWorld;
  private readonly network: SimNetwork;
  private readonly invariants: SafetyInvariants;
  private readonly clients: ClientDriver;
  private readonly nemesis: Nemesis;
  private readonly liveness: LivenessPhase;
  private readonly env: HostEnvironment;
  private readonly faultEnd: number;

  constructor(private readonly options: SimulationOptions) {
    if (![3, 5, 7].includes(options.nodes)) throw new RangeError(`nodes must be 3, 5 or 7 (got ${options.nodes})`);
    // Independent streams, so that e.g. more client draws never shift the network's.
    this.rng = new SeededRandom(options.seed);
    const netRng = this.rng.fork();
    const nemesisRng = this.rng.fork();
    const clientRng = this.rng.fork();
    const diskRng = this.rng.fork();
    const raftRng = this.rng.fork();
    const profile = faultProfile(options.faults);
    const world = new SimWorld(profile, this.rng, options.recordLog === true);
    this.world = world;
    this.network = new SimNetwork(netRng, profile);
    const keys = Array.from({ length: options.keys ?? 3 }, (_, i) => `k${i}`);
    this.faultEnd = (options.faultTicks ?? DEFAULT_FAULT_TICKS) * TICK;
    this.invariants = new SafetyInvariants(() => this.leaders(), options.checkCommitRule ?? true, options.checkPersistBeforeAck ?? true);
    // Per-seed protocol variation: 1 or 32 bytes per MsgApp means one entry per message (the
    // commit rule is exercised entry by entry, and a byte budget below one entry's size
    // exercises the flow-control corner that once stalled a follower after a lost MsgApp).
    const maxSizePerMsg = options.maxSizePerMsg ?? this.rng.pick([1, 32, 64 * 1024, 64 * 1024]);
    const snapshotEvery = this.rng.pick([8, 16, 32]);
    // Protocol timing varies per seed too (election timeout in [electionTick, 2·electionTick)).
    const electionTick = this.rng.pick([8, 10, 12]);
    const heartbeatTick = this.rng.pick([1, 2, 2, 3]);
    const forwardProposals = this.rng.chance(0.5);
    this.clients = new ClientDriver(world, clientRng, this.invariants, keys, options.clients ?? 4);
    this.env = {
      random: raftRng,
      invariants: this.invariants,
      hostFaults: options.hostFaults ?? {},
      coreFaults: options.coreFaults ?? {},
      electionTick,
      heartbeatTick,
      maxSizePerMsg,
      forwardProposals,
      snapshotEvery,
      snapshotTail: 4,
      fsyncLatency: () => {
        const p = world.faultsActive ? profile : HEALED_PROFILE;
        return diskRng.range(p.minFsync, p.maxFsync);
      },
      send: (m) => this.send(m),
      scheduleDiskCompletion: (node, generation, delay) => world.schedule(delay, { k: 'disk', node: world.indexOf(node), generation }),
      onWriteApplied: (node, cmd, entry) => this.clients.onWriteApplied(node, cmd, entry),
      onReadServed: (node, ctx, value) => this.clients.onReadServed(node, ctx, value),
      onBecameLeader: (node) => this.nemesis.onBecameLeader(node),
      onRequestRefused: (node, ctx) => this.clients.onRequestRefused(node, ctx),
    };
    const voters = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    for (const id of voters) this.createHost(id, voters);
    this.nemesis = new Nemesis(world, this.network, nemesisRng, this.clients, (id, v) => this.createHost(id, v), options.nodes);
    this.liveness = new LivenessPhase(world, this.clients, this.invariants);
  }

  /** Creates (but does not start) a host; `voters` is its bootstrap membership ([] for a node joining later). */
  private createHost(id: NodeId, voters: readonly NodeId[]): number {
    return this.world.addHost(new SimHost(id, voters, this.options.factory, this.env));
  }

  /** Runs the whole history and all checks. Never throws for a violation: it is reported in the result. */
  run(): SimulationResult {
    try {
      this.execute();
      this.checkLinearizable();
      return this.result();
    } catch (err) {
      const violation =
        err instanceof InvariantViolation
          ? { invariant: err.invariant, detail: err.detail, time: this.world.now }
          : { invariant: 'core-exception' as const, detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err), time: this.world.now };
      this.world.note(`VIOLATION ${violation.invariant}: ${violation.detail}`);
      return this.result(violation);
    }
  }

  private result(violation?: SimulationResult['violation']): SimulationResult {
    const w = this.world;
    w.stats.simulatedTicks = Math.floor(w.now / TICK);
    w.stats.committedIndex = this.invariants.highestApplied;
    w.stats.elections = this.invariants.leadersObserved;
    w.stats.duplicateCommandsIgnored = w.hosts.reduce((n, h) => n + h.duplicatesIgnored, 0);
    return { seed: this.options.seed, ok: violation === undefined, violation, traceHash: w.trace.digest(), stats: w.stats, log: w.log };
  }

  private execute(): void {
    const w = this.world;
    w.hosts.forEach((h, i) => {
      h.start();
      w.queue.push(this.rng.range(1, TICK), { k: 'tick', node: i });
    });
    this.clients.start();
    if (this.options.faults !== 'none') w.queue.push(NEMESIS_PERIOD, { k: 'nemesis' });
    w.queue.push(this.faultEnd, { k: 'heal-all' });
    while (!this.liveness.done) {
      if (w.queue.size === 0) throw new InvariantViolation('liveness', 'the simulation ran out of events');
      if (++w.stats.events > EVENT_CAP) throw new InvariantViolation('liveness', `more than ${EVENT_CAP} events without finishing`);
      const { time, item } = w.queue.pop();
      w.now = time;
      this.handle(item);
    }
  }

  /** Dispatches one event; every event is mixed into the trace hash first. */
  private handle(e: SimEvent): void {
    const w = this.world;
    const t = w.trace;
    t.addNumber(w.now);
    switch (e.k) {
      case 'tick': {
        t.addNumber(1);
        t.addNumber(e.node);
        if (w.retired.has(e.node)) return;
        w.hosts[e.node].tick();
        w.schedule(w.tickPeriod[e.node], e);
        if (e.node === w.active()[0]) this.countLeaders();
        return;
      }
      case 'deliver':
        this.deliver(e.msg);
        return;
      case 'snap-status':
        t.addNumber(3);
        w.hosts[e.leader].reportSnapshot(e.peer, e.failed);
        return;
      case 'disk':
        t.addNumber(4);
        t.addNumber(e.node);
        w.hosts[e.node].onDiskCompletion(e.generation);
        return;
      case 'client':
        t.addNumber(5);
        this.clients.act(e.client);
        return;
      case 'timeout':
        t.addNumber(6);
        this.clients.timeout(e.client, e.attempt);
        return;
      case 'nemesis':
        t.addNumber(7);
        this.nemesis.handle(e);
        return;
      case 'crash':
        t.addNumber(15);
        this.nemesis.handle(e);
        return;
      case 'restart':
        t.addNumber(8);
        t.addNumber(e.node);
        this.nemesis.handle(e);
        return;
      case 'resume':
        t.addNumber(9);
        this.nemesis.handle(e);
        return;
      case 'clock-restore':
        t.addNumber(14);
        this.nemesis.handle(e);
        return;
      case 'heal':
        t.addNumber(10);
        this.nemesis.handle(e);
        return;
      case 'flap':
        t.addNumber(11);
        this.nemesis.handle(e);
        return;
      case 'heal-all':
        t.addNumber(12);
        this.nemesis.healAll();
        this.liveness.begin();
        return;
      case 'liveness':
        t.addNumber(13);
        this.liveness.check();
        return;
    }
  }

  /** Counts ticks during which two nodes both believe they lead (stale-leader windows). */
  private countLeaders(): void {
    const w = this.world;
    if (w.hosts.filter((h) => h.isUp && h.role === 'leader').length <= 1) return;
    w.stats.dualLeaderTicks++;
    if (w.log) w.note(`two leaders: ${w.hosts.filter((h) => h.isUp && h.role === 'leader').map((h) => `${h.id}@t${h.term}`).join(' ')}`);
  }

  private deliver(m: Message): void {
    const w = this.world;
    const t = w.trace;
    t.addNumber(2);
    t.addNumber(MESSAGE_CODE.get(m.type) ?? 99);
    t.addString(m.from);
    t.addString(m.to);
    t.addNumber(m.term);
    t.addNumber(m.index);
    t.addNumber(m.commit);
    t.addNumber(m.entries.length);
    const to = w.indexOf(m.to);
    const cut = this.network.isCut(m.from, m.to);
    if (m.type === 'MsgSnap') w.schedule(1, { k: 'snap-status', leader: w.indexOf(m.from), peer: m.to, failed: cut || !w.hosts[to].isUp });
    if (w.log && this.options.logMessages) w.note(`${cut ? 'cut' : 'deliver'} ${describeMessage(m)}`);
    if (cut) {
      w.stats.messagesDropped++;
      return;
    }
    if (m.type === 'MsgSnap' && w.hosts[to].isUp) w.stats.snapshotsDelivered++;
    w.hosts[to].receive(m);
  }

  private send(m: Message): void {
    const w = this.world;
    w.stats.messagesSent++;
    if (m.type === 'MsgVoteResp' && !m.reject) this.invariants.onVoteGranted(m.from, m.term, m.to);
    if (m.type === 'MsgAppResp' || m.type === 'MsgVoteResp') {
      const disk = w.hosts[w.indexOf(m.from)].storage;
      this.invariants.onSend(m, { lastIndex: disk.lastIndex(), hardState: disk.initialState().hardState });
    }
    const delays = this.network.route(m.from, m.to);
    if (delays.length === 0) {
      if (w.log && this.options.logMessages) w.note(`lose ${describeMessage(m)}`);
      w.stats.messagesDropped++;
      if (m.type === 'MsgSnap') w.schedule(1, { k: 'snap-status', leader: w.indexOf(m.from), peer: m.to, failed: true });
      return;
    }
    // A duplicated snapshot would report its status twice; deliver snapshots once.
    const copies = m.type === 'MsgSnap' ? delays.slice(0, 1) : delays;
    for (const d of copies) w.schedule(d, { k: 'deliver', msg: m });
  }

  /** Current leaders with their logs, for the leader-completeness checks. */
  private leaders(): LeaderView[] {
    const out: LeaderView[] = [];
    for (const h of this.world.hosts) {
      if (h.isUp && h.role === 'leader') out.push({ id: h.id, term: h.term, log: h.logView() });
      if (h.term > this.world.stats.maxTerm) this.world.stats.maxTerm = h.term;
    }
    return out;
  }

  private checkLinearizable(): void {
    const history = this.clients.finish();
    const result = checkLinearizability(kvRegisterModel, history, { maxSteps: 2_000_000 });
    if (result.kind === 'linearizable') return;
    if (result.kind === 'unknown') throw new InvariantViolation('linearizability', `check inconclusive: ${result.reason}`);
    throw new InvariantViolation('linearizability', explainNonLinearizable(result.partition, result.longestLinearizedPrefix));
  }
}

/** Runs one seed. */
export function simulate(options: SimulationOptions): SimulationResult {
  return new ClusterSimulation(options).run();
}
