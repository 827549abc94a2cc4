/**
 * Child process for the kill -9 tests of the log store specs: appends entries in batches as
 * fast as it can and prints "acked <lastIndex>" after each acknowledged batch, until killed.
 * Usage: node --import tsx crash-writer.harness.ts <dir> [lmdb|wal] [wal options as JSON]
 */
import { LmdbLogStore } from './lmdb-log-store';
import type { LogStore } from './log-store';
import { WalLogStore, type WalLogStoreOptions } from './wal-log-store';

/** Deterministic payload of entry `index`; the spec recomputes it to verify what survived. */
function payloadFor(index: number): Uint8Array {
  return new TextEncoder().encode(`entry-${index}-${'x'.repeat(index % 97)}`);
}

async function main(dir: string, kind: string, walOptions: string | undefined): Promise<void> {
  const store: LogStore = kind === 'wal' ? await WalLogStore.open({ ...(JSON.parse(walOptions ?? '{}') as Partial<WalLogStoreOptions>), dir }) : await LmdbLogStore.open({ dir });
  let next = store.lastIndex() + 1;
  for (;;) {
    const batch = Array.from({ length: 50 }, (_, i) => ({ index: next + i, term: 1, type: 'normal' as const, data: payloadFor(next + i) }));
    next += batch.length;
    // Two appends in flight at once, so a kill can land between write and sync.
    const a = store.append(batch.slice(0, 25));
    const b = store.append(batch.slice(25));
    await Promise.all([a, b]);
    process.stdout.write(`acked ${next - 1}\n`);
  }
}

void main(process.argv[2], process.argv[3] ?? 'lmdb', process.argv[4]);
