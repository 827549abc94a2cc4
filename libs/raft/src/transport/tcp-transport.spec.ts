import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from './frame-codec';
import { handshakeProof, HANDSHAKE_VERSION, newNonce, parseHandshakeFrame } from './handshake';
import { MemoryLogger } from './logger';
import { TcpTransport, type TcpTransportOptions } from './tcp-transport';

const SECRET = 'cluster-secret-for-tests';
const HOST = '127.0.0.1';
const open: TcpTransport[] = [];
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function startTransport(opts: Partial<TcpTransportOptions> & { selfId: string }): Promise<TcpTransport> {
  const t = new TcpTransport({ listen: { host: HOST, port: 0 }, secret: SECRET, backoff: { minMs: 10, maxMs: 100 }, ...opts });
  await t.start();
  open.push(t);
  return t;
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Two transports that know each other: a dials b and b dials a. */
async function pair(extra: Partial<TcpTransportOptions> = {}): Promise<{ a: TcpTransport; b: TcpTransport; got: { from: string; payload: unknown }[]; logB: MemoryLogger }> {
  const logB = new MemoryLogger();
  const b = await startTransport({ selfId: 'b', logger: logB, ...extra });
  const a = await startTransport({ selfId: 'a', peers: { b: { host: HOST, port: b.port } }, ...extra });
  b.setPeer('a', { host: HOST, port: a.port });
  const got: { from: string; payload: unknown }[] = [];
  b.onMessage((from, payload) => got.push({ from, payload }));
  return { a, b, got, logB };
}

/** A raw client that completes the handshake as `from` with the given secret. */
async function rawAuthenticatedClient(port: number, from: string, to: string, secret = SECRET): Promise<Socket> {
  const socket = connect({ host: HOST, port });
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const nonce = newNonce();
  socket.write(encodeFrame({ t: 'hello', v: HANDSHAKE_VERSION, from, to, nonce }));
  const decoder = new FrameDecoder(4096);
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      for (const raw of decoder.push(chunk)) {
        const f = parseHandshakeFrame(raw);
        if (f?.t === 'challenge') socket.write(encodeFrame({ t: 'auth', proof: handshakeProof(secret, 'client', from, to, nonce, f.nonce) }));
        else if (f?.t === 'welcome') resolve();
        else reject(new Error(`handshake failed: ${JSON.stringify(f)}`));
      }
    });
  });
  socket.removeAllListeners('data');
  return socket;
}

function closedPromise(socket: Socket): Promise<void> {
  return new Promise((r) => (socket.destroyed ? r() : socket.once('close', () => r())));
}

describe('TcpTransport', () => {
  it('delivers messages in order with the authenticated sender id, both directions', async () => {
    const { a, b, got } = await pair();
    const gotA: unknown[] = [];
    a.onMessage((from, payload) => gotA.push([from, payload]));
    for (let i = 0; i < 2000; i++) expect(a.send('b', { i, data: new Uint8Array([i & 255]) })).toBe(true);
    b.send('a', 'pong');
    await waitFor(() => got.length === 2000 && gotA.length === 1, 'delivery');
    expect(got.map((m) => (m.payload as { i: number }).i)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(new Set(got.map((m) => m.from))).toEqual(new Set(['a']));
    expect(gotA).toEqual([['b', 'pong']]);
    expect(a.stats().framesSent).toBe(2000);
    expect(b.stats().framesReceived).toBe(2000);
  });

  it('coalesces the frames sent to a peer during one tick (incl. its microtasks) into one socket write, in order', async () => {
    const { a, got } = await pair();
    await waitFor(() => a.isConnected('b'), 'link open');
    const before = a.stats().socketWrites;
    for (let i = 0; i < 10; i++) a.send('b', { i });
    await Promise.resolve().then(() => {
      for (let i = 10; i < 15; i++) a.send('b', { i });
    });
    await waitFor(() => got.length === 15, 'first batch');
    expect(a.stats().socketWrites - before).toBe(1);
    a.send('b', { i: 15 });
    await waitFor(() => got.length === 16, 'second batch');
    expect(a.stats().socketWrites - before).toBe(2);
    expect(got.map((m) => (m.payload as { i: number }).i)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(a.stats().framesSent).toBe(16);
  });

  it('redials at once, not after its backoff, when the peer it waits for authenticates to it', async () => {
    const slow = { backoff: { minMs: 10_000, maxMs: 10_000 } };
    const b = await startTransport({ selfId: 'b', ...slow });
    // a dials b before b knows a: refused, so a's link waits out a 10 s backoff …
    const a = await startTransport({ selfId: 'a', peers: { b: { host: HOST, port: b.port } }, ...slow });
    await waitFor(() => a.stats().authFailures >= 1, 'the refusal');
    expect(a.isConnected('b')).toBe(false);
    // … until b learns a and dials it: a sees b is up and redials now.
    b.setPeer('a', { host: HOST, port: a.port });
    await waitFor(() => a.isConnected('b'), "a's link to b", 3000);
    const got: unknown[] = [];
    b.onMessage((_from, payload) => got.push(payload));
    expect(a.send('b', 'hello')).toBe(true);
    await waitFor(() => got.length === 1, 'delivery');
  });

  it('refuses a peer holding a different secret, in both directions, and logs it', async () => {
    const logB = new MemoryLogger();
    const b = await startTransport({ selfId: 'b', logger: logB });
    const a = await startTransport({ selfId: 'a', secret: 'wrong-secret', peers: { b: { host: HOST, port: b.port } } });
    b.setPeer('a', { host: HOST, port: a.port });
    const got: unknown[] = [];
    const gotA: unknown[] = [];
    b.onMessage((_f, p) => got.push(p));
    a.onMessage((_f, p) => gotA.push(p));
    a.send('b', 'should never arrive');
    b.send('a', 'should never arrive either');
    // a's dial fails at b's check of a's proof... but first a checks b's proof and refuses b.
    await waitFor(() => a.stats().authFailures >= 2 && b.stats().authFailures >= 1, 'auth failures on both sides');
    expect(got).toEqual([]);
    expect(gotA).toEqual([]);
    expect(a.isConnected('b')).toBe(false);
    expect(b.isConnected('a')).toBe(false);
  });

  it('refuses an unknown peer id and a hello addressed to another node', async () => {
    const logB = new MemoryLogger();
    const b = await startTransport({ selfId: 'b', logger: logB });
    const got: unknown[] = [];
    b.onMessage((_f, p) => got.push(p));
    await expect(rawAuthenticatedClient(b.port, 'stranger', 'b')).rejects.toThrow(/unknown peer id stranger/);
    b.setPeer('a', { host: HOST, port: 1 });
    await expect(rawAuthenticatedClient(b.port, 'a', 'c')).rejects.toThrow(/dialled node c/);
    await expect(rawAuthenticatedClient(b.port, 'a', 'b', 'bad-secret')).rejects.toThrow(/wrong cluster secret/);
    expect(b.stats().authFailures).toBe(3);
    expect(logB.lines.filter((l) => l.level === 'warn').map((l) => (l.obj as { reason: string }).reason)).toEqual([
      'unknown peer id stranger',
      'dialled node c, this is b',
      'wrong cluster secret',
    ]);
    expect(got).toEqual([]);
  });

  it('closes an authenticated connection announcing an oversize frame, and keeps serving others', async () => {
    const { a, b, got, logB } = await pair({ maxFrameBytes: 1024 });
    const raw = await rawAuthenticatedClient(b.port, 'a', 'b');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(10 * 1024 * 1024);
    raw.write(header);
    await closedPromise(raw);
    expect(b.stats().oversizeFrames).toBe(1);
    expect(logB.lines.some((l) => l.level === 'warn' && /exceeds the limit/.test((l.obj as { reason: string }).reason))).toBe(true);
    // The transport is still healthy: the real peer's messages get through (its link was
    // replaced by the impostor's, so it redials first).
    await waitFor(() => a.isConnected('b'), 'link re-established');
    a.send('b', 'after');
    await waitFor(() => got.some((m) => m.payload === 'after'), 'delivery after oversize frame');
    // And the sender side refuses to send what the receiver would refuse.
    expect(a.send('b', 'z'.repeat(2000))).toBe(false);
  });

  it('survives garbage bytes before and after authentication', async () => {
    const { a, b, got } = await pair();
    const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const s1 = connect({ host: HOST, port: b.port });
    s1.on('error', () => undefined);
    s1.write(garbage);
    await closedPromise(s1);
    const s2 = await rawAuthenticatedClient(b.port, 'a', 'b');
    s2.on('error', () => undefined);
    s2.write(Buffer.from([0, 0, 0, 2, 0x92, 0x01])); // truncated msgpack body
    await closedPromise(s2);
    const s3 = connect({ host: HOST, port: b.port });
    s3.on('error', () => undefined);
    s3.write(encodeFrame({ t: 'auth', proof: Buffer.alloc(32) })); // auth before hello
    await closedPromise(s3);
    const stats = b.stats();
    expect(stats.badFrames + stats.oversizeFrames).toBe(3);
    await waitFor(() => a.isConnected('b'), 'link re-established'); // s2 had replaced a's link
    a.send('b', 'still alive');
    await waitFor(() => got.some((m) => m.payload === 'still alive'), 'delivery after garbage');
  });

  it('reconnects after the peer restarts on the same port', async () => {
    const { a, b, got } = await pair();
    a.send('b', 'before');
    await waitFor(() => got.length === 1, 'first delivery');
    const port = b.port;
    await b.close();
    open.splice(open.indexOf(b), 1);
    await waitFor(() => !a.isConnected('b'), 'link down');
    const b2 = await startTransport({ selfId: 'b', listen: { host: HOST, port }, peers: { a: { host: HOST, port: a.port } } });
    const got2: unknown[] = [];
    b2.onMessage((_f, p) => got2.push(p));
    await waitFor(() => a.isConnected('b'), 'link up again');
    a.send('b', 'after');
    await waitFor(() => got2.includes('after'), 'delivery after restart');
    expect(a.stats().connects).toBeGreaterThanOrEqual(2);
  });

  it('caps unauthenticated connections and keeps serving authenticated peers', async () => {
    const { a, b, got } = await pair({ maxPendingHandshakes: 3 });
    await waitFor(() => a.isConnected('b') && b.isConnected('a'), 'peers authenticated'); // not pending any more
    const idle = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const s = connect({ host: HOST, port: b.port });
        s.on('error', () => undefined);
        await new Promise((r) => s.once('connect', r));
        return s;
      }),
    );
    await waitFor(() => idle.filter((s) => s.destroyed).length === 2, 'connections beyond the cap closed');
    expect(b.stats().authFailures).toBe(2);
    idle.forEach((s) => s.destroy());
    a.send('b', 'authenticated traffic still flows');
    await waitFor(() => got.length === 1, 'delivery');
  });

  it('follows a peer to a new address, and refuses a removed peer', async () => {
    const { a, b, got } = await pair();
    a.send('b', 'one');
    await waitFor(() => got.length === 1, 'first delivery');
    await b.close();
    open.splice(open.indexOf(b), 1);
    const moved = await startTransport({ selfId: 'b', peers: { a: { host: HOST, port: a.port } } }); // new ephemeral port
    const got2: unknown[] = [];
    moved.onMessage((_f, p) => got2.push(p));
    a.setPeer('b', { host: HOST, port: moved.port });
    await waitFor(() => a.isConnected('b'), 'link to the new address');
    a.send('b', 'two');
    await waitFor(() => got2.includes('two'), 'delivery at the new address');
    // b forgets a: a's connection is dropped and a's redials are refused as an unknown peer.
    moved.removePeer('a');
    await waitFor(() => !a.isConnected('b'), 'link dropped');
    await waitFor(() => moved.stats().authFailures > 0, 'redial refused');
    expect(a.isConnected('b')).toBe(false);
  });

  it('bounds the outbound queue while a peer is unreachable, counting drops', async () => {
    const a = await startTransport({ selfId: 'a', maxQueuedFrames: 10, peers: { b: { host: HOST, port: 1 } } });
    let accepted = 0;
    let toldDropped = 0;
    for (let i = 0; i < 100; i++) if (a.send('b', i, () => toldDropped++)) accepted++;
    expect(accepted).toBe(10); // queued while the first dial is in progress
    expect(toldDropped).toBe(0); // refused at once: the return value says so, no callback
    expect(a.stats().dropped).toBe(90);
    // The dial fails: the queued frames are dropped rather than kept for a later connection,
    // and while the link waits to redial, sends are refused at once.
    await waitFor(() => a.stats().dropped === 100, 'stale frames dropped after the failed dial');
    expect(toldDropped).toBe(10); // each queued frame's sender learns it was never sent
    expect(a.send('b', 'while down')).toBe(false);
    expect(a.stats().dropped).toBe(101);
    expect(a.send('nobody', 1)).toBe(false);
    expect(a.stats().dropped).toBe(102);
  });

  it('stops writing while the socket is full and resumes on drain without losing queued frames', async () => {
    // A peer that authenticates, then stops reading until told to.
    const frames: unknown[] = [];
    let peerSocket: Socket | undefined;
    const server = createServer((socket) => {
      peerSocket = socket;
      const decoder = new FrameDecoder(1 << 24);
      let nonceC: Uint8Array | undefined;
      let nonceS: Buffer | undefined;
      let authed = false;
      socket.on('data', (chunk: Buffer) => {
        for (const raw of decoder.push(chunk)) {
          if (authed) {
            frames.push(raw);
            continue;
          }
          const f = parseHandshakeFrame(raw);
          if (f?.t === 'hello') {
            nonceC = f.nonce;
            nonceS = newNonce();
            socket.write(encodeFrame({ t: 'challenge', nonce: nonceS, proof: handshakeProof(SECRET, 'server', 'a', 'b', nonceC, nonceS) }));
          } else if (f?.t === 'auth') {
            authed = true;
            socket.write(encodeFrame({ t: 'welcome' }));
            socket.pause();
          }
        }
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, HOST, () => r()));
    const port = (server.address() as { port: number }).port;
    const a = await startTransport({ selfId: 'a', maxQueuedFrames: 200, peers: { b: { host: HOST, port } } });
    await waitFor(() => a.isConnected('b'), 'link open');
    const blob = new Uint8Array(64 * 1024);
    let accepted = 0;
    for (let i = 0; i < 2000; i++) if (a.send('b', { i, blob })) accepted++;
    const dropped = a.stats().dropped;
    expect(dropped).toBeGreaterThan(0);
    expect(accepted + dropped).toBe(2000);
    peerSocket!.resume();
    await waitFor(() => frames.length === accepted, 'queued frames delivered after drain', 15_000);
    const seq = frames.map((f) => (f as { i: number }).i);
    expect([...seq].sort((x, y) => x - y)).toEqual(seq); // FIFO preserved
  });
});
