import { NotLeaderError, ProposalDroppedError, RaftError } from '../core';
import type { NodeStatus, RaftNode } from '../node/raft-node';
import { ShutdownError, TimeoutError } from '../node/errors';
import type { PeerAddress } from '../transport/peer-link';
import { encodeKvCommand, type KvApplyResult } from './kv-commands';
import type { KvStateMachine } from './kv-state-machine';

/** Stable error codes of the KV API; clients branch on these, never on message text. */
export type KvErrorCode = 'not-leader' | 'timeout' | 'shutdown' | 'dropped' | 'bad-request' | 'raft' | 'internal';

export interface KvError {
  code: KvErrorCode;
  message: string;
  /** For `not-leader`: the node believed to be the leader, if any. */
  leader?: string | null;
  /** For `timeout`: whether the write may still have been applied. */
  outcomeUnknown?: boolean;
}

/** Maps any error from the node to a {@link KvError}. */
export function toKvError(err: unknown): KvError {
  if (err instanceof NotLeaderError) return { code: 'not-leader', message: err.message, leader: err.leaderHint };
  if (err instanceof TimeoutError) return { code: 'timeout', message: err.message, outcomeUnknown: true };
  if (err instanceof ShutdownError) return { code: 'shutdown', message: err.message, outcomeUnknown: true };
  if (err instanceof ProposalDroppedError) return { code: 'dropped', message: err.message };
  if (err instanceof RaftError) return { code: 'raft', message: err.message };
  if (err instanceof TypeError) return { code: 'bad-request', message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

/**
 * The replicated key-value service: writes go through the Raft log (any node; followers
 * forward), reads are linearizable (ReadIndex) on any node. Thin: all replication logic lives
 * in {@link RaftNode}.
 */
export class KvService {
  constructor(
    readonly node: RaftNode,
    private readonly sm: KvStateMachine,
  ) {}

  put(key: string, value: string): Promise<KvApplyResult> {
    return this.node.propose(encodeKvCommand({ op: 'put', key, value })) as Promise<KvApplyResult>;
  }

  delete(key: string): Promise<KvApplyResult> {
    return this.node.propose(encodeKvCommand({ op: 'delete', key })) as Promise<KvApplyResult>;
  }

  /** Linearizable read: reflects every write acknowledged before the call. */
  get(key: string): Promise<string | null> {
    return this.node.read(() => this.sm.get(key) ?? null);
  }

  status(): NodeStatus {
    return this.node.status();
  }

  addMember(id: string, address: PeerAddress, asLearner = false): Promise<void> {
    return this.node.addMember(id, address, { asLearner });
  }

  removeMember(id: string): Promise<void> {
    return this.node.removeMember(id);
  }

  transferLeadership(to: string): Promise<void> {
    return this.node.transferLeadership(to);
  }

  snapshot(): Promise<void> {
    return this.node.snapshotNow();
  }
}
