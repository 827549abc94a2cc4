import type { RaftTestFaults } from '@flotilla/raft';
import type { FaultLevel } from './fault-profile';
import type { InvariantName } from './invariants';
import type { HostFaults } from './sim-host';
import type { RaftNodeFactory } from './sim-raft-node';

/** Default length of the fault phase, in ticks. */
export const DEFAULT_FAULT_TICKS = 500;

/** Parameters of one simulated history. Everything random derives from `seed`. */
export interface SimulationOptions {
  readonly seed: number;
  /** Cluster size: 3, 5 or 7 voters. */
  readonly nodes: number;
  readonly faults: FaultLevel;
  readonly factory: RaftNodeFactory;
  /** Test-only core fault hooks (bugs (a), (b), (d)). */
  readonly coreFaults?: RaftTestFaults;
  /** Test-only host fault hooks (bug (c)). */
  readonly hostFaults?: HostFaults;
  /** Length of the fault phase in ticks. Default {@link DEFAULT_FAULT_TICKS}. */
  readonly faultTicks?: number;
  /** Number of concurrent clients. Default 4. */
  readonly clients?: number;
  /** Number of keys the clients use. Default 3. */
  readonly keys?: number;
  /** Force `RaftConfig.maxSizePerMsg` (default: per seed, 1 or 32 bytes — one entry per message — or 64 KiB). */
  readonly maxSizePerMsg?: number;
  /** Check the Figure-8 commit rule directly (default true); off, only its consequences are caught. */
  readonly checkCommitRule?: boolean;
  /** Check directly that acks and vote grants follow the fsync (default true); off, only consequences are caught. */
  readonly checkPersistBeforeAck?: boolean;
  /** Record a human-readable event log (slow; for replaying a failing seed). */
  readonly recordLog?: boolean;
  /** With `recordLog`, also log every message delivery and drop (very verbose). */
  readonly logMessages?: boolean;
}

/** Counters describing a run (reported by the CLI, useful to see that faults really happened). */
export interface SimulationStats {
  events: number;
  messagesSent: number;
  messagesDropped: number;
  crashes: number;
  partitions: number;
  pauses: number;
  membershipChanges: number;
  slowClocks: number;
  leaderTransfers: number;
  elections: number;
  maxTerm: number;
  writesAcknowledged: number;
  writesUnknown: number;
  readsServed: number;
  snapshotsDelivered: number;
  /** Commands that committed twice (a duplicated forwarded proposal), applied once (summed over nodes). */
  duplicateCommandsIgnored: number;
  /** Ticks during which two nodes (of different terms) both believed they led. */
  dualLeaderTicks: number;
  simulatedTicks: number;
  committedIndex: number;
}

export function emptyStats(): SimulationStats {
  return {
    events: 0,
    messagesSent: 0,
    messagesDropped: 0,
    crashes: 0,
    partitions: 0,
    pauses: 0,
    membershipChanges: 0,
    slowClocks: 0,
    leaderTransfers: 0,
    elections: 0,
    maxTerm: 0,
    writesAcknowledged: 0,
    writesUnknown: 0,
    readsServed: 0,
    snapshotsDelivered: 0,
    duplicateCommandsIgnored: 0,
    dualLeaderTicks: 0,
    simulatedTicks: 0,
    committedIndex: 0,
  };
}

export interface SimulationResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly violation?: { readonly invariant: InvariantName; readonly detail: string; readonly time: number };
  /** Digest of the whole event trace: equal for equal seeds (the determinism check). */
  readonly traceHash: string;
  readonly stats: SimulationStats;
  readonly log?: readonly string[];
}
