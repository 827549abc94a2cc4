import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RaftNode } from '../node/raft-node';
import { KvClient, KvRequestError } from './kv-client';
import { KvHttpServer } from './kv-http-server';
import { KvService } from './kv-service';
import { KvStateMachine } from './kv-state-machine';
import { KvTcpServer } from './kv-tcp-server';

let dir: string;
let node: RaftNode;
let tcp: KvTcpServer;
let http: KvHttpServer;
let tcpPort: number;
let httpBase: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-kv-api-'));
  const sm = new KvStateMachine();
  node = await RaftNode.start({ id: 'solo', dataDir: dir, listen: { host: '127.0.0.1', port: 0 }, peers: {}, bootstrap: ['solo'], secret: 'kv-api-spec-secret', stateMachine: sm, tickMs: 10 });
  node.campaign();
  const service = new KvService(node, sm);
  tcp = new KvTcpServer(service);
  tcpPort = await tcp.listen({ host: '127.0.0.1', port: 0 });
  http = new KvHttpServer(service);
  httpBase = `http://127.0.0.1:${await http.listen({ host: '127.0.0.1', port: 0 })}`;
  for (let i = 0; i < 200 && node.status().role !== 'leader'; i++) await new Promise((r) => setTimeout(r, 10));
});

afterAll(async () => {
  await tcp.close();
  await http.close();
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('KV client API (single-node cluster)', () => {
  it('serves pipelined put/get/delete over TCP', async () => {
    const c = new KvClient({ host: '127.0.0.1', port: tcpPort });
    const puts = await Promise.all(Array.from({ length: 50 }, (_, i) => c.put(`k${i}`, `v${i}`)));
    expect(new Set(puts.map((p) => p.index)).size).toBe(50);
    expect(await c.get('k49')).toBe('v49');
    expect(await c.delete('k49')).toMatchObject({ previous: 'v49' });
    expect(await c.get('k49')).toBeNull();
    const bad = await c.request({ op: 'remove-member', member: 'nobody' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(KvRequestError);
    expect((bad as KvRequestError).error.code).toBe('raft');
    c.close();
  });

  it('answers a malformed request with bad-request and closes a connection sending garbage', async () => {
    const s = connect({ host: '127.0.0.1', port: tcpPort });
    await new Promise((r) => s.once('connect', r));
    const closed = new Promise((r) => s.once('close', r));
    s.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await closed;
    const c = new KvClient({ host: '127.0.0.1', port: tcpPort });
    const err = await c.request({ op: 'put', key: 'k' } as never).catch((e: unknown) => e);
    expect((err as KvRequestError).error.code).toBe('bad-request');
    expect(await c.get('k0')).toBe('v0'); // server still healthy
    c.close();
  });

  it('serves the same operations over HTTP with problem details on errors', async () => {
    const put = await fetch(`${httpBase}/kv/greeting`, { method: 'PUT', body: 'hello' });
    expect(put.status).toBe(200);
    expect(await (await fetch(`${httpBase}/kv/greeting`)).json()).toEqual({ value: 'hello' });
    const status = (await (await fetch(`${httpBase}/status`)).json()) as { role: string; confState: { voters: string[] } };
    expect(status.role).toBe('leader');
    expect(status.confState.voters).toEqual(['solo']);
    const missing = await fetch(`${httpBase}/nope`);
    expect(missing.status).toBe(404);
    const badMember = await fetch(`${httpBase}/members`, { method: 'POST', body: '{"id": 3}' });
    expect(badMember.status).toBe(400);
    expect(badMember.headers.get('content-type')).toBe('application/problem+json');
    expect(await badMember.json()).toMatchObject({ type: 'urn:flotilla:kv:bad-request', status: 400 });
    const snap = await fetch(`${httpBase}/snapshot`, { method: 'POST' });
    expect(((await snap.json()) as { snapshotIndex: number }).snapshotIndex).toBeGreaterThan(50);
  });
});
