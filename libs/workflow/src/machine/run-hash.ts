import { canonicalJson } from '../hashing/canonical-json';
import { hashJson, sha256Hex } from '../hashing/sha256';
import type { Checkpoint, CompletionRecord, RunData, RunState, StepState } from './run-state';

/**
 * Incremental run hashing. The state hash of a run must be a deterministic function of the run's
 * content, yet cost O(what a command changed), not O(step instances / completions / checkpoints
 * of the run). Three memoised digests make that possible:
 *
 * - a **step digest** per step object (SHA-256 of its canonical JSON), memoised by identity —
 *   step objects reachable from a committed state or a checkpoint are never mutated
 *   (copy-on-write, `mutableStep`);
 * - a **step-set digest** per step record: the sum modulo 2^256 of
 *   `SHA-256(canonical(key) ‖ stepDigest)` over its entries (an additive multiset hash), which is
 *   independent of key order and can be updated by subtracting the old term and adding the new
 *   one for each written key;
 * - a **list digest** per append-only list (completions, checkpoints): the hash chain
 *   `d_0 = 0…0, d_k = SHA-256(d_{k-1} ‖ canonical(entry_k))`, extended over appended entries.
 *
 * Caches live in WeakMaps keyed by the containers, so they vanish with them. Contracts the
 * machine keeps (and the property tests check against `runStateHashFromScratch` after every
 * command): a step record is only written through `noteStepWrite` first (`mutableStep`,
 * `createLevelSteps`, checkpoint capture); a list registered with `deriveList` (or hashed once)
 * is only ever appended to, never edited in place.
 */

const MODULUS = 1n << 256n;
const ZERO_DIGEST = '0'.repeat(64);

const stepHashes = new WeakMap<StepState, string>();

/** SHA-256 of the canonical JSON of one step state (memoised by identity). */
export function stepStateHash(step: StepState): string {
  let known = stepHashes.get(step);
  if (known === undefined) {
    known = hashJson(step);
    stepHashes.set(step, known);
  }
  return known;
}

type StepRecord = Record<string, StepState>;

/**
 * What is known of a step record's set digest: `base` is the digest of the record as it was
 * before the writes in `prior` (key → value before its first write since then, `undefined` when
 * the key was absent); `cached` is the current digest when no write happened since it was computed.
 */
interface StepSetEntry {
  base: bigint;
  readonly prior: Map<string, StepState | undefined>;
  cached?: bigint;
}

const stepSets = new WeakMap<StepRecord, StepSetEntry>();

function stepTerm(key: string, step: StepState | undefined): bigint {
  if (step === undefined) return 0n;
  return BigInt(`0x${sha256Hex(canonicalJson(key) + stepStateHash(step))}`);
}

function fullStepSetDigest(steps: StepRecord): bigint {
  let sum = 0n;
  for (const key of Object.keys(steps)) sum += stepTerm(key, steps[key]);
  return sum % MODULUS;
}

/** The step-set digest of `steps` (O(keys written since the last computation) when known, else O(keys)). */
function stepSetDigest(steps: StepRecord): bigint {
  const entry = stepSets.get(steps);
  if (entry === undefined) {
    const digest = fullStepSetDigest(steps);
    stepSets.set(steps, { base: digest, prior: new Map(), cached: digest });
    return digest;
  }
  if (entry.cached !== undefined) return entry.cached;
  let sum = entry.base;
  for (const [key, before] of entry.prior) sum += stepTerm(key, steps[key]) - stepTerm(key, before);
  const digest = ((sum % MODULUS) + MODULUS) % MODULUS;
  entry.base = digest;
  entry.prior.clear();
  entry.cached = digest;
  return digest;
}

/**
 * Registers `next` as a copy of `base` (same entries) so that its digest is derived from
 * `base`'s in O(keys written to `next`). Call right after copying, before any write.
 */
export function deriveSteps(next: StepRecord, base: StepRecord): void {
  const digest = stepSetDigest(base);
  stepSets.set(next, { base: digest, prior: new Map(), cached: digest });
}

/** Must be called before `steps[key]` is assigned (a new object or a new key). */
export function noteStepWrite(steps: StepRecord, key: string): void {
  const entry = stepSets.get(steps);
  if (entry === undefined) return;
  if (!entry.prior.has(key)) entry.prior.set(key, steps[key]);
  entry.cached = undefined;
}

interface ListEntry {
  length: number;
  digest: string;
}

const listDigests = new WeakMap<readonly unknown[], ListEntry>();

function listDigest<T>(list: readonly T[], entryText: (entry: T) => string): string {
  let known = listDigests.get(list);
  if (known === undefined || known.length > list.length) known = { length: 0, digest: ZERO_DIGEST };
  if (known.length === list.length) {
    listDigests.set(list, known);
    return known.digest;
  }
  let digest = known.digest;
  for (let i = known.length; i < list.length; i++) digest = sha256Hex(digest + entryText(list[i]));
  listDigests.set(list, { length: list.length, digest });
  return digest;
}

/** Drops what is known of a list's digest (after it was truncated: the append-only contract broke). */
export function forgetListDigest(list: readonly unknown[]): void {
  listDigests.delete(list);
}

function completionText(record: CompletionRecord): string {
  return canonicalJson(record);
}

function checkpointText(checkpoint: Checkpoint): string {
  const { data: _data, ...meta } = checkpoint;
  return canonicalJson(meta);
}

/** Registers `next` (a copy of `base`, only appended to from now on) to extend `base`'s digest. */
export function deriveCompletions(next: CompletionRecord[], base: readonly CompletionRecord[]): void {
  listDigest(base, completionText);
  const known = listDigests.get(base);
  if (known !== undefined) listDigests.set(next, { length: known.length, digest: known.digest });
}

/** Registers `next` (a copy of `base`, only appended to from now on) to extend `base`'s digest. */
export function deriveCheckpoints(next: Checkpoint[], base: readonly Checkpoint[]): void {
  listDigest(base, checkpointText);
  const known = listDigests.get(base);
  if (known !== undefined) listDigests.set(next, { length: known.length, digest: known.digest });
}

function digestHex(value: bigint): string {
  return value.toString(16).padStart(64, '0');
}

interface DataDigests {
  readonly steps: string;
  readonly completions: string;
}

function dataSummary(data: RunData, digests: DataDigests): Record<string, unknown> {
  return { ...data, steps: digests.steps, completions: { count: data.completions.length, digest: digests.completions } };
}

function incrementalDigests(data: RunData): DataDigests {
  return { steps: digestHex(stepSetDigest(data.steps)), completions: listDigest(data.completions, completionText) };
}

function scratchDigests(data: RunData): DataDigests {
  let completions = ZERO_DIGEST;
  for (const record of data.completions) completions = sha256Hex(completions + canonicalJson(record));
  let steps = 0n;
  for (const key of Object.keys(data.steps)) steps += BigInt(`0x${sha256Hex(canonicalJson(key) + hashJson(data.steps[key]))}`);
  return { steps: digestHex(steps % MODULUS), completions };
}

/**
 * Hash of a run's restorable data (a checkpoint's `stateHash`, a rollback's
 * `restoredStateHash`): SHA-256 of the RFC 8785 canonical JSON of the data in which `steps` is
 * replaced by its step-set digest and `completions` by its length and list
 * digest (see the module comment). Equal data ⇒ equal hash, whatever the key order or how it
 * was built.
 */
export function runDataHash(data: RunData): string {
  return hashJson(dataSummary(data, incrementalDigests(data)));
}

/**
 * The state hash of one run, recorded after every command and checked by replay: SHA-256 of
 * the canonical JSON of the run where `data` is summarised as in `runDataHash` and the
 * checkpoint list by its length and list digest over each checkpoint's metadata and `stateHash`
 * (which covers its data). Cost: O(step instances and list entries changed since the digests
 * were last computed), independent of the run's history length. Call it on committed states or
 * a finished draft, never while a draft is being mutated.
 */
export function runStateHash(run: RunState): string {
  return hashJson({
    ...run,
    data: dataSummary(run.data, incrementalDigests(run.data)),
    checkpoints: { count: run.checkpoints.length, digest: listDigest(run.checkpoints, checkpointText) },
  });
}

/**
 * `runStateHash` computed from nothing, touching no cache (O(size of the run)): the reference
 * the property tests compare the incremental hash against after every command.
 */
export function runStateHashFromScratch(run: RunState): string {
  let checkpoints = ZERO_DIGEST;
  for (const checkpoint of run.checkpoints) checkpoints = sha256Hex(checkpoints + checkpointText(checkpoint));
  return hashJson({ ...run, data: dataSummary(run.data, scratchDigests(run.data)), checkpoints: { count: run.checkpoints.length, digest: checkpoints } });
}

/** `runDataHash` computed from nothing, touching no cache (O(size of the data)). */
export function runDataHashFromScratch(data: RunData): string {
  return hashJson(dataSummary(data, scratchDigests(data)));
}
