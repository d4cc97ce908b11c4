/**
 * Logging: one JSON object per line, written synchronously (nothing is lost at exit), in pino's field
 * order (level, time, the event's fields, msg) so that log tooling reads it alike. Written by hand: pino
 * cost more start-up time than the rest of the program, for a dozen lines of formatting. Every line passes
 * through one scrubber that replaces each known secret by `***` before it is written; targets are redacted
 * when parsed, so the scrubber is the second line of defence, not the first.
 */
import type { LogFormat, LogLevel } from './config.ts';

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
  | 'stopped';

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

const FIELDS_SHOWN_PRETTY = ['target', 'stage', 'code'];

/** One line for a person: `12:00:01.250 INFO  msg`, plus the key fields when the message lacks them. */
export function prettyLine(json: string): string {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof obj.time === 'string' ? obj.time.slice(11, 23) : '';
  const level = String(obj.level ?? '').toUpperCase().padEnd(5);
  const msg = String(obj.msg ?? '');
  const extras = FIELDS_SHOWN_PRETTY.filter((k) => obj[k] !== undefined && !msg.includes(String(obj[k])))
    .map((k) => `${k}=${String(obj[k])}`)
    .join(' ');
  return `${time} ${level} ${msg}${extras ? `  ${extras}` : ''}\n`;
}

const RANK: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

/** A logger writing through `write` (one call per line), scrubbing `secrets`. */
export function createLogger(
  options: { level: LogLevel; format: LogFormat; secrets: readonly string[] },
  write: (line: string) => void,
): Logger {
  const scrub = makeScrubber(options.secrets);
  const threshold = RANK[options.level];
  return {
    log(level, event, fields, msg) {
      if (RANK[level] < threshold) return;
      const line = scrub(`${JSON.stringify({ level, time: new Date().toISOString(), event, ...fields, msg })}\n`);
      write(options.format === 'pretty' ? prettyLine(line) : line);
    },
  };
}
