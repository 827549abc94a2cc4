/**
 * Child process for the crash test of lmdb-log-store.spec.ts: appends entries in batches as
 * fast as it can and prints "acked <lastIndex>" after each acknowledged batch, until killed.
 * Usage: node --import tsx crash-writer.harness.ts <dir>
 */
import { LmdbLogStore } from './lmdb-log-store';

/** Deterministic payload of entry `index`; the spec recomputes it to verify what survived. */
function payloadFor(index: number): Uint8Array {
  return new TextEncoder().encode(`entry-${index}-${'x'.repeat(index % 97)}`);
}

async function main(dir: string): Promise<void> {
  const store = await LmdbLogStore.open({ dir });
  let next = store.lastIndex() + 1;
  for (;;) {
    const batch = Array.from({ length: 50 }, (_, i) => ({ index: next + i, term: 1, type: 'normal' as const, data: payloadFor(next + i) }));
    next += batch.length;
    // Two appends in flight at once, so a kill can land between commit and flush.
    const a = store.append(batch.slice(0, 25));
    const b = store.append(batch.slice(25));
    await Promise.all([a, b]);
    process.stdout.write(`acked ${next - 1}\n`);
  }
}

void main(process.argv[2]);
