import { MESSAGE_TYPES, type Entry, type Message, type MessageType, type Snapshot } from '../core';

/** Kinds that are only ever generated locally and must be refused from the network. */
const LOCAL_ONLY: ReadonlySet<MessageType> = new Set(['MsgHup', 'MsgBeat', 'MsgCheckQuorum', 'MsgUnreachable', 'MsgSnapStatus']);
const KNOWN: ReadonlySet<string> = new Set(MESSAGE_TYPES);

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseEntry(v: unknown): Entry | undefined {
  if (!isRecord(v) || !isInt(v.index) || !isInt(v.term) || !(v.data instanceof Uint8Array)) return undefined;
  if (v.type !== 'normal' && v.type !== 'conf-change') return undefined;
  return { index: v.index, term: v.term, type: v.type, data: v.data };
}

function parseSnapshot(v: unknown): Snapshot | undefined {
  if (!isRecord(v) || !isRecord(v.metadata) || !(v.data instanceof Uint8Array)) return undefined;
  const m = v.metadata;
  if (!isInt(m.index) || !isInt(m.term) || !isRecord(m.confState)) return undefined;
  const { voters, learners } = m.confState;
  const ids = (xs: unknown): xs is string[] => Array.isArray(xs) && xs.every((x) => typeof x === 'string');
  if (!ids(voters) || !ids(learners)) return undefined;
  return { metadata: { index: m.index, term: m.term, confState: { voters, learners } }, data: v.data };
}

/**
 * Validates a payload received from authenticated peer `from` as a Raft {@link Message} for
 * node `self`. Returns a reason string instead of throwing. Invariant: what reaches
 * `RawNode.step` is well-typed, addressed to this node, really sent by `from` (a peer
 * cannot speak for another) and never a local-only kind.
 */
export function parseWireMessage(payload: unknown, from: string, self: string): Message | string {
  if (!isRecord(payload)) return 'not an object';
  const p = payload;
  if (typeof p.type !== 'string' || !KNOWN.has(p.type)) return `unknown message type ${String(p.type)}`;
  const type = p.type as MessageType;
  if (LOCAL_ONLY.has(type)) return `${type} is local-only`;
  if (p.from !== from) return `message claims sender ${String(p.from)} on ${from}'s connection`;
  if (p.to !== self) return `message addressed to ${String(p.to)}`;
  for (const k of ['term', 'logTerm', 'index', 'commit', 'rejectHint'] as const) if (!isInt(p[k])) return `field ${k} is not a non-negative integer`;
  if (typeof p.reject !== 'boolean') return 'field reject is not a boolean';
  if (!Array.isArray(p.entries)) return 'field entries is not an array';
  const entries: Entry[] = [];
  for (const raw of p.entries) {
    const e = parseEntry(raw);
    if (!e) return 'malformed entry';
    entries.push(e);
  }
  let snapshot: Snapshot | undefined;
  if (p.snapshot !== undefined && p.snapshot !== null) {
    snapshot = parseSnapshot(p.snapshot);
    if (!snapshot) return 'malformed snapshot';
  }
  let context: Uint8Array | undefined;
  if (p.context !== undefined && p.context !== null) {
    if (!(p.context instanceof Uint8Array)) return 'field context is not bytes';
    context = p.context;
  }
  return {
    type,
    from,
    to: self,
    term: p.term as number,
    logTerm: p.logTerm as number,
    index: p.index as number,
    entries,
    commit: p.commit as number,
    snapshot,
    reject: p.reject,
    rejectHint: p.rejectHint as number,
    context,
  };
}
