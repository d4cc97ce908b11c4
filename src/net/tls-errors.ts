/**
 * TLS failures, named by harbor-wait: the certificate check's verdicts (OpenSSL's verify codes, as Node
 * reports them), the server's alerts, a plain port, and TLS settings OpenSSL refused. Node's and OpenSSL's
 * own codes (`ERR_TLS_*`, `ERR_SSL_*`, `ERR_OSSL_*`, `EPROTO`) never reach the output: each becomes one of
 * the codes below, and OpenSSL's raw error strings (`error:0A000086:SSL routines::certificate verify
 * failed`) are turned into words. Used by classify() (classify.ts) and by the TLS findings of a diagnosis (tls-findings.ts).
 */
import { scrubText } from '../basics/redact.ts';

/** A TLS failure as harbor-wait prints it: always at stage `tls`. */
export interface TlsFailure {
  readonly code: string;
  readonly reason: string;
}

/** Where a CA or a client certificate is given, for hints: the flags, and a postgres:// URL's parameters. */
const CA_HINT = 'give it with --ca-file (sslrootcert= in a postgres:// URL)';
const CLIENT_CERT_HINT = '--cert-file and --key-file (sslcert= and sslkey= in a postgres:// URL)';

/**
 * The verify codes harbor-wait prints as they are (Node's names for OpenSSL's X509_V_ERR_*, documented in
 * the README); Node's others (CRL, decoding, UNSPECIFIED) are CERT_INVALID.
 */
export const VERIFY_CODES: ReadonlySet<string> = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
]);

/** Node's other verify codes (crypto_common.cc X509ErrorCode): folded into CERT_INVALID. */
const OTHER_VERIFY_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CRL_SIGNATURE_FAILURE',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'OUT_OF_MEM',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
  'UNSPECIFIED',
]);

/**
 * OpenSSL's error string in words: `C0...:error:0A000086:SSL routines:tls_post_process_server_certificate:
 * certificate verify failed:../deps/openssl/ssl/statem/statem_clnt.c:1889:` becomes `certificate verify
 * failed`; a trailing `SSL alert number 40` is kept in brackets. Text without that form is returned as it is.
 */
export function opensslWords(message: string): string {
  const m = /(?:[0-9A-Fa-f]+:)?error:[0-9A-Fa-f]{8}:[^:\n]*:[^:\n]*:([^:\n]*)(?::[^:\n]*\.c:\d+:)?([^\n]*)/.exec(message);
  if (!m) return message.split('\n', 1)[0]?.trim() ?? '';
  const reason = (m[1] ?? '').trim();
  const rest = (m[2] ?? '').replace(/^:+/, '').trim();
  return rest !== '' ? `${reason} (${rest})` : reason;
}

/** The words of an `ERR_SSL_*` code (`ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE` → `sslv3 alert bad certificate`). */
function sslCodeWords(code: string): string {
  return code.slice('ERR_SSL_'.length).toLowerCase().replace(/_/g, ' ');
}

/** The certificate's names as Node's host-name check quotes them, when it does. */
function altNames(message: string): string {
  const m = /cert's (?:altnames|list|CN): ?(.+)$/i.exec(message.split('\n', 1)[0] ?? '');
  const names = m?.[1]?.trim();
  return names ? ` (it lists ${scrubText(names.length > 200 ? `${names.slice(0, 200)}...` : names)})` : '';
}

/** A verify code's reason. */
function verifyReason(code: string, peer: string, message: string): string {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return `a certificate in the chain ${peer} sent has expired (its own, or a CA's): renew it; harbor-wait diagnose names which`;
    case 'CERT_NOT_YET_VALID':
      return `a certificate in the chain ${peer} sent is not valid yet: check the clocks (harbor-wait diagnose names which)`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `the certificate of ${peer} is self-signed, not signed by a trusted CA: ${CA_HINT}`;
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `the certificate of ${peer} is not signed by a trusted CA: the chain it sent ends at a self-signed CA that is not trusted here; ${CA_HINT}`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return `the certificate of ${peer} is not signed by a trusted CA: its issuer is neither trusted here nor sent by the server. If that issuer is an intermediate CA, the server must send its chain (its certificate, then the intermediates); if it is the root CA, ${CA_HINT}`;
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `the certificate of ${peer} is not signed by a trusted CA: the chain it sent leads to a CA that is neither trusted here nor sent. Give that root CA with --ca-file (sslrootcert= in a postgres:// URL); if an intermediate is missing from the chain, the server must send it`;
    case 'CERT_SIGNATURE_FAILURE':
      return `a signature in the chain ${peer} sent does not verify: a certificate was not issued by the CA it names (a mixed-up chain or CA file)`;
    case 'CERT_UNTRUSTED':
    case 'CERT_REJECTED':
      return `a CA in the chain of ${peer} is not trusted to issue server certificates`;
    case 'CERT_REVOKED':
      return `a certificate in the chain of ${peer} is revoked`;
    case 'INVALID_CA':
      return `a certificate in the chain of ${peer} is used as a CA but is not one (basicConstraints CA:FALSE, or no keyCertSign)`;
    case 'INVALID_PURPOSE':
      return `the certificate of ${peer} is not for TLS servers (its extended key usage)`;
    case 'HOSTNAME_MISMATCH':
      return `the certificate of ${peer} does not name that host${altNames(message)}: connect by a name the certificate lists`;
    default:
      return `the certificate chain of ${peer} did not verify: ${code.toLowerCase().replace(/_/g, ' ')}`;
  }
}

/** What a server's alert (or OpenSSL's word for a failed handshake) means, by the words of its reason. */
function handshakeFailure(words: string, peer: string): TlsFailure {
  const w = words.toLowerCase();
  if (/wrong version number|packet length too long|http request|https proxy request|unknown protocol|record layer failure/.test(w)) {
    return { code: 'NOT_TLS', reason: `${peer} did not answer the TLS handshake with TLS: is this a plain port? use redis://, http:// or sslmode=disable for it` };
  }
  if (/certificate required/.test(w)) {
    return { code: 'CLIENT_CERT_REQUIRED', reason: `${peer} requires a client certificate: give ${CLIENT_CERT_HINT}` };
  }
  const rejected = /alert (unknown ca|bad certificate|certificate expired|certificate revoked|certificate unknown|unsupported certificate|access denied)/.exec(w);
  if (rejected) {
    const why: Record<string, string> = {
      'unknown ca': 'it does not trust the CA that issued it',
      'bad certificate': 'it calls it bad',
      'certificate expired': 'it has expired',
      'certificate revoked': 'it is revoked',
      'certificate unknown': 'it cannot accept it',
      'unsupported certificate': 'its type is not supported',
      'access denied': 'access denied',
    };
    const given = `(${why[rejected[1] as string] ?? rejected[1]})`;
    return { code: 'CLIENT_CERT_REJECTED', reason: `${peer} refused the client certificate ${given}: check ${CLIENT_CERT_HINT}` };
  }
  if (/protocol version|unsupported protocol|no protocols available|version too low|tlsv1 alert protocol/.test(w)) {
    return { code: 'TLS_VERSION_MISMATCH', reason: `${peer} and harbor-wait have no TLS version in common: harbor-wait speaks TLS 1.2 and 1.3, as Harbor does` };
  }
  if (/handshake failure/.test(w)) {
    return {
      code: 'TLS_HANDSHAKE_FAILED',
      reason: `${peer} ended the TLS handshake (handshake failure): it shares no cipher suite or parameters with harbor-wait, or it requires a client certificate (${CLIENT_CERT_HINT})`,
    };
  }
  if (/unrecognized name/.test(w)) {
    return { code: 'TLS_HANDSHAKE_FAILED', reason: `${peer} does not serve the host name asked for (TLS SNI): connect by a name it serves` };
  }
  return { code: 'TLS_HANDSHAKE_FAILED', reason: `the TLS handshake with ${peer} failed: ${scrubText(words)}` };
}

/** True for OpenSSL's errors about the local certificate, key or CA files (createSecureContext). */
function settingsError(code: string, message: string): boolean {
  return /^ERR_OSSL_(PEM|X509|ASN1|EVP_BAD_DECRYPT|BAD_DECRYPT)/.test(code) || (code.startsWith('ERR_OSSL_') && /PEM routines|x509 certificate routines|DECODER routines|asn1|key values mismatch|bad decrypt/i.test(message));
}

/**
 * The TLS failure `code` (an error's code) and `message` mean, or undefined when it is not a TLS failure.
 * `peer` is `host:port`.
 */
export function tlsFailure(code: string, message: string, peer: string): TlsFailure | undefined {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') code = 'HOSTNAME_MISMATCH';
  if (VERIFY_CODES.has(code)) return { code, reason: verifyReason(code, peer, message) };
  if (OTHER_VERIFY_CODES.has(code)) return { code: 'CERT_INVALID', reason: verifyReason(code, peer, message) };
  if (code.startsWith('ERR_SSL_')) return handshakeFailure(sslCodeWords(code), peer);
  if (code === 'EPROTO' || (code.startsWith('ERR_TLS_') && code !== 'ERR_TLS_CERT_ALTNAME_INVALID')) return handshakeFailure(opensslWords(message), peer);
  if (settingsError(code, message)) {
    const words = /key values mismatch/i.test(message) ? 'the client key does not match the client certificate' : opensslWords(message);
    return { code: 'TLS_SETTINGS', reason: `the TLS files for ${peer} cannot be used (${scrubText(words)}): check --ca-file, --cert-file and --key-file (or sslrootcert, sslcert and sslkey)` };
  }
  return undefined;
}
