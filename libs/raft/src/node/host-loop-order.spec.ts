import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@flotilla/testing/net/free-port';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Message } from '../core';
import { encodeKvCommand } from '../kv/kv-commands';
import { KvStateMachine } from '../kv/kv-state-machine';
import { LmdbLogStore } from '../storage/lmdb-log-store';
import type { LogStore, PersistBatch } from '../storage/log-store';
import { WalLogStore, type WalFlushMode } from '../storage/wal-log-store';
import { TcpTransport } from '../transport/tcp-transport';
import { RaftNode } from './raft-node';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('host loop order (replicate ∥ persist → send acks → apply → advance)', () => {
  it.each([['lmdb', 'default'], ['wal', 'threadpool'], ['wal', 'inline']] as const)('%s storage (%s flush): sends only replication messages while its own write is being flushed, acks votes/appends only after they are durable, and applies only durable entries', async (storage, flush) => {
    const walFlushMode: WalFlushMode | undefined = flush === 'default' ? undefined : flush;
    // Every event, per node, in the order it happened. Persisting is slowed down so that an
    // out-of-order send would be caught in the act.
    const events: { node: string; what: 'persist-start' | 'persist-end' | 'send'; detail: string }[] = [];
    // What each node's store has acknowledged as flushed so far.
    const durable = new Map<string, { last: number; hs: { term: number; vote: string | null } }>();
    const violations: string[] = [];
    let replicatedAhead = 0;
    const proto: LogStore = storage === 'wal' ? WalLogStore.prototype : LmdbLogStore.prototype;
    const persist = proto.persist;
    vi.spyOn(proto, 'persist').mockImplementation(async function (this: LogStore, batch: PersistBatch) {
      const node = this.path;
      events.push({ node, what: 'persist-start', detail: `${batch.entries?.length ?? 0} entries, hs=${batch.hardState ? JSON.stringify(batch.hardState) : '-'}` });
      await new Promise((r) => setTimeout(r, 3));
      await persist.call(this, batch);
      durable.set(node, { last: this.lastIndex(), hs: this.initialState().hardState });
      events.push({ node, what: 'persist-end', detail: '' });
    });
    const send = TcpTransport.prototype.send;
    const storeOf = new Map<string, string>();
    vi.spyOn(TcpTransport.prototype, 'send').mockImplementation(function (this: TcpTransport, to: string, payload: unknown, onDrop?: () => void) {
      const m = payload as Message;
      const node = storeOf.get(this.selfId) ?? this.selfId;
      events.push({ node, what: 'send', detail: `${m.type} → ${to} term ${m.term} index ${m.index}` });
      const d = durable.get(node) ?? { last: 0, hs: { term: 0, vote: null } };
      // Raft's crash-recovery rule: an append ack, a vote, or an append carrying entries
      // leaves the node only once what it depends on is on disk.
      if (m.type === 'MsgAppResp' && !m.reject && m.index > d.last) violations.push(`${this.selfId} acked index ${m.index} with only ${d.last} durable`);
      if (m.type === 'MsgVoteResp' && !m.reject && (d.hs.term < m.term || d.hs.vote !== to)) violations.push(`${this.selfId} granted a vote to ${to} in term ${m.term} before persisting it`);
      // A leader's MsgApp MAY carry entries it has not flushed yet (its own copy counts only
      // once persisted), but never a commit index beyond what a quorum stores durably.
      if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat') {
        const lasts = [...storeOf.values()].map((path) => durable.get(path)?.last ?? 0).sort((a, b) => b - a);
        if (m.commit > lasts[1]) violations.push(`${this.selfId} sent commit ${m.commit} with only ${lasts.join('/')} durable`);
      }
      // Replication ahead of the leader's own flush (what the pipeline is for).
      if (m.type === 'MsgApp' && m.entries.length > 0 && m.entries[m.entries.length - 1].index > d.last) replicatedAhead++;
      return send.call(this, to, payload, onDrop);
    });

    const ids = ['n1', 'n2', 'n3'];
    const ports = await Promise.all(ids.map(() => freePort()));
    const peers = Object.fromEntries(ids.map((id, i) => [id, { host: '127.0.0.1', port: ports[i] }]));
    const nodes: RaftNode[] = [];
    for (const id of ids) {
      const dir = mkdtempSync(join(tmpdir(), `flotilla-order-${id}-`));
      const storePath = join(dir, storage === 'wal' ? 'wal' : 'raft-log.mdb');
      storeOf.set(id, storePath);
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const sm = new KvStateMachine();
      const apply = sm.apply.bind(sm);
      sm.apply = (command, ctx) => {
        const d = durable.get(storePath)?.last ?? 0;
        if (ctx.index > d) violations.push(`${id} applied index ${ctx.index} with only ${d} durable`);
        return apply(command, ctx);
      };
      const node = await RaftNode.start({ id, dataDir: dir, listen: peers[id], peers, bootstrap: ids, secret: 'order-spec-secret', stateMachine: sm, tickMs: 20, storage, walFlushMode });
      nodes.push(node);
      cleanups.push(() => node.stop());
    }
    for (let i = 0; i < 500 && !nodes.some((n) => n.status().role === 'leader'); i++) await new Promise((r) => setTimeout(r, 10));
    const leader = nodes.find((n) => n.status().role === 'leader')!;
    await Promise.all(Array.from({ length: 30 }, (_, i) => leader.propose(encodeKvCommand({ op: 'put', key: `k${i}`, value: 'v' }))));
    for (let i = 0; i < 15; i++) await leader.propose(encodeKvCommand({ op: 'put', key: 'seq', value: String(i) }));
    await nodes[0].read(() => undefined);

    expect(violations).toEqual([]);
    let votesAndAppendAcks = 0;
    for (const id of ids) {
      const mine = events.filter((e) => e.node === storeOf.get(id));
      let inFlight = 0;
      let inFlightChangesTermOrVote = false;
      let lastHs = { term: 0, vote: null as string | null };
      for (const e of mine) {
        if (e.what === 'persist-start') {
          inFlight++;
          const hs = /hs=(\{.*\})$/.exec(e.detail);
          if (hs) {
            const next = JSON.parse(hs[1]) as { term: number; vote: string | null };
            if (next.term !== lastHs.term || next.vote !== lastHs.vote) {
              // A term/vote change is written alone: nothing else in flight, nothing sent meanwhile.
              expect(inFlight, `${id} wrote a term/vote change while another write was in flight`).toBe(1);
              inFlightChangesTermOrVote = true;
            }
            lastHs = next;
          }
        } else if (e.what === 'persist-end') {
          if (--inFlight === 0) inFlightChangesTermOrVote = false;
        } else {
          // (Acks and votes sent while a LATER write is in flight are fine; that they never
          // overtake their own write is what `violations` checks.)
          expect(inFlightChangesTermOrVote, `${id} sent "${e.detail}" while a term/vote change was being flushed`).toBe(false);
          if (/^Msg(Vote|PreVote|App)Resp/.test(e.detail)) votesAndAppendAcks++;
        }
      }
    }
    expect(votesAndAppendAcks).toBeGreaterThan(20); // the check above really covered acks
    expect(replicatedAhead).toBeGreaterThan(5); // the leader does replicate entries before its own flush of them
    expect(events.filter((e) => e.what === 'persist-start').length).toBeGreaterThan(10);
  });
});
