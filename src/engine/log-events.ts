/** The log lines the waiter (waiter.ts) and the sidecar's monitor (monitor.ts) both write, worded once. */
import { formatDuration } from '../basics/duration.ts';
import type { NotReady, Stage } from '../basics/errors.ts';
import type { Logger } from './log.ts';
import type { Ready } from '../protocols/types.ts';

/** The signal named by a cancellation's reason (commands/io.ts's Shutdown), for `cancelled` and `stopped` lines. */
export function signalName(reason: unknown): string {
  const signal = (reason as { signal?: unknown } | null)?.signal;
  return typeof signal === 'string' ? signal : 'cancel';
}

/** A target that is not ready, as `waiting`, `deadline` and `cancelled` lines list it. */
export interface Pending {
  readonly target: string;
  readonly attempts: number;
  readonly stage: Stage | null;
  readonly code: string | null;
  readonly reason: string;
}

export function logNotReady(
  log: Logger,
  level: 'debug' | 'info',
  f: { target: string; attempt: number; error: NotReady; elapsedMs: number; retryInMs: number | null },
): void {
  const { error } = f;
  log.log(
    level,
    'not_ready',
    {
      target: f.target,
      attempt: f.attempt,
      stage: error.stage,
      code: error.code,
      ...(error.sqlstate !== undefined ? { sqlstate: error.sqlstate } : {}),
      reason: error.reason,
      elapsed_ms: f.elapsedMs,
      retry_in_ms: f.retryInMs,
    },
    `${f.target} not ready (${error.stage}, ${error.code}): ${error.reason}${
      f.retryInMs === null ? '' : `; attempt ${f.attempt}, next in ${formatDuration(f.retryInMs)}`
    }`,
  );
}

export function logReady(log: Logger, f: { target: string; attempts: number; elapsedMs: number; ready: Ready }): void {
  const { address, server, warning } = f.ready;
  const about = server ? `PostgreSQL ${server.version}, ${server.primary ? 'primary' : 'standby'}; ` : '';
  log.log(
    'info',
    'ready',
    {
      target: f.target,
      attempts: f.attempts,
      elapsed_ms: f.elapsedMs,
      address,
      ...(server ? { server_version: server.version, primary: server.primary } : {}),
      ...(warning !== undefined ? { warning } : {}),
    },
    `${f.target} is ready at ${address} (${about}attempt ${f.attempts}, ${formatDuration(f.elapsedMs)})${warning !== undefined ? `; but ${warning}` : ''}`,
  );
}

/** The summary logged every 10 s while anything is pending. */
export function logWaiting(log: Logger, pending: readonly Pending[], total: number, elapsedMs: number, remainingMs: number | null): void {
  log.log(
    'info',
    'waiting',
    { pending, elapsed_ms: elapsedMs, remaining_ms: remainingMs },
    `waiting for ${pending.length} of ${total} targets (${formatDuration(elapsedMs)} elapsed${
      remainingMs === null ? '' : `, ${formatDuration(remainingMs)} left`
    }): ${pending.map((p) => `${p.target} [${p.code ?? 'no answer yet'}]`).join(', ')}`,
  );
}
