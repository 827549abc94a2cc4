import type { Entry, Snapshot } from './types';

/**
 * The not-yet-persisted tail of a node's log: entries (and possibly a snapshot) the core has
 * accepted but the host has not yet written. They leave this buffer only via
 * {@link stableTo}/{@link stableSnapTo}, i.e. after the host persisted the Ready carrying them.
 *
 * Invariant: `entries[i].index === offset + i`; if `snapshot` is set, `offset === snapshot.index + 1`
 * or entries were appended after it.
 */
export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  /**
   * Index of the first entry not yet handed to the host (entries from `offset` up to here are
   * being written: handed out in a Ready, not yet reported persisted). `offset ≤
   * offsetInProgress ≤ offset + entries.length`.
   */
  offsetInProgress: number;
  /** The pending snapshot was handed out in a Ready and is being written. */
  snapshotInProgress = false;

  /** @param offset Index the first unstable entry will have (storage lastIndex + 1). */
  constructor(public offset: number) {
    this.offsetInProgress = offset;
  }

  /** Entries not yet handed to the host (those being written are excluded). */
  entriesToHandOut(): Entry[] {
    return this.entries.slice(this.offsetInProgress - this.offset);
  }

  /** The snapshot, if it still has to be handed to the host. */
  snapshotToHandOut(): Snapshot | undefined {
    return this.snapshotInProgress ? undefined : this.snapshot;
  }

  /** Everything held was handed out in a Ready: do not hand it out again. */
  acceptInProgress(): void {
    this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot) this.snapshotInProgress = true;
  }

  /** Index of the first entry that may exist, if a pending snapshot defines it. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  /** Last index held here (entries, else the pending snapshot), if any. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.metadata.index : undefined;
  }

  /** Term of entry i if this buffer knows it. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset].term;
  }

  /**
   * Entries up to (i, t) were persisted: drop them. Ignored when the entry at i was replaced
   * meanwhile (its term differs), because the replacement is still un-persisted.
   */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined || gt !== t || i < this.offset) return;
    const n = i + 1 - this.offset;
    this.entries = n >= this.entries.length ? [] : this.entries.slice(n);
    this.offset = i + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  /** The pending snapshot at index i was persisted. */
  stableSnapTo(i: number): void {
    if (this.snapshot && this.snapshot.metadata.index === i) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  /** Replace everything with a snapshot received from the leader. */
  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = s;
    this.snapshotInProgress = false;
  }

  /** Append `ents`, first truncating any held entries at or after `ents[0].index`. */
  truncateAndAppend(ents: readonly Entry[]): void {
    if (ents.length === 0) return;
    const after = ents[0].index;
    if (after === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (after <= this.offset) {
      // The whole buffer is replaced; entries before `after` are in (or will be overwritten in) storage.
      this.offset = after;
      this.offsetInProgress = after;
      this.entries = ents.slice();
    } else {
      const kept = this.entries.slice(0, after - this.offset);
      for (const e of ents) kept.push(e);
      this.entries = kept;
      // Replaced entries that were being written must be handed out (and written) again.
      this.offsetInProgress = Math.min(this.offsetInProgress, after);
    }
  }

  /** Entries in [lo, hi); the caller checked the bounds. */
  slice(lo: number, hi: number): Entry[] {
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
