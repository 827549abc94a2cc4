import type { NodeId } from '@flotilla/raft';
import type { ClientDriver } from './client-driver';
import { HEALED_PROFILE, NEMESIS_PERIOD, TICK, type FaultProfile } from './fault-profile';
import type { SeededRandom } from './seeded-random';
import type { SimNetwork } from './sim-network';
import type { SimEvent, SimWorld } from './sim-world';

/** What the nemesis does to the hosts it manages: created through the cluster (it owns host wiring). */
export type HostCreator = (id: NodeId, voters: readonly NodeId[]) => number;

type FaultEvent = Extract<SimEvent, { k: 'nemesis' | 'crash' | 'restart' | 'resume' | 'clock-restore' | 'heal' | 'flap' }>;

/**
 * The fault injector. Every {@link NEMESIS_PERIOD} of the fault phase it may start, with the
 * profile's probabilities: a symmetric partition (often isolating the leader, sometimes also
 * stalling its clock), a one-way cut, a flapping link, a crash (half the time of a node in the
 * middle of an fsync; the write may be torn), a pause, a slow clock, a leader transfer, and one
 * membership change at a time. Each fault schedules its own end. `healAll` ends the phase.
 */
export class Nemesis {
  /** The membership change being driven, if any. */
  private membershipOp: { readonly kind: 'remove' | 'add'; readonly node: NodeId; readonly deadline: number } | null = null;

  constructor(
    private readonly world: SimWorld,
    private readonly network: SimNetwork,
    private readonly random: SeededRandom,
    private readonly clients: ClientDriver,
    private readonly createHost: HostCreator,
    /** Cluster size to keep: membership changes shrink it by one and grow it back. */
    private readonly size: number,
  ) {}

  private get profile(): FaultProfile {
    return this.world.profile;
  }

  /** Sometimes crash a freshly elected leader within a few ticks (Figure-8 style histories). */
  onBecameLeader(node: NodeId): void {
    const w = this.world;
    if (w.faultsActive && this.random.chance(this.profile.crashNewLeaderRate)) w.schedule(this.random.range(1, 3 * TICK), { k: 'crash', node: w.indexOf(node) });
  }

  /** Handles the fault events; the trace hash for them is recorded by the caller. */
  handle(e: FaultEvent): void {
    const w = this.world;
    switch (e.k) {
      case 'nemesis':
        if (!w.faultsActive) return;
        this.step();
        w.schedule(NEMESIS_PERIOD, e);
        return;
      case 'crash':
        if (w.faultsActive && w.hosts[e.node].isUp && !w.retired.has(e.node)) {
          this.crash(e.node);
          w.schedule(this.random.range(this.profile.minFaultDuration, this.profile.maxFaultDuration), { k: 'restart', node: e.node });
        }
        return;
      case 'restart':
        if (!w.hosts[e.node].isUp && !w.retired.has(e.node)) {
          w.note(`restart ${w.ids[e.node]}`);
          w.hosts[e.node].start();
        }
        return;
      case 'resume':
        w.hosts[e.node].resume();
        return;
      case 'clock-restore':
        w.tickPeriod[e.node] = w.baseTickPeriod[e.node];
        return;
      case 'heal':
        this.network.heal(e.partition);
        return;
      case 'flap': {
        if (e.cut !== 0) this.network.heal(e.cut);
        if (!w.faultsActive || w.now >= e.until) return;
        const cut = e.cut === 0 ? this.network.cutBothWays([e.a], [e.b]) : 0;
        w.schedule(this.random.range(1, 4) * TICK, { ...e, cut });
        return;
      }
    }
  }

  /** Ends the fault phase: network calm and whole, clocks normal, every member up. */
  healAll(): void {
    const w = this.world;
    w.faultsActive = false;
    this.network.healAll();
    this.network.setProfile(HEALED_PROFILE);
    w.tickPeriod.splice(0, w.tickPeriod.length, ...w.baseTickPeriod);
    w.hosts.forEach((h, i) => {
      if (w.retired.has(i)) return;
      if (!h.isUp) {
        w.note(`restart ${w.ids[i]} (heal)`);
        h.start();
      } else if (h.isPaused) h.resume();
    });
    w.note('faults healed');
  }

  private step(): void {
    const w = this.world;
    const p = this.profile;
    const r = this.random;
    const duration = (): number => r.range(p.minFaultDuration, p.maxFaultDuration);
    const leader = w.hosts.findIndex((h, i) => h.isUp && h.role === 'leader' && !w.retired.has(i));
    const active = w.active();
    const ids = active.map((i) => w.ids[i]);
    const target = (): number => (leader >= 0 && r.chance(0.5) ? leader : r.pick(active));
    if (active.length < 2) return;
    if (r.chance(p.partitionRate)) {
      const minoritySize = r.range(1, Math.floor(ids.length / 2));
      const minority = new Set([w.ids[target()]]);
      while (minority.size < minoritySize) minority.add(r.pick(ids));
      const rest = ids.filter((id) => !minority.has(id));
      const id = this.network.cutBothWays([...minority], rest);
      w.stats.partitions++;
      w.note(`partition {${[...minority].join(',')}} | {${rest.join(',')}}`);
      const lasts = duration();
      w.schedule(lasts, { k: 'heal', partition: id });
      // Compound fault: the cut-off leader is also stalled (its clock runs slow), so it notices
      // the lost quorum late while the majority elects a new leader — the classic stale-leader window.
      if (leader >= 0 && minority.has(w.ids[leader]) && r.chance(p.slowClockRate * 10)) this.slowClock(leader, lasts);
    }
    if (r.chance(p.oneWayPartitionRate)) {
      const a = w.ids[target()];
      const others = ids.filter((id) => id !== a);
      const outbound = r.chance(0.5);
      const id = outbound ? this.network.cutOneWay([a], others) : this.network.cutOneWay(others, [a]);
      w.stats.partitions++;
      w.note(`one-way cut ${outbound ? `${a} → others` : `others → ${a}`}`);
      w.schedule(duration(), { k: 'heal', partition: id });
    }
    if (r.chance(p.flappingRate)) {
      const a = w.ids[target()];
      const b = r.pick(ids.filter((id) => id !== a));
      w.stats.partitions++;
      w.note(`flapping link ${a} ↔ ${b}`);
      w.schedule(0, { k: 'flap', a, b, until: w.now + duration(), cut: 0 });
    }
    if (r.chance(p.crashRate)) {
      // Half the time, crash a node in the middle of an fsync (power loss during a write).
      const writing = active.filter((i) => w.hosts[i].isWritingToDisk);
      const i = writing.length > 0 && r.chance(0.5) ? r.pick(writing) : target();
      if (w.hosts[i].isUp) {
        this.crash(i);
        w.schedule(duration(), { k: 'restart', node: i });
      }
    }
    if (r.chance(p.pauseRate)) {
      const i = target();
      if (w.hosts[i].isUp && !w.hosts[i].isPaused) {
        w.hosts[i].pause();
        w.stats.pauses++;
        w.note(`pause ${w.ids[i]}`);
        w.schedule(r.range(2 * TICK, 25 * TICK), { k: 'resume', node: i });
      }
    }
    if (r.chance(p.slowClockRate)) this.slowClock(target(), duration());
    if (leader >= 0 && r.chance(p.leaderTransferRate)) {
      const to = r.pick(ids.filter((id) => id !== w.ids[leader]));
      w.stats.leaderTransfers++;
      w.note(`transfer leadership ${w.ids[leader]} → ${to}`);
      w.hosts[leader].transferLeadership(to);
    }
    if (leader >= 0) this.membership(leader, r.chance(p.membershipChangeRate));
  }

  /**
   * Membership changes, one at a time: remove a voter (then shut it down for good), or add a
   * brand-new node as a learner and promote it once it has caught up. Retried each nemesis
   * round until done, or given up after a deadline (the change may have been lost with a leader).
   */
  private membership(leader: number, start: boolean): void {
    const w = this.world;
    const op = this.membershipOp;
    const conf = w.hosts[leader].status()?.confState;
    if (!conf) return;
    if (op === null) {
      if (!start) return;
      if (conf.voters.length >= this.size) {
        // Shrink by one voter at most: the leader itself only sometimes (it then steps down).
        const candidates = conf.voters.filter((v) => v !== w.ids[leader] || this.random.chance(0.2));
        if (candidates.length === 0) return;
        const victim = this.random.pick(candidates);
        if (w.hosts[leader].proposeMembershipChange({ type: 'remove', node: victim })) {
          w.note(`propose remove ${victim}`);
          this.membershipOp = { kind: 'remove', node: victim, deadline: w.now + 60 * TICK };
        }
      } else if (conf.voters.length + conf.learners.length < this.size) {
        const id = `n${w.hosts.length + 1}`;
        if (w.hosts[leader].proposeMembershipChange({ type: 'add-learner', node: id })) {
          const i = this.createHost(id, []);
          w.hosts[i].start();
          w.schedule(w.tickPeriod[i], { k: 'tick', node: i });
          w.stats.membershipChanges++;
          w.note(`propose add-learner ${id}`);
          this.membershipOp = { kind: 'add', node: id, deadline: w.now + 100 * TICK };
        }
      }
      return;
    }
    if (op.kind === 'remove') {
      if (!conf.voters.includes(op.node) && !conf.learners.includes(op.node)) {
        this.retire(w.indexOf(op.node));
        w.stats.membershipChanges++;
        this.membershipOp = null;
      } else if (w.now > op.deadline) this.membershipOp = null;
      return;
    }
    if (conf.voters.includes(op.node)) {
      w.note(`${op.node} is a voter`);
      w.stats.membershipChanges++;
      this.membershipOp = null;
    } else if (conf.learners.includes(op.node)) {
      if (w.hosts[leader].proposeMembershipChange({ type: 'promote', node: op.node })) w.note(`propose promote ${op.node}`);
    } else if (w.now > op.deadline) {
      // The add-learner entry was lost: the new node never joined.
      this.retire(w.indexOf(op.node));
      this.membershipOp = null;
    }
  }

  /** Shuts a host down for good (removed from the cluster); its id is never reused. */
  private retire(i: number): void {
    const w = this.world;
    if (w.retired.has(i)) return;
    w.note(`retire ${w.ids[i]}`);
    if (w.hosts[i].isUp) this.crash(i);
    w.retired.add(i);
  }

  private slowClock(i: number, lasts: number): void {
    const w = this.world;
    w.tickPeriod[i] = w.baseTickPeriod[i] * this.random.range(2, 4);
    w.stats.slowClocks++;
    w.note(`slow clock on ${w.ids[i]} (tick every ${w.tickPeriod[i]} units)`);
    w.schedule(lasts, { k: 'clock-restore', node: i });
  }

  private crash(i: number): void {
    const w = this.world;
    w.note(`crash ${w.ids[i]}`);
    w.stats.crashes++;
    const writing = w.hosts[i].entriesBeingWritten;
    const torn = writing > 0 && this.random.chance(this.profile.tornWriteRate) ? this.random.range(1, writing) : 0;
    if (torn > 0) w.note(`${w.ids[i]}'s write is torn: ${torn} of ${writing} entries reach the disk`);
    w.hosts[i].crash(torn);
    this.clients.abandonRequestsAt(w.ids[i]);
  }
}
