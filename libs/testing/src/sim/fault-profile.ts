/**
 * How hostile a simulated run is. All probabilities are per event (per message, per nemesis
 * decision); all durations are in simulator time units (one Raft tick = {@link TICK} units).
 */
export interface FaultProfile {
  readonly name: FaultLevel;
  /** Probability that a message is dropped. */
  readonly dropRate: number;
  /** Probability that a message is delivered twice. */
  readonly duplicateRate: number;
  /** Probability that a reply to a client is lost (the write may have happened; the client cannot tell). */
  readonly responseLossRate: number;
  /** Uniform one-way delay range; a wide range reorders messages. */
  readonly minDelay: number;
  readonly maxDelay: number;
  /** Probability that a message is held back much longer (reordering across terms). */
  readonly longDelayRate: number;
  readonly longDelayMax: number;
  /** Simulated fsync latency range (a Ready's messages wait for it). */
  readonly minFsync: number;
  readonly maxFsync: number;
  /** Per nemesis decision (every {@link NEMESIS_PERIOD} units): probability of each fault. */
  readonly partitionRate: number;
  readonly oneWayPartitionRate: number;
  readonly flappingRate: number;
  readonly crashRate: number;
  /** Probability that a crash during an fsync leaves a prefix of the entries on disk (torn write). */
  readonly tornWriteRate: number;
  /** Probability that a freshly elected leader is crashed within a few ticks (Figure-8 style histories). */
  readonly crashNewLeaderRate: number;
  readonly pauseRate: number;
  /** A node's clock runs 2–4× slow for a while (VM stall, CPU starvation): it times out late. */
  readonly slowClockRate: number;
  readonly leaderTransferRate: number;
  readonly membershipChangeRate: number;
  /** How long a partition, crash or pause lasts. */
  readonly minFaultDuration: number;
  readonly maxFaultDuration: number;
  /** Each node's tick period differs from {@link TICK} by up to this fraction (clock rate skew). */
  readonly clockDrift: number;
}

export type FaultLevel = 'none' | 'light' | 'heavy';

/** Simulator time units per Raft tick. */
export const TICK = 10;
/** The nemesis considers injecting a fault this often. */
export const NEMESIS_PERIOD = 5 * TICK;

const CALM: FaultProfile = {
  name: 'none',
  dropRate: 0,
  duplicateRate: 0,
  responseLossRate: 0,
  minDelay: 1,
  maxDelay: 5,
  longDelayRate: 0,
  longDelayMax: 0,
  minFsync: 1,
  maxFsync: 3,
  partitionRate: 0,
  oneWayPartitionRate: 0,
  flappingRate: 0,
  crashRate: 0,
  crashNewLeaderRate: 0,
  tornWriteRate: 0,
  pauseRate: 0,
  slowClockRate: 0,
  leaderTransferRate: 0,
  membershipChangeRate: 0,
  minFaultDuration: 0,
  maxFaultDuration: 0,
  clockDrift: 0,
};

const LIGHT: FaultProfile = {
  ...CALM,
  name: 'light',
  dropRate: 0.02,
  duplicateRate: 0.01,
  responseLossRate: 0.01,
  minDelay: 1,
  maxDelay: 15,
  longDelayRate: 0.005,
  longDelayMax: 100,
  minFsync: 1,
  maxFsync: 8,
  partitionRate: 0.03,
  oneWayPartitionRate: 0.015,
  flappingRate: 0.01,
  crashRate: 0.02,
  crashNewLeaderRate: 0.02,
  pauseRate: 0.01,
  slowClockRate: 0.01,
  leaderTransferRate: 0.01,
  membershipChangeRate: 0,
  minFaultDuration: 10 * TICK,
  maxFaultDuration: 30 * TICK,
  clockDrift: 0.1,
};

const HEAVY: FaultProfile = {
  ...CALM,
  name: 'heavy',
  dropRate: 0.1,
  duplicateRate: 0.05,
  responseLossRate: 0.05,
  minDelay: 1,
  maxDelay: 30,
  longDelayRate: 0.02,
  longDelayMax: 300,
  minFsync: 1,
  maxFsync: 20,
  partitionRate: 0.06,
  oneWayPartitionRate: 0.04,
  flappingRate: 0.03,
  crashRate: 0.07,
  crashNewLeaderRate: 0.1,
  tornWriteRate: 0.25,
  pauseRate: 0.03,
  slowClockRate: 0.05,
  leaderTransferRate: 0.04,
  membershipChangeRate: 0.04,
  minFaultDuration: 5 * TICK,
  maxFaultDuration: 40 * TICK,
  clockDrift: 0.3,
};

export function faultProfile(level: FaultLevel): FaultProfile {
  switch (level) {
    case 'none':
      return CALM;
    case 'light':
      return LIGHT;
    case 'heavy':
      return HEAVY;
  }
}

/** The network and disk after the fault phase: nothing lost, short delays (used to check liveness). */
export const HEALED_PROFILE: FaultProfile = CALM;
