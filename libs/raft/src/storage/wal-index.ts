/**
 * In-memory index of a write-ahead log: for every entry in `[firstIndex, lastIndex]` its
 * term, type, and where its data lies (segment sequence number, file offset, length), in
 * parallel typed arrays so a million entries cost ~30 MB and no per-entry objects.
 *
 * Invariant (kept by the owning store): the indexed range is contiguous; `set(i)` only
 * extends it by one or overwrites (truncating everything after `i`). `term(i)` and
 * `locate(i)` never touch the disk.
 */
export class WalIndex {
  /** Index stored at array slot 0. */
  private base = 1;
  /** Number of slots in use: the range is [base, base + count - 1]. */
  private count = 0;
  private terms = new Float64Array(1024);
  private offsets = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private segments = new Uint32Array(1024);
  private types = new Uint8Array(1024);

  /** First indexed entry (meaningful only when `size > 0`). */
  get firstIndex(): number {
    return this.base;
  }

  /** Last indexed entry, or `firstIndex - 1` when empty. */
  get lastIndex(): number {
    return this.base + this.count - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Forgets everything; the next `set` must be at `nextIndex`. */
  reset(nextIndex: number): void {
    this.base = nextIndex;
    this.count = 0;
  }

  /** Records entry `index` (≤ lastIndex + 1), dropping every indexed entry after it. */
  set(index: number, segment: number, offset: number, length: number, term: number, type: number): void {
    if (this.count === 0) this.base = index;
    const slot = index - this.base;
    if (slot < 0 || slot > this.count) throw new Error(`wal index: set(${index}) outside [${this.base}, ${this.lastIndex + 1}]`);
    if (slot >= this.terms.length) this.grow(slot + 1);
    this.terms[slot] = term;
    this.offsets[slot] = offset;
    this.lengths[slot] = length;
    this.segments[slot] = segment;
    this.types[slot] = type;
    this.count = slot + 1;
  }

  /** Drops entries after `index`. */
  truncateAfter(index: number): void {
    if (index < this.base) this.count = 0;
    else if (index < this.lastIndex) this.count = index - this.base + 1;
  }

  /** Drops entries ≤ `index` (compaction); the range then starts at `index + 1`. */
  dropThrough(index: number): void {
    if (index < this.base) return;
    if (index >= this.lastIndex) {
      this.reset(index + 1);
      return;
    }
    const drop = index - this.base + 1;
    this.count -= drop;
    this.base = index + 1;
    // Compactions are rare (one per snapshot): shifting the retained slots down is cheap.
    this.shift(drop);
  }

  has(index: number): boolean {
    return this.count > 0 && index >= this.base && index <= this.lastIndex;
  }

  term(index: number): number {
    return this.terms[this.slot(index)];
  }

  type(index: number): number {
    return this.types[this.slot(index)];
  }

  segment(index: number): number {
    return this.segments[this.slot(index)];
  }

  offset(index: number): number {
    return this.offsets[this.slot(index)];
  }

  length(index: number): number {
    return this.lengths[this.slot(index)];
  }

  private slot(index: number): number {
    if (!this.has(index)) throw new RangeError(`wal index: ${index} not in [${this.base}, ${this.lastIndex}]`);
    return index - this.base;
  }

  private shift(drop: number): void {
    const end = drop + this.count;
    this.terms.copyWithin(0, drop, end);
    this.offsets.copyWithin(0, drop, end);
    this.lengths.copyWithin(0, drop, end);
    this.segments.copyWithin(0, drop, end);
    this.types.copyWithin(0, drop, end);
  }

  private grow(min: number): void {
    const cap = Math.max(min, this.terms.length * 2);
    const grow = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.terms = grow(this.terms, (n) => new Float64Array(n));
    this.offsets = grow(this.offsets, (n) => new Float64Array(n));
    this.lengths = grow(this.lengths, (n) => new Uint32Array(n));
    this.segments = grow(this.segments, (n) => new Uint32Array(n));
    this.types = grow(this.types, (n) => new Uint8Array(n));
  }
}
