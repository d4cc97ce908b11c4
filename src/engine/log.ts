/**
 * Logging through pino: one JSON object per line, in pino's field order (level, time, the event's fields,
 * msg), with the level as a word and the time in ISO 8601. Written synchronously (nothing is lost at exit):
 * pino's destination is a plain object whose write() calls the writer it is given, so no sonic-boom, no
 * transport, no worker thread. Lines are never searched for secrets once composed (that would damage keys,
 * JSON syntax, hosts and numbers when a secret is short or common): targets are redacted when parsed, and text
 * from outside is scrubbed where it enters a reason (redact.ts). `--log-format pretty` hands the JSON to
 * pino-pretty (log-pretty.ts, loaded only then).
 */
import pino from 'pino';
import { createPrettifier } from './log-pretty.ts';

/** The levels, lowest first: `--log-level` / `WAIT_LOG_LEVEL`. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** `--log-format` / `WAIT_LOG_FORMAT`: one JSON object per line, or pino-pretty's lines for a person. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The events a log line can carry. Public: people and tools filter on `event`. */
export type LogEvent =
  | 'start'
  | 'warning'
  | 'not_ready'
  | 'waiting'
  | 'ready'
  | 'done'
  | 'deadline'
  | 'cancelled'
  | 'failed'
  | 'config_error'
  | 'serving'
  | 'readiness'
  | 'stopped'
  | 'termination_log';

export interface Logger {
  log(level: LogLevel, event: LogEvent, fields: Record<string, unknown>, msg: string): void;
}

/**
 * A logger writing through `write` (one call per line). Async only because the pretty
 * format imports pino-pretty on demand; the JSON format loads nothing more.
 */
export async function createLogger(
  options: { level: LogLevel; format: LogFormat },
  write: (line: string) => void,
): Promise<Logger> {
  const pretty = options.format === 'pretty' ? await createPrettifier() : null;
  const destination = {
    write(line: string): void {
      write(pretty ? pretty(line) : line);
    },
  };
  const logger = pino(
    {
      level: options.level,
      base: null, // no pid, no hostname
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // pino would write an `err` field as {type, message, stack}; keep it as JSON.stringify writes it.
      serializers: { err: (value: unknown) => value },
    },
    destination,
  );
  return {
    log(level, event, fields, msg) {
      logger[level]({ event, ...fields }, msg);
    },
  };
}
