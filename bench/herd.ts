/**
 * Figure 3, many pods at once: 1,000 waiters start together against a dependency that is down for 60 s, on a
 * simulated clock (an event queue, no real sleeping), each attempt taking 0 ms. Three schedules:
 * - harbor-wait: the real p-retry as src/engine/waiter.ts drives it (its own timeouts 0), sleeping src/basics/backoff.ts's
 *   backoffDelay with DEFAULT_BACKOFF and a seeded random source in onFailedAttempt;
 * - p-retry `randomize: true` at the same min/max/factor: the real p-retry package, its setTimeout replaced
 *   by the virtual clock and Math.random by the seeded source while it runs, so its own formula decides;
 * - no jitter: backoffDelay with random = () => 0 (the multiplier 1 − JITTER × 0 is exactly 1).
 *
 * The simulation runs in a child process (`node bench/herd.ts <waiters> <outageMs> <seeds>`, JSON on stdout)
 * because it replaces globals; runHerd() starts it.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pRetry, { type Options } from 'p-retry';
import { sleep } from '../src/basics/abort.ts';
import { backoffDelay, DEFAULT_BACKOFF, JITTER } from '../src/basics/backoff.ts';
import { BENCH_DIR, cleanEnv, NODE, type Settings } from './env.ts';
import { start } from './procs.ts';
import { fmt, range, summarize, table, times, type Goal, type Summary } from './stats.ts';

export const STRATEGIES = ['harbor-wait', 'p-retry randomize', 'no jitter'] as const;
export type Strategy = (typeof STRATEGIES)[number];

const WINDOW_MS = 100;
/** The herd factor is taken from here on: the synchronized start itself is not the backoff's doing. */
const STEADY_FROM_MS = 5000;
/** From this failure on, every schedule is at the cap (100 × 2^4 = 1600 > 1000). */
const CAP_FAILURE = 5;

/** xorshift32 with a scrambled seed: small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let s = Math.imul(seed + 1, 0x9e3779b9) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

interface Event {
  readonly at: number;
  /** Insertion order: events at the same time run first in, first out. */
  readonly seq: number;
  readonly fn: () => void;
}

/** A clock that jumps from event to event: a binary heap ordered by (time, insertion). */
class VirtualClock {
  now = 0;
  private heap: Event[] = [];
  private seq = 0;
  private cancelled = new Set<number>();

  private less(a: Event, b: Event): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  schedule(at: number, fn: () => void): number {
    const e = { at, seq: this.seq++, fn };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i] as Event, h[parent] as Event)) break;
      [h[i], h[parent]] = [h[parent] as Event, h[i] as Event];
      i = parent;
    }
    return e.seq;
  }

  cancel(id: number): void {
    this.cancelled.add(id);
  }

  private pop(): Event | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l] as Event, h[m] as Event)) m = l;
        if (r < h.length && this.less(h[r] as Event, h[m] as Event)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Event, h[i] as Event];
        i = m;
      }
    }
    return top;
  }

  /** Runs every event due at the earliest pending time; false when nothing is left. */
  stepTime(): boolean {
    let first = this.pop();
    while (first && this.cancelled.delete(first.seq)) first = this.pop();
    if (!first) return false;
    this.now = first.at;
    first.fn();
    while (this.heap[0] && this.heap[0].at === this.now) {
      const e = this.pop() as Event;
      if (!this.cancelled.delete(e.seq)) e.fn();
    }
    return true;
  }
}

interface RawRun {
  /** Time of every attempt, failed or not. */
  readonly attempts: number[];
  /** Time each waiter's successful attempt was made. */
  readonly ready: number[];
  /** Delays chosen at the cap (failure ≥ 5). */
  readonly capDelays: number[];
}

/** A schedule run by the simulation itself: after failure n, wait delay(n). */
function simulateOwnLoop(waiters: number, upAtMs: number, delay: (failures: number) => number): RawRun {
  const clock = new VirtualClock();
  const attempts: number[] = [];
  const ready: number[] = [];
  const capDelays: number[] = [];
  for (let i = 0; i < waiters; i++) {
    let failures = 0;
    const attempt = () => {
      attempts.push(clock.now);
      if (clock.now >= upAtMs) {
        ready.push(clock.now);
        return;
      }
      failures++;
      const d = delay(failures);
      if (failures >= CAP_FAILURE) capDelays.push(d);
      clock.schedule(clock.now + d, attempt);
    };
    clock.schedule(0, attempt);
  }
  while (clock.stepTime());
  return { attempts, ready, capDelays };
}

/**
 * p-retry's options for a schedule: its own `randomize`, or harbor-wait's as src/engine/waiter.ts sets it (p-retry's
 * timeouts 0, harbor-wait's delay slept in onFailedAttempt).
 */
function pRetryOptions(schedule: 'randomize' | 'harbor-wait', random: () => number, capDelays: number[]): Options {
  if (schedule === 'randomize') {
    return {
      retries: Number.POSITIVE_INFINITY,
      minTimeout: DEFAULT_BACKOFF.initialMs,
      maxTimeout: DEFAULT_BACKOFF.maxMs,
      factor: DEFAULT_BACKOFF.factor,
      randomize: true,
      onFailedAttempt: ({ attemptNumber, retryDelay }) => {
        if (attemptNumber >= CAP_FAILURE) capDelays.push(retryDelay);
      },
    };
  }
  return {
    retries: Number.POSITIVE_INFINITY,
    minTimeout: 0,
    maxTimeout: 0,
    randomize: false,
    onFailedAttempt: async ({ attemptNumber }) => {
      const delay = backoffDelay(DEFAULT_BACKOFF, attemptNumber, random);
      if (attemptNumber >= CAP_FAILURE) capDelays.push(delay);
      await sleep(delay, NEVER);
    },
  };
}

const NEVER = new AbortController().signal;

/** The real p-retry, its timers on the virtual clock and Math.random seeded, for the duration of the run. */
async function simulatePRetry(waiters: number, upAtMs: number, seed: number, schedule: 'randomize' | 'harbor-wait'): Promise<RawRun> {
  const clock = new VirtualClock();
  const attempts: number[] = [];
  const capDelays: number[] = [];
  const saved = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout, random: Math.random };
  const realSetImmediate = globalThis.setImmediate;
  // Every promise continuation runs before a macrotask, so one setImmediate lets all p-retry loops settle.
  const settle = () => new Promise<void>((resolve) => realSetImmediate(resolve));
  const g = globalThis as unknown as Record<'setTimeout' | 'clearTimeout', unknown>;
  g.setTimeout = (fn: () => void, ms = 0) => ({ id: clock.schedule(clock.now + ms, fn), ref() {}, unref() {} });
  g.clearTimeout = (t: { id?: number } | undefined) => {
    if (t?.id !== undefined) clock.cancel(t.id);
  };
  Math.random = seededRandom(seed);
  const options = pRetryOptions(schedule, seededRandom(seed), capDelays);
  try {
    const runs = Array.from({ length: waiters }, () =>
      pRetry(() => {
        attempts.push(clock.now);
        if (clock.now < upAtMs) return Promise.reject(new Error('ECONNREFUSED'));
        return Promise.resolve(clock.now);
      }, options),
    );
    await settle();
    while (clock.stepTime()) await settle();
    const ready = await Promise.all(runs);
    return { attempts, ready, capDelays };
  } finally {
    g.setTimeout = saved.setTimeout;
    g.clearTimeout = saved.clearTimeout;
    Math.random = saved.random;
  }
}

export interface HerdRun {
  readonly strategy: Strategy;
  readonly seed: number;
  readonly attempts: number;
  readonly attemptsPerWaiter: number;
  /** Peak attempts in any 100 ms window from 5 s until all are ready, and the mean per 100 ms there. */
  readonly peak: number;
  readonly mean: number;
  readonly herdFactor: number;
  /** Peak attempts in any 100 ms window starting in the first 5 s (the synchronized start). */
  readonly startPeak: number;
  readonly allReadyAfterUpMs: number;
  readonly capDelayMinMs: number;
  readonly capDelayMaxMs: number;
  /** Attempts per 100 ms bin from 0 until all are ready: the raw shape. */
  readonly histogram: number[];
}

/** The most attempts within any window [t, t + width) whose start lies in [from, to). */
function peakIn(sortedTimes: readonly number[], from: number, to: number, width: number): number {
  let peak = 0;
  let j = 0;
  for (let i = 0; i < sortedTimes.length; i++) {
    const t = sortedTimes[i] as number;
    if (t < from || t >= to) continue;
    if (j < i) j = i;
    while (j < sortedTimes.length && (sortedTimes[j] as number) < t + width) j++;
    peak = Math.max(peak, j - i);
  }
  return peak;
}

function measure(strategy: Strategy, seed: number, waiters: number, upAtMs: number, raw: RawRun): HerdRun {
  const sortedTimes = [...raw.attempts].sort((a, b) => a - b);
  const end = Math.max(...raw.ready);
  const steady = sortedTimes.filter((t) => t >= STEADY_FROM_MS && t <= end).length;
  const mean = steady / ((end - STEADY_FROM_MS) / WINDOW_MS);
  const peak = peakIn(sortedTimes, STEADY_FROM_MS, end + 1, WINDOW_MS);
  const histogram = new Array<number>(Math.floor(end / WINDOW_MS) + 1).fill(0);
  for (const t of sortedTimes) histogram[Math.floor(t / WINDOW_MS)]! += 1;
  return {
    strategy,
    seed,
    attempts: sortedTimes.length,
    attemptsPerWaiter: sortedTimes.length / waiters,
    peak,
    mean,
    herdFactor: peak / mean,
    startPeak: peakIn(sortedTimes, 0, STEADY_FROM_MS, WINDOW_MS),
    allReadyAfterUpMs: end - upAtMs,
    capDelayMinMs: Math.min(...raw.capDelays),
    capDelayMaxMs: Math.max(...raw.capDelays),
    histogram,
  };
}

/** Every schedule once per seed, in turn (A B C A B C …). */
export async function simulate(waiters: number, outageMs: number, seeds: number): Promise<HerdRun[]> {
  const runs: HerdRun[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    runs.push(measure('harbor-wait', seed, waiters, outageMs, await simulatePRetry(waiters, outageMs, seed, 'harbor-wait')));
    runs.push(measure('p-retry randomize', seed, waiters, outageMs, await simulatePRetry(waiters, outageMs, seed, 'randomize')));
    runs.push(measure('no jitter', seed, waiters, outageMs, simulateOwnLoop(waiters, outageMs, (n) => backoffDelay(DEFAULT_BACKOFF, n, () => 0))));
  }
  return runs;
}

export interface HerdRow {
  readonly strategy: Strategy;
  readonly herdFactor: Summary;
  readonly peak: Summary;
  readonly mean: Summary;
  readonly startPeak: Summary;
  readonly allReadyAfterUpMs: Summary;
  readonly attemptsPerWaiter: Summary;
  readonly capDelayMinMs: number;
  readonly capDelayMaxMs: number;
}

export interface HerdResult {
  readonly waiters: number;
  readonly outageMs: number;
  readonly seeds: number;
  readonly policy: typeof DEFAULT_BACKOFF;
  readonly jitter: number;
  readonly runs: HerdRun[];
  readonly rows: HerdRow[];
}

export async function runHerd(s: Settings): Promise<HerdResult> {
  const proc = await start(NODE, [join(BENCH_DIR, 'herd.ts'), String(s.herdWaiters), String(s.herdOutageMs), String(s.herdSeeds)], { env: cleanEnv(), keepStdout: true });
  const exit = await proc.exited;
  if (exit.code !== 0) throw new Error(`the herd simulation failed (exit ${exit.code ?? exit.signal}):\n${proc.output()}`);
  const runs = JSON.parse(proc.stdout()) as HerdRun[];
  const rows = STRATEGIES.map((strategy): HerdRow => {
    const mine = runs.filter((r) => r.strategy === strategy);
    const of = (f: (r: HerdRun) => number) => summarize(mine.map(f));
    return {
      strategy,
      herdFactor: of((r) => r.herdFactor),
      peak: of((r) => r.peak),
      mean: of((r) => r.mean),
      startPeak: of((r) => r.startPeak),
      allReadyAfterUpMs: of((r) => r.allReadyAfterUpMs),
      attemptsPerWaiter: of((r) => r.attemptsPerWaiter),
      capDelayMinMs: Math.min(...mine.map((r) => r.capDelayMinMs)),
      capDelayMaxMs: Math.max(...mine.map((r) => r.capDelayMaxMs)),
    };
  });
  return { waiters: s.herdWaiters, outageMs: s.herdOutageMs, seeds: s.herdSeeds, policy: DEFAULT_BACKOFF, jitter: JITTER, runs, rows };
}

export function printHerd(r: HerdResult): string {
  const hw = r.rows.find((x) => x.strategy === 'harbor-wait');
  const rows = r.rows.map((x) => [
    x.strategy,
    range(x.herdFactor, 2),
    range(x.peak, 0),
    range(x.mean, 1),
    range(x.startPeak, 0),
    range(x.allReadyAfterUpMs, 0),
    range(x.attemptsPerWaiter, 1),
    `${x.capDelayMinMs}–${x.capDelayMaxMs}`,
  ]);
  const p = r.policy;
  return [
    `3. Many pods at once: ${r.waiters} waiters start at t = 0, dependency down ${r.outageMs / 1000} s then up (simulated clock; median [min–max] over seeds 1–${r.seeds})`,
    table(['schedule', 'herd factor', 'peak/100 ms', 'mean/100 ms', 'peak/100 ms, first 5 s', 'all ready after up, ms', 'attempts/waiter', 'delay at cap, ms'], rows),
    '',
    `herd factor = peak attempts in any 100 ms window ÷ mean attempts per 100 ms, from 5 s until all are ready; the first 5 s (the synchronized start) are shown apart.`,
    `schedules at initial ${p.initialMs} ms, max ${p.maxMs} ms, factor ${p.factor}: harbor-wait = p-retry sleeping backoffDelay(DEFAULT_BACKOFF) in onFailedAttempt, as src/engine/waiter.ts (× [${1 - r.jitter}, 1) after the cap); p-retry randomize = the real p-retry, timers on the virtual clock (× [1, 2) before the cap);`,
    `no jitter = backoffDelay with random = () => 0. Each attempt takes 0 ms; one at t ≥ ${r.outageMs} ms succeeds. Randomness: a seeded xorshift32 (for p-retry it replaces Math.random while it runs).`,
    ...(hw ? [`harbor-wait: ${times(hw.herdFactor.median)} herd factor; the dependency sees ${fmt(hw.mean.median * 10, 0)} attempts/s on average from ${r.waiters} waiters.`] : []),
  ].join('\n');
}

export function herdGoals(r: HerdResult | undefined): Goal[] {
  const hw = r?.rows.find((x) => x.strategy === 'harbor-wait');
  return [
    {
      figure: '3',
      goal: 'harbor-wait: herd factor ≤ 2 (1,000 waiters, 60 s outage)',
      value: hw ? `${fmt(hw.herdFactor.median, 2)} (worst seed ${fmt(hw.herdFactor.max, 2)})` : 'not run',
      met: hw ? hw.herdFactor.max <= 2 : null,
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [waiters, outageMs, seeds] = process.argv.slice(2).map(Number);
  if (!waiters || !outageMs || !seeds) {
    process.stderr.write('usage: node bench/herd.ts <waiters> <outageMs> <seeds>\n');
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(await simulate(waiters, outageMs, seeds)));
}
