import { connect, type Socket } from 'node:net';
import { CoalescingWriter } from '../transport/coalescing-writer';
import { encodeFrame, FrameDecoder } from '../transport/frame-codec';
import type { PeerAddress } from '../transport/peer-link';
import type { KvApplyResult } from './kv-commands';
import type { KvRequest, KvResponse } from './kv-protocol';
import type { KvError } from './kv-service';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A failed KV request; `error.code` says why (see {@link KvError}). */
export class KvRequestError extends Error {
  constructor(readonly error: KvError) {
    super(`${error.code}: ${error.message}`);
    this.name = 'KvRequestError';
  }
}

/** Connection lost before the response arrived: the outcome of a write is unknown. */
export class KvConnectionError extends Error {
  constructor(readonly address: PeerAddress) {
    super(`connection to ${address.host}:${address.port} lost (outcome unknown)`);
    this.name = 'KvConnectionError';
  }
}

/** Pipelined client of one KV server's client port. */
export class KvClient {
  /** The open connection's writer (it holds the socket); undefined while not connected. */
  private writer: CoalescingWriter | undefined;
  private connecting: Promise<Socket> | undefined;
  private nextId = 1;
  private readonly inflight = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(readonly address: PeerAddress) {}

  put(key: string, value: string): Promise<KvApplyResult> {
    return this.request({ op: 'put', key, value }) as Promise<KvApplyResult>;
  }

  delete(key: string): Promise<KvApplyResult> {
    return this.request({ op: 'delete', key }) as Promise<KvApplyResult>;
  }

  async get(key: string): Promise<string | null> {
    return ((await this.request({ op: 'get', key })) as { value: string | null }).value;
  }

  request(req: DistributiveOmit<KvRequest, 'id'>): Promise<unknown> {
    const id = this.nextId++;
    const writer = this.writer;
    if (writer && !writer.socket.destroyed) {
      // Connected: queue now (requests of one event-loop turn share a write), one promise per request.
      return new Promise<unknown>((resolve, reject) => {
        this.inflight.set(id, { resolve, reject });
        writer.write(encodeFrame({ ...req, id }));
      });
    }
    return this.ensureSocket().then(
      () =>
        new Promise<unknown>((resolve, reject) => {
          const connected = this.writer;
          if (!connected) return reject(new KvConnectionError(this.address));
          this.inflight.set(id, { resolve, reject });
          connected.write(encodeFrame({ ...req, id }));
        }),
    );
  }

  close(): void {
    this.writer?.socket.destroy();
    this.writer = undefined;
  }

  private ensureSocket(): Promise<Socket> {
    if (this.writer && !this.writer.socket.destroyed) return Promise.resolve(this.writer.socket);
    if (this.connecting) return this.connecting;
    this.connecting = new Promise<Socket>((resolve, reject) => {
      const socket = connect(this.address);
      socket.setNoDelay(true);
      const decoder = new FrameDecoder(256 * 1024 * 1024);
      socket.once('connect', () => {
        this.writer = new CoalescingWriter(socket);
        this.connecting = undefined;
        resolve(socket);
      });
      socket.on('data', (chunk: Buffer) => {
        for (const raw of decoder.push(chunk)) {
          const res = raw as KvResponse;
          const w = this.inflight.get(res.id);
          if (!w) continue;
          this.inflight.delete(res.id);
          if (res.ok) w.resolve(res.result);
          else w.reject(new KvRequestError(res.error));
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (this.connecting) {
          this.connecting = undefined;
          reject(new KvConnectionError(this.address));
        }
        if (this.writer?.socket === socket) this.writer = undefined;
        const lost = [...this.inflight.values()];
        this.inflight.clear();
        for (const w of lost) w.reject(new KvConnectionError(this.address));
      });
    });
    return this.connecting;
  }
}
