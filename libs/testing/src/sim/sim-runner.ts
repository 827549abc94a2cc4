import { TICK } from './fault-profile';
import { simulate, type SimulationOptions, type SimulationResult } from './cluster-simulation';

/** A batch of seeds to simulate with the same settings. */
export interface SeedBatch extends Omit<SimulationOptions, 'seed'> {
  /** First seed. */
  readonly from: number;
  /** Number of consecutive seeds. */
  readonly count: number;
  /** Run only seeds with (seed - from) % stride === offset (to split a batch across workers). */
  readonly stride?: number;
  readonly offset?: number;
  /** Stop at the first failing seed. */
  readonly stopAtFirstFailure?: boolean;
}

export interface BatchSummary {
  readonly passed: number;
  readonly failed: number;
  readonly failures: readonly SimulationResult[];
}

/** Runs seeds in order, reporting each result to `onResult`. */
export function runSeedBatch(batch: SeedBatch, onResult?: (r: SimulationResult) => void): BatchSummary {
  const stride = batch.stride ?? 1;
  const offset = batch.offset ?? 0;
  let passed = 0;
  const failures: SimulationResult[] = [];
  for (let k = offset; k < batch.count; k += stride) {
    const r = simulate({ ...batch, seed: batch.from + k });
    onResult?.(r);
    if (r.ok) passed++;
    else {
      failures.push(r);
      if (batch.stopAtFirstFailure) break;
    }
  }
  return { passed, failed: failures.length, failures };
}

/** One line describing a failed seed: its seed, the invariant and the detail. */
export function describeFailure(r: SimulationResult): string {
  const v = r.violation;
  return v ? `seed ${r.seed}: ${v.invariant} at tick ${(v.time / TICK).toFixed(1)}: ${v.detail}` : `seed ${r.seed}: ok`;
}
