/**
 * TLS failures get harbor-wait's codes and words, never Node's or OpenSSL's own (`ERR_SSL_*`, `ERR_TLS_*`,
 * `ERR_OSSL_*`, `EPROTO`, `error:0A000086:...`): real TLS servers on loopback that demand a client
 * certificate, refuse one, or speak only old TLS versions, through the built entry (https and rediss);
 * and the mapping itself, for every code of those families.
 */
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { CODES } from '../src/protocols/codes.ts';
import { opensslWords, tlsFailure } from '../src/net/tls-errors.ts';
import { makeCerts, makeUntrustedCerts, type Certs } from './helpers/certs.ts';
import { runCli, type CliResult } from './helpers/cli.ts';
import { startRedis } from './helpers/redis.ts';
import { classify } from '../src/net/classify.ts';

const QUICK = ['--deadline', '2s', '--attempt-timeout', '1s', '--log-level', 'debug', '--once'];

/** A TLS server on 127.0.0.1 answering each request with a 200, with `options` for its TLS. */
async function tlsHttp(options: tls.TlsOptions): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(options, (socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
  });
  server.on('tlsClientError', () => {});
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function failure(r: CliResult): { stage: string; code: string; reason: string } {
  const p = (r.events('failed')[0]?.pending ?? []) as Array<{ stage: string; code: string; reason: string }>;
  expect(p, r.stdout).toHaveLength(1);
  return p[0] as { stage: string; code: string; reason: string };
}

/** No code of Node's or OpenSSL's own, and none of OpenSSL's raw error strings, anywhere. */
function expectOwnCodes(r: CliResult): void {
  expect(r.stdout).not.toMatch(/ERR_SSL|ERR_TLS|ERR_OSSL|EPROTO|error:[0-9A-F]{8}|UND_ERR/);
}

describe.concurrent('TLS servers that refuse, through the entry', () => {
  let certs: Certs;
  let other: Certs;
  const closers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    [certs, other] = await Promise.all([makeCerts(), makeUntrustedCerts()]);
  });
  afterAll(async () => {
    await Promise.all(closers.map((c) => c()));
  });
  const serve = async (options: tls.TlsOptions) => {
    const s = await tlsHttp({ cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey), ...options });
    closers.push(s.close);
    return s.port;
  };

  it('a client certificate demanded (TLS 1.3) and none given: CLIENT_CERT_REQUIRED, naming --cert-file', async () => {
    const port = await serve({ requestCert: true, rejectUnauthorized: true, ca: readFileSync(certs.caCert), minVersion: 'TLSv1.3' });
    const r = await runCli([...QUICK, '--ca-file', certs.caCert, `https://localhost:${port}/`]);
    expect(r.code).toBe(ExitCode.Failure);
    const f = failure(r);
    expect(f).toMatchObject({ stage: 'tls', code: 'CLIENT_CERT_REQUIRED' });
    expect(f.reason).toContain('--cert-file and --key-file');
    expectOwnCodes(r);
  });

  it('a client certificate demanded over TLS 1.2 (a bare handshake failure): TLS_HANDSHAKE_FAILED, naming the client certificate', async () => {
    const port = await serve({ requestCert: true, rejectUnauthorized: true, ca: readFileSync(certs.caCert), maxVersion: 'TLSv1.2' });
    const r = await runCli([...QUICK, '--ca-file', certs.caCert, `https://localhost:${port}/`]);
    const f = failure(r);
    expect(f).toMatchObject({ stage: 'tls', code: 'TLS_HANDSHAKE_FAILED' });
    expect(f.reason).toMatch(/handshake failure.*client certificate/);
    expectOwnCodes(r);
  });

  it('the client certificate, trusted by the server: ready', async () => {
    const port = await serve({ requestCert: true, rejectUnauthorized: true, ca: readFileSync(certs.caCert) });
    const r = await runCli([...QUICK, '--ca-file', certs.caCert, '--cert-file', certs.clientCert, '--key-file', certs.clientKey, `https://localhost:${port}/`]);
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
  });

  it('a server that speaks only TLS 1.0 and 1.1: TLS_VERSION_MISMATCH', async () => {
    const port = await serve({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    const r = await runCli([...QUICK, '--ca-file', certs.caCert, `https://localhost:${port}/`]);
    const f = failure(r);
    expect(f).toMatchObject({ stage: 'tls', code: 'TLS_VERSION_MISMATCH' });
    expect(f.reason).toContain('no TLS version in common');
    expectOwnCodes(r);
  });

  // redis-server lets OpenSSL verify client certificates, so it refuses with TLS alerts (Node's own server
  // closes the connection without one after a TLS 1.3 handshake).
  it('rediss to a redis-server that demands client certificates, none given: CLIENT_CERT_REQUIRED', async () => {
    const redis = await startRedis({ tls: certs, args: ['--tls-auth-clients', 'yes'] });
    closers.push(() => redis.stop());
    const r = await runCli([...QUICK, '--ca-file', certs.caCert, `rediss://localhost:${redis.port}`]);
    const f = failure(r);
    expect(f).toMatchObject({ stage: 'tls', code: 'CLIENT_CERT_REQUIRED' });
    expect(f.reason).toContain('--cert-file and --key-file');
    expectOwnCodes(r);
  });

  it('rediss with a client certificate from a CA the server does not trust: CLIENT_CERT_REJECTED, saying why; a trusted one: ready', async () => {
    const redis = await startRedis({ tls: certs, args: ['--tls-auth-clients', 'yes'] });
    closers.push(() => redis.stop());
    const r = await runCli([...QUICK, '--ca-file', certs.caCert, '--cert-file', other.clientCert, '--key-file', other.clientKey, `rediss://localhost:${redis.port}`]);
    const f = failure(r);
    expect(f).toMatchObject({ stage: 'tls', code: 'CLIENT_CERT_REJECTED' });
    expect(f.reason).toContain('it does not trust the CA that issued it');
    expectOwnCodes(r);
    const good = await runCli([...QUICK, '--ca-file', certs.caCert, '--cert-file', certs.clientCert, '--key-file', certs.clientKey, `rediss://localhost:${redis.port}`]);
    expect(good.code, good.stdout).toBe(ExitCode.Ready);
  });
});

describe("the mapping: Node's and OpenSSL's codes in, harbor-wait's out", () => {
  const PEER = 'harbor-core:443';

  it("turns OpenSSL's error strings into words", () => {
    expect(opensslWords('C0B7F1E8B77F0000:error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../deps/openssl/openssl/ssl/statem/statem_clnt.c:1889:\n')).toBe('certificate verify failed');
    expect(opensslWords('80FB:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 116\n')).toBe('tlsv13 alert certificate required (SSL alert number 116)');
    expect(opensslWords('error:05800074:x509 certificate routines::key values mismatch')).toBe('key values mismatch');
    expect(opensslWords('plain words\nsecond line')).toBe('plain words');
  });

  it('names each known family', () => {
    const cases: Array<[string, string, string]> = [
      ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:other.invalid", 'HOSTNAME_MISMATCH'],
      ['ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number', 'NOT_TLS'],
      ['ERR_SSL_HTTP_REQUEST', 'http request', 'NOT_TLS'],
      ['EPROTO', 'C0:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../ssl/record/ssl3_record.c:354:', 'NOT_TLS'],
      ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'x', 'CLIENT_CERT_REQUIRED'],
      ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'x', 'CLIENT_CERT_REJECTED'],
      ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'x', 'CLIENT_CERT_REJECTED'],
      ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'x', 'TLS_VERSION_MISMATCH'],
      ['ERR_SSL_UNSUPPORTED_PROTOCOL', 'x', 'TLS_VERSION_MISMATCH'],
      ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'x', 'TLS_HANDSHAKE_FAILED'],
      ['ERR_SSL_TLSV1_UNRECOGNIZED_NAME', 'x', 'TLS_HANDSHAKE_FAILED'],
      ['ERR_OSSL_X509_KEY_VALUES_MISMATCH', 'error:05800074:x509 certificate routines::key values mismatch', 'TLS_SETTINGS'],
      ['ERR_OSSL_PEM_NO_START_LINE', 'error:0480006C:PEM routines::no start line', 'TLS_SETTINGS'],
      ['UNABLE_TO_GET_CRL', 'unable to get certificate CRL', 'CERT_INVALID'],
      ['UNSPECIFIED', 'unspecified certificate verification error', 'CERT_INVALID'],
    ];
    for (const [code, message, named] of cases) {
      const r = classify(Object.assign(new Error(message), { code }), 'response', PEER);
      expect(r, code).toMatchObject({ stage: 'tls', code: named });
      expect(r.reason).toContain(PEER);
      expect(r.reason).not.toMatch(/error:[0-9A-F]{8}|ERR_|\.\.\/deps/);
    }
    expect(classify(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'tls', PEER).reason).not.toContain('(it lists');
    expect(classify(Object.assign(new Error("Host: localhost. is not in the cert's altnames: DNS:other.invalid"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'tls', PEER).reason).toContain('(it lists DNS:other.invalid)');
  });

  it('property: any code of those families comes out as one of the documented TLS codes, in words', () => {
    const family = fc.oneof(
      fc.stringMatching(/^[A-Z0-9_]{1,40}$/).map((w) => `ERR_SSL_${w}`),
      fc.stringMatching(/^[A-Z0-9_]{1,40}$/).map((w) => `ERR_TLS_${w}`),
      fc.constantFrom('PEM_NO_START_LINE', 'X509_KEY_VALUES_MISMATCH', 'PEM_BAD_BASE64_DECODE', 'ASN1_WRONG_TAG', 'EVP_BAD_DECRYPT').map((w) => `ERR_OSSL_${w}`),
      fc.constantFrom('EPROTO', 'CERT_HAS_EXPIRED', 'UNABLE_TO_GET_CRL', 'OUT_OF_MEM', 'HOSTNAME_MISMATCH', 'UNSPECIFIED'),
    );
    const message = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.stringMatching(/^[a-z ]{1,40}$/).map((w) => `C0B7F1E8B77F0000:error:0A000086:SSL routines:fn:${w}:../deps/openssl/openssl/ssl/x.c:1:`),
    );
    fc.assert(
      fc.property(family, message, fc.constantFrom('connect', 'tls', 'response') as fc.Arbitrary<'connect' | 'tls' | 'response'>, (code, text, stage) => {
        const r = classify(Object.assign(new Error(text), { code }), stage, PEER);
        // One of the one list's TLS codes.
        expect(CODES[r.code as keyof typeof CODES]?.stage, r.code).toBe('tls');
        expect(r.stage).toBe('tls');
        expect(r.reason).not.toMatch(/error:[0-9A-F]{8}|\.\.\/deps/);
        expect(tlsFailure(code, text, PEER)?.code).toBe(r.code);
      }),
      { numRuns: 500 },
    );
  });
});
