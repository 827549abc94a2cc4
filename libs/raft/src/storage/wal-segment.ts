import { closeSync, ftruncateSync, openSync, readdirSync, readSync } from 'node:fs';
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
 * active segment, writes at `size`).
 *
 * Preallocation: a new segment file is extended to `segmentBytes` with `ftruncate` (sparse,
 * reads as zeros) before its header record is written, so later writes land inside the file
 * and an `fdatasync` never has to commit a size change. The file size is therefore not the end
 * of the data: `size` is the LOGICAL end — the bytes of complete records, where the next record
 * is written. Every byte from `size` to EOF is zero (replay verifies it, and zero-fills a torn
 * tail before the segment is used). A batch larger than the space left grows the file; a file
 * written before preallocation existed (EOF = logical end) is used as it is.
 */
export class WalSegment {
  constructor(
    readonly seq: number,
    readonly firstIndex: number,
    readonly path: string,
    readonly fd: number,
    /** Logical end: bytes of complete records; the next record is written here (not the file size). */
    public size: number,
  ) {}

  /** Opens an existing segment file read-write; `size` is its logical end as found by replay. */
  static open(seq: number, firstIndex: number, path: string, size: number): WalSegment {
    return new WalSegment(seq, firstIndex, path, openSync(path, 'r+'), size);
  }

  /**
   * Creates a new, empty segment file (fails if it exists), preallocated to `preallocateBytes`
   * (sparse `ftruncate`; 0 = none). The caller writes the header record at offset 0 next; the
   * size change is made durable by the `fdatasync` that covers that header.
   */
  static create(dir: string, seq: number, firstIndex: number, preallocateBytes: number): WalSegment {
    const path = join(dir, walSegmentName(seq, firstIndex));
    const fd = openSync(path, 'wx+');
    try {
      if (preallocateBytes > 0) ftruncateSync(fd, preallocateBytes);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new WalSegment(seq, firstIndex, path, fd, 0);
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
