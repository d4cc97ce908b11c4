import { describe, expect, it } from 'vitest';
import { isKnownCode } from '../src/protocols/codes.ts';
import { ConfigError, firstLine, isBug, NotReady } from '../src/basics/errors.ts';
import { classify } from '../src/net/classify.ts';

function sysError(code: string, message = `${code} something`): Error {
  return Object.assign(new Error(message), { code });
}

const PEER = 'harbor-redis:6379';

describe('NotReady', () => {
  it('carries stage, code and reason; the reason is the message', () => {
    const cause = new Error('x');
    const e = new NotReady('auth', 'NOAUTH', 'needs a password', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('NotReady');
    expect(e.stage).toBe('auth');
    expect(e.code).toBe('NOAUTH');
    expect(e.reason).toBe('needs a password');
    expect(e.message).toBe('needs a password');
    expect(e.cause).toBe(cause);
  });
});

describe('ConfigError', () => {
  it('has the message "<input>: <problem>" and keeps the input', () => {
    const e = new ConfigError('--deadline', '"abc" is not a duration');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ConfigError');
    expect(e.input).toBe('--deadline');
    expect(e.message).toBe('--deadline: "abc" is not a duration');
  });
});

describe('classify', () => {
  it('ECONNREFUSED: stage connect, nothing listens yet', () => {
    const err = sysError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.5:6379');
    const r = classify(err, 'connect', PEER);
    expect(r).toBeInstanceOf(NotReady);
    expect(r.stage).toBe('connect');
    expect(r.code).toBe('ECONNREFUSED');
    expect(r.reason).toContain(PEER);
    expect(r.reason).toMatch(/refused/);
    expect(r.cause).toBe(err);
  });

  it.each(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME'])('%s moves the stage to dns', (code) => {
    const r = classify(sysError(code), 'connect', PEER);
    expect(r.stage).toBe('dns');
    expect(r.code).toBe(code);
    expect(r.reason).toContain(PEER);
  });

  it('ENOTFOUND says to check the Service name; EAI_AGAIN that DNS may not be ready', () => {
    expect(classify(sysError('ENOTFOUND'), 'connect', PEER).reason).toMatch(/does not resolve/);
    expect(classify(sysError('EAI_AGAIN'), 'connect', PEER).reason).toMatch(/DNS/);
  });

  // Node's and OpenSSL's own codes become harbor-wait's (src/net/tls-errors.ts); the verify codes stay.
  it.each([
    ['CERT_HAS_EXPIRED', 'CERT_HAS_EXPIRED', /expired/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH', /does not name that host/],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'NOT_TLS', /plain port/],
    ['ERR_SSL_PACKET_LENGTH_TOO_LONG', 'NOT_TLS', /plain port/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'DEPTH_ZERO_SELF_SIGNED_CERT', /--ca-file/],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'SELF_SIGNED_CERT_IN_CHAIN', /--ca-file/],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', /--ca-file/],
    ['CERT_NOT_YET_VALID', 'CERT_NOT_YET_VALID', /clocks/],
    ['EPROTO', 'TLS_HANDSHAKE_FAILED', /./],
    ['ERR_SSL_SOMETHING_NEW', 'TLS_HANDSHAKE_FAILED', /something new/],
  ])('%s moves the stage to tls, as %s', (raw, code, reason) => {
    for (const stage of ['connect', 'response'] as const) {
      const r = classify(sysError(raw), stage, PEER);
      expect(r.stage).toBe('tls');
      expect(r.code).toBe(code);
      expect(r.reason).toMatch(reason);
      expect(r.reason).toContain(PEER);
    }
  });

  it('keeps the stage for other known codes', () => {
    expect(classify(sysError('ECONNRESET'), 'response', PEER)).toMatchObject({ stage: 'response', code: 'ECONNRESET' });
    expect(classify(sysError('ETIMEDOUT'), 'connect', PEER)).toMatchObject({ stage: 'connect', code: 'ETIMEDOUT' });
    expect(classify(sysError('EHOSTUNREACH'), 'connect', PEER).reason).toMatch(/no route/);
    expect(classify(sysError('EPIPE'), 'auth', PEER).stage).toBe('auth');
  });

  it('passes a NotReady through unchanged', () => {
    const nr = new NotReady('auth', 'WRONGPASS', 'bad password');
    expect(classify(nr, 'connect', PEER)).toBe(nr);
    expect(classify(nr, 'tls', 'other:1')).toMatchObject({ stage: 'auth', code: 'WRONGPASS', reason: 'bad password' });
  });

  it('gives code UNKNOWN and the first line of the message to an unknown error', () => {
    const err = new Error('something odd happened\n    at frame (x.js:1:1)');
    const r = classify(err, 'response', PEER);
    expect(r.code).toBe('UNKNOWN');
    expect(r.stage).toBe('response');
    expect(r.reason).toBe(`${PEER}: something odd happened`);
    expect(r.reason).not.toContain('frame');
    expect(r.cause).toBe(err);
  });

  it('handles values that are not errors, and errors with a non-string or empty code', () => {
    expect(classify('plain text', 'connect', PEER)).toMatchObject({ code: 'UNKNOWN', reason: `${PEER}: plain text` });
    expect(classify(undefined, 'connect', PEER).code).toBe('UNKNOWN');
    expect(classify(null, 'connect', PEER).code).toBe('UNKNOWN');
    expect(classify(Object.assign(new Error('e'), { code: 42 }), 'connect', PEER).code).toBe('UNKNOWN');
    expect(classify(Object.assign(new Error('e'), { code: '' }), 'connect', PEER).code).toBe('UNKNOWN');
  });

  it('prints no code it does not document: an unlisted one is UNKNOWN, its message in the reason', () => {
    const r = classify(sysError('ERR_SOMETHING', 'weird failure'), 'auth', PEER);
    expect(r).toMatchObject({ code: 'UNKNOWN', stage: 'auth', reason: `${PEER}: weird failure` });
    for (const raw of ['UND_ERR_SOCKET', 'ERR_SOCKET_BAD_PORT', 'ERR_OSSL_EVP_BAD_DECRYPT']) {
      expect(isKnownCode(classify(sysError(raw), 'connect', PEER).code), raw).toBe(true);
    }
  });

  it('calls an unknown "closed" error CONNECTION_CLOSED', () => {
    const r = classify(new Error('Connection is closed.'), 'response', PEER);
    expect(r.code).toBe('CONNECTION_CLOSED');
    expect(r.reason).toContain(PEER);
  });
});

describe('firstLine', () => {
  it('keeps the first line, at most 200 characters', () => {
    expect(firstLine('a\nb')).toBe('a');
    expect(firstLine('')).toBe('');
    expect(firstLine('x'.repeat(200))).toBe('x'.repeat(200));
    expect(firstLine('x'.repeat(201))).toBe(`${'x'.repeat(200)}…`);
  });
});

describe('isBug', () => {
  it('is true for programming errors', () => {
    expect(isBug(new TypeError('x'))).toBe(true);
    expect(isBug(new ReferenceError('x'))).toBe(true);
    expect(isBug(new RangeError('x'))).toBe(true);
    expect(isBug(new SyntaxError('x'))).toBe(true);
  });

  it('is true for an argument a library refused (undici\'s UND_ERR_INVALID_ARG), and not for its other codes', () => {
    expect(isBug(sysError('UND_ERR_INVALID_ARG'))).toBe(true);
    expect(isBug(sysError('UND_ERR_SOCKET'))).toBe(false);
    expect(isBug(sysError('UND_ERR_HEADERS_OVERFLOW'))).toBe(false);
  });

  it('is false for expected failures and anything else', () => {
    expect(isBug(new Error('x'))).toBe(false);
    expect(isBug(new NotReady('connect', 'ECONNREFUSED', 'x'))).toBe(false);
    expect(isBug(new ConfigError('--x', 'y'))).toBe(false);
    expect(isBug(sysError('ECONNREFUSED'))).toBe(false);
    expect(isBug('TypeError')).toBe(false);
    expect(isBug(undefined)).toBe(false);
  });
});
