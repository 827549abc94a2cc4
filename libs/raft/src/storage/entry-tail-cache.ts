import type { Entry } from '../core';

/** Bounds of an {@link EntryTailCache}. */
export interface EntryTailCacheLimits {
  /** Most entries held. */
  readonly maxEntries: number;
  /** Most payload bytes (`data.byteLength`) held; at least one entry is always kept. */
  readonly maxBytes: number;
}

/**
 * In-memory copy of the most recently written, contiguous run of log entries, so that the
 * core's reads of entries it has just persisted (committed entries to apply, appends to
 * send, `term(i)` of the previous entry) cost no LMDB read, crc check or copy.
 *
 * Invariant (kept by the owning store, which calls {@link put} when a write becomes visible,
 * {@link dropThrough} on compaction and {@link clear} on snapshot install): the cache holds
 * exactly the entries the store holds at those indexes — a contiguous range
 * `[first, last]` ending at the store's last index, never anything the store has removed or
 * replaced. Entries are immutable (`Entry` is readonly) and shared, not copied.
 */
export class EntryTailCache {
  private ents: Entry[] = [];
  /** Index of ents[head]; entries before head are dropped lazily. */
  private head = 0;
  private bytes = 0;

  constructor(private readonly limits: EntryTailCacheLimits) {}

  /** First cached index, or 0 when empty. */
  get firstIndex(): number {
    return this.size === 0 ? 0 : this.ents[this.head].index;
  }

  /** Last cached index, or 0 when empty. */
  get lastIndex(): number {
    return this.size === 0 ? 0 : this.ents[this.ents.length - 1].index;
  }

  get size(): number {
    return this.ents.length - this.head;
  }

  /**
   * Records contiguous `entries` as now stored, replacing any cached entry at or after
   * `entries[0].index` (a conflicting suffix the store also replaced). If they do not join
   * the cached run, the cache restarts with them.
   */
  put(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0].index;
    if (this.size > 0 && first >= this.firstIndex && first <= this.lastIndex + 1) {
      const keep = this.head + (first - this.firstIndex);
      for (let i = keep; i < this.ents.length; i++) this.bytes -= this.ents[i].data.byteLength;
      this.ents.length = keep;
    } else {
      this.clear();
    }
    for (const e of entries) {
      this.ents.push(e);
      this.bytes += e.data.byteLength;
    }
    this.trim();
  }

  /** Forgets every entry at or below `index` (compaction). */
  dropThrough(index: number): void {
    while (this.size > 0 && this.ents[this.head].index <= index) this.bytes -= this.ents[this.head++].data.byteLength;
    this.compactArray();
  }

  /** Forgets everything (snapshot install replaced the log). */
  clear(): void {
    this.ents = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** The cached entry at `index`, or undefined. */
  get(index: number): Entry | undefined {
    if (this.size === 0 || index < this.firstIndex || index > this.lastIndex) return undefined;
    return this.ents[this.head + (index - this.firstIndex)];
  }

  /**
   * Entries `[lo, hi)` if ALL of them are cached, cut by `maxBytes` exactly as the store's
   * `entries()` does (the first entry always; then while the running payload total stays
   * ≤ maxBytes); undefined when any of the range is not cached.
   */
  range(lo: number, hi: number, maxBytes?: number): Entry[] | undefined {
    if (this.size === 0 || lo < this.firstIndex || hi - 1 > this.lastIndex || lo >= hi) return undefined;
    const from = this.head + (lo - this.firstIndex);
    const to = from + (hi - lo);
    if (maxBytes === undefined) return this.ents.slice(from, to);
    const out: Entry[] = [];
    let size = 0;
    for (let i = from; i < to; i++) {
      size += this.ents[i].data.byteLength;
      if (out.length > 0 && size > maxBytes) break;
      out.push(this.ents[i]);
    }
    return out;
  }

  private trim(): void {
    while (this.size > 1 && (this.size > this.limits.maxEntries || this.bytes > this.limits.maxBytes)) {
      this.bytes -= this.ents[this.head++].data.byteLength;
    }
    this.compactArray();
  }

  private compactArray(): void {
    if (this.head === this.ents.length) this.clear();
    else if (this.head > 1024 && this.head * 2 > this.ents.length) {
      this.ents = this.ents.slice(this.head);
      this.head = 0;
    }
  }
}
