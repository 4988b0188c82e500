/**
 * Exponential backoff, the one rule behind every retry delay in vidsnap (queue redeliveries, part uploads,
 * status polling): delay n = min(max, base · factor^(n−1)), plus up to `jitter` of it at random.
 */

export interface BackoffPolicy {
  /** Delay before the first retry, in the caller's unit (seconds or milliseconds). */
  base: number;
  /** Longest delay, same unit. */
  max: number;
  /** Growth per retry (default 2). */
  factor?: number;
  /** Random extra as a share of the delay, 0..1 (default 0: deterministic). */
  jitter?: number;
}

/**
 * @param retry 1 for the delay before the first retry, 2 for the second… (values below 1 count as 1)
 * @param policy base, cap, factor and jitter
 * @param random source of [0, 1) numbers for the jitter (default `Math.random`)
 * @returns the delay, in the policy's unit, never above `max · (1 + jitter)`
 */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.floor(retry) - 1);
  const delay = Math.min(policy.max, policy.base * (policy.factor ?? 2) ** exponent);
  const jitter = policy.jitter ?? 0;
  return jitter > 0 ? delay + delay * jitter * random() : delay;
}
