import { Network } from './network';

const classic = { preVote: false, checkQuorum: false };
const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));
const enc = (s: string) => new TextEncoder().encode(s);

/**
 * Figure 8 (a)–(c) with this implementation's terms: S1 leads term 1 and writes `xx` at index k
 * (term 1) to S2 only; S5 leads term 2 with its own entry at k on itself only; S1 restarts,
 * leads term 3 and copies (k, term 1) to S3 and S4, while every MsgApp carrying its term-3
 * entries loses them (maxSizePerMsg = 1 sends one entry per MsgApp). Stops as soon as S1 commits
 * index k (only possible with fault (a)), crashing S1 before it can tell anyone.
 */
export function figure8Prefix(faults: { commitPriorTermByCounting?: boolean }): { net: Network; k: number } {
  const net = new Network({ voters: ids(5), config: { ...classic, maxSizePerMsg: 1 }, faults });
  net.elect('1');
  net.propose('1', 'a');
  net.split(['1', '2'], ['3', '4', '5']);
  const k = net.propose('1', 'xx');
  net.heal();
  net.crash('1');
  // (b) S5 wins term 2 with S3, S4; its own entries never leave it.
  net.dropFilter = (m) => m.from === '5' && m.type === 'MsgApp';
  net.elect('5');
  if (!net.node('5').isLeader()) throw new Error('figure 8: S5 did not win term 2');
  net.node('5').propose(enc('y'));
  net.stabilize();
  net.crash('5');
  net.dropFilter = null;
  // (c) S1 restarts and wins term 3 (a first attempt in term 2 fails: S3, S4 voted for S5).
  net.restart('1');
  net.rewrite = (m) => (m.type === 'MsgApp' ? { ...m, entries: m.entries.filter((e) => e.term < 3) } : m);
  for (let i = 0; i < 3 && !net.node('1').isLeader(); i++) net.elect('1');
  if (!net.node('1').isLeader() || net.node('1').status().term !== 3) throw new Error('figure 8: S1 did not win term 3');
  if (faults.commitPriorTermByCounting) net.node('1').propose(enc('z')); // no leader no-op under this fault
  if (net.stabilizeUntil(() => net.node('1').status().commit >= k)) net.crash('1');
  return { net, k };
}

/** Figure 8 (d): S1 crashes, S5 restarts and wins with S2–S4, overwriting index k. */
export function figure8Finish(net: Network): void {
  net.crash('1');
  net.rewrite = null;
  net.restart('5');
  for (let i = 0; i < 5 && !net.node('5').isLeader(); i++) net.elect('5');
  net.propose('5', 'after');
}

