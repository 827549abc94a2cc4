import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { PeerAddress } from '../transport/peer-link';
import { listenOn } from './listen-on';
import { toKvError, type KvError, type KvService } from './kv-service';
import { executeKvRequest } from './kv-request-executor';
import type { KvRequest } from './kv-protocol';

const STATUS_OF: Record<KvError['code'], number> = {
  'not-leader': 503,
  timeout: 504,
  shutdown: 503,
  dropped: 503,
  'bad-request': 400,
  raft: 409,
  internal: 500,
};

const MAX_BODY = 1024 * 1024;

/**
 * Human-friendly HTTP face of the KV server (curl): the same operations as the TCP protocol.
 *
 * GET /status · GET|PUT|DELETE /kv/:key · POST /members {id,host,port,asLearner?} ·
 * DELETE /members/:id · POST /leader {id} · POST /snapshot. Errors are RFC 9457 problem
 * details with `type` = `urn:flotilla:kv:<code>`.
 */
export class KvHttpServer {
  private readonly server: Server;

  constructor(private readonly service: KvService) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  listen(address: PeerAddress): Promise<number> {
    return listenOn(this.server, address);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readBody(req);
      const request = route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname, body);
      if (typeof request === 'string') return send(res, 404, { type: 'urn:flotilla:kv:not-found', title: 'Not Found', status: 404, detail: request }, true);
      const result = await executeKvRequest(this.service, request);
      send(res, 200, result, false);
    } catch (err) {
      const e = toKvError(err);
      const status = STATUS_OF[e.code];
      send(res, status, { type: `urn:flotilla:kv:${e.code}`, title: e.code, status, detail: e.message, leader: e.leader, outcomeUnknown: e.outcomeUnknown }, true);
    }
  }
}

function route(method: string, path: string, body: string): KvRequest | string {
  const id = 0;
  const kv = /^\/kv\/(.+)$/.exec(path);
  if (path === '/status' && method === 'GET') return { id, op: 'status' };
  if (path === '/snapshot' && method === 'POST') return { id, op: 'snapshot' };
  if (kv && method === 'GET') return { id, op: 'get', key: decodeURIComponent(kv[1]) };
  if (kv && method === 'PUT') return { id, op: 'put', key: decodeURIComponent(kv[1]), value: body };
  if (kv && method === 'DELETE') return { id, op: 'delete', key: decodeURIComponent(kv[1]) };
  if (path === '/members' && method === 'POST') {
    const b = parseJson(body) as { id?: unknown; host?: unknown; port?: unknown; asLearner?: unknown };
    if (typeof b.id !== 'string' || typeof b.host !== 'string' || typeof b.port !== 'number') throw new TypeError('body must be {"id","host","port"}');
    return { id, op: 'add-member', member: b.id, host: b.host, port: b.port, asLearner: b.asLearner === true };
  }
  const member = /^\/members\/(.+)$/.exec(path);
  if (member && method === 'DELETE') return { id, op: 'remove-member', member: decodeURIComponent(member[1]) };
  if (path === '/leader' && method === 'POST') {
    const b = parseJson(body) as { id?: unknown };
    if (typeof b.id !== 'string') throw new TypeError('body must be {"id"}');
    return { id, op: 'transfer-leader', to: b.id };
  }
  return `no route for ${method} ${path}`;
}

function parseJson(body: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body);
    if (typeof v === 'object' && v !== null) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new TypeError('body is not a JSON object');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new TypeError('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, problem: boolean): void {
  res.writeHead(status, { 'content-type': problem ? 'application/problem+json' : 'application/json' });
  res.end(JSON.stringify(body));
}
