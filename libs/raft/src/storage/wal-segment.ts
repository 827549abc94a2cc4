import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

const NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

/** File name of segment `seq` whose first entry (if any) is `firstIndex`: hex, zero-padded, so lexical order = write order. */
export function walSegmentName(seq: number, firstIndex: number): string {
  return `${seq.toString(16).padStart(16, '0')}-${firstIndex.toString(16).padStart(16, '0')}.wal`;
}

/** Segment files in `dir`, in write order. Files that do not match the naming scheme are ignored. */
export function listWalSegments(dir: string): { seq: number; firstIndex: number; path: string }[] {
  const out: { seq: number; firstIndex: number; path: string }[] = [];
  for (const name of readdirSync(dir)) {
    const m = NAME.exec(name);
    if (m) out.push({ seq: parseInt(m[1], 16), firstIndex: parseInt(m[2], 16), path: join(dir, name) });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/**
 * One open segment file of the write-ahead log: an fd for positional reads (and, for the
 * active segment, appends at `size`). `size` counts only bytes written by this process or
 * verified at open; bytes past it (a torn tail) were truncated before the segment was used.
 */
export class WalSegment {
  constructor(
    readonly seq: number,
    readonly firstIndex: number,
    readonly path: string,
    readonly fd: number,
    /** Bytes of complete records; the next record is written here. */
    public size: number,
  ) {}

  /** Opens an existing segment file read-write. */
  static open(seq: number, firstIndex: number, path: string, size: number): WalSegment {
    return new WalSegment(seq, firstIndex, path, openSync(path, 'r+'), size);
  }

  /** Creates a new, empty segment file (fails if it exists). */
  static create(dir: string, seq: number, firstIndex: number): WalSegment {
    const path = join(dir, walSegmentName(seq, firstIndex));
    return new WalSegment(seq, firstIndex, path, openSync(path, 'wx+'), 0);
  }

  /** Reads `length` bytes at `offset` (positional; does not move any file pointer). */
  read(offset: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, offset + done);
      if (n === 0) throw new Error(`short read of ${this.path} at ${offset + done}`);
      done += n;
    }
    return buf;
  }

  close(): void {
    closeSync(this.fd);
  }
}
