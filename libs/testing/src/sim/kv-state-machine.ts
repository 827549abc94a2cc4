/**
 * The replicated key-value register the simulated clients use: the application state machine
 * the simulator applies committed entries to, with its command and snapshot codecs.
 */

/** A client write as stored in a log entry. `client`/`request` identify it for acknowledgement. */
export interface KvPutCommand {
  readonly client: string;
  readonly request: number;
  readonly key: string;
  readonly value: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodePut(cmd: KvPutCommand): Uint8Array {
  return encoder.encode(JSON.stringify([cmd.client, cmd.request, cmd.key, cmd.value]));
}

/** Decodes a normal entry's data; an empty payload (a leader's no-op) yields `null`. */
export function decodePut(data: Uint8Array): KvPutCommand | null {
  if (data.length === 0) return null;
  const [client, request, key, value] = JSON.parse(decoder.decode(data)) as [string, number, string, string];
  return { client, request, key, value };
}

/**
 * The register state: key → last value put, plus each client's session (the highest request
 * applied), so a command that commits twice — a forwarded proposal duplicated by the network —
 * takes effect once (Raft dissertation §6.3). Clients are sequential, so "request ≤ last" means
 * "already applied". The session table is part of the state and of every snapshot.
 */
export class KvStateMachine {
  private readonly values = new Map<string, string>();
  private readonly sessions = new Map<string, number>();

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  /** Applies a put; returns false (and changes nothing) for a duplicate of an applied request. */
  apply(cmd: KvPutCommand): boolean {
    if ((this.sessions.get(cmd.client) ?? 0) >= cmd.request) return false;
    this.sessions.set(cmd.client, cmd.request);
    this.values.set(cmd.key, cmd.value);
    return true;
  }

  /** Canonical encoding (keys sorted), so equal states encode to equal bytes. */
  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify([sortedPairs(this.values), sortedPairs(this.sessions)]));
  }

  restore(data: Uint8Array): void {
    this.values.clear();
    this.sessions.clear();
    if (data.length === 0) return;
    const [values, sessions] = JSON.parse(decoder.decode(data)) as [Array<[string, string]>, Array<[string, number]>];
    for (const [k, v] of values) this.values.set(k, v);
    for (const [c, r] of sessions) this.sessions.set(c, r);
  }

  /** A short fingerprint of the state (for cross-node comparisons). */
  fingerprint(): string {
    return hashBytes(this.snapshot()).toString(16);
  }
}

function sortedPairs<V>(m: ReadonlyMap<string, V>): Array<[string, V]> {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** FNV-1a over bytes (32-bit). Used only to compare payloads cheaply, never for security. */
export function hashBytes(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
