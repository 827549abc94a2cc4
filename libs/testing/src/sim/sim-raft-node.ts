import type { ConfState, Entry, MembershipChange, Message, NodeId, RaftConfig, Ready, Status, Storage } from '@flotilla/raft';

/**
 * The slice of the Raft core's `RawNode` API the simulator drives (etcd-style, IO-free).
 * Declared here structurally so that the simulator depends on the core's contract, not on
 * its construction details; {@link RaftNodeFactory} adapts the real class.
 */
export interface SimRaftNode {
  tick(): void;
  step(message: Message): void;
  propose(data: Uint8Array): void;
  readIndex(ctx: Uint8Array): void;
  transferLeadership(to: NodeId): void;
  proposeMembershipChange(change: MembershipChange): void;
  /** Applies a committed `conf-change` entry (the entry carries the resulting membership). */
  applyConfChange(entry: Entry): ConfState;
  /** Transport report: delivering a MsgSnap to `peer` succeeded (`ok`) or failed. */
  reportSnapshot(peer: NodeId, ok: boolean): void;
  hasReady(): boolean;
  ready(): Ready;
  advance(ready: Ready): void;
  status(): Status;
}

/** Builds a node over (durable) storage; called at cluster start and on every restart. */
export type RaftNodeFactory = (config: RaftConfig, storage: Storage) => SimRaftNode;
