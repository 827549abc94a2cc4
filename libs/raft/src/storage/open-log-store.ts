import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StoreKindMismatchError } from './errors';
import { LmdbLogStore } from './lmdb-log-store';
import type { LogStore, LogStoreKind } from './log-store';
import { WalLogStore, type WalLogStoreOptions } from './wal-log-store';

/**
 * Opens the log store of the given kind in `opts.dir` (WAL-only options are ignored for
 * LMDB). A data directory written by the other kind is refused with
 * {@link StoreKindMismatchError} — `<dir>/wal/` means WAL, `<dir>/raft-log.mdb` means LMDB —
 * so switching `--storage` can never start a node on an empty log beside its real one.
 */
export async function openLogStore(kind: LogStoreKind, opts: WalLogStoreOptions): Promise<LogStore> {
  if (kind === 'wal') return WalLogStore.open(opts);
  if (existsSync(join(opts.dir, 'wal'))) throw new StoreKindMismatchError(opts.dir, 'lmdb', 'wal');
  return LmdbLogStore.open({ dir: opts.dir, bootstrap: opts.bootstrap, keepSnapshots: opts.keepSnapshots, tailCache: opts.tailCache, logger: opts.logger });
}
