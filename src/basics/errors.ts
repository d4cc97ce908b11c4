/** The two expected kinds of failure, and the mapping from socket / TLS / Redis errors to them. */
import { CODES } from '../protocols/codes.ts';
import { scrubText } from './redact.ts';
import { tlsFailure } from '../net/tls-errors.ts';

/** Where an attempt stopped. Public: the `stage` field of `not_ready` log lines. */
export type Stage = 'dns' | 'connect' | 'tls' | 'auth' | 'response' | 'timeout';

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

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);

/** One sentence per well-known code; `peer` is `host:port`. */
function reasonFor(code: string, peer: string, message: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return `connection to ${peer} refused: nothing listens there yet`;
    case 'ECONNRESET':
      return `${peer} reset the connection`;
    case 'EPIPE':
      return `${peer} closed the connection while we were writing`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${peer}: check the network policy and the Service's endpoints`;
    case 'ETIMEDOUT':
      return `connecting to ${peer} timed out`;
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
      return `the name in ${peer} does not resolve: check the Service name and namespace`;
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return `the DNS lookup for ${peer} failed for now: the cluster DNS may not be ready`;
    default:
      return `${peer}: ${peerText(message)}`;
  }
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

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/**
 * Maps an error from a socket, TLS session or library to NotReady. `stage` is where the attempt was;
 * DNS and certificate codes move it to `dns` / `tls`. A NotReady passes through unchanged.
 */
export function classify(err: unknown, stage: Stage, peer: string): NotReady {
  if (err instanceof NotReady) return err;
  const message = err instanceof Error ? err.message : String(err);
  let code = errorCode(err) ?? 'UNKNOWN';
  // TLS failures get harbor-wait's code and words (tls-errors.ts): never OpenSSL's or Node's own.
  const tls = tlsFailure(code, message, peer);
  if (tls) return new NotReady('tls', tls.code, tls.reason, { cause: err });
  if (DNS_CODES.has(code)) stage = 'dns';
  if (code === 'UNKNOWN' && /closed/i.test(message)) code = 'CONNECTION_CLOSED';
  const reason =
    code === 'CONNECTION_CLOSED' ? `${peer} closed the connection before answering` : reasonFor(code, peer, message);
  return new NotReady(stage, documented(code, stage), reason, { cause: err });
}

/**
 * The code printed for a system's, Node's or a library's error code: itself when codes.ts documents it, else
 * the documented code that says what it is, so that no other code (`ERR_SOCKET_BAD_PORT`, `UND_ERR_SOCKET`,
 * `ERR_OSSL_...`) reaches the output.
 */
function documented(code: string, stage: Stage): string {
  if (Object.hasOwn(CODES, code)) return code;
  // TLS codes are tls-errors.ts's; what it does not take but happened during the handshake is still TLS.
  if (stage === 'tls') return 'TLS_HANDSHAKE_FAILED';
  return 'UNKNOWN';
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
