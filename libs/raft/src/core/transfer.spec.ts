/**
 * Leadership transfer (thesis §3.10): "the prior leader sends its log entries to the target
 * server ... then sends it a TimeoutNow request, causing the target server to start an election".
 */
import { describe, expect, it } from 'vitest';
import { NotLeaderError, ProposalDroppedError } from './errors';
import { Network, bytes } from './testing/network';

function cluster(): Network {
  const net = new Network({ voters: ['1', '2', '3'], seed: 21 });
  net.elect('1');
  net.propose('1', 'a');
  return net;
}

describe('leadership transfer', () => {
  it('transfers to an up-to-date follower in the next term', () => {
    const net = cluster();
    const term = net.node('1').status().term;
    net.node('1').transferLeadership('2');
    net.stabilize();
    expect(net.leaders()).toEqual(['2']);
    expect(net.node('2').status().term).toBe(term + 1);
    expect(net.countDelivered('MsgTimeoutNow')).toBe(1);
  });

  it('catches a lagging target up before sending MsgTimeoutNow', () => {
    const net = cluster();
    net.isolate('3');
    net.propose('1', 'b');
    net.propose('1', 'c');
    net.heal();
    net.node('1').transferLeadership('3');
    net.stabilize();
    expect(net.leaders()).toEqual(['3']);
    // The TimeoutNow followed the catch-up appends.
    const trace = net.delivered.filter((m) => m.to === '3' && (m.type === 'MsgApp' || m.type === 'MsgTimeoutNow')).map((m) => m.type);
    expect(trace[trace.length - 1]).toBe('MsgTimeoutNow');
    expect(trace.slice(0, -1)).toContain('MsgApp');
    net.propose('3', 'd');
    expect(net.appliedData('2')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('refuses proposals during a transfer and aborts it after an election timeout', () => {
    const net = cluster();
    net.isolate('3');
    net.node('1').transferLeadership('3');
    net.stabilize();
    expect(net.node('1').status().leadTransferee).toBe('3');
    let err: unknown;
    try {
      net.node('1').propose(bytes('x'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProposalDroppedError);
    expect(err).toMatchObject({ reason: 'leader-transfer-in-progress' });
    net.tick(10);
    expect(net.node('1').status().leadTransferee).toBeNull();
    expect(net.leaders()).toEqual(['1']);
    net.propose('1', 'x');
    expect(net.appliedData('2')).toEqual(['a', 'x']);
  });

  it('ignores transfers to itself, to learners and to non-members', () => {
    const net = new Network({ voters: ['1', '2'], learners: ['3'], seed: 3 });
    net.elect('1');
    for (const target of ['1', '3', '9']) {
      net.node('1').transferLeadership(target);
      net.stabilize();
      expect(net.node('1').status().leadTransferee).toBeNull();
    }
    expect(net.leaders()).toEqual(['1']);
  });

  it('a follower forwards the request to the leader; without a leader it reports NotLeader', () => {
    const net = cluster();
    net.node('2').transferLeadership('3');
    net.stabilize();
    expect(net.leaders()).toEqual(['3']);
    // On the wire the request names its real sender (transports authenticate `from`).
    const fwd = net.delivered.filter((m) => m.type === 'MsgTransferLeader');
    expect(fwd.map((m) => [m.from, m.to, new TextDecoder().decode(m.context)])).toEqual([['2', '1', '3']]);
    const lonely = new Network({ voters: ['1', '2', '3'] });
    expect(() => lonely.node('1').transferLeadership('2')).toThrow(NotLeaderError);
  });
});
