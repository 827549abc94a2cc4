import type { Message, NodeId } from '@flotilla/raft';
import { EventQueue } from './event-queue';
import { TICK, type FaultProfile } from './fault-profile';
import { InvariantViolation } from './invariants';
import type { SeededRandom } from './seeded-random';
import type { SimHost } from './sim-host';
import { emptyStats, type SimulationStats } from './simulation-types';
import { TraceHash } from './trace-hash';

/** Everything that happens in a simulation is one of these, scheduled on the event queue. */
export type SimEvent =
  | { readonly k: 'tick'; readonly node: number }
  | { readonly k: 'deliver'; readonly msg: Message }
  | { readonly k: 'snap-status'; readonly leader: number; readonly peer: NodeId; readonly failed: boolean }
  | { readonly k: 'disk'; readonly node: number; readonly generation: number }
  | { readonly k: 'client'; readonly client: number }
  | { readonly k: 'timeout'; readonly client: number; readonly attempt: number }
  | { readonly k: 'nemesis' }
  | { readonly k: 'restart'; readonly node: number }
  | { readonly k: 'crash'; readonly node: number }
  | { readonly k: 'resume'; readonly node: number }
  | { readonly k: 'clock-restore'; readonly node: number }
  | { readonly k: 'heal'; readonly partition: number }
  | { readonly k: 'flap'; readonly a: NodeId; readonly b: NodeId; readonly until: number; readonly cut: number }
  | { readonly k: 'heal-all' }
  | { readonly k: 'liveness' };

/**
 * The state shared by the parts of a simulation (hosts, nemesis, clients, liveness phase): the
 * clock and event queue, the hosts (indexed in creation order; retired ones stay in place so
 * indices never move), per-node clock rates, counters, the trace hash and the optional log.
 */
export class SimWorld {
  now = 0;
  /** False once the fault phase is over (everything healed). */
  faultsActive = true;
  readonly queue = new EventQueue<SimEvent>();
  readonly hosts: SimHost[] = [];
  readonly ids: NodeId[] = [];
  /** Hosts removed from the cluster and shut down for good (ids are never reused). */
  readonly retired = new Set<number>();
  /** Per-node tick period (clock rate skew), and its value without a slow-clock fault. */
  readonly tickPeriod: number[] = [];
  readonly baseTickPeriod: number[] = [];
  readonly stats: SimulationStats = emptyStats();
  readonly trace = new TraceHash();
  readonly log: string[] | undefined;

  constructor(
    readonly profile: FaultProfile,
    private readonly clockRandom: SeededRandom,
    recordLog: boolean,
  ) {
    this.log = recordLog ? [] : undefined;
  }

  schedule(delay: number, event: SimEvent): void {
    this.queue.push(this.now + delay, event);
  }

  /** Registers a host with a randomly skewed clock; returns its index. */
  addHost(host: SimHost): number {
    const i = this.hosts.length;
    this.hosts.push(host);
    this.ids.push(host.id);
    const drift = Math.round(TICK * this.profile.clockDrift);
    this.baseTickPeriod.push(TICK + this.clockRandom.range(-drift, drift));
    this.tickPeriod.push(this.baseTickPeriod[i]);
    return i;
  }

  /** Indices of hosts that are part of the simulation (not retired). */
  active(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.hosts.length; i++) if (!this.retired.has(i)) out.push(i);
    return out;
  }

  activeIds(): NodeId[] {
    return this.active().map((i) => this.ids[i]);
  }

  indexOf(id: NodeId): number {
    const i = this.ids.indexOf(id);
    if (i < 0) throw new InvariantViolation('core-exception', `message to unknown node ${id}`);
    return i;
  }

  /** The up leader with the highest term (a deposed leader may not know it yet). */
  currentLeader(): SimHost | undefined {
    let best: SimHost | undefined;
    for (const h of this.hosts) if (h.isUp && h.role === 'leader' && (!best || h.term > best.term)) best = h;
    return best;
  }

  /** Hosts in the current leader's configuration (voters and learners); all active hosts if none leads. */
  members(): SimHost[] {
    const conf = this.currentLeader()?.status()?.confState;
    const active = this.active().map((i) => this.hosts[i]);
    if (!conf) return active;
    return active.filter((h) => conf.voters.includes(h.id) || conf.learners.includes(h.id));
  }

  note(line: string): void {
    if (this.log) this.log.push(`t=${(this.now / TICK).toFixed(1)} ${line}`);
  }
}
