/**
 * `--log-format pretty`: each JSON line pino makes, turned into one line for a person by pino-pretty:
 *
 *   12:00:01.250 WARN: not ready: connection refused  target=redis://h:6379 stage=connect code=ECONNREFUSED
 *
 * Time of day (UTC, milliseconds), the level, the message, then the key fields the message does not already
 * hold. No colours: the reader is usually `kubectl logs`. pino-pretty is imported only when this format is
 * asked for, and only its prettyFactory is used: a plain function from one line to one line, so the write
 * stays synchronous (its stream, `build`, goes through Transform and pump).
 */
import type { MessageFormatFunc } from 'pino-pretty';
import { loaded } from '../basics/libraries.ts';

/** The fields worth showing on a line; the rest is in the JSON format. */
const FIELDS_SHOWN = ['target', 'stage', 'code'] as const;

/** The message, plus `  target=… stage=… code=…` for the fields present that the message does not name. */
const messageWithFields: MessageFormatFunc = (log, messageKey) => {
  const msg = String(log[messageKey] ?? '');
  const extras = FIELDS_SHOWN.filter((k) => log[k] !== undefined && !msg.includes(String(log[k])))
    .map((k) => `${k}=${String(log[k])}`)
    .join(' ');
  return extras ? `${msg}  ${extras}` : msg;
};

/** Loads pino-pretty and returns JSON line → pretty line (ending in `\n`); a line that is not JSON passes through. */
export async function createPrettifier(): Promise<(line: string) => string> {
  const { prettyFactory } = await import('pino-pretty');
  loaded('pino-pretty');
  return prettyFactory({
    colorize: false,
    translateTime: 'UTC:HH:MM:ss.l',
    // pino-pretty brackets the time by default: `[12:00:01.250]`.
    customPrettifiers: { time: (time) => String(time) },
    messageFormat: messageWithFields,
    // pino-pretty would print these as `(name/pid on hostname) <caller>`; a field of that name is data here.
    ignore: 'name,pid,hostname,caller',
    hideObject: true,
  });
}
