/**
 * The waiter: every check in parallel, each retried on its own with jittered exponential backoff, one
 * attempt timeout per attempt, one deadline for all. It knows retries and nothing about protocols.
 * p-retry runs the loop; the delays are ours (see backoff.ts), slept in onFailedAttempt so the jitter
 * survives at the cap.
 */
import pRetry, { AbortError } from 'p-retry';
import { sleep, timeoutController } from './abort.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import { formatDuration } from './duration.ts';
import { classify, isBug, NotReady, type Stage } from './errors.ts';
import type { Logger } from './log.ts';
import type { Check, Progress } from './targets/types.ts';

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

export type Outcome =
  | { readonly kind: 'ready' }
  | { readonly kind: 'not_ready' }
  | { readonly kind: 'deadline' }
  | { readonly kind: 'cancelled'; readonly reason: unknown };

interface State {
  readonly check: Check;
  attempts: number;
  ready: boolean;
  last: NotReady | undefined;
  /** `stage/code` of the last not_ready logged at info. */
  lastShown: string | undefined;
}

const DEADLINE = Symbol('deadline');
const ATTEMPT_TIMEOUT = Symbol('attempt timeout');

const DURING: Record<Stage, string> = {
  dns: 'the DNS lookup',
  connect: 'the TCP connect',
  tls: 'the TLS handshake (a plain port never answers one: use redis:// or http:// for it)',
  auth: 'authentication',
  response: 'the wait for an answer',
  timeout: 'the attempt',
};

function pendingOf(states: readonly State[]) {
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
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const remaining = () => (o.deadlineMs > 0 ? Math.max(0, o.deadlineMs - elapsed()) : null);
  const random = o.random ?? Math.random;
  const states: State[] = checks.map((check) => ({ check, attempts: 0, ready: false, last: undefined, lastShown: undefined }));

  const deadline = o.deadlineMs > 0 ? timeoutController(o.deadlineMs, () => DEADLINE) : undefined;
  const failed = new AbortController();
  const run = AbortSignal.any([o.signal, failed.signal, ...(deadline ? [deadline.signal] : [])]);

  const heartbeat = setInterval(() => {
    const pending = pendingOf(states);
    const left = remaining();
    o.log.log(
      'info',
      'waiting',
      { pending, elapsed_ms: elapsed(), remaining_ms: left },
      `waiting for ${pending.length} of ${states.length} targets (${formatDuration(elapsed())} elapsed${
        left === null ? '' : `, ${formatDuration(left)} left`
      }): ${pending.map((p) => `${p.target} [${p.code ?? 'no answer yet'}]`).join(', ')}`,
    );
  }, o.heartbeatMs ?? 10_000);

  const attemptOnce = async (state: State): Promise<string> => {
    const progress: Progress = { stage: 'connect' };
    const timeout = timeoutController(o.attemptTimeoutMs, () => ATTEMPT_TIMEOUT);
    const signal = AbortSignal.any([run, timeout.signal]);
    try {
      return (await state.check.attempt(signal, progress)).address;
    } catch (err) {
      if (run.aborted) throw run.reason;
      if (timeout.signal.aborted) {
        throw new NotReady(
          'timeout',
          `${progress.stage.toUpperCase()}_TIMEOUT`,
          `no answer within the ${formatDuration(o.attemptTimeoutMs)} attempt timeout, during ${DURING[progress.stage]}`,
        );
      }
      if (isBug(err)) throw new AbortError(err as Error);
      throw classify(err, progress.stage, state.check.target);
    } finally {
      timeout.clear();
    }
  };

  const onFailure = async (state: State, error: NotReady, attempt: number): Promise<void> => {
    state.last = error;
    const delay = o.once ? null : backoffDelay(o.backoff, attempt, random);
    const key = `${error.stage}/${error.code}`;
    const level = key === state.lastShown ? 'debug' : 'info';
    state.lastShown = key;
    o.log.log(
      level,
      'not_ready',
      {
        target: state.check.target,
        attempt,
        stage: error.stage,
        code: error.code,
        reason: error.reason,
        elapsed_ms: elapsed(),
        retry_in_ms: delay,
      },
      `${state.check.target} not ready (${error.stage}, ${error.code}): ${error.reason}${
        delay === null ? '' : `; attempt ${attempt}, next in ${formatDuration(delay)}`
      }`,
    );
    if (delay !== null) await sleep(delay, run);
  };

  const waitOne = async (state: State): Promise<void> => {
    try {
      const address = await pRetry(
        (attempt) => {
          state.attempts = attempt;
          return attemptOnce(state);
        },
        {
          retries: o.once ? 0 : Number.POSITIVE_INFINITY,
          minTimeout: 0,
          maxTimeout: 0,
          factor: 1,
          signal: run,
          onFailedAttempt: ({ error, attemptNumber }) => onFailure(state, error as NotReady, attemptNumber),
          shouldRetry: () => true,
        },
      );
      state.ready = true;
      o.log.log(
        'info',
        'ready',
        { target: state.check.target, attempts: state.attempts, elapsed_ms: elapsed(), address },
        `${state.check.target} is ready at ${address} (attempt ${state.attempts}, ${formatDuration(elapsed())})`,
      );
    } catch (err) {
      if (run.aborted || err instanceof NotReady) return;
      failed.abort(err);
      throw err;
    }
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
    const name = (reason as { signal?: string } | null)?.signal ?? 'cancel';
    o.log.log('warn', 'cancelled', { signal: name, elapsed_ms: elapsed(), pending }, `stopped by ${name} after ${formatDuration(elapsed())}; not ready: ${summary}`);
    return { kind: 'cancelled', reason };
  }
  if (deadline?.signal.aborted) {
    o.log.log(
      'error',
      'deadline',
      { deadline_ms: o.deadlineMs, elapsed_ms: elapsed(), pending },
      `gave up after the ${formatDuration(o.deadlineMs)} deadline; not ready: ${summary}`,
    );
    return { kind: 'deadline' };
  }
  o.log.log('error', 'failed', { elapsed_ms: elapsed(), pending }, `not ready after one attempt: ${summary}`);
  return { kind: 'not_ready' };
}
