import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Snapshot } from '../core';
import { silentLogger, type RaftLogger } from '../transport/logger';
import { SnapshotCorruptError } from './errors';
import { fsyncDirectory, writeFileDurably } from './fsync';
import { decodeSnapshotFile, encodeSnapshotFile } from './snapshot-file-format';

/** Options of {@link SnapshotStore.open}. */
export interface SnapshotStoreOptions {
  /** How many snapshot files to keep (newest first). Default 3, minimum 1. */
  keep?: number;
  logger?: RaftLogger;
}

const NAME = /^snapshot-(\d{16})-(\d{16})\.snap$/;
const TEMP_SUFFIX = '.tmp';

/** File name of a snapshot: zero-padded index then term, so names sort by index. */
export function snapshotFileName(index: number, term: number): string {
  return `snapshot-${String(index).padStart(16, '0')}-${String(term).padStart(16, '0')}.snap`;
}

/**
 * Snapshot files in one directory (hashicorp/raft's `SnapshotStore` role).
 *
 * Invariants: a file under its final name is complete and durable — it is written under a
 * temporary name, fsynced, renamed, and the directory is fsynced before `save` resolves; every
 * load verifies the SHA-256 trailer and throws {@link SnapshotCorruptError} naming the file on
 * mismatch (never falling back silently); leftover temporary files (a crash during `save`) are
 * deleted at open; after each save only the newest `keep` files remain.
 */
export class SnapshotStore {
  private readonly keep: number;
  private readonly logger: RaftLogger;

  private constructor(
    readonly dir: string,
    opts: SnapshotStoreOptions,
  ) {
    this.keep = Math.max(1, opts.keep ?? 3);
    this.logger = opts.logger ?? silentLogger;
  }

  static async open(dir: string, opts: SnapshotStoreOptions = {}): Promise<SnapshotStore> {
    await mkdir(dir, { recursive: true });
    const store = new SnapshotStore(dir, opts);
    let removed = false;
    for (const name of await readdir(dir)) {
      if (name.endsWith(TEMP_SUFFIX)) {
        store.logger.warn({ path: join(dir, name) }, 'snapshot store: removing incomplete snapshot from an interrupted save');
        await unlink(join(dir, name));
        removed = true;
      }
    }
    if (removed) await fsyncDirectory(dir);
    return store;
  }

  /** Snapshot files present, newest (highest index) first. */
  async list(): Promise<{ index: number; term: number; path: string }[]> {
    const out: { index: number; term: number; path: string }[] = [];
    for (const name of await readdir(this.dir)) {
      const m = NAME.exec(name);
      if (m) out.push({ index: Number(m[1]), term: Number(m[2]), path: join(this.dir, name) });
    }
    return out.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  pathFor(index: number, term: number): string {
    return join(this.dir, snapshotFileName(index, term));
  }

  /** Durably saves `snapshot`; resolves with its path once file and directory entry are fsynced. */
  async save(snapshot: Snapshot): Promise<string> {
    const { index, term } = snapshot.metadata;
    const finalPath = this.pathFor(index, term);
    const tempPath = `${finalPath}.${process.pid}.${Date.now()}${TEMP_SUFFIX}`;
    await writeFileDurably(tempPath, encodeSnapshotFile(snapshot));
    await rename(tempPath, finalPath);
    await fsyncDirectory(this.dir);
    await this.prune();
    return finalPath;
  }

  /** Loads and verifies the file at `path`. */
  async load(path: string): Promise<Snapshot> {
    const decoded = decodeSnapshotFile(await readFile(path));
    if (!decoded.ok) throw new SnapshotCorruptError(path, decoded.problem);
    return decoded.snapshot;
  }

  /** Loads and verifies the newest snapshot, or undefined if there is none. */
  async loadLatest(): Promise<Snapshot | undefined> {
    const [latest] = await this.list();
    return latest ? this.load(latest.path) : undefined;
  }

  private async prune(): Promise<void> {
    const files = await this.list();
    const stale = files.slice(this.keep);
    for (const f of stale) await unlink(f.path);
    if (stale.length > 0) await fsyncDirectory(this.dir);
  }
}
