/**
 * A min-priority queue of simulator events ordered by (time, insertion sequence). Ties in time
 * are broken by insertion order, so a run is a pure function of the order in which events are
 * scheduled — no hidden nondeterminism.
 */
export class EventQueue<T> {
  private readonly times: number[] = [];
  private readonly seqs: number[] = [];
  private readonly items: T[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  push(time: number, item: T): void {
    this.times.push(time);
    this.seqs.push(this.seq++);
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  /** Time of the earliest event, or `Infinity` when empty. */
  peekTime(): number {
    return this.items.length === 0 ? Infinity : this.times[0];
  }

  /** Removes and returns the earliest event. Throws when empty. */
  pop(): { time: number; item: T } {
    if (this.items.length === 0) throw new RangeError('pop from an empty EventQueue');
    const time = this.times[0];
    const item = this.items[0];
    const last = this.items.length - 1;
    this.swap(0, last);
    this.times.pop();
    this.seqs.pop();
    this.items.pop();
    if (this.items.length > 0) this.down(0);
    return { time, item };
  }

  /** Removes every event matching `predicate` (O(n)). */
  removeWhere(predicate: (item: T) => boolean): number {
    const keep: Array<[number, number, T]> = [];
    for (let i = 0; i < this.items.length; i++) if (!predicate(this.items[i])) keep.push([this.times[i], this.seqs[i], this.items[i]]);
    const removed = this.items.length - keep.length;
    if (removed === 0) return 0;
    keep.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    this.times.length = 0;
    this.seqs.length = 0;
    this.items.length = 0;
    for (const [t, s, it] of keep) {
      this.times.push(t);
      this.seqs.push(s);
      this.items.push(it);
    }
    return removed;
  }

  private less(i: number, j: number): boolean {
    return this.times[i] < this.times[j] || (this.times[i] === this.times[j] && this.seqs[i] < this.seqs[j]);
  }

  private swap(i: number, j: number): void {
    [this.times[i], this.times[j]] = [this.times[j], this.times[i]];
    [this.seqs[i], this.seqs[j]] = [this.seqs[j], this.seqs[i]];
    [this.items[i], this.items[j]] = [this.items[j], this.items[i]];
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
