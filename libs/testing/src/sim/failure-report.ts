import type { Message } from '@flotilla/raft';
import { kvRegisterModel, type KvOperation } from '../linearizability/kv-register-model';
import type { SimWorld } from './sim-world';

/**
 * A readable account of a non-linearizable key: how far the search got (the longest order it
 * found that respects real time and the register), the register's value there, and the
 * operation that could not come next — the earliest-returning one not yet placed.
 */
export function explainNonLinearizable(partition: readonly KvOperation[], prefix: readonly KvOperation[]): string {
  const describe = (o: KvOperation): string => kvRegisterModel.describe?.(o) ?? String(o.id);
  let register: string | null = null;
  for (const o of prefix) if (o.input.kind === 'put') register = o.input.value;
  const placed = new Set(prefix.map((o) => o.id));
  const rest = partition.filter((o) => !placed.has(o.id)).sort((a, b) => a.ret - b.ret);
  const stuck = rest[0];
  const tail = prefix.slice(-4).map(describe).join('; ');
  return (
    `key ${partition[0].input.key}: no linearization of ${partition.length} operations. ` +
    `The longest valid order places ${prefix.length} (ending …${tail}) with the register at ${JSON.stringify(register)}; ` +
    `then ${stuck ? describe(stuck) : '?'} cannot be placed` +
    (rest.length > 1 ? ` (other unplaced: ${rest.slice(1, 5).map(describe).join('; ')}${rest.length > 5 ? '; …' : ''})` : '')
  );
}

/** One line per message, for the verbose event log. */
export function describeMessage(m: Message): string {
  const ents = m.entries.length > 0 ? ` ents=${m.entries[0].index}..${m.entries[m.entries.length - 1].index}` : '';
  return `${m.type} ${m.from}→${m.to} t${m.term} idx=${m.index} logTerm=${m.logTerm} commit=${m.commit}${ents}${m.reject ? ` reject hint=${m.rejectHint}` : ''}`;
}

/** Per node: role, term, commit, applied, log range, and the leader's view of its progress. */
export function describeNodes(world: SimWorld): string {
  const leader = world.currentLeader()?.status();
  return world
    .active()
    .map((i) => world.hosts[i])
    .map((h) => {
      const st = h.status();
      if (!st) return `${h.id}: down`;
      const pr = leader?.progress?.[h.id];
      const prs = pr ? ` match=${pr.match} next=${pr.next} ${pr.state}${pr.pendingSnapshot ? ` pendingSnap=${pr.pendingSnapshot}` : ''} inflight=${pr.inflightMsgs}` : '';
      return `${h.id}: ${st.role} t${st.term} commit=${st.commit} applied=${h.appliedIndex} log=[${st.firstIndex},${st.lastIndex}]${prs}`;
    })
    .join('; ');
}
