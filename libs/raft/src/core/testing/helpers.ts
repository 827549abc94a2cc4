import type { RaftConfig } from '../config';
import { MemoryStorage } from '../memory-storage';
import { newMessage, type MessageFields } from '../message';
import { RawNode } from '../raw-node';
import type { ConfState, Entry, Message, MessageType, NodeId } from '../types';
import { seededRandom } from './network';

/** Entries with the given terms at indexes 1..n (payload: "i@t"). */
export function entriesWithTerms(terms: readonly number[], startIndex = 1): Entry[] {
  return terms.map((term, i) => ({
    index: startIndex + i,
    term,
    type: 'normal' as const,
    data: new TextEncoder().encode(`${startIndex + i}@${term}`),
  }));
}

/** A storage preloaded with a log and hard state. */
export function storageWith(voters: readonly NodeId[], terms: readonly number[], hardStateTerm = terms[terms.length - 1] ?? 0): MemoryStorage {
  const confState: ConfState = { voters: [...voters], learners: [] };
  const s = new MemoryStorage({ confState });
  s.append(entriesWithTerms(terms));
  s.setHardState({ term: hardStateTerm, vote: null, commit: 0 });
  return s;
}

/** A RawNode over `storage` with classic-Raft defaults (no pre-vote, no check-quorum) unless overridden. */
export function rawNode(id: NodeId, storage: MemoryStorage, overrides: Partial<RaftConfig> = {}): RawNode {
  return new RawNode({ id, electionTick: 10, heartbeatTick: 1, random: seededRandom(42), preVote: false, checkQuorum: false, ...overrides }, storage);
}

/** Run one host-loop iteration against `storage` and return the messages it would send. */
export function drain(node: RawNode, storage: MemoryStorage): Message[] {
  const out: Message[] = [];
  while (node.hasReady()) {
    const rd = node.ready();
    if (rd.snapshot) storage.applySnapshot(rd.snapshot);
    storage.append(rd.entries);
    if (rd.hardState) storage.setHardState(rd.hardState);
    out.push(...rd.messages);
    for (const e of rd.committedEntries) if (e.type === 'conf-change') storage.setConfState(node.applyConfChange(e));
    node.advance(rd);
  }
  return out;
}

/** Shorthand for a network message. */
export function msg(type: MessageType, from: NodeId, to: NodeId, term: number, f?: MessageFields): Message {
  return newMessage(type, from, to, term, f);
}
