/**
 * Flow-control window of one follower in replicate state: the MsgApp messages sent but not yet
 * acknowledged, each recorded by the last index it carried and its payload bytes.
 *
 * Invariant: recorded indexes are strictly increasing; `count ≤ maxMsgs`; when `maxBytes > 0`,
 * `bytes ≤ maxBytes` except for a single message larger than the cap sent into an empty window.
 */
export class Inflights {
  private indexes: number[] = [];
  private sizes: number[] = [];
  private head = 0;
  private totalBytes = 0;

  constructor(
    readonly maxMsgs: number,
    readonly maxBytes: number,
  ) {}

  get count(): number {
    return this.indexes.length - this.head;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Record a sent message whose last entry is `index` and payload is `bytes`. */
  add(index: number, bytes: number): void {
    this.indexes.push(index);
    this.sizes.push(bytes);
    this.totalBytes += bytes;
  }

  /** Free every message whose last index is ≤ `index` (it was acknowledged). */
  freeLE(index: number): void {
    let h = this.head;
    while (h < this.indexes.length && this.indexes[h] <= index) {
      this.totalBytes -= this.sizes[h];
      h++;
    }
    this.head = h;
    if (h === this.indexes.length) {
      this.reset();
    } else if (h > 64 && h * 2 > this.indexes.length) {
      this.indexes = this.indexes.slice(h);
      this.sizes = this.sizes.slice(h);
      this.head = 0;
    }
  }

  /** Free the oldest message (used to unblock a window whose acks were lost). */
  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.indexes[this.head]);
  }

  /** True when no further message may be sent. */
  full(): boolean {
    return this.count >= this.maxMsgs || (this.maxBytes > 0 && this.totalBytes >= this.maxBytes);
  }

  /** Bytes that may still be sent without exceeding the byte cap (Infinity if uncapped). */
  remainingBytes(): number {
    return this.maxBytes > 0 ? this.maxBytes - this.totalBytes : Number.POSITIVE_INFINITY;
  }

  reset(): void {
    this.indexes = [];
    this.sizes = [];
    this.head = 0;
    this.totalBytes = 0;
  }
}
