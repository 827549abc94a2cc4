import type { ClientDriver } from './client-driver';
import { TICK } from './fault-profile';
import { InvariantViolation, type SafetyInvariants } from './invariants';
import { SimClient } from './sim-clients';
import { describeNodes } from './failure-report';
import type { SimWorld } from './sim-world';

/** Liveness bounds after the faults stop. */
export const LEADER_BOUND = 100 * TICK;
export const COMMIT_BOUND = 60 * TICK;
const PROBE_WRITES = 3;

/**
 * The end of a history, once every fault is healed: a leader must emerge within
 * {@link LEADER_BOUND}; then {@link PROBE_WRITES} probe writes, proposed one after another to
 * the current leader, must each be acknowledged within {@link COMMIT_BOUND}; then every member
 * must apply everything committed within {@link COMMIT_BOUND} and hold the same state.
 * Re-checked every tick (`check`), throwing {@link InvariantViolation} when a bound is missed.
 */
export class LivenessPhase {
  private state: 'waiting-leader' | 'probing' | 'converging' | 'done' = 'waiting-leader';
  private healedAt = Infinity;
  private probe: { client: SimClient; remaining: number; deadline: number } | null = null;
  private convergeDeadline = Infinity;

  constructor(
    private readonly world: SimWorld,
    private readonly clients: ClientDriver,
    private readonly invariants: SafetyInvariants,
  ) {
    clients.onProbeAcknowledged = () => {
      if (!this.probe) return;
      this.probe.deadline = this.world.now + COMMIT_BOUND;
      this.world.schedule(1, { k: 'liveness' });
    };
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** The faults stopped now: start the clock of the bounds. */
  begin(): void {
    this.healedAt = this.world.now;
    this.world.schedule(TICK, { k: 'liveness' });
  }

  check(): void {
    const w = this.world;
    if (this.state === 'waiting-leader') {
      const leader = w.currentLeader();
      if (leader) {
        this.state = 'probing';
        const client = new SimClient('probe');
        client.leaderGuess = leader.id;
        this.clients.probe = client;
        this.probe = { client, remaining: PROBE_WRITES, deadline: w.now + COMMIT_BOUND };
        this.probeNext();
      } else if (w.now - this.healedAt > LEADER_BOUND) {
        throw new InvariantViolation('liveness', `no leader ${LEADER_BOUND / TICK} ticks after the faults stopped`);
      }
    } else if (this.state === 'probing' && this.probe) {
      if (w.now > this.probe.deadline)
        throw new InvariantViolation('liveness', `a proposal made after the faults stopped did not commit within ${COMMIT_BOUND / TICK} ticks`);
      const pending = this.probe.client.pending;
      // The probe's node lost leadership before answering: its outcome is unknown; retry.
      if (pending !== null && w.hosts[w.indexOf(pending.node)].role !== 'leader') this.clients.abandonProbe();
      if (this.probe.client.pending === null) this.probeNext();
    } else if (this.state === 'converging') {
      const target = this.invariants.highestApplied;
      const members = w.members();
      if (members.every((h) => h.appliedIndex >= target)) {
        const prints = new Set(members.map((h) => h.stateFingerprint));
        if (prints.size !== 1) throw new InvariantViolation('convergence', `nodes applied index ${target} but hold different states`);
        this.state = 'done';
        return;
      }
      if (w.now > this.convergeDeadline)
        throw new InvariantViolation('liveness', `nodes did not all apply index ${target} within ${COMMIT_BOUND / TICK} ticks (${describeNodes(w)})`);
    }
    w.schedule(TICK, { k: 'liveness' });
  }

  private probeNext(): void {
    const probe = this.probe;
    if (!probe) return;
    if (probe.remaining === 0) {
      this.state = 'converging';
      this.convergeDeadline = this.world.now + COMMIT_BOUND;
      return;
    }
    const leader = this.world.currentLeader();
    if (!leader) return;
    probe.client.leaderGuess = leader.id;
    if (this.clients.invoke(probe.client, -1, { kind: 'put', key: this.clients.keys[0], value: `probe-${probe.remaining}` })) {
      probe.remaining--;
    }
  }
}
