/**
 * The two expected kinds of failure (a dependency not ready yet, bad input), the stages an attempt goes
 * through, and the rules for text that goes into a reason. Naming a socket's, TLS session's or library's
 * error as NotReady is net/classify.ts's.
 */
import { scrubText } from './redact.ts';

/** Where an attempt stopped. Public: the `stage` field of `not_ready` log lines. */
export type Stage = 'dns' | 'connect' | 'tls' | 'auth' | 'response' | 'timeout';

/** How far an attempt got; a check moves it forward, the waiter reads it when the attempt times out. */
export interface Progress {
  stage: Stage;
}

/** A dependency is not ready yet: retried. `code` is stable and machine-readable; `reason` is for a person. */
export class NotReady extends Error {
  override readonly name = 'NotReady';
  readonly stage: Stage;
  readonly code: string;
  readonly reason: string;
  /** PostgreSQL's SQLSTATE, when the server answered with an error (`28P01`); a field of the log line of its own. */
  readonly sqlstate: string | undefined;
  constructor(stage: Stage, code: string, reason: string, options?: { cause?: unknown; sqlstate?: string }) {
    super(reason, options);
    this.stage = stage;
    this.code = code;
    this.reason = reason;
    this.sqlstate = options?.sqlstate;
  }
}

/** Bad input (flag, env var, URL, file): never retried, exit 2. The message names the input and never holds a secret. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The flag, environment variable or target the problem is in, e.g. `--deadline` or `WAIT_DEADLINE`. */
  readonly input: string;
  constructor(input: string, problem: string) {
    super(`${input}: ${problem}`);
    this.input = input;
  }
}

/** The first bytes a peer sent, printable ASCII only and scrubbed, to say in a reason what it speaks instead. */
export function preview(buf: Buffer): string {
  // Scrubbed before it is cut, so that no part of a secret straddling the cut is left.
  return scrubText(buf.subarray(0, 256).toString('latin1')).replace(/[^\x20-\x7e]/g, '.').slice(0, 24);
}

/**
 * Text from outside (a server's error, a library's message) made fit for a reason: its first line, at most
 * 200 characters, with every known secret masked (redact.ts). Never for text harbor-wait composed itself.
 */
export function peerText(message: string): string {
  return firstLine(scrubText(message));
}

/** The first line of a message, at most 200 characters. */
export function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** A string `code` an error carries (a system's, Node's or a library's), or undefined. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/**
 * True for errors that mean a bug in this program rather than a dependency that is not ready: JavaScript's
 * own, and a library refusing an argument harbor-wait gave it (undici's UND_ERR_INVALID_ARG).
 */
export function isBug(err: unknown): boolean {
  return (
    err instanceof TypeError ||
    err instanceof ReferenceError ||
    err instanceof RangeError ||
    err instanceof SyntaxError ||
    errorCode(err) === 'UND_ERR_INVALID_ARG'
  );
}
