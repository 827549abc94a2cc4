import { Packr } from 'msgpackr';

/** A command of the replicated key-value store, as stored in the Raft log (msgpack). */
export type KvCommand = { op: 'put'; key: string; value: string } | { op: 'delete'; key: string };

/** What applying a command returns to the proposer. */
export interface KvApplyResult {
  /** Log index at which the command was applied. */
  index: number;
  /** Value the key held before the command, if any. */
  previous?: string;
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export function encodeKvCommand(cmd: KvCommand): Uint8Array {
  return packr.pack(cmd);
}

/** Decodes a command; throws TypeError on anything that is not a well-formed command. */
export function decodeKvCommand(bytes: Uint8Array): KvCommand {
  const v = packr.unpack(bytes) as Partial<Record<string, unknown>>;
  if (typeof v !== 'object' || v === null || typeof v.key !== 'string') throw new TypeError('malformed kv command');
  if (v.op === 'put' && typeof v.value === 'string') return { op: 'put', key: v.key, value: v.value };
  if (v.op === 'delete') return { op: 'delete', key: v.key };
  throw new TypeError(`unknown kv command ${String(v.op)}`);
}
