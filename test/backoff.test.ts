import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, JITTER, type BackoffPolicy } from '../src/basics/backoff.ts';

const unitRandom = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

function baseOf(policy: BackoffPolicy, failures: number): number {
  return Math.min(policy.maxMs, policy.initialMs * policy.factor ** (Math.max(1, failures) - 1));
}

describe('backoffDelay', () => {
  it('grows exponentially from the initial delay up to the cap (no jitter drawn)', () => {
    const delays = [1, 2, 3, 4, 5, 6, 20].map((n) => backoffDelay(DEFAULT_BACKOFF, n, () => 0));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('treats failure 0 like failure 1', () => {
    expect(backoffDelay(DEFAULT_BACKOFF, 0, () => 0)).toBe(100);
  });

  it('takes off at most JITTER of the delay', () => {
    expect(JITTER).toBe(0.5);
    expect(backoffDelay(DEFAULT_BACKOFF, 1, () => 0.999_999)).toBe(50);
    expect(backoffDelay(DEFAULT_BACKOFF, 30, () => 0.999_999)).toBe(500);
    expect(backoffDelay(DEFAULT_BACKOFF, 30, () => 0.5)).toBe(750);
  });

  it('copes with a huge number of failures (the exponential overflows to the cap)', () => {
    expect(backoffDelay(DEFAULT_BACKOFF, 100_000, () => 0)).toBe(1000);
    expect(backoffDelay({ initialMs: 1, maxMs: 5, factor: 100 }, 1_000, () => 0)).toBe(5);
  });

  it('is at least 1 ms', () => {
    expect(backoffDelay({ initialMs: 1, maxMs: 1, factor: 1 }, 1, () => 0.999_999)).toBe(1);
  });

  it('property: with integer steps the delay is in [(1-JITTER)*base, base], never above the cap, at least 1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60_000 }),
        fc.integer({ min: 0, max: 600_000 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 80 }),
        unitRandom,
        (initialMs, extra, factor, failures, r) => {
          const policy = { initialMs, maxMs: initialMs + extra, factor };
          const base = baseOf(policy, failures);
          const d = backoffDelay(policy, failures, () => r);
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual((1 - JITTER) * base);
          expect(d).toBeLessThanOrEqual(base);
          expect(d).toBeLessThanOrEqual(policy.maxMs);
          expect(d).toBeGreaterThanOrEqual(1);
        },
      ),
    );
  });

  it('property: with any real factor the delay is within rounding of [(1-JITTER)*base, base], never above the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60_000 }),
        fc.integer({ min: 0, max: 600_000 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 0, max: 200 }),
        unitRandom,
        (initialMs, extra, factor, failures, r) => {
          const policy = { initialMs, maxMs: initialMs + extra, factor };
          const base = baseOf(policy, failures);
          const d = backoffDelay(policy, failures, () => r);
          // Rounding to whole milliseconds may move the delay by half a millisecond at most.
          expect(d).toBeGreaterThanOrEqual((1 - JITTER) * base - 0.5);
          expect(d).toBeLessThanOrEqual(base + 0.5);
          expect(d).toBeLessThanOrEqual(policy.maxMs);
          expect(d).toBeGreaterThanOrEqual(1);
        },
      ),
    );
  });

  it('property: the random draw only ever shortens the delay (monotone in the draw)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), unitRandom, unitRandom, (failures, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(backoffDelay(DEFAULT_BACKOFF, failures, () => hi)).toBeLessThanOrEqual(
          backoffDelay(DEFAULT_BACKOFF, failures, () => lo),
        );
      }),
    );
  });

  it('keeps the jitter at the cap: waiters at the cap are spread, not in step', () => {
    // p-retry's `randomize` multiplies before capping, so every waiter at the cap sleeps exactly the cap.
    const policy: BackoffPolicy = { initialMs: 100, maxMs: 10_000, factor: 2 };
    const delays = Array.from({ length: 1000 }, () => backoffDelay(policy, 50));
    const min = Math.min(...delays);
    const max = Math.max(...delays);
    expect(max).toBeLessThanOrEqual(policy.maxMs);
    expect(min).toBeGreaterThanOrEqual((1 - JITTER) * policy.maxMs);
    expect(min).toBeLessThan(0.6 * policy.maxMs);
    expect(max).toBeGreaterThan(0.9 * policy.maxMs);
    expect(new Set(delays).size).toBeGreaterThan(100);
  });

  it('keeps the jitter at the cap with the default policy too', () => {
    const delays = Array.from({ length: 1000 }, () => backoffDelay(DEFAULT_BACKOFF, 10));
    expect(Math.min(...delays)).toBeLessThan(0.6 * DEFAULT_BACKOFF.maxMs);
    expect(Math.max(...delays)).toBeGreaterThan(0.9 * DEFAULT_BACKOFF.maxMs);
    expect(Math.max(...delays)).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxMs);
  });
});
