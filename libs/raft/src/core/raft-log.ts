import { limitEntriesBySize } from './entry-size';
import { CompactedError, UnavailableError } from './errors';
import { Unstable } from './unstable';
import type { Entry, Snapshot, Storage } from './types';

/** Thrown when the core detects a broken invariant of its own log; indicates a bug, never bad input. */
export class RaftLogInvariantError extends Error {
  constructor(detail: string) {
    super(`raft log invariant violated: ${detail}`);
    this.name = 'RaftLogInvariantError';
  }
}

/**
 * A node's log: persisted entries (read through {@link Storage}) followed by the
 * {@link Unstable} tail, plus the commit and applied indexes.
 *
 * Invariants: `applied ≤ committed ≤ lastIndex()`; `committed` never decreases; an entry at or
 * below `committed` is never truncated (State Machine Safety, paper §5.4.3).
 */
export class RaftLog {
  readonly unstable: Unstable;
  committed: number;
  applied: number;

  constructor(
    readonly storage: Storage,
    private readonly maxCommittedSizePerReady: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /**
   * Term of entry i for firstIndex()-1 ≤ i ≤ lastIndex(); throws CompactedError below,
   * UnavailableError above.
   */
  term(i: number): number {
    const u = this.unstable.maybeTerm(i);
    if (u !== undefined) return u;
    const dummy = this.firstIndex() - 1;
    if (i < dummy) throw new CompactedError(i, dummy + 1);
    if (i > this.lastIndex()) throw new UnavailableError(i, this.lastIndex());
    return this.storage.term(i);
  }

  /** Term of entry i, or undefined when it is compacted or not present (never throws for range). */
  maybeTerm(i: number): number | undefined {
    const u = this.unstable.maybeTerm(i);
    if (u !== undefined) return u;
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return undefined;
      throw e;
    }
  }

  /** Term of entry i, or 0 when it is compacted or not present. */
  zeroTermOnOutOfRange(i: number): number {
    return this.maybeTerm(i) ?? 0;
  }

  /** Whether the log holds an entry at `i` with term `t` (i = firstIndex()-1 matches the snapshot). */
  matchTerm(i: number, t: number): boolean {
    return this.maybeTerm(i) === t;
  }

  /**
   * Follower side of AppendEntries (paper §5.3): if the entry at `index` has term `logTerm`,
   * append `ents` (truncating from the first conflicting entry), advance commit to
   * min(`committed`, last new index) and return the last new index; otherwise undefined.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) throw new RaftLogInvariantError(`conflict at ${ci} is within committed ${this.committed}`);
      this.append(ci === ents[0].index ? ents : ents.slice(ci - ents[0].index));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** Append entries (truncating a conflicting unstable suffix); returns the new last index. */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0].index - 1;
    if (after < this.committed) throw new RaftLogInvariantError(`append after ${after} is below committed ${this.committed}`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * Index of the first entry of `ents` that is absent or whose term differs from ours; 0 if all
   * are present with equal terms.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Conflict hint for fast back-off: the largest index ≤ `index` whose term is ≤ `term`, with
   * that term. Any entry above it cannot match a leader entry of term `term`.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    let i = index;
    for (; i > 0; i--) {
      let ourTerm: number;
      try {
        ourTerm = this.term(i);
      } catch (e) {
        if (e instanceof CompactedError || e instanceof UnavailableError) return [i, 0];
        throw e;
      }
      if (ourTerm <= term) return [i, ourTerm];
    }
    return [0, 0];
  }

  /** Entries not yet handed to the host for persistence (entries being written excluded). */
  unstableEntries(): readonly Entry[] {
    return this.unstable.entriesToHandOut();
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  /** Whether {@link nextCommittedEntries} would return something. */
  hasNextCommittedEntries(): boolean {
    if (this.hasPendingSnapshot()) return false;
    return this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  /**
   * Committed entries not yet applied, at most `maxCommittedSizePerReady` bytes (at least one).
   * Empty while a snapshot is pending: it must be installed first.
   */
  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    if (this.applied + 1 < this.firstIndex()) {
      // The host compacted entries it had not applied yet: they can never be handed out again.
      throw new RaftLogInvariantError(`entries ${this.applied + 1}..${this.firstIndex() - 1} were compacted before being applied`);
    }
    const lo = this.applied + 1;
    return this.slice(lo, this.committed + 1, this.maxCommittedSizePerReady);
  }

  /** The snapshot to send a lagging follower: a pending (unstable) one, else storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Advance commit to `tocommit` if higher. Throws if that is beyond the log (a bug or corrupt log). */
  commitTo(tocommit: number): void {
    if (this.committed >= tocommit) return;
    if (this.lastIndex() < tocommit) {
      throw new RaftLogInvariantError(`commit ${tocommit} is out of range [lastIndex ${this.lastIndex()}]`);
    }
    this.committed = tocommit;
  }

  /** Leader commit rule (paper §5.4.2): commit `maxIndex` only if its entry is from `term`. */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.zeroTermOnOutOfRange(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    if (i > this.committed || i < this.applied) {
      throw new RaftLogInvariantError(`applied ${i} out of range [${this.applied}, ${this.committed}]`);
    }
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  /**
   * Last index of the log that the host has reported persisted (`stableTo`): entries past it
   * are still in the unstable buffer. A pending (un-persisted) snapshot counts as nothing
   * persisted (0) — a node holding one never leads, so this only errs on the safe side.
   */
  persistedLastIndex(): number {
    if (this.unstable.entries.length > 0) return this.unstable.offset - 1;
    if (this.unstable.snapshot) return 0;
    return this.storage.lastIndex();
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  /**
   * Candidate log up-to-date check (paper §5.4.1): a log whose last term is higher, or equal
   * with an index at least as large, is at least as up-to-date.
   */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Entries from `i` to the end, at most `maxSize` bytes (at least one). */
  entriesFrom(i: number, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  /**
   * Entries in [lo, hi), at most `maxSize` bytes (at least one). Throws CompactedError if
   * lo < firstIndex().
   */
  slice(lo: number, hi: number, maxSize: number): Entry[] {
    if (lo > hi) throw new RaftLogInvariantError(`invalid slice ${lo} > ${hi}`);
    const first = this.firstIndex();
    if (lo < first) throw new CompactedError(lo, first);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1, this.lastIndex());
    if (lo === hi) return [];
    const uOffset = this.unstable.offset;
    let ents: Entry[] = [];
    if (lo < uOffset) {
      const storedHi = Math.min(hi, uOffset);
      ents = this.storage.entries(lo, storedHi, maxSize);
      if (ents.length < storedHi - lo) return ents;
    }
    if (hi > uOffset) {
      const unstable = this.unstable.slice(Math.max(lo, uOffset), hi);
      if (ents.length > 0) {
        for (const e of unstable) ents.push(e);
      } else {
        ents = unstable;
      }
    }
    return limitEntriesBySize(ents, maxSize) as Entry[];
  }

  /** Replace the log with a snapshot from the leader; the commit index jumps to it. */
  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }
}
