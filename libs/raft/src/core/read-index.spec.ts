/**
 * ReadIndex linearizable reads (thesis §6.4): "1. If the leader has not yet marked an entry from
 * its current term committed, it waits until it has done so. 2. The leader saves its current
 * commit index in a local variable readIndex. 3. The leader needs to make sure it hasn't been
 * superseded by a newer leader ... it sends a new round of heartbeats and waits for their
 * acknowledgments from a majority of the cluster. 4. The leader waits for its state machine to
 * advance at least as far as the readIndex."
 */
import { describe, expect, it } from 'vitest';
import { NotLeaderError } from './errors';
import { Network, bytes, text } from './testing/network';

describe('ReadIndex', () => {
  it('the leader answers only after a quorum acknowledged a heartbeat carrying the read context', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 8 });
    net.elect('1');
    const idx = net.propose('1', 'w');
    net.node('1').readIndex(bytes('r1'));
    net.flush('1');
    expect(net.peer('1').readStates).toEqual([]);
    const hbs = net.queue.filter((m) => m.type === 'MsgHeartbeat');
    expect(hbs.map((m) => text(m.context ?? new Uint8Array()))).toEqual(['r1', 'r1']);
    net.deliverWhere((m) => m.type === 'MsgHeartbeat' && m.to === '2');
    net.flush('2');
    net.deliverWhere((m) => m.type === 'MsgHeartbeatResp');
    net.flush('1');
    expect(net.peer('1').readStates.map((r) => [r.index, text(r.requestCtx)])).toEqual([[idx, 'r1']]);
  });

  it('in a 5-node cluster one acknowledgement is not enough: the read waits for a quorum (3)', () => {
    const net = new Network({ voters: ['1', '2', '3', '4', '5'], seed: 8 });
    net.elect('1');
    net.node('1').readIndex(bytes('q'));
    net.flush('1');
    const ackFrom = (id: string) => {
      net.deliverWhere((m) => m.type === 'MsgHeartbeat' && m.to === id);
      net.flush(id);
      net.deliverWhere((m) => m.type === 'MsgHeartbeatResp' && m.from === id);
      net.flush('1');
    };
    ackFrom('2');
    expect(net.peer('1').readStates).toEqual([]);
    ackFrom('3');
    expect(net.peer('1').readStates.map((r) => text(r.requestCtx))).toEqual(['q']);
  });

  it('a new leader waits for a commit in its own term before answering', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 8 });
    net.elect('1');
    net.propose('1', 'w');
    // Node 2 wins, but its no-op does not reach anyone yet.
    net.dropFilter = (m) => m.from === '2' && m.type === 'MsgApp';
    net.node('1').transferLeadership('2');
    net.stabilize();
    expect(net.leaders()).toEqual(['2']);
    net.node('2').readIndex(bytes('r'));
    net.tick(3, ['2']);
    expect(net.peer('2').readStates).toEqual([]); // heartbeats were acknowledged, but no current-term commit
    net.dropFilter = null;
    net.tick(1);
    const st = net.node('2').status();
    expect(net.peer('2').readStates.map((r) => text(r.requestCtx))).toEqual(['r']);
    expect(net.peer('2').readStates[0].index).toBe(st.commit); // includes the no-op
  });

  it('a follower forwards the request and receives the leader read index', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 8 });
    net.elect('1');
    const idx = net.propose('1', 'w');
    net.node('3').readIndex(bytes('from-3'));
    net.stabilize();
    expect(net.peer('3').readStates.map((r) => [r.index, text(r.requestCtx)])).toEqual([[idx, 'from-3']]);
    expect(net.peer('1').readStates).toEqual([]);
  });

  it('several pending reads are confirmed by one round; a single-node leader answers at once', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 8 });
    net.elect('1');
    net.node('1').readIndex(bytes('a'));
    net.node('1').readIndex(bytes('b'));
    net.stabilize();
    expect(net.peer('1').readStates.map((r) => text(r.requestCtx))).toEqual(['a', 'b']);
    const single = new Network({ voters: ['1'] });
    single.elect('1');
    single.node('1').readIndex(bytes('s'));
    single.flush('1');
    expect(single.peer('1').readStates).toHaveLength(1);
  });

  it('a partitioned leader never answers; a node without a leader reports NotLeader', () => {
    const net = new Network({ voters: ['1', '2', '3'], seed: 8, config: { checkQuorum: false } });
    net.elect('1');
    net.isolate('1');
    net.node('1').readIndex(bytes('x'));
    net.tick(30, ['1']);
    expect(net.peer('1').readStates).toEqual([]);
    const fresh = new Network({ voters: ['1', '2', '3'] });
    expect(() => fresh.node('1').readIndex(bytes('y'))).toThrow(NotLeaderError);
  });
});
