import { CompactedError, SnapshotOutOfDateError, UnavailableError } from './errors';
import { limitEntriesBySize } from './entry-size';
import type { ConfState, Entry, HardState, InitialState, Snapshot, Storage } from './types';

const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

/**
 * In-memory {@link Storage} plus the host-side write methods a real store has. Used by unit
 * tests, the simulator (which models durability on top of it) and the benchmark.
 *
 * Representation (as in etcd's MemoryStorage): `ents[0]` is a dummy entry whose index/term are
 * those of the latest snapshot; `ents[i]` holds index `ents[0].index + i`. So
 * `firstIndex() = ents[0].index + 1` and `term(firstIndex() - 1)` is the snapshot term.
 *
 * Writes do not copy entries (they are immutable by contract); reads return fresh arrays.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot;
  private confState: ConfState;
  private ents: Entry[];

  /** @param initial Membership to bootstrap with (recorded in an index-0 snapshot). */
  constructor(initial: { confState?: ConfState; hardState?: HardState } = {}) {
    this.confState = initial.confState ?? { voters: [], learners: [] };
    this.snap = { metadata: { index: 0, term: 0, confState: this.confState }, data: new Uint8Array(0) };
    this.ents = [dummyEntry(0, 0)];
    if (initial.hardState) this.hardState = initial.hardState;
  }

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.confState };
  }

  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    const offset = this.ents[0].index;
    if (lo <= offset) throw new CompactedError(lo, offset + 1);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1, this.lastIndex());
    const slice = this.ents.slice(lo - offset, hi - offset);
    return maxBytes === undefined ? slice : limitEntriesBySize(slice, maxBytes);
  }

  term(i: number): number {
    const offset = this.ents[0].index;
    if (i < offset) throw new CompactedError(i, offset + 1);
    if (i - offset >= this.ents.length) throw new UnavailableError(i, this.lastIndex());
    return this.ents[i - offset].term;
  }

  firstIndex(): number {
    return this.ents[0].index + 1;
  }

  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Host write: persist the hard state from a Ready. */
  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  /**
   * Host write: record the membership after applying a conf-change entry, so that
   * `initialState()` after a restart reflects it. (Snapshots also record it.)
   */
  setConfState(cs: ConfState): void {
    this.confState = cs;
  }

  /**
   * Host write: append entries from a Ready. An entry whose index is already present replaces
   * it and everything after it (the leader overwrote a conflicting suffix). Entries at or
   * below the snapshot index are ignored.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0].index + entries.length - 1;
    if (last < first) return;
    const toAppend = first > entries[0].index ? entries.slice(first - entries[0].index) : entries;
    const offset = toAppend[0].index - this.ents[0].index;
    if (offset > this.ents.length) {
      throw new UnavailableError(toAppend[0].index, this.lastIndex());
    }
    this.ents.length = offset;
    for (const e of toAppend) this.ents.push(e);
  }

  /**
   * Host write: install a snapshot (received via MsgSnap), discarding the whole log.
   * Throws {@link SnapshotOutOfDateError} if it is older than the current one.
   */
  applySnapshot(snapshot: Snapshot): void {
    const current = this.snap.metadata.index;
    if (snapshot.metadata.index < current) throw new SnapshotOutOfDateError(snapshot.metadata.index, current);
    this.snap = snapshot;
    this.confState = snapshot.metadata.confState;
    this.ents = [dummyEntry(snapshot.metadata.index, snapshot.metadata.term)];
    if (this.hardState.commit < snapshot.metadata.index) {
      this.hardState = { ...this.hardState, commit: snapshot.metadata.index };
    }
  }

  /**
   * Host write: record a snapshot of the state machine at `index` (≤ lastIndex, and ≤ the
   * applied index — the caller's responsibility). Does not compact; call {@link compact}.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError(index, this.snap.metadata.index);
    const term = this.term(index);
    this.snap = { metadata: { index, term, confState }, data };
    return this.snap;
  }

  /**
   * Host write: discard every entry up to and including `compactIndex` (which a snapshot must
   * cover); afterwards firstIndex() = compactIndex + 1 and term(compactIndex) still answers.
   * Throws CompactedError if already compacted past it, UnavailableError if beyond lastIndex.
   */
  compact(compactIndex: number): void {
    const offset = this.ents[0].index;
    if (compactIndex <= offset) throw new CompactedError(compactIndex, offset + 1);
    if (compactIndex > this.lastIndex()) throw new UnavailableError(compactIndex, this.lastIndex());
    const i = compactIndex - offset;
    const rest = this.ents.slice(i + 1);
    this.ents = [dummyEntry(this.ents[i].index, this.ents[i].term), ...rest];
  }
}

function dummyEntry(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(0) };
}
