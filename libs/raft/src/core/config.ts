import { InvalidRaftConfigError } from './errors';
import type { NodeId } from './types';

/**
 * Test-only fault hooks. Each one disables a single safety mechanism so that the simulator
 * (and the focused unit tests) can prove their checks catch the resulting violation.
 * Never set in production: every hook breaks linearizability or Raft safety.
 */
export interface RaftTestFaults {
  /**
   * (a) Commit an entry of a previous term as soon as a majority stores it, ignoring the
   * current-term rule of paper §5.4.2 / Figure 8. Breaks State Machine Safety.
   */
  readonly commitPriorTermByCounting?: boolean;
  /** (b) Grant votes without the "candidate's log is at least as up-to-date" check (§5.4.1). Breaks Leader Completeness. */
  readonly voteWithoutLogCheck?: boolean;
  /**
   * (d) Serve ReadIndex immediately from the leader's local commit index: no heartbeat round
   * confirming leadership and no wait for a commit in the current term (thesis §6.4 steps 1
   * and 3). Breaks linearizability (a deposed or freshly elected leader answers stale reads).
   */
  readonly readIndexWithoutHeartbeat?: boolean;
}

/**
 * Configuration of one Raft node. Time is counted in ticks (the host calls `tick()` at a fixed
 * interval); randomness comes only from `random`, so a seeded source makes the node
 * deterministic.
 */
export interface RaftConfig {
  /** This node's id; must be non-empty. */
  readonly id: NodeId;
  /**
   * Base election timeout in ticks. A follower that hears from no leader for a randomized
   * timeout in [electionTick, 2·electionTick) starts an election. Must exceed heartbeatTick.
   */
  readonly electionTick: number;
  /** The leader sends heartbeats every heartbeatTick ticks. */
  readonly heartbeatTick: number;
  /** Uniform random source in [0, 1). Inject a seeded PRNG for deterministic runs. */
  readonly random: () => number;
  /** Run a pre-vote round before bumping the term (thesis §9.6). Default true. */
  readonly preVote?: boolean;
  /** A leader that has not heard from a quorum within an election timeout steps down. Default true. */
  readonly checkQuorum?: boolean;
  /** Byte budget of entry payloads in one MsgApp (at least one entry is always sent). Default 1 MiB. */
  readonly maxSizePerMsg?: number;
  /** Cap on un-acknowledged MsgApp messages per follower in replicate state. Default 256. */
  readonly maxInflightMsgs?: number;
  /** Cap on un-acknowledged payload bytes per follower; 0 means no byte cap. Default 0. */
  readonly maxInflightBytes?: number;
  /** Cap on the payload bytes of uncommitted entries on the leader; 0 means no cap. Default 0. */
  readonly maxUncommittedEntriesSize?: number;
  /** Byte budget of committedEntries in one Ready (at least one entry). Default: unlimited. */
  readonly maxCommittedSizePerReady?: number;
  /** Last index applied to the state machine before this (re)start. Default: the snapshot index. */
  readonly appliedIndex?: number;
  /**
   * When true, `RawNode.propose` on a follower forwards the proposal to the leader as a
   * MsgProp instead of throwing `NotLeaderError`. Default false.
   */
  readonly forwardProposals?: boolean;
  readonly testFaults?: RaftTestFaults;
}

/** {@link RaftConfig} with every default filled in. */
export interface ResolvedRaftConfig {
  readonly id: NodeId;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly random: () => number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
  readonly maxInflightBytes: number;
  readonly maxUncommittedEntriesSize: number;
  readonly maxCommittedSizePerReady: number;
  readonly appliedIndex: number | undefined;
  readonly forwardProposals: boolean;
  readonly testFaults: RaftTestFaults;
}

const isPositiveInt = (n: number): boolean => Number.isInteger(n) && n > 0;
const isNonNegativeInt = (n: number): boolean => Number.isInteger(n) && n >= 0;

/**
 * Validates a config and fills defaults. Throws {@link InvalidRaftConfigError} listing every
 * invalid field at once.
 */
export function resolveRaftConfig(config: RaftConfig): ResolvedRaftConfig {
  const problems: string[] = [];
  if (typeof config.id !== 'string' || config.id.length === 0) problems.push('id must be a non-empty string');
  if (!isPositiveInt(config.heartbeatTick)) problems.push('heartbeatTick must be a positive integer');
  if (!isPositiveInt(config.electionTick)) problems.push('electionTick must be a positive integer');
  else if (config.electionTick <= config.heartbeatTick) problems.push('electionTick must be greater than heartbeatTick');
  if (typeof config.random !== 'function') problems.push('random must be a function returning [0, 1)');
  const optionalInts: Array<[string, number | undefined, (n: number) => boolean]> = [
    ['maxSizePerMsg', config.maxSizePerMsg, isPositiveInt],
    ['maxInflightMsgs', config.maxInflightMsgs, isPositiveInt],
    ['maxInflightBytes', config.maxInflightBytes, isNonNegativeInt],
    ['maxUncommittedEntriesSize', config.maxUncommittedEntriesSize, isNonNegativeInt],
    ['maxCommittedSizePerReady', config.maxCommittedSizePerReady, isPositiveInt],
    ['appliedIndex', config.appliedIndex, isNonNegativeInt],
  ];
  for (const [name, value, ok] of optionalInts) {
    if (value !== undefined && !ok(value)) problems.push(`${name} must be a ${ok === isPositiveInt ? 'positive' : 'non-negative'} integer`);
  }
  if (problems.length > 0) throw new InvalidRaftConfigError(problems);
  return {
    id: config.id,
    electionTick: config.electionTick,
    heartbeatTick: config.heartbeatTick,
    random: config.random,
    preVote: config.preVote ?? true,
    checkQuorum: config.checkQuorum ?? true,
    maxSizePerMsg: config.maxSizePerMsg ?? 1024 * 1024,
    maxInflightMsgs: config.maxInflightMsgs ?? 256,
    maxInflightBytes: config.maxInflightBytes ?? 0,
    maxUncommittedEntriesSize: config.maxUncommittedEntriesSize ?? 0,
    maxCommittedSizePerReady: config.maxCommittedSizePerReady ?? Number.MAX_SAFE_INTEGER,
    appliedIndex: config.appliedIndex,
    forwardProposals: config.forwardProposals ?? false,
    testFaults: config.testFaults ?? {},
  };
}
