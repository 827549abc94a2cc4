import type { Message, NodeId } from './types';

/** A linearizable read waiting for its heartbeat round. */
export interface ReadIndexRequest {
  /** The leader's commit index when the request arrived: the read index if confirmed. */
  readonly index: number;
  /** The original MsgReadIndex (local, or forwarded by a follower). */
  readonly req: Message;
  readonly acks: Set<NodeId>;
}

/** Map key for a request context. Contexts are compared by content. */
export function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]);
  return s;
}

/**
 * The leader's queue of ReadIndex requests (thesis §6.4, "safe" read-only mode). A request is
 * confirmed when a quorum of voters answered a heartbeat carrying its context; confirming one
 * confirms every earlier request too (their heartbeats preceded it).
 *
 * Invariant: requests are kept in arrival order, one per distinct context (a duplicate
 * context is ignored while the first is pending).
 */
export class ReadOnlyQueue {
  private pending = new Map<string, ReadIndexRequest>();
  private queue: string[] = [];

  /** Register a request at commit index `index`. Returns false for a duplicate context. */
  add(index: number, req: Message, ctx: Uint8Array, self: NodeId): boolean {
    const key = contextKey(ctx);
    if (this.pending.has(key)) return false;
    this.pending.set(key, { index, req, acks: new Set([self]) });
    this.queue.push(key);
    return true;
  }

  /** Record a heartbeat ack carrying `ctx`; returns the ack set, or undefined if unknown. */
  recvAck(from: NodeId, ctx: Uint8Array): ReadonlySet<NodeId> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (!rs) return undefined;
    rs.acks.add(from);
    return rs.acks;
  }

  /** Remove and return every request up to and including the one with `ctx`. */
  advance(ctx: Uint8Array): ReadIndexRequest[] {
    const key = contextKey(ctx);
    const pos = this.queue.indexOf(key);
    if (pos < 0) return [];
    const done = this.queue.splice(0, pos + 1);
    const out: ReadIndexRequest[] = [];
    for (const k of done) {
      const rs = this.pending.get(k);
      if (rs) out.push(rs);
      this.pending.delete(k);
    }
    return out;
  }

  /** Context of the newest pending request (sent with periodic heartbeats), if any. */
  lastPendingContext(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    const rs = this.pending.get(this.queue[this.queue.length - 1]);
    return rs ? readContext(rs.req) : undefined;
  }

  get size(): number {
    return this.queue.length;
  }

  clear(): void {
    this.pending.clear();
    this.queue = [];
  }
}

/** The request context a MsgReadIndex carries in `entries[0].data`. */
export function readContext(m: Message): Uint8Array {
  return m.entries.length > 0 ? m.entries[0].data : new Uint8Array(0);
}
