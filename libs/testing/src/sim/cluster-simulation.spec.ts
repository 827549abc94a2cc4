import { describe, expect, it } from 'vitest';
import { simulate, type SimulationResult } from './cluster-simulation';
import type { FaultLevel } from './fault-profile';
import { rawNodeFactory } from './raw-node-factory';
import { describeFailure, runSeedBatch } from './sim-runner';

type SimNode = ReturnType<typeof rawNodeFactory>;
type MessageType = Parameters<SimNode['step']>[0]['type'];

/** Wraps a node so that it silently ignores incoming messages of the given types. */
function droppingMessages(node: SimNode, dropped: MessageType[]): SimNode {
  return new Proxy(node, {
    get(target, prop, receiver) {
      if (prop === 'step') return (m: Parameters<SimNode['step']>[0]) => (dropped.includes(m.type) ? undefined : target.step(m));
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const failures = (results: readonly SimulationResult[]): string => results.map(describeFailure).join('\n');

describe('ClusterSimulation (real Raft core)', () => {
  it('replays the identical history for the same seed', () => {
    for (const [seed, nodes, faults] of [
      [11, 3, 'heavy'],
      [12, 5, 'heavy'],
      [13, 5, 'light'],
    ] as const) {
      const a = simulate({ seed, nodes, faults, factory: rawNodeFactory });
      const b = simulate({ seed, nodes, faults, factory: rawNodeFactory });
      expect(b.traceHash, `seed ${seed}`).toBe(a.traceHash);
      expect(b.stats, `seed ${seed}`).toEqual(a.stats);
    }
    const other = simulate({ seed: 14, nodes: 3, faults: 'heavy', factory: rawNodeFactory });
    expect(other.traceHash).not.toBe(simulate({ seed: 11, nodes: 3, faults: 'heavy', factory: rawNodeFactory }).traceHash);
  });

  // CI runs these: 600 heavy-fault seeds across 3 and 5 nodes, plus light faults.
  it.each([
    [3, 'heavy', 300],
    [5, 'heavy', 300],
    [3, 'light', 50],
    [5, 'light', 50],
  ] as Array<[number, FaultLevel, number]>)('keeps every invariant with %i nodes and %s faults (%i seeds)', (nodes, faults, count) => {
    const summary = runSeedBatch({ from: 1000 * nodes, count, nodes, faults, factory: rawNodeFactory });
    expect(summary.failed, failures(summary.failures)).toBe(0);
    expect(summary.passed).toBe(count);
  });

  it('runs a 7-node cluster', () => {
    const summary = runSeedBatch({ from: 7000, count: 10, nodes: 7, faults: 'heavy', factory: rawNodeFactory });
    expect(summary.failed, failures(summary.failures)).toBe(0);
  });

  it('really injects the faults it claims and still makes progress', () => {
    const totals = new Map<string, number>();
    runSeedBatch({ from: 500, count: 40, nodes: 5, faults: 'heavy', factory: rawNodeFactory }, (r) => {
      expect(r.ok, describeFailure(r)).toBe(true);
      for (const [k, v] of Object.entries(r.stats)) totals.set(k, (totals.get(k) ?? 0) + v);
    });
    for (const k of [
      'messagesDropped',
      'crashes',
      'partitions',
      'pauses',
      'slowClocks',
      'leaderTransfers',
      'writesAcknowledged',
      'writesUnknown',
      'readsServed',
      'snapshotsDelivered',
      'dualLeaderTicks',
      'membershipChanges',
      'duplicateCommandsIgnored',
    ]) {
      expect(totals.get(k) ?? 0, k).toBeGreaterThan(0);
    }
    // More than one election per seed on average: leadership really moves under faults.
    expect(totals.get('elections') ?? 0).toBeGreaterThan(40);
    // Progress despite the faults: a few hundred acknowledged writes over the 40 seeds.
    expect(totals.get('writesAcknowledged') ?? 0).toBeGreaterThan(400);
  });

  it('reports a follower that never catches up (convergence bound after the faults)', () => {
    // n3 drops every append and snapshot: n1 and n2 still commit, n3 never applies anything.
    const deaf = runSeedBatch({
      from: 1,
      count: 1,
      nodes: 3,
      faults: 'none',
      factory: (config, storage) => {
        const node = rawNodeFactory(config, storage);
        if (config.id !== 'n3') return node;
        return droppingMessages(node, ['MsgApp', 'MsgSnap']);
      },
    });
    expect(deaf.failed).toBe(1);
    expect(deaf.failures[0].violation?.invariant).toBe('liveness');
    expect(deaf.failures[0].violation?.detail).toMatch(/did not all apply/);
  });

  it('reports a core that breaks the protocol (a node factory that never votes is not live)', () => {
    // A wrapper that drops every vote request: no leader can ever be elected.
    const mute = runSeedBatch({
      from: 1,
      count: 1,
      nodes: 3,
      faults: 'none',
      factory: (config, storage) => {
        const node = rawNodeFactory(config, storage);
        return droppingMessages(node, ['MsgVote', 'MsgPreVote']);
      },
    });
    expect(mute.failed).toBe(1);
    expect(mute.failures[0].violation?.invariant).toBe('liveness');
  });
});
