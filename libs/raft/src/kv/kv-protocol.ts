import type { KvError } from './kv-service';

/**
 * Client protocol of the KV server's TCP port: length-prefixed msgpack frames (the transport's
 * codec), each request carrying a client-chosen `id` echoed in its response. Requests are
 * pipelined; responses may arrive out of order.
 */
export type KvRequest =
  | { id: number; op: 'put'; key: string; value: string }
  | { id: number; op: 'delete'; key: string }
  | { id: number; op: 'get'; key: string }
  | { id: number; op: 'status' }
  | { id: number; op: 'add-member'; member: string; host: string; port: number; asLearner?: boolean }
  | { id: number; op: 'remove-member'; member: string }
  | { id: number; op: 'transfer-leader'; to: string }
  | { id: number; op: 'snapshot' };

export type KvResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: KvError };

const str = (v: unknown): v is string => typeof v === 'string';

/** Validates an untrusted decoded frame; returns a reason string when it is not a request. */
export function parseKvRequest(v: unknown): KvRequest | string {
  if (typeof v !== 'object' || v === null) return 'request is not an object';
  const r = v as Record<string, unknown>;
  if (typeof r.id !== 'number') return 'request id missing';
  const id = r.id;
  switch (r.op) {
    case 'put':
      return str(r.key) && str(r.value) ? { id, op: 'put', key: r.key, value: r.value } : 'put needs key and value strings';
    case 'delete':
    case 'get':
      return str(r.key) ? { id, op: r.op, key: r.key } : `${r.op} needs a key string`;
    case 'status':
    case 'snapshot':
      return { id, op: r.op };
    case 'add-member':
      return str(r.member) && str(r.host) && typeof r.port === 'number'
        ? { id, op: 'add-member', member: r.member, host: r.host, port: r.port, asLearner: r.asLearner === true }
        : 'add-member needs member, host, port';
    case 'remove-member':
      return str(r.member) ? { id, op: 'remove-member', member: r.member } : 'remove-member needs member';
    case 'transfer-leader':
      return str(r.to) ? { id, op: 'transfer-leader', to: r.to } : 'transfer-leader needs to';
    default:
      return `unknown op ${String(r.op)}`;
  }
}
