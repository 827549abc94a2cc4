import { createServer, type Server, type Socket } from 'node:net';
import { CoalescingWriter } from '../transport/coalescing-writer';
import { encodeFrame, FrameDecoder } from '../transport/frame-codec';
import { silentLogger, type RaftLogger } from '../transport/logger';
import type { PeerAddress } from '../transport/peer-link';
import { listenOn } from './listen-on';
import { parseKvRequest, type KvResponse } from './kv-protocol';
import { executeKvRequest } from './kv-request-executor';
import { toKvError, type KvService } from './kv-service';

const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * The KV server's client port (loopback by default): pipelined request/response frames, see
 * kv-protocol.ts. A malformed frame closes that client's connection only.
 */
export class KvTcpServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly service: KvService,
    private readonly logger: RaftLogger = silentLogger,
  ) {
    this.server = createServer((s) => this.accept(s));
  }

  listen(address: PeerAddress): Promise<number> {
    return listenOn(this.server, address);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(MAX_REQUEST_BYTES);
    const out = new CoalescingWriter(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      let frames: unknown[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'kv server: bad client frame');
        socket.destroy();
        return;
      }
      for (const raw of frames) {
        const req = parseKvRequest(raw);
        if (typeof req === 'string') {
          const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1;
          this.reply(out, { id, ok: false, error: { code: 'bad-request', message: req } });
          continue;
        }
        executeKvRequest(this.service, req).then(
          (result) => this.reply(out, { id: req.id, ok: true, result }),
          (err: unknown) => this.reply(out, { id: req.id, ok: false, error: toKvError(err) }),
        );
      }
    });
  }

  private reply(out: CoalescingWriter, res: KvResponse): void {
    out.write(encodeFrame(res));
  }
}
