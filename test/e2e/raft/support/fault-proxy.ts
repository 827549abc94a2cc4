import { connect, createServer, type Server, type Socket } from 'node:net';

/** What the proxy does to traffic: pass it, hold it for `delayMs`, silently drop it, or cut connections. */
export type FaultMode = { kind: 'pass' } | { kind: 'delay'; delayMs: number } | { kind: 'drop' } | { kind: 'cut' };

/**
 * A TCP proxy on 127.0.0.1 in front of one node's raft port, used for ONE direction of one
 * link (node A dials B through it). `cut` destroys open connections and refuses new ones
 * (a partition); `drop` keeps connections up but discards bytes (a black hole — which breaks
 * framing, so the receiver drops the link; both are realistic).
 */
export class FaultProxy {
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private mode: FaultMode = { kind: 'pass' };
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  setMode(mode: FaultMode): void {
    this.mode = mode;
    if (mode.kind === 'cut' || mode.kind === 'drop') {
      for (const [a, b] of this.pairs) {
        a.destroy();
        b.destroy();
      }
      this.pairs.clear();
    }
  }

  async close(): Promise<void> {
    this.setMode({ kind: 'cut' });
    await new Promise((r) => this.server.close(r));
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.mode.kind === 'cut') {
      client.destroy();
      return;
    }
    const upstream = connect(this.target);
    upstream.on('error', () => undefined);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        const m = this.mode;
        if (m.kind === 'drop' || m.kind === 'cut') return;
        if (m.kind === 'delay') setTimeout(() => to.destroyed || to.write(chunk), m.delayMs);
        else to.write(chunk);
      });
      from.on('close', () => {
        to.destroy();
        this.pairs.delete(pair);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
  }
}
