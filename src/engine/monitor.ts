/**
 * The sidecar's monitor: every check in a loop of its own until shutdown. A ready target is checked again
 * every interval; a failing one on the backoff schedule, so it is noticed quickly when it comes back. The
 * latest result of each is kept for /readyz; /metrics counts and times every attempt (metrics.ts, prom-client:
 * this file is imported in sidecar mode only). Like the waiter, it knows nothing about protocols.
 */
import { monotonicMs } from '../basics/builtin.ts';
import { sleep } from '../basics/abort.ts';
import { attemptOnce } from './attempt.ts';
import { backoffDelay, type BackoffPolicy } from '../basics/backoff.ts';
import { NotReady, type Stage } from '../basics/errors.ts';
import { logNotReady, logReady, logWaiting } from './log-events.ts';
import type { Logger } from './log.ts';
import { createMetrics, type Metrics, type TargetGauges } from './metrics.ts';
import type { Check, Ready } from '../protocols/types.ts';

export type TargetState = 'pending' | 'ready' | 'not_ready';

/** The latest known state of one target. Mutated by the monitor only. */
export interface TargetStatus extends TargetGauges {
  readonly target: string;
  state: TargetState;
  up: boolean;
  stage: Stage | null;
  code: string | null;
  reason: string | null;
  address: string | null;
  /** Epoch milliseconds. */
  changedAt: number;
  lastCheckAt: number | null;
  attempts: number;
}

export interface MonitorOptions {
  readonly attemptTimeoutMs: number;
  readonly backoff: BackoffPolicy;
  /** Time between checks of a ready target (jittered by ±20 %). */
  readonly intervalMs: number;
  /** Aborted on SIGTERM / SIGINT: every loop stops, whatever it was doing. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly random?: () => number;
  readonly heartbeatMs?: number;
}

export interface Monitor {
  readonly statuses: readonly TargetStatus[];
  /** Attempts, failures by code and durations as they happen; up and state age read from `statuses`. */
  readonly metrics: Metrics;
  /** True when every target passed its latest check. */
  ready(): boolean;
  /** Starts checking; resolves once every loop has stopped after the signal, rejects on a bug. */
  run(): Promise<void>;
}

export function createMonitor(checks: readonly Check[], o: MonitorOptions): Monitor {
  let started = monotonicMs();
  const elapsed = () => Math.round(monotonicMs() - started);
  const random = o.random ?? Math.random;
  const failed = new AbortController();
  const run = AbortSignal.any([o.signal, failed.signal]);
  const statuses: TargetStatus[] = checks.map((check) => ({
    target: check.target,
    state: 'pending',
    up: false,
    stage: null,
    code: null,
    reason: 'no attempt has finished yet',
    address: null,
    changedAt: Date.now(),
    lastCheckAt: null,
    attempts: 0,
  }));
  const metrics = createMetrics(statuses);
  const ready = () => statuses.every((s) => s.up);
  let allReady = false;

  /** One line whenever the answer of /readyz flips. */
  const noteReadiness = () => {
    if (ready() === allReady) return;
    allReady = !allReady;
    const down = statuses.filter((s) => !s.up).map((s) => s.target);
    o.log.log(
      allReady ? 'info' : 'warn',
      'readiness',
      { ready: allReady, not_ready: down },
      allReady
        ? `${statuses.length === 1 ? 'the target is' : `all ${statuses.length} targets are`} ready: /readyz answers 200`
        : `not ready: ${down.join(', ')}; /readyz answers 503`,
    );
  };

  const loop = async (check: Check, s: TargetStatus): Promise<void> => {
    let failuresInRow = 0;
    let lastShown: string | undefined;
    while (!run.aborted) {
      const t0 = monotonicMs();
      let outcome: Ready | NotReady;
      try {
        outcome = await attemptOnce(check, run, o.attemptTimeoutMs);
      } catch (err) {
        if (run.aborted) return;
        if (!(err instanceof NotReady)) throw err;
        outcome = err;
      }
      s.attempts += 1;
      metrics.attempt(s.target, (monotonicMs() - t0) / 1000, outcome instanceof NotReady ? outcome.code : null);
      s.lastCheckAt = Date.now();
      let delay: number;
      if (outcome instanceof NotReady) {
        const err = outcome;
        failuresInRow += 1;
        delay = backoffDelay(o.backoff, failuresInRow, random);
        Object.assign(s, { stage: err.stage, code: err.code, reason: err.reason, address: null });
        if (s.state !== 'not_ready') Object.assign(s, { state: 'not_ready', up: false, changedAt: s.lastCheckAt });
        const key = `${err.stage}/${err.code}`;
        logNotReady(o.log, key === lastShown ? 'debug' : 'info', {
          target: s.target,
          attempt: s.attempts,
          error: err,
          elapsedMs: elapsed(),
          retryInMs: Math.round(delay),
        });
        lastShown = key;
      } else {
        failuresInRow = 0;
        lastShown = undefined;
        Object.assign(s, { stage: null, code: null, reason: null, address: outcome.address });
        if (s.state !== 'ready') {
          Object.assign(s, { state: 'ready', up: true, changedAt: s.lastCheckAt });
          logReady(o.log, { target: s.target, attempts: s.attempts, elapsedMs: elapsed(), ready: outcome });
        }
        delay = o.intervalMs * (0.8 + 0.4 * random());
      }
      noteReadiness();
      await sleep(delay, run).catch(() => {});
    }
  };

  const runAll = async (): Promise<void> => {
    started = monotonicMs();
    const heartbeat = setInterval(() => {
      const pending = statuses
        .filter((s) => !s.up)
        .map((s) => ({ target: s.target, attempts: s.attempts, stage: s.stage, code: s.code, reason: s.reason ?? '' }));
      if (pending.length > 0) logWaiting(o.log, pending, statuses.length, elapsed(), null);
    }, o.heartbeatMs ?? 10_000);
    try {
      await Promise.all(
        checks.map((check, i) =>
          loop(check, statuses[i] as TargetStatus).catch((err: unknown) => {
            failed.abort(err);
            throw err;
          }),
        ),
      );
    } finally {
      clearInterval(heartbeat);
    }
  };

  return { statuses, metrics, ready, run: runAll };
}

/** The /readyz body: every target's latest state, redacted labels only. */
export function readinessReport(m: Monitor): { status: 'ready' | 'not_ready'; targets: unknown[] } {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    status: m.ready() ? 'ready' : 'not_ready',
    targets: m.statuses.map((s) => ({
      target: s.target,
      state: s.state,
      stage: s.stage,
      code: s.code,
      reason: s.reason,
      address: s.address,
      since: iso(s.changedAt),
      last_check: iso(s.lastCheckAt),
      attempts: s.attempts,
    })),
  };
}
