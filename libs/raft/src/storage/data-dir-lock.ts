import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from './errors';

/** Another live process holds the data directory. */
export class DataDirLockedError extends StorageError {
  constructor(
    path: string,
    readonly holderPid: number,
  ) {
    super('DATA_DIR_LOCKED', path, `data directory is in use by process ${holderPid}`);
    this.name = 'DataDirLockedError';
  }
}

/** Lock files held by this process. */
const heldHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Exclusive ownership of a data directory by one process: `<dir>/LOCK` holds the owner's pid.
 * LMDB itself allows several processes to open one environment, which for a Raft node would
 * mean two nodes sharing one log — so a second opener fails with {@link DataDirLockedError}.
 * A lock left by a process that died (kill -9) is taken over.
 */
export class DataDirLock {
  private constructor(readonly path: string) {}

  static async acquire(dir: string): Promise<DataDirLock> {
    const path = join(dir, 'LOCK');
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await open(path, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.sync();
        await handle.close();
        heldHere.add(path);
        return new DataDirLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (heldHere.has(path)) throw new DataDirLockedError(path, process.pid); // opened twice in this process
      // Our own pid but not held here: a previous incarnation with the same pid (containers
      // restart as pid 1) — stale, like a lock whose owner is gone.
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) throw new DataDirLockedError(path, holder);
      await unlink(path).catch(() => undefined);
    }
    throw new DataDirLockedError(path, -1);
  }

  async release(): Promise<void> {
    heldHere.delete(this.path);
    await unlink(this.path).catch(() => undefined);
  }
}
