import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@flotilla/testing/net/free-port';
import { afterEach, describe, expect, it } from 'vitest';
import { NotLeaderError } from '../core';
import { decodeKvCommand, encodeKvCommand, type KvApplyResult } from '../kv/kv-commands';
import { KvStateMachine } from '../kv/kv-state-machine';
import { MemoryLogger } from '../transport/logger';
import type { LogStoreKind } from '../storage/log-store';
import type { WalFlushMode } from '../storage/wal-log-store';
import type { PeerAddress } from '../transport/peer-link';
import { ShutdownError, TimeoutError } from './errors';
import { RaftNode } from './raft-node';
import type { RaftNodeOptions } from './raft-node-options';

const HOST = '127.0.0.1';
const SECRET = 'node-spec-secret';

interface Member {
  id: string;
  dir: string;
  port: number;
  sm: KvStateMachine;
  node?: RaftNode;
  logger: MemoryLogger;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

class Cluster {
  readonly members = new Map<string, Member>();
  constructor(readonly extra: Partial<RaftNodeOptions> = {}) {
    cleanups.push(() => this.stopAll());
  }

  async add(id: string): Promise<Member> {
    const dir = mkdtempSync(join(tmpdir(), `flotilla-node-${id}-`));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const m: Member = { id, dir, port: await freePort(), sm: new KvStateMachine(), logger: new MemoryLogger() };
    this.members.set(id, m);
    return m;
  }

  peers(): Record<string, PeerAddress> {
    return Object.fromEntries([...this.members.values()].map((m) => [m.id, { host: HOST, port: m.port }]));
  }

  async start(id: string, opts: Partial<RaftNodeOptions> = {}): Promise<RaftNode> {
    const m = this.members.get(id)!;
    m.sm = new KvStateMachine();
    m.node = await RaftNode.start({
      id,
      dataDir: m.dir,
      listen: { host: HOST, port: m.port },
      peers: this.peers(),
      secret: SECRET,
      stateMachine: m.sm,
      tickMs: 20,
      electionTicks: 10,
      operationTimeoutMs: 3000,
      logger: m.logger,
      ...this.extra,
      ...opts,
    });
    return m.node;
  }

  async stop(id: string): Promise<void> {
    const m = this.members.get(id)!;
    await m.node?.stop();
    m.node = undefined;
  }

  async stopAll(): Promise<void> {
    for (const m of this.members.values()) await m.node?.stop();
  }

  running(): Member[] {
    return [...this.members.values()].filter((m) => m.node);
  }

  async leader(timeoutMs = 5000): Promise<Member> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leaders = this.running().filter((m) => m.node!.status().role === 'leader');
      if (leaders.length === 1) return leaders[0];
      if (Date.now() > deadline) throw new Error(`no single leader: ${this.running().map((m) => `${m.id}=${m.node!.status().role}`)}`);
      await sleep(10);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function eventually(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const put = (node: RaftNode, key: string, value: string): Promise<KvApplyResult> => node.propose(encodeKvCommand({ op: 'put', key, value })) as Promise<KvApplyResult>;

async function threeNodes(extra: Partial<RaftNodeOptions> = {}): Promise<Cluster> {
  const c = new Cluster(extra);
  for (const id of ['n1', 'n2', 'n3']) await c.add(id);
  for (const id of ['n1', 'n2', 'n3']) await c.start(id, { bootstrap: ['n1', 'n2', 'n3'] });
  return c;
}

const STORES: [LogStoreKind, WalFlushMode | 'by-role' | undefined][] = [
  ['lmdb', undefined],
  ['wal', 'by-role'],
  ['wal', 'threadpool'],
  ['wal', 'inline'],
];

describe.each(STORES)('RaftNode on %s storage, WAL flush mode %s (3 in-process nodes on loopback, real disks)', (storage, walFlushMode) => {
  it('elects one leader, commits proposals from leader and followers, serves linearizable reads everywhere', async () => {
    const c = await threeNodes({ storage, walFlushMode });
    const leader = await c.leader();
    const followers = c.running().filter((m) => m !== leader);
    const r1 = await put(leader.node!, 'a', '1');
    expect(r1.index).toBeGreaterThan(0);
    const r2 = await put(followers[0].node!, 'a', '2'); // forwarded to the leader
    expect(r2).toEqual({ index: r2.index, previous: '1' });
    expect(r2.index).toBeGreaterThan(r1.index);
    // A read through any node observes the latest acknowledged write.
    for (const m of c.running()) expect(await m.node!.read(() => m.sm.get('a'))).toBe('2');
    const st = leader.node!.status();
    expect(st.role).toBe('leader');
    expect(Object.keys(st.peers).sort()).toEqual(['n1', 'n2', 'n3']);
    await eventually(() => Object.values(leader.node!.status().peers).every((p) => p.lag === 0), 'followers caught up');
    expect(followers[1].node!.status().leader).toBe(leader.id);
  });

  it('keeps every acknowledged write across a whole-cluster restart', async () => {
    const c = await threeNodes({ storage, walFlushMode });
    const leader = await c.leader();
    const writes = await Promise.all(Array.from({ length: 200 }, (_, i) => put(leader.node!, `k${i % 20}`, `v${i}`)));
    expect(new Set(writes.map((w) => w.index)).size).toBe(200);
    await c.stopAll();
    for (const id of ['n1', 'n2', 'n3']) await c.start(id);
    const l2 = await c.leader();
    await put(l2.node!, 'after', 'restart'); // commits everything before it, replays on all
    for (const m of c.running()) {
      await m.node!.read(() => undefined);
      for (let k = 0; k < 20; k++) expect(m.sm.get(`k${k}`)).toBe(`v${180 + k}`);
    }
  });

  it('snapshots, compacts, and brings a lagging follower back with InstallSnapshot', async () => {
    const c = await threeNodes({ storage, walFlushMode, snapshotEntries: 30, catchUpEntries: 10 });
    const leader = await c.leader();
    const lagging = c.running().find((m) => m !== leader)!;
    await put(leader.node!, 'x', 'before');
    await c.stop(lagging.id);
    for (let i = 0; i < 150; i++) await put(leader.node!, `k${i}`, `v${i}`);
    await eventually(() => leader.node!.status().firstIndex > 60, 'leader compacted its log');
    const firstIndex = leader.node!.status().firstIndex;
    await c.start(lagging.id);
    await eventually(() => lagging.node!.status().applied >= leader.node!.status().commit, 'lagging follower caught up');
    expect(lagging.logger.lines.map((l) => l.msg)).toContain('raft node: installed snapshot from leader');
    expect(lagging.node!.status().snapshotIndex).toBeGreaterThanOrEqual(firstIndex - 1);
    expect(lagging.sm.get('k149')).toBe('v149');
    expect(lagging.sm.get('x')).toBe('before');
    expect(lagging.sm.snapshot()).toEqual(leader.sm.snapshot());
  });

  it('adds a member as learner, promotes it once caught up, transfers leadership to it, then removes it', async () => {
    const c = await threeNodes({ storage, walFlushMode });
    const leader = await c.leader();
    for (let i = 0; i < 20; i++) await put(leader.node!, `k${i}`, `v${i}`);
    const n4 = await c.add('n4');
    await c.start('n4', { peers: c.peers() }); // no bootstrap: joins empty
    await leader.node!.addMember('n4', { host: HOST, port: n4.port });
    expect(leader.node!.status().confState.voters).toContain('n4');
    await eventually(() => n4.sm.get('k19') === 'v19', 'new member replicated the data');
    await leader.node!.transferLeadership('n4');
    expect((await c.leader()).id).toBe('n4');
    expect(await put(leader.node!, 'via-old-leader', 'ok')).toMatchObject({ index: expect.any(Number) });
    await n4.node!.removeMember(leader.id);
    const after = await c.leader();
    expect(after.node!.status().confState.voters).not.toContain(leader.id);
    expect(after.node!.status().confState.voters).toHaveLength(3);
    await put(after.node!, 'after-removal', 'ok');
  });

  it('lets the leader remove itself: the others elect a new leader and keep serving', async () => {
    const c = await threeNodes({ storage, walFlushMode });
    const leader = await c.leader();
    await put(leader.node!, 'before', '1');
    await leader.node!.removeMember(leader.id);
    const others = c.running().filter((m) => m !== leader);
    await eventually(() => others.some((m) => m.node!.status().role === 'leader'), 'a new leader among the remaining members', 10_000);
    const next = others.find((m) => m.node!.status().role === 'leader')!;
    expect([...next.node!.status().confState.voters].sort()).toEqual(others.map((m) => m.id).sort());
    await put(next.node!, 'after', '2');
    for (const m of others) expect(await m.node!.read(() => m.sm.get('after'))).toBe('2');
  });

  it('fails fast with NotLeaderError when no leader is known, and with TimeoutError/ShutdownError otherwise', async () => {
    const c = new Cluster({ storage, walFlushMode });
    for (const id of ['n1', 'n2', 'n3']) await c.add(id);
    const lone = await c.start('n1', { bootstrap: ['n1', 'n2', 'n3'], operationTimeoutMs: 300 });
    const err = await put(lone, 'a', '1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotLeaderError);
    expect((err as NotLeaderError).leaderHint).toBeNull();
    await expect(lone.readIndex()).rejects.toBeInstanceOf(NotLeaderError);
    await c.start('n2', { bootstrap: ['n1', 'n2', 'n3'], operationTimeoutMs: 300 });
    const leader = await c.leader();
    const other = c.running().find((m) => m !== leader)!;
    await c.stop(other.id);
    // The leader has lost its quorum but has not noticed yet: the proposal cannot commit.
    const t = await put(leader.node!, 'b', '2').catch((e: unknown) => e);
    expect(t).toBeInstanceOf(TimeoutError);
    const pending = put(leader.node!, 'c', '3').catch((e: unknown) => e);
    const pendingRead = leader.node!.readIndex().catch((e: unknown) => e);
    await leader.node!.stop();
    expect(await pending).toSatisfy((e: unknown) => e instanceof ShutdownError || e instanceof NotLeaderError);
    expect(await pendingRead).toSatisfy((e: unknown) => e instanceof ShutdownError || e instanceof NotLeaderError);
    await expect(leader.node!.propose(new Uint8Array([1]))).rejects.toBeInstanceOf(ShutdownError);
  });

  it('never lets a command that fails in the state machine break the node: the proposer gets the error', async () => {
    const c = await threeNodes({ storage, walFlushMode });
    const leader = await c.leader();
    const bad = await leader.node!.propose(new Uint8Array([1, 2, 3])).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Error);
    expect(() => decodeKvCommand(new Uint8Array([1, 2, 3]))).toThrow();
    expect(await put(leader.node!, 'ok', 'yes')).toMatchObject({ index: expect.any(Number) });
  });
});

describe('RaftNode WAL flush mode by role (the default)', () => {
  it('flushes on the threadpool while leading and inline while following, switching on leadership transfer', async () => {
    const c = await threeNodes({ storage: 'wal' });
    const leader = await c.leader();
    await put(leader.node!, 'k', 'v');
    const modes = (): Record<string, string | undefined> => Object.fromEntries(c.running().map((m) => [m.id, m.node!.status().store.flushMode]));
    const followers = c.running().filter((m) => m !== leader);
    expect(modes()).toEqual(Object.fromEntries(c.running().map((m) => [m.id, m === leader ? 'threadpool' : 'inline'])));
    await leader.node!.transferLeadership(followers[0].id);
    await eventually(() => followers[0].node!.status().role === 'leader', 'transfer to complete');
    await put(followers[0].node!, 'k', 'w');
    await eventually(() => modes()[leader.id] === 'inline' && modes()[followers[0].id] === 'threadpool', 'flush modes to follow the roles');
    expect(modes()[followers[1].id]).toBe('inline');
  });
});
