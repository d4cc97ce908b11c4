/**
 * The single codes harbor-wait can print, each with the stage it is reported at and what it means: the
 * system's and TLS's for a connection, each protocol's own, and `UNKNOWN`. Plain data, so that the lowest
 * layer can tell a documented code from a library's own (net/classify.ts); src/protocols/codes.ts adds the
 * four families and is the one list the docs and /metrics are held to.
 */
export interface CodeInfo {
  /** The stage it is reported at, or `any`. */
  readonly stage: string;
  readonly meaning: string;
}

/** The single codes, by kind. */
export const CODES = {
  // The system's, for a connection.
  ENOTFOUND: { stage: 'dns', meaning: 'the name does not resolve' },
  EAI_NONAME: { stage: 'dns', meaning: 'the name does not resolve' },
  EAI_NODATA: { stage: 'dns', meaning: 'the name has no address' },
  EAI_AGAIN: { stage: 'dns', meaning: 'the DNS lookup failed for now' },
  EAI_FAIL: { stage: 'dns', meaning: 'the DNS lookup failed' },
  ECONNREFUSED: { stage: 'connect', meaning: 'nothing listens at the address' },
  ECONNRESET: { stage: 'any', meaning: 'the peer reset the connection' },
  ECONNABORTED: { stage: 'any', meaning: 'the connection was aborted' },
  EPIPE: { stage: 'any', meaning: 'the peer closed the connection while harbor-wait was writing' },
  ETIMEDOUT: { stage: 'connect', meaning: 'the system gave up connecting' },
  EHOSTUNREACH: { stage: 'connect', meaning: 'no route to the host' },
  ENETUNREACH: { stage: 'connect', meaning: 'no route to the network' },
  EHOSTDOWN: { stage: 'connect', meaning: 'the host is down' },
  ENETDOWN: { stage: 'connect', meaning: 'the network is down' },
  EADDRNOTAVAIL: { stage: 'connect', meaning: 'the address cannot be used from here' },
  EAFNOSUPPORT: { stage: 'connect', meaning: 'the address family (IPv6, say) is not available in this pod' },
  CONNECTION_CLOSED: { stage: 'any', meaning: 'the peer closed the connection before answering' },
  // TLS (tls-errors.ts): the certificate check's verdicts, and the handshake's other failures.
  CERT_HAS_EXPIRED: { stage: 'tls', meaning: 'a certificate of the chain has expired' },
  CERT_NOT_YET_VALID: { stage: 'tls', meaning: 'a certificate of the chain is not valid yet (check the clocks)' },
  DEPTH_ZERO_SELF_SIGNED_CERT: { stage: 'tls', meaning: 'the certificate is self-signed and not trusted' },
  SELF_SIGNED_CERT_IN_CHAIN: { stage: 'tls', meaning: 'the chain ends in a CA that is not trusted' },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { stage: 'tls', meaning: 'the issuer of the certificate is not trusted, or the server does not send its intermediate' },
  UNABLE_TO_GET_ISSUER_CERT: { stage: 'tls', meaning: 'an issuer of the chain is missing' },
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: { stage: 'tls', meaning: 'the issuer is not among the trusted CAs' },
  CERT_SIGNATURE_FAILURE: { stage: 'tls', meaning: 'a signature of the chain is wrong' },
  CERT_UNTRUSTED: { stage: 'tls', meaning: 'the certificate is not trusted for this use' },
  CERT_REJECTED: { stage: 'tls', meaning: 'the certificate is rejected for this use' },
  CERT_REVOKED: { stage: 'tls', meaning: 'the certificate is revoked' },
  INVALID_CA: { stage: 'tls', meaning: 'a CA of the chain is not a valid CA' },
  INVALID_PURPOSE: { stage: 'tls', meaning: 'the certificate may not be used for a TLS server' },
  HOSTNAME_MISMATCH: { stage: 'tls', meaning: 'the certificate does not name the host connected to; the reason lists the names it does' },
  CERT_INVALID: { stage: 'tls', meaning: 'another fault of the certificate (CRL, decoding, a chain too long); the reason says which' },
  NOT_TLS: { stage: 'tls', meaning: 'the peer did not answer the handshake with TLS (a plain port?)' },
  CLIENT_CERT_REQUIRED: { stage: 'tls', meaning: 'the server demands a client certificate (--cert-file, --key-file)' },
  CLIENT_CERT_REJECTED: { stage: 'tls', meaning: 'the server refused the client certificate; the reason says why' },
  TLS_VERSION_MISMATCH: { stage: 'tls', meaning: 'no TLS version in common (harbor-wait speaks TLS 1.2 and 1.3)' },
  TLS_HANDSHAKE_FAILED: { stage: 'tls', meaning: 'the handshake failed otherwise; the reason says how, in words' },
  TLS_SETTINGS: { stage: 'tls', meaning: 'OpenSSL refused the local TLS files during an attempt' },
  // Answers that are not what was asked for.
  UNEXPECTED_REPLY: { stage: 'response', meaning: 'the peer answered in its protocol, but not as a ready server does; the reason quotes it' },
  REPLY_TOO_LARGE: { stage: 'any', meaning: 'the peer sent more than 1 MiB without finishing a reply' },
  // Redis.
  NOT_REDIS: { stage: 'any', meaning: 'the peer answered with something that is not a Redis reply' },
  NOT_MASTER: { stage: 'response', meaning: 'the server is a replica: Harbor\'s first write would fail with READONLY' },
  UNKNOWN_MASTER: { stage: 'response', meaning: 'no sentinel knows the master\'s name' },
  // HTTP.
  NOT_HTTP: { stage: 'response', meaning: 'the peer answered with something that is not HTTP/1.x' },
  HEAD_TOO_LARGE: { stage: 'response', meaning: 'the response head (or 64 KiB of interim 1xx heads) did not end within its limit' },
  UNSOLICITED_UPGRADE: { stage: 'response', meaning: 'a 101 Switching Protocols to a GET that asked for no upgrade: a protocol violation' },
  BAD_RESPONSE: { stage: 'connect or response', meaning: 'the HTTP response broke the protocol otherwise; the reason says how' },
  // PostgreSQL (besides the condition names).
  NOT_POSTGRES: { stage: 'any', meaning: 'the peer answered with something that is not PostgreSQL' },
  SSL_REFUSED: { stage: 'tls', meaning: 'the server refused SSL, and the sslmode requires it' },
  PASSWORD_REQUIRED: { stage: 'auth', meaning: 'the server asks for a password and none is given' },
  READ_ONLY: { stage: 'response', meaning: 'the server does not take writes' },
  NOT_READ_ONLY: { stage: 'response', meaning: 'target_session_attrs=read-only, and the server takes writes' },
  NOT_PRIMARY: { stage: 'response', meaning: 'target_session_attrs=primary, and the server is a standby' },
  NOT_STANDBY: { stage: 'response', meaning: 'target_session_attrs=standby, and the server is a primary' },
  DIRTY_SCHEMA: { stage: 'response', meaning: 'golang-migrate left the schema dirty, or is migrating now' },
  NO_CREATE_ON_SCHEMA: { stage: 'response', meaning: 'before the first migration: the user may not create tables in the schema core migrates into' },
  NO_SCHEMA: { stage: 'response', meaning: 'before the first migration: no schema of the search path exists that the user may use' },
  SQLSTATE_UNKNOWN: { stage: 'response (auth for class 28)', meaning: 'the server sent a SQLSTATE of no known class, or a malformed one; the `sqlstate` field holds a well-formed one' },
  // Anything else.
  UNKNOWN: { stage: 'any', meaning: 'an error harbor-wait has no name for; the reason says what it was' },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;
