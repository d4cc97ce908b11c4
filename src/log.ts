/**
 * Logging through pino: one JSON object per line, in pino's field order (level, time, the event's fields,
 * msg), with the level as a word and the time in ISO 8601. Written synchronously (nothing is lost at exit):
 * pino's destination is a plain object whose write() calls the writer it is given, so no sonic-boom, no
 * transport, no worker thread. Every line passes through one scrubber that replaces each known secret by
 * `***`, the last step before it is written; targets are redacted when parsed, so the scrubber is the
 * second line of defence, not the first. `--log-format pretty` hands the scrubbed JSON to pino-pretty
 * (src/pretty.ts, loaded only then) and scrubs its text again.
 */
import pino from 'pino';
import type { LogFormat, LogLevel } from './config.ts';
import { createPrettifier } from './pretty.ts';

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

/** Replaces every secret (raw, and as it would appear inside a JSON string) by `***`. */
export function makeScrubber(secrets: readonly string[]): (text: string) => string {
  const needles = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))]
    .filter((s) => s !== '')
    .sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const needle of needles) if (out.includes(needle)) out = out.split(needle).join('***');
    return out;
  };
}

/**
 * A logger writing through `write` (one call per line), scrubbing `secrets`. Async only because the pretty
 * format imports pino-pretty on demand; the JSON format loads nothing more.
 */
export async function createLogger(
  options: { level: LogLevel; format: LogFormat; secrets: readonly string[] },
  write: (line: string) => void,
): Promise<Logger> {
  const scrub = makeScrubber(options.secrets);
  const pretty = options.format === 'pretty' ? await createPrettifier() : null;
  const destination = {
    write(line: string): void {
      const json = scrub(line);
      // Scrubbed twice when pretty: pino-pretty unescapes strings and joins fields into one text.
      write(pretty ? scrub(pretty(json)) : json);
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
