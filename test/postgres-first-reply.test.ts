/**
 * firstReply, the rule by which a PostgreSQL target tells a peer that speaks another protocol from its first
 * bytes (issue 17, item 7), as properties: any text protocol fails it at once, whatever its words; what a
 * PostgreSQL server sends first passes it. (Through the built entry, against real servers and peers:
 * test/postgres-hardening.test.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstReply } from '../src/protocols/postgres/check.ts';

/** A message as a server frames it: its type byte, then its length (itself included), then the body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 5, maxLength: 64 });

describe('firstReply', () => {
  it('five or more printable characters (an HTTP status line, an SSH or SMTP banner, a Redis reply, any text) are never PostgreSQL, to the login or to the SSL request', () => {
    fc.assert(
      fc.property(printable, (text) => {
        const bytes = Buffer.from(text, 'latin1');
        expect(firstReply(bytes, false)).toBe('no');
        expect(firstReply(bytes, true)).toBe('no');
      }),
      { numRuns: 5000 },
    );
  });

  it('a TLS record is never PostgreSQL', () => {
    fc.assert(
      fc.property(fc.constantFrom(0x15, 0x16), fc.uint8Array({ minLength: 4, maxLength: 40 }), (type, rest) => {
        const bytes = Buffer.concat([Buffer.from([type]), Buffer.from(rest)]);
        expect(firstReply(bytes, false)).toBe('no');
        expect(firstReply(bytes, true)).toBe('no');
      }),
    );
  });

  it("what a server sends first passes: S or N alone to the SSL request, an ErrorResponse; to the login an Authentication request, an ErrorResponse, a notice, NegotiateProtocolVersion, whatever follows them; too few bytes to tell wait for more", () => {
    expect(firstReply(Buffer.from('S'), true)).toBe('yes');
    expect(firstReply(Buffer.from('N'), true)).toBe('yes');
    expect(firstReply(Buffer.from('SSH-2.0'), true)).toBe('no');
    const error = message('E', Buffer.from('SFATAL\0C53300\0Msorry, too many clients already\0\0', 'latin1'));
    expect(firstReply(error, true)).toBe('yes');
    fc.assert(
      fc.property(
        fc.constantFrom('R', 'E', 'N', 'v'),
        fc.uint8Array({ minLength: 8, maxLength: 200 }),
        fc.uint8Array({ maxLength: 100 }),
        (type, body, after) => {
          const bytes = Buffer.concat([message(type, Buffer.from(body)), Buffer.from(after)]);
          expect(firstReply(bytes, false)).toBe('yes');
          for (let n = 1; n < 5; n++) expect(firstReply(bytes.subarray(0, n), false)).toBe('more');
        },
      ),
    );
    expect(firstReply(Buffer.alloc(0), false)).toBe('more');
  });

  it('any bytes: one of yes, no, more, never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, sslRequest) => {
        expect(['yes', 'no', 'more']).toContain(firstReply(Buffer.from(bytes), sslRequest));
      }),
      { numRuns: 5000 },
    );
  });
});
