import type { Socket } from 'node:net';

/**
 * Writes frames to a socket, coalescing every frame queued in one turn of the event loop
 * (including the promise reactions that turn runs) into a single `write`.
 *
 * Why: a leader answers a whole committed batch at once, and a pipelined client sends many
 * requests at once; one syscall per frame made the loopback TCP stack the biggest CPU cost of
 * a committed write. Order is preserved; frames queued after the socket is destroyed are
 * dropped (the peer sees the connection close, as with a plain `write`).
 */
export class CoalescingWriter {
  private pending: Buffer[] = [];
  private scheduled = false;

  constructor(readonly socket: Socket) {}

  write(frame: Buffer): void {
    this.pending.push(frame);
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(() => this.flush());
  }

  /** Sends everything queued now. */
  flush(): void {
    this.scheduled = false;
    const frames = this.pending;
    this.pending = [];
    if (frames.length === 0 || this.socket.destroyed) return;
    this.socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
  }
}
