/**
 * The delay schedule between attempts of one target: exponential, capped, then jittered. The jitter is
 * applied after the cap, so that waiters at the cap stay spread out instead of probing in step (p-retry's
 * `randomize` multiplies before capping, which leaves every waiter at the cap sleeping exactly the cap).
 */

export interface BackoffPolicy {
  /** Delay after the first failed attempt, before jitter (ms). */
  readonly initialMs: number;
  /** Largest delay before jitter (ms). */
  readonly maxMs: number;
  /** Growth per failed attempt. */
  readonly factor: number;
}

/** Each delay is multiplied by a random number in [1 - JITTER, 1): at the cap, between half the cap and the cap. */
export const JITTER = 0.5;

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 1000, factor: 2 };

/** The delay after failed attempt number `failures` (1-based). `random` returns a number in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, failures - 1);
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** exponent);
  return Math.max(1, Math.round(base * (1 - JITTER * random())));
}
