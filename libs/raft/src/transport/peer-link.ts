import { connect, type Socket } from 'node:net';
import { backoffDelayMs, type BackoffPolicy } from './backoff';
import { FrameTooLargeError } from './errors';
import { encodeFrame, FrameDecoder } from './frame-codec';
import { handshakeProof, HANDSHAKE_VERSION, newNonce, parseHandshakeFrame, proofMatches } from './handshake';
import type { RaftLogger } from './logger';
import type { TransportStats } from './transport-stats';

/** Where a peer listens. */
export interface PeerAddress {
  host: string;
  port: number;
}

/** Configuration of one {@link PeerLink}; `stats` is shared with the owning transport. */
export interface PeerLinkOptions {
  selfId: string;
  peerId: string;
  address: PeerAddress;
  secret: string | Uint8Array;
  /** Limit of the handshake frames accepted from the peer. */
  handshakeFrameBytes: number;
  maxQueuedFrames: number;
  maxQueuedBytes: number;
  backoff: BackoffPolicy;
  handshakeTimeoutMs: number;
  logger: RaftLogger;
  stats: TransportStats;
}

type LinkState = 'connecting' | 'handshaking' | 'open' | 'waiting' | 'closed';

/**
 * The single outbound connection from this node to one peer.
 *
 * Invariants: frames are written in the order `enqueue` accepted them (pipelined, no waiting
 * for replies); at most `maxQueuedFrames` / `maxQueuedBytes` wait in memory and anything beyond
 * is dropped and counted (Raft tolerates loss; an unbounded queue would not survive a slow
 * peer); frames never outlive a failed connection (they are dropped, not replayed later); once `socket.write` reports a full kernel buffer nothing more is written until
 * `'drain'`. No frame is written before the peer has proven knowledge of the cluster secret.
 * A lost connection is redialled after a jittered exponential backoff until `close()` — or at
 * once when the peer authenticates an inbound connection to us ({@link redialNow}).
 */
export class PeerLink {
  private state: LinkState = 'connecting';
  private socket: Socket | undefined;
  private queue: Buffer[] = [];
  /** `onDrop` callbacks of queued frames, parallel to `queue` (undefined when none given). */
  private dropHooks: ((() => void) | undefined)[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private blocked = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** A flush is scheduled for the end of the current tick. */
  private flushScheduled = false;
  private readonly flushNow = (): void => {
    this.flushScheduled = false;
    if (!this.blocked) this.flush();
  };
  private handshakeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: PeerLinkOptions) {
    this.dial();
  }

  get peerId(): string {
    return this.opts.peerId;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get queuedFrames(): number {
    return this.queue.length - this.queueHead;
  }

  /** Points the link at a new address; reconnects if the address changed. */
  setAddress(address: PeerAddress): void {
    if (address.host === this.opts.address.host && address.port === this.opts.address.port) return;
    this.opts.address = address;
    if (this.state !== 'closed') this.reset('address changed');
  }

  /**
   * Queues an encoded frame; returns false (and counts a drop) when the queue is full or the
   * peer is known unreachable (waiting to redial) — the caller (Raft) then treats the peer as
   * unreachable and retries on its own schedule with fresh state.
   */
  enqueue(frame: Buffer, onDrop?: () => void): boolean {
    if (this.state === 'closed') return false;
    if (this.state === 'waiting') {
      this.opts.stats.dropped++;
      return false;
    }
    if (this.queuedFrames >= this.opts.maxQueuedFrames || this.queuedBytes + frame.length > this.opts.maxQueuedBytes) {
      this.opts.stats.dropped++;
      return false;
    }
    this.queue.push(frame);
    this.dropHooks.push(onDrop);
    this.queuedBytes += frame.length;
    if (this.state === 'open' && !this.blocked) this.scheduleFlush();
    return true;
  }

  /**
   * The peer just proved itself on an inbound connection, so it is up: if this link is waiting
   * out a redial backoff (e.g. the peer refused us before it knew our id), dial now instead of
   * dropping every frame until the timer fires.
   */
  redialNow(): void {
    if (this.state !== 'waiting') return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.dial();
  }

  close(): void {
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    clearTimeout(this.handshakeTimer);
    this.socket?.destroy();
    this.socket = undefined;
    this.dropQueued();
  }

  /** Discards every queued (never written) frame, telling each sender that asked to know. */
  private dropQueued(): void {
    const hooks = this.dropHooks.slice(this.queueHead);
    this.opts.stats.dropped += this.queuedFrames;
    this.queue = [];
    this.dropHooks = [];
    this.queueHead = 0;
    this.queuedBytes = 0;
    for (const hook of hooks) hook?.();
  }

  private dial(): void {
    const { host, port } = this.opts.address;
    this.state = 'connecting';
    this.blocked = false;
    const socket = connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(this.opts.handshakeFrameBytes);
    const myNonce = newNonce();
    socket.on('connect', () => {
      if (this.socket !== socket) return;
      this.state = 'handshaking';
      socket.write(encodeFrame({ t: 'hello', v: HANDSHAKE_VERSION, from: this.opts.selfId, to: this.opts.peerId, nonce: myNonce }));
      this.handshakeTimer = setTimeout(() => this.fail(socket, 'handshake timeout'), this.opts.handshakeTimeoutMs);
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      let frames: unknown[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        if (err instanceof FrameTooLargeError) this.opts.stats.oversizeFrames++;
        else this.opts.stats.badFrames++;
        this.fail(socket, `bad frame from peer: ${(err as Error).message}`);
        return;
      }
      for (const raw of frames) {
        if (this.state !== 'handshaking') {
          this.opts.stats.badFrames++;
          this.fail(socket, 'unexpected frame on outbound link');
          return;
        }
        const frame = parseHandshakeFrame(raw);
        if (frame?.t === 'challenge') {
          const expected = handshakeProof(this.opts.secret, 'server', this.opts.selfId, this.opts.peerId, myNonce, frame.nonce);
          if (!proofMatches(expected, frame.proof)) {
            this.opts.stats.authFailures++;
            this.fail(socket, 'peer failed to prove the cluster secret');
            return;
          }
          const proof = handshakeProof(this.opts.secret, 'client', this.opts.selfId, this.opts.peerId, myNonce, frame.nonce);
          socket.write(encodeFrame({ t: 'auth', proof }));
        } else if (frame?.t === 'welcome') {
          clearTimeout(this.handshakeTimer);
          this.state = 'open';
          this.attempt = 0;
          this.opts.stats.connects++;
          this.opts.logger.debug({ peer: this.opts.peerId }, 'raft transport: link open');
          this.flush();
        } else if (frame?.t === 'reject') {
          this.opts.stats.authFailures++;
          this.fail(socket, `peer rejected handshake: ${frame.reason}`);
          return;
        } else {
          this.opts.stats.badFrames++;
          this.fail(socket, 'unexpected handshake frame');
          return;
        }
      }
    });
    socket.on('drain', () => {
      if (this.socket !== socket) return;
      this.blocked = false;
      this.flush();
    });
    socket.on('error', (err) => {
      if (this.socket === socket) this.opts.logger.debug({ peer: this.opts.peerId, err: err.message }, 'raft transport: link error');
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.scheduleRedial();
    });
  }

  /**
   * Frames enqueued during one tick of the event loop (including its microtasks: e.g. the
   * acknowledgements of several Readys covered by one group commit) leave in ONE write
   * (corked, a single writev syscall) at the end of that tick, not one syscall each: on a
   * loaded machine every syscall to a peer is a wake-up of the peer process.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(this.flushNow);
  }

  private flush(): void {
    const socket = this.socket;
    if (!socket || this.state !== 'open') return;
    if (this.queuedFrames === 0) return;
    this.opts.stats.socketWrites++;
    socket.cork();
    while (this.queueHead < this.queue.length) {
      const frame = this.queue[this.queueHead++];
      this.queuedBytes -= frame.length;
      this.opts.stats.framesSent++;
      this.opts.stats.bytesSent += frame.length;
      if (!socket.write(frame)) {
        this.blocked = true;
        break;
      }
    }
    socket.uncork();
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.dropHooks = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024) {
      this.queue = this.queue.slice(this.queueHead);
      this.dropHooks = this.dropHooks.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private fail(socket: Socket, reason: string): void {
    if (this.socket !== socket) return;
    this.opts.logger.warn({ peer: this.opts.peerId, reason }, 'raft transport: outbound link failed');
    socket.destroy();
    this.scheduleRedial();
  }

  private reset(reason: string): void {
    this.opts.logger.info({ peer: this.opts.peerId, reason }, 'raft transport: resetting link');
    const old = this.socket;
    this.socket = undefined;
    old?.destroy();
    clearTimeout(this.retryTimer);
    clearTimeout(this.handshakeTimer);
    this.attempt = 0;
    this.dial();
  }

  private scheduleRedial(): void {
    if (this.state === 'closed' || this.state === 'waiting') return;
    clearTimeout(this.handshakeTimer);
    this.socket = undefined;
    this.state = 'waiting';
    // Frames queued for a connection that failed are stale by the time a new one is up (a
    // restarted peer would otherwise receive appends its leader has long since compacted):
    // drop them; Raft re-sends what is still needed.
    this.dropQueued();
    const delay = backoffDelayMs(this.opts.backoff, this.attempt++);
    this.retryTimer = setTimeout(() => {
      if (this.state === 'waiting') this.dial();
    }, delay);
  }
}
