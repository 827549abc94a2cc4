import type { NodeId, RaftConfig } from '../core';
import type { LogStoreKind } from '../storage/log-store';
import type { WalFlushMode } from '../storage/wal-log-store';
import type { RaftLogger } from '../transport/logger';
import type { PeerAddress } from '../transport/peer-link';
import type { TcpTransportOptions } from '../transport/tcp-transport';
import type { StateMachine } from './state-machine';

/** Configuration of a {@link RaftNode}. Times are wall-clock milliseconds; the core counts ticks. */
export interface RaftNodeOptions {
  /** This node's id; stable for its lifetime, never reused after removal. */
  id: NodeId;
  /** Directory for the log (LMDB or write-ahead log, see `storage`) and snapshot files. */
  dataDir: string;
  /**
   * Durable log implementation: 'lmdb' ({@link LmdbLogStore}) or 'wal' ({@link WalLogStore}).
   * A data directory written by one kind is refused by the other. Default 'wal': on the
   * issue-5 benchmark it costs about a third less CPU per committed write than LMDB and half the
   * latency per flush (bench/results/wal-store.json, raft-cluster.json).
   */
  storage?: LogStoreKind;
  /**
   * With `storage: 'wal'`: how a flush reaches the disk (see {@link WalFlushMode}). Default
   * 'by-role': 'threadpool' while this node leads (its event loop keeps serving clients and
   * acknowledgements while fdatasync runs — ~20 % more throughput under load than 'inline'),
   * 'inline' otherwise (a follower has nothing to do meanwhile, and skipping the thread hop
   * shortens every commit, which waits for a follower's flush).
   */
  walFlushMode?: WalFlushMode | 'by-role';
  /** Where the transport listens (port 0: ephemeral). */
  listen: PeerAddress;
  /** Known member addresses (self may be included and is ignored). Members added later are learned from the log. */
  peers: Record<NodeId, PeerAddress>;
  /**
   * Initial voters, used only when the data directory is empty. Omit on a node that joins an
   * existing cluster: it starts with no membership and learns it from the leader.
   */
  bootstrap?: NodeId[];
  /** Shared cluster secret for peer authentication. */
  secret: string;
  stateMachine: StateMachine;
  /** Tick interval. Default 50 ms. */
  tickMs?: number;
  /** Election timeout in ticks (randomized in [n, 2n)). Default 10. */
  electionTicks?: number;
  /** Heartbeat interval in ticks. Default 1. */
  heartbeatTicks?: number;
  /** Take a snapshot once this many entries were applied since the last one. Default 10 000. */
  snapshotEntries?: number;
  /** … or once this many payload bytes were applied since the last one. Default 64 MiB. */
  snapshotBytes?: number;
  /** Entries kept below the compaction point so slightly lagging followers catch up without a snapshot. Default 1000. */
  catchUpEntries?: number;
  /**
   * Highest index the application allows to be truncated (e.g. the projector's archived
   * watermark). The log is truncated below min(snapshot index, watermark) − catchUpEntries.
   * Default: no limit beyond the snapshot.
   */
  compactionWatermark?: () => number;
  /** Proposals, reads and membership changes fail with TimeoutError after this. Default 5000 ms. */
  operationTimeoutMs?: number;
  /** Snapshot files kept on disk. Default 3. */
  keepSnapshots?: number;
  logger?: RaftLogger;
  /** Called once if the node hits an unrecoverable error (e.g. a failed disk write) and stops. */
  onFatal?: (err: Error) => void;
  /** Transport tuning (frame limit, queue bounds, backoff). */
  transport?: Pick<TcpTransportOptions, 'maxFrameBytes' | 'maxQueuedFrames' | 'maxQueuedBytes' | 'backoff' | 'handshakeTimeoutMs'>;
  /** Core tuning (message and inflight limits, pre-vote, check-quorum). */
  raft?: Pick<RaftConfig, 'maxSizePerMsg' | 'maxInflightMsgs' | 'maxInflightBytes' | 'maxUncommittedEntriesSize' | 'maxCommittedSizePerReady' | 'preVote' | 'checkQuorum'>;
}
