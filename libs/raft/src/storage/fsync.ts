import { open } from 'node:fs/promises';

/**
 * fsyncs a directory, making renames and unlinks inside it durable. Linux supports fsync on a
 * directory opened read-only; platforms that refuse it (EISDIR/EPERM/EINVAL) are tolerated.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw err;
  } finally {
    await handle.close();
  }
}

/** Writes `bytes` to `path` (which must not exist) and fsyncs the file before resolving. */
export async function writeFileDurably(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    let offset = 0;
    while (offset < bytes.byteLength) {
      const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
      offset += bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}
