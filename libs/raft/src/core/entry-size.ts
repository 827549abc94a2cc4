import type { Entry } from './types';

/** Payload size of an entry as counted against byte budgets (maxSizePerMsg, inflight bytes). */
export function entryPayloadSize(entry: Entry): number {
  return entry.data.byteLength;
}

/** Sum of {@link entryPayloadSize} over `entries`. */
export function entriesPayloadSize(entries: readonly Entry[]): number {
  let size = 0;
  for (const e of entries) size += e.data.byteLength;
  return size;
}

/**
 * Longest prefix of `entries` whose payload fits in `maxBytes`, but always at least one entry
 * (so a single oversized entry still makes progress). Returns `entries` itself when it fits.
 */
export function limitEntriesBySize<T extends readonly Entry[]>(entries: T, maxBytes: number): T | Entry[] {
  if (entries.length === 0) return entries;
  let size = entries[0].data.byteLength;
  let n = 1;
  while (n < entries.length) {
    size += entries[n].data.byteLength;
    if (size > maxBytes) break;
    n++;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}
