/**
 * How a failed step is named: an error from a socket, a TLS session or a library becomes NotReady with a
 * documented code (basics/single-codes.ts), the stage it happened at, and a sentence for a person; a timeout
 * names the stage it cut short. The waiter, the sidecar's monitor and every diagnosis step name failures here,
 * so that each says the same thing the same way.
 */
import { CODES } from '../basics/single-codes.ts';
import { errorCode, NotReady, peerText, type Stage } from '../basics/errors.ts';
import { tlsFailure } from './tls-errors.ts';

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

const DURING: Record<Stage, string> = {
  dns: 'the DNS lookup',
  connect: 'the TCP connect',
  tls: 'the TLS handshake (a plain port never answers one: use redis:// or http:// for it, or sslmode=disable)',
  auth: 'authentication',
  response: 'the wait for an answer',
  timeout: 'the attempt',
};

/** An attempt cut short by `limit` (e.g. "the 5s attempt timeout") while it was at `stage`. */
export function stageTimeout(stage: Stage, limit: string): NotReady {
  return new NotReady('timeout', `${stage.toUpperCase()}_TIMEOUT`, `no answer within ${limit}, during ${DURING[stage]}`);
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
 * The code printed for a system's, Node's or a library's error code: itself when basics/single-codes.ts documents it, else
 * the documented code that says what it is, so that no other code (`ERR_SOCKET_BAD_PORT`, `UND_ERR_SOCKET`,
 * `ERR_OSSL_...`) reaches the output.
 */
function documented(code: string, stage: Stage): string {
  if (Object.hasOwn(CODES, code)) return code;
  // TLS codes are tls-errors.ts's; what it does not take but happened during the handshake is still TLS.
  if (stage === 'tls') return 'TLS_HANDSHAKE_FAILED';
  return 'UNKNOWN';
}

