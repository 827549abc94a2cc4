import { createServer, type Server, type Socket } from 'node:net';
import type { BackoffPolicy } from './backoff';
import { FrameTooLargeError } from './errors';
import { encodeFrame, FrameDecoder } from './frame-codec';
import { handshakeProof, HANDSHAKE_VERSION, newNonce, parseHandshakeFrame, proofMatches } from './handshake';
import { silentLogger, type RaftLogger } from './logger';
import { PeerLink, type PeerAddress } from './peer-link';
import { emptyTransportStats, type TransportStats } from './transport-stats';

/** Configuration of a {@link TcpTransport}. */
export interface TcpTransportOptions {
  /** This node's id, as peers know it. */
  selfId: string;
  /** Address to listen on; port 0 picks an ephemeral port. */
  listen: PeerAddress;
  /** Shared cluster secret; every peer must hold the same one. */
  secret: string | Uint8Array;
  /** Initial peers (never including self). */
  peers?: Record<string, PeerAddress>;
  /** Largest accepted frame body; larger frames close the connection. Default 64 MiB. */
  maxFrameBytes?: number;
  /** Per-peer outbound queue bound, in frames. Default 4096. */
  maxQueuedFrames?: number;
  /** Per-peer outbound queue bound, in bytes. Default 64 MiB. */
  maxQueuedBytes?: number;
  /** Redial backoff. Default 20 ms … 500 ms (a restarted member is re-dialled within half a second). */
  backoff?: BackoffPolicy;
  /** A handshake not completed within this time closes the connection. Default 5 s. */
  handshakeTimeoutMs?: number;
  /** Unauthenticated connections held at once; more are closed on arrival. Default 64. */
  maxPendingHandshakes?: number;
  logger?: RaftLogger;
}

/** Receives every payload an authenticated peer sent; `from` is the peer's proven id. */
export type MessageHandler = (from: string, payload: unknown) => void;

const HANDSHAKE_FRAME_BYTES = 4096;

/**
 * Authenticated TCP transport for Raft messages: length-prefixed msgpack frames, one outbound
 * connection per peer ({@link PeerLink}), inbound connections accepted only from known peer ids
 * that pass the HMAC challenge–response of `handshake.ts`.
 *
 * Invariants: delivery is best-effort and per-link FIFO (Raft needs no more); nothing a remote
 * sends — garbage bytes, oversize or malformed frames, unknown ids, wrong secrets — can throw
 * out of the transport: the offending connection is closed, counted and logged. A handler that
 * throws is logged and does not affect the connection.
 */
export class TcpTransport {
  private readonly server: Server;
  private readonly links = new Map<string, PeerLink>();
  private readonly addresses = new Map<string, PeerAddress>();
  private readonly inbound = new Map<string, Socket>();
  private readonly pending = new Set<Socket>();
  private readonly counters = emptyTransportStats();
  private readonly logger: RaftLogger;
  private readonly maxFrameBytes: number;
  private handler: MessageHandler = () => undefined;
  private boundPort = 0;
  private closed = false;

  constructor(private readonly opts: TcpTransportOptions) {
    this.logger = opts.logger ?? silentLogger;
    this.maxFrameBytes = opts.maxFrameBytes ?? 64 * 1024 * 1024;
    this.server = createServer((socket) => this.accept(socket));
    this.server.on('error', (err) => this.logger.error({ err: err.message }, 'raft transport: server error'));
    for (const [id, address] of Object.entries(opts.peers ?? {})) this.addresses.set(id, address);
  }

  /** Starts listening and dialling the known peers; resolves with the bound port. */
  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.listen.port, this.opts.listen.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : this.opts.listen.port;
    for (const id of this.addresses.keys()) this.ensureLink(id);
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  get selfId(): string {
    return this.opts.selfId;
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  /** Adds or re-addresses a peer; it may now connect to us and we dial it. */
  setPeer(id: string, address: PeerAddress): void {
    if (id === this.opts.selfId) return;
    this.addresses.set(id, address);
    const link = this.links.get(id);
    if (link) link.setAddress(address);
    else if (this.boundPort !== 0) this.ensureLink(id);
  }

  /** Forgets a peer: drops its outbound link and any inbound connection from it. */
  removePeer(id: string): void {
    this.addresses.delete(id);
    this.links.get(id)?.close();
    this.links.delete(id);
    this.inbound.get(id)?.destroy();
    this.inbound.delete(id);
  }

  hasPeer(id: string): boolean {
    return this.addresses.has(id);
  }

  peerAddress(id: string): PeerAddress | undefined {
    return this.addresses.get(id);
  }

  /**
   * Sends `payload` to peer `to`. Returns false when it was dropped at once (unknown peer,
   * peer unreachable, full queue, or a frame above the size limit the receiver would refuse).
   * `onDrop`, if given, is also called if the frame is discarded later without ever having
   * been written to a socket (its connection failed first) — the payload then certainly did
   * not arrive. A frame that was written may still be lost; no callback covers that.
   */
  send(to: string, payload: unknown, onDrop?: () => void): boolean {
    const link = this.links.get(to);
    if (!link) {
      this.counters.dropped++;
      return false;
    }
    const frame = encodeFrame(payload);
    if (frame.length - 4 > this.maxFrameBytes) {
      this.counters.dropped++;
      this.logger.warn({ peer: to, bytes: frame.length }, 'raft transport: dropping oversize outbound frame');
      return false;
    }
    return link.enqueue(frame, onDrop);
  }

  /** True when the outbound link to `to` has completed its handshake. */
  isConnected(to: string): boolean {
    return this.links.get(to)?.isOpen ?? false;
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) link.close();
    this.links.clear();
    for (const s of this.inbound.values()) s.destroy();
    for (const s of this.pending) s.destroy();
    this.inbound.clear();
    this.pending.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private ensureLink(id: string): void {
    const address = this.addresses.get(id);
    if (!address || this.links.has(id) || this.closed) return;
    this.links.set(
      id,
      new PeerLink({
        selfId: this.opts.selfId,
        peerId: id,
        address,
        secret: this.opts.secret,
        handshakeFrameBytes: HANDSHAKE_FRAME_BYTES,
        maxQueuedFrames: this.opts.maxQueuedFrames ?? 4096,
        maxQueuedBytes: this.opts.maxQueuedBytes ?? 64 * 1024 * 1024,
        backoff: this.opts.backoff ?? { minMs: 20, maxMs: 500 },
        handshakeTimeoutMs: this.opts.handshakeTimeoutMs ?? 5000,
        logger: this.logger,
        stats: this.counters,
      }),
    );
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.pending.size >= (this.opts.maxPendingHandshakes ?? 64)) {
      // A flood of connections that never authenticate must not exhaust memory or timers.
      this.counters.authFailures++;
      this.logger.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'raft transport: too many pending handshakes, refusing connection');
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.pending.add(socket);
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    let decoder = new FrameDecoder(HANDSHAKE_FRAME_BYTES);
    let peerId: string | undefined;
    let dialerNonce: Uint8Array | undefined;
    let myNonce: Buffer | undefined;
    let authenticated = false;
    const refuse = (reason: string, counter: 'authFailures' | 'badFrames' | 'oversizeFrames', tellPeer: boolean): void => {
      this.counters[counter]++;
      this.logger.warn({ remote, peer: peerId, reason }, 'raft transport: refused inbound connection');
      if (tellPeer && !socket.destroyed) socket.end(encodeFrame({ t: 'reject', reason }));
      socket.destroy();
    };
    const timer = setTimeout(() => refuse('handshake timeout', 'authFailures', false), this.opts.handshakeTimeoutMs ?? 5000);
    socket.on('error', (err) => this.logger.debug({ remote, err: err.message }, 'raft transport: inbound socket error'));
    socket.on('close', () => {
      clearTimeout(timer);
      this.pending.delete(socket);
      if (peerId !== undefined && this.inbound.get(peerId) === socket) this.inbound.delete(peerId);
    });
    socket.on('data', (chunk: Buffer) => {
      if (socket.destroyed) return;
      this.counters.bytesReceived += chunk.length;
      let frames: unknown[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        refuse((err as Error).message, err instanceof FrameTooLargeError ? 'oversizeFrames' : 'badFrames', false);
        return;
      }
      for (const raw of frames) {
        if (socket.destroyed) return;
        if (authenticated) {
          this.counters.framesReceived++;
          this.deliver(peerId as string, raw);
          continue;
        }
        const frame = parseHandshakeFrame(raw);
        if (frame?.t === 'hello' && dialerNonce === undefined) {
          peerId = frame.from;
          if (frame.v !== HANDSHAKE_VERSION) return refuse(`unsupported handshake version ${frame.v}`, 'authFailures', true);
          if (frame.to !== this.opts.selfId) return refuse(`dialled node ${frame.to}, this is ${this.opts.selfId}`, 'authFailures', true);
          if (!this.addresses.has(frame.from)) return refuse(`unknown peer id ${frame.from}`, 'authFailures', true);
          dialerNonce = frame.nonce;
          myNonce = newNonce();
          const proof = handshakeProof(this.opts.secret, 'server', frame.from, this.opts.selfId, dialerNonce, myNonce);
          socket.write(encodeFrame({ t: 'challenge', nonce: myNonce, proof }));
        } else if (frame?.t === 'auth' && dialerNonce !== undefined && myNonce !== undefined && peerId !== undefined) {
          const expected = handshakeProof(this.opts.secret, 'client', peerId, this.opts.selfId, dialerNonce, myNonce);
          if (!proofMatches(expected, frame.proof)) return refuse('wrong cluster secret', 'authFailures', true);
          authenticated = true;
          clearTimeout(timer);
          this.pending.delete(socket);
          // A peer that restarted dials again; its newer connection replaces the old one.
          this.inbound.get(peerId)?.destroy();
          this.inbound.set(peerId, socket);
          decoder = this.continueWithLimit(decoder, this.maxFrameBytes);
          socket.write(encodeFrame({ t: 'welcome' }));
          this.links.get(peerId)?.redialNow();
        } else {
          return refuse('unexpected frame during handshake', 'badFrames', false);
        }
      }
    });
  }

  /** Raises the frame limit once a connection is authenticated (handshake frames are tiny). */
  private continueWithLimit(_old: FrameDecoder, limit: number): FrameDecoder {
    // The dialer sends nothing after `auth` until it reads `welcome`, so the old decoder holds
    // no buffered bytes here and a fresh decoder loses nothing.
    return new FrameDecoder(limit);
  }

  private deliver(from: string, payload: unknown): void {
    try {
      this.handler(from, payload);
    } catch (err) {
      this.logger.error({ peer: from, err: (err as Error).message }, 'raft transport: message handler threw');
    }
  }
}
