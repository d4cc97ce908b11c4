/** The HTTP/1.1 request writer and status reader (src/targets/http1.ts), byte by byte; real servers are in http.test.ts. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.ts';
import { encodeRequest, parseStatus } from '../../src/targets/http1.ts';

const head = (status: number, headers = 'content-length: 0\r\n') => `HTTP/1.1 ${status} Whatever\r\n${headers}\r\n`;

describe('parseStatus', () => {
  it('reads the status once the head is complete, and not before', () => {
    const text = head(200, 'content-type: application/json\r\ncontent-length: 12\r\n');
    expect(parseStatus(Buffer.from(text))).toBe(200);
    expect(parseStatus(Buffer.from(text.slice(0, -2)))).toBeUndefined();
  });

  it('skips interim 1xx heads and reads the final one', () => {
    expect(parseStatus(Buffer.from(head(100, '') + head(103, 'link: </a>\r\n') + head(503)))).toBe(503);
    expect(parseStatus(Buffer.from(head(100, '')))).toBeUndefined();
  });

  it('takes HTTP/1.0 and a status line without a reason phrase', () => {
    expect(parseStatus(Buffer.from('HTTP/1.0 204\r\n\r\n'))).toBe(204);
  });

  it('property: a head cut anywhere before its end is incomplete, never an error', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.nat(), (status, cutAt) => {
        const text = status < 200 && status !== 101 ? head(status, '') + head(200) : head(status);
        const cut = cutAt % text.length;
        expect(parseStatus(Buffer.from(text.slice(0, cut)))).toBeUndefined();
        expect(parseStatus(Buffer.from(`${text}endless body...`))).toBe(status < 200 && status !== 101 ? 200 : status);
      }),
    );
  });

  it('names an answer that is not HTTP/1.x as soon as its start tells, quoting it printable only', () => {
    for (const answer of ['-ERR unknown command\r\n', 'SSH-2.0-Open', '\x15\x03\x03\x00\x02\x02\x46', 'HTTP/2.0 200 OK\r\n\r\n', 'HTTP/1.1 20 OK\r\n\r\n']) {
      let err: unknown;
      try {
        parseStatus(Buffer.from(answer, 'latin1'));
      } catch (e) {
        err = e;
      }
      expect(err, answer).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('NOT_HTTP');
      expect((err as ProtocolError).message).toMatch(/beginning "[\x20-\x7e]*"$/);
    }
  });
});

describe('encodeRequest', () => {
  it('writes a GET with the headers given, ending in an empty line', () => {
    expect(encodeRequest('/api/v2.0/internalconfig', { host: 'core', authorization: 'Harbor-Secret s' }).toString()).toBe(
      'GET /api/v2.0/internalconfig HTTP/1.1\r\nhost: core\r\nauthorization: Harbor-Secret s\r\n\r\n',
    );
  });

  it('refuses a header value with a line break, so nothing can be smuggled into the request', () => {
    expect(() => encodeRequest('/', { authorization: 'Harbor-Secret a\r\nx-evil: 1' })).toThrow(/header authorization/);
    expect(() => encodeRequest('/', { 'bad name': 'v' })).toThrow(TypeError);
  });
});
