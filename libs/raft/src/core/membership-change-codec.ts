import type { ConfState, MembershipChange } from './types';

const TYPES: ReadonlyArray<MembershipChange['type']> = ['add-learner', 'promote', 'add-voter', 'remove'];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * What a `conf-change` entry carries: the change, and (when written by the leader) the full
 * membership that results from it. Carrying the result makes applying idempotent and lets a
 * brand-new node learn the whole cluster from the entry that added it, even though the
 * bootstrap membership is not in the log.
 */
export interface ConfChangeRecord {
  readonly change: MembershipChange;
  /** Membership after the change; absent only in hand-built entries (then the change is applied as a delta). */
  readonly confState?: ConfState;
}

interface WireBody {
  readonly n: string;
  readonly v?: readonly string[];
  readonly l?: readonly string[];
}

/**
 * Encodes a conf-change entry's `data`: one type byte, then UTF-8 JSON `{n, v?, l?}` (node,
 * resulting voters, resulting learners). Part of the persisted log format: never change the byte
 * assigned to a type. (Not a hot path: one entry per membership change.)
 */
export function encodeConfChange(record: ConfChangeRecord): Uint8Array {
  const typeByte = TYPES.indexOf(record.change.type);
  if (typeByte < 0) throw new TypeError(`unknown membership change type ${String(record.change.type)}`);
  const body: WireBody = record.confState
    ? { n: record.change.node, v: record.confState.voters, l: record.confState.learners }
    : { n: record.change.node };
  const json = encoder.encode(JSON.stringify(body));
  const out = new Uint8Array(1 + json.length);
  out[0] = typeByte;
  out.set(json, 1);
  return out;
}

/** Inverse of {@link encodeConfChange}; throws TypeError on malformed data. */
export function decodeConfChange(data: Uint8Array): ConfChangeRecord {
  if (data.length < 2 || data[0] >= TYPES.length) throw new TypeError('malformed conf-change entry');
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(data.subarray(1)));
  } catch {
    throw new TypeError('malformed conf-change entry');
  }
  if (!isWireBody(body)) throw new TypeError('malformed conf-change entry');
  const change: MembershipChange = { type: TYPES[data[0]], node: body.n };
  if (body.v === undefined || body.l === undefined) return { change };
  return { change, confState: { voters: [...body.v], learners: [...body.l] } };
}

function isStringArray(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((s) => typeof s === 'string');
}

function isWireBody(x: unknown): x is WireBody {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return typeof o.n === 'string' && (o.v === undefined || isStringArray(o.v)) && (o.l === undefined || isStringArray(o.l));
}

/** Encodes a bare change (no resulting membership). Prefer letting the leader write entries. */
export function encodeMembershipChange(change: MembershipChange): Uint8Array {
  return encodeConfChange({ change });
}

/** The change carried by a conf-change entry (ignoring the resulting membership). */
export function decodeMembershipChange(data: Uint8Array): MembershipChange {
  return decodeConfChange(data).change;
}
