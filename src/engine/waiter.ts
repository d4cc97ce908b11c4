/**
 * The waiter: every check in parallel, each retried on its own with jittered exponential backoff, one
 * attempt timeout per attempt, one deadline for all. It knows retries and nothing about protocols.
 * Each target's loop is p-retry's, with its signal carrying the deadline and SIGTERM/SIGINT. The delays
 * are harbor-wait's own (backoff.ts: jitter after the cap, so waiters at the cap stay spread out), slept
 * in p-retry's onFailedAttempt; p-retry's own timeouts are 0, its randomize off.
 */
import pRetry from 'p-retry';
import { monotonicMs } from '../basics/builtin.ts';
import { sleep, timeoutController } from '../basics/abort.ts';
import { attemptOnce } from './attempt.ts';
import { backoffDelay, type BackoffPolicy } from '../basics/backoff.ts';
import { formatDuration } from '../basics/duration.ts';
import { NotReady } from '../basics/errors.ts';
import { logNotReady, logReady, logWaiting, signalName, type Pending } from './log-events.ts';
import type { Logger } from './log.ts';
import type { Check, Ready } from '../protocols/types.ts';

export interface WaitOptions {
  /** 0 waits forever. */
  readonly deadlineMs: number;
  readonly attemptTimeoutMs: number;
  readonly backoff: BackoffPolicy;
  /** One attempt per target, no retries. */
  readonly once: boolean;
  /** Aborted on SIGTERM / SIGINT; its reason is handed back in the outcome. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** For tests: the jitter's random source. */
  readonly random?: () => number;
  /** How often `waiting` is logged while anything is pending. */
  readonly heartbeatMs?: number;
}

/** Why the wait ended without every target ready, in a sentence, and what was still pending. */
export interface Unfinished {
  readonly head: string;
  readonly pending: readonly Pending[];
}

export type Outcome =
  | { readonly kind: 'ready' }
  | ({ readonly kind: 'not_ready' } & Unfinished)
  | ({ readonly kind: 'deadline' } & Unfinished)
  | ({ readonly kind: 'cancelled'; readonly reason: unknown } & Unfinished);

interface State {
  readonly check: Check;
  attempts: number;
  ready: boolean;
  last: NotReady | undefined;
  /** `stage/code` of the last not_ready logged at info. */
  lastShown: string | undefined;
}

const DEADLINE = Symbol('deadline');

function pendingOf(states: readonly State[]): Pending[] {
  return states
    .filter((s) => !s.ready)
    .map((s) => ({
      target: s.check.target,
      attempts: s.attempts,
      stage: s.last?.stage ?? null,
      code: s.last?.code ?? null,
      reason: s.last?.reason ?? 'no attempt has finished yet',
    }));
}

export async function waitAll(checks: readonly Check[], o: WaitOptions): Promise<Outcome> {
  const started = monotonicMs();
  const elapsed = () => Math.round(monotonicMs() - started);
  const remaining = () => (o.deadlineMs > 0 ? Math.max(0, o.deadlineMs - elapsed()) : null);
  const random = o.random ?? Math.random;
  const states: State[] = checks.map((check) => ({ check, attempts: 0, ready: false, last: undefined, lastShown: undefined }));

  const deadline = o.deadlineMs > 0 ? timeoutController(o.deadlineMs, () => DEADLINE) : undefined;
  const failed = new AbortController();
  const run = AbortSignal.any([o.signal, failed.signal, ...(deadline ? [deadline.signal] : [])]);

  const heartbeat = setInterval(() => logWaiting(o.log, pendingOf(states), states.length, elapsed(), remaining()), o.heartbeatMs ?? 10_000);

  /** Logs the failure and sleeps the backoff delay, unless no attempt follows. */
  const onFailure = async (state: State, error: NotReady, attempt: number): Promise<void> => {
    state.last = error;
    const delay = o.once ? null : backoffDelay(o.backoff, attempt, random);
    const key = `${error.stage}/${error.code}`;
    const level = key === state.lastShown ? 'debug' : 'info';
    state.lastShown = key;
    logNotReady(o.log, level, { target: state.check.target, attempt, error, elapsedMs: elapsed(), retryInMs: delay });
    if (delay !== null) await sleep(delay, run).catch(() => {}); // an abort ends the sleep; p-retry sees the signal
  };

  const waitOne = async (state: State): Promise<void> => {
    let ready: Ready;
    try {
      ready = await pRetry(
        (attempt) => {
          state.attempts = attempt;
          return attemptOnce(state.check, run, o.attemptTimeoutMs);
        },
        {
          retries: o.once ? 0 : Number.POSITIVE_INFINITY,
          signal: run,
          minTimeout: 0,
          maxTimeout: 0,
          randomize: false,
          onFailedAttempt: async ({ error, attemptNumber }) => {
            if (!(error instanceof NotReady)) throw error; // a bug: no retry
            await onFailure(state, error, attemptNumber);
          },
        },
      );
    } catch (err) {
      if (run.aborted || err instanceof NotReady) return; // stopped, or --once and not ready
      failed.abort(err); // a bug: stop the other targets too
      throw err;
    }
    state.ready = true;
    logReady(o.log, { target: state.check.target, attempts: state.attempts, elapsedMs: elapsed(), ready });
  };

  try {
    const results = await Promise.allSettled(states.map(waitOne));
    const bug = results.find((r) => r.status === 'rejected');
    if (bug) throw bug.reason;
  } finally {
    clearInterval(heartbeat);
    deadline?.clear();
  }

  const pending = pendingOf(states);
  if (pending.length === 0) {
    o.log.log('info', 'done', { targets: states.length, elapsed_ms: elapsed() }, `${states.length === 1 ? 'the target is' : `all ${states.length} targets are`} ready after ${formatDuration(elapsed())}`);
    return { kind: 'ready' };
  }
  const summary = pending.map((p) => `${p.target} (${p.stage ?? '-'}, ${p.code ?? '-'}): ${p.reason}`).join('; ');
  if (o.signal.aborted) {
    const reason: unknown = o.signal.reason;
    const name = signalName(reason);
    const head = `stopped by ${name} after ${formatDuration(elapsed())}`;
    o.log.log('warn', 'cancelled', { signal: name, elapsed_ms: elapsed(), pending }, `${head}; not ready: ${summary}`);
    return { kind: 'cancelled', reason, head, pending };
  }
  if (deadline?.signal.aborted) {
    const head = `gave up after the ${formatDuration(o.deadlineMs)} deadline`;
    o.log.log('error', 'deadline', { deadline_ms: o.deadlineMs, elapsed_ms: elapsed(), pending }, `${head}; not ready: ${summary}`);
    return { kind: 'deadline', head, pending };
  }
  const head = 'not ready after one attempt';
  o.log.log('error', 'failed', { elapsed_ms: elapsed(), pending }, `${head}: ${summary}`);
  return { kind: 'not_ready', head, pending };
}
