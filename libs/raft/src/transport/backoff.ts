/** Exponential backoff with jitter: attempt n waits a random time in [d/2, d], d = min(max, min·2ⁿ). */
export interface BackoffPolicy {
  minMs: number;
  maxMs: number;
}

/** Delay before redial attempt `attempt` (0-based); `random` is injectable for tests. */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
