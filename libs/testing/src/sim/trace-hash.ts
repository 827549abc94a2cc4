/**
 * A running 53-bit hash (two interleaved 32-bit FNV-style lanes) over the simulator's event
 * trace. Two runs with the same seed must end with the same value: the determinism check.
 */
export class TraceHash {
  private h1 = 0xdeadbeef;
  private h2 = 0x41c6ce57;
  private count = 0;

  addNumber(n: number): void {
    const x = n | 0;
    const hi = Math.floor(n / 4294967296) | 0;
    this.h1 = Math.imul(this.h1 ^ x, 2654435761);
    this.h2 = Math.imul(this.h2 ^ (x ^ hi), 1597334677);
    this.count++;
  }

  addString(s: string): void {
    for (let i = 0; i < s.length; i++) this.addNumber(s.charCodeAt(i));
    this.addNumber(s.length);
  }

  /** Number of values mixed in so far. */
  get size(): number {
    return this.count;
  }

  digest(): string {
    let h1 = this.h1;
    let h2 = this.h2;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
  }
}
