/** The closed list of Redis error codes, and quoting a peer's reply: property tests over arbitrary replies. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeReply, REDIS_ERROR_CODES, redisErrorCode, replyText } from '../../src/protocols/redis/replies.ts';

const CODES = Object.keys(REDIS_ERROR_CODES);

describe('redisErrorCode', () => {
  it('is one of REDIS_ERROR_CODES for any text a peer sends', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => CODES.includes(redisErrorCode(text))));
  });

  it("keeps Redis's own prefixes, followed by words, a line end or nothing; maps any other word to ERR", () => {
    for (const code of CODES) {
      expect(redisErrorCode(`${code} something went wrong`)).toBe(code);
      expect(redisErrorCode(code)).toBe(code);
      expect(redisErrorCode(`-${code}\r\n`)).toBe(code);
    }
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z]{1,12}$/), fc.string({ maxLength: 40 }), (word, rest) => {
        const code = redisErrorCode(`${word} ${rest}`);
        return CODES.includes(word) ? code === word : code === 'ERR';
      }),
    );
    expect(redisErrorCode('LOADINGX Redis is loading')).toBe('ERR');
    expect(redisErrorCode('loading lower case')).toBe('ERR');
    expect(redisErrorCode('constructor')).toBe('ERR');
  });
});

describe('quoting', () => {
  const reply: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.integer(),
      fc.string({ unit: 'binary', maxLength: 2000 }),
      fc.string().map((m) => Object.assign(new Error(m), { name: 'ReplyError' })),
      fc.array(tie('value'), { maxLength: 20 }),
    ),
  })).value;

  it('describeReply is printable ASCII and at most 123 characters for any reply', () => {
    fc.assert(
      fc.property(reply, (r) => {
        const text = describeReply(r);
        return text.length <= 123 && /^[\x20-\x7e]*$/.test(text);
      }),
    );
  });

  it('replyText keeps one line, drops the arguments Redis echoes, and is bounded', () => {
    expect(replyText("ERR unknown command 'AUTH', with args beginning with: 'the-password' \r\nmore")).toBe("ERR unknown command 'AUTH'");
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 1000 }), (m) => {
      const text = replyText(m);
      return text.length <= 203 && !text.includes('\n') && /^[\x20-\x7e]*$/.test(text);
    }));
  });
});
