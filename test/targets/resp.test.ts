/** The RESP2 reader and writer (src/targets/resp.ts), byte by byte; the checks that use it run against real Redis elsewhere. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.ts';
import { encodeCommand, parseReply, ReplyError, type Reply } from '../../src/targets/resp.ts';

/** A reply as Redis would write it, for any value the parser can return. */
function encodeReply(reply: Reply): string {
  if (reply === null) return '$-1\r\n';
  if (reply instanceof ReplyError) return `-${reply.message}\r\n`;
  if (typeof reply === 'number') return `:${reply}\r\n`;
  if (Array.isArray(reply)) return `*${reply.length}\r\n${reply.map(encodeReply).join('')}`;
  return `$${Buffer.byteLength(reply)}\r\n${reply}\r\n`;
}

const line = fc.string({ maxLength: 20 }).filter((s) => !s.includes('\r') && !s.includes('\n'));
const reply: fc.Arbitrary<Reply> = fc.letrec<{ reply: Reply }>((tie) => ({
  reply: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 30 }),
    fc.integer(),
    fc.constant(null),
    line.map((text) => new ReplyError(`ERR ${text}`)),
    fc.array(tie('reply'), { maxLength: 4 }),
  ),
})).reply;

function normal(r: Reply): unknown {
  if (r instanceof ReplyError) return { error: r.message };
  return Array.isArray(r) ? r.map(normal) : r;
}

describe('parseReply', () => {
  it('reads the five reply types', () => {
    expect(parseReply(Buffer.from('+PONG\r\n'))).toEqual({ reply: 'PONG', next: 7 });
    expect(parseReply(Buffer.from(':42\r\n'))?.reply).toBe(42);
    expect(parseReply(Buffer.from('$-1\r\n'))?.reply).toBeNull();
    expect(parseReply(Buffer.from('*-1\r\n'))?.reply).toBeNull();
    expect(parseReply(Buffer.from('*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n'))?.reply).toEqual(['127.0.0.1', '6379']);
    const error = parseReply(Buffer.from('-WRONGPASS invalid username-password pair\r\n'))?.reply;
    expect(error).toBeInstanceOf(ReplyError);
    expect((error as ReplyError).message).toBe('WRONGPASS invalid username-password pair');
  });

  it('property: any reply, cut anywhere, is incomplete before the cut and whole after it', () => {
    fc.assert(
      fc.property(reply, fc.nat(), (r, cutAt) => {
        const bytes = Buffer.from(encodeReply(r));
        const cut = cutAt % bytes.length;
        expect(parseReply(bytes.subarray(0, cut))).toBeUndefined();
        const whole = parseReply(Buffer.concat([bytes, Buffer.from('+NEXT\r\n')]));
        expect(whole?.next).toBe(bytes.length);
        expect(normal(whole?.reply as Reply)).toEqual(normal(r));
      }),
    );
  });

  it('names what is not RESP at once, from its first byte, quoting it printable only', () => {
    for (const answer of ['HTTP/1.1 400 Bad Request\r\n', 'SSH-2.0-OpenSSH\r\n', '\x15\x03\x03\x00\x02']) {
      const err = (() => {
        try {
          parseReply(Buffer.from(answer, 'latin1'));
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('NOT_REDIS');
      expect((err as ProtocolError).message).toMatch(/^answered with something that is not a Redis reply, beginning "[\x20-\x7e]*"$/);
    }
  });

  it('rejects a malformed length instead of waiting for it', () => {
    expect(() => parseReply(Buffer.from('$abc\r\n'))).toThrow(ProtocolError);
    expect(() => parseReply(Buffer.from('*1x\r\n'))).toThrow(ProtocolError);
  });
});

describe('encodeCommand', () => {
  it('writes an array of bulk strings, lengths in bytes', () => {
    expect(encodeCommand(['AUTH', 'ü', 7]).toString()).toBe('*3\r\n$4\r\nAUTH\r\n$2\r\nü\r\n$1\r\n7\r\n');
  });

  it('property: what it writes parses back to the same strings, whatever they hold', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }), { minLength: 1, maxLength: 5 }), (args) => {
        // A command is an array of bulk strings, which is also a reply shape.
        expect(parseReply(encodeCommand(args))?.reply).toEqual(args);
      }),
    );
  });
});
