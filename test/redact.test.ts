/**
 * The safety net for outside text (src/basics/redact.ts) and the promise around it: a secret is masked in what a
 * server says, in every spelling, and nothing else is ever changed, so that no secret, however short or
 * common, breaks a JSON line, mangles a key or a host, or shows itself by the pattern of its stars.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { peerText, preview } from '../src/basics/errors.ts';
import { createLogger } from '../src/engine/log.ts';
import { isScrubbable, MIN_SCRUBBED_LENGTH, registerSecrets, scrubText } from '../src/basics/redact.ts';

afterEach(() => registerSecrets([]));

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('scrubText', () => {
  it('masks a secret raw, percent-encoded in either hex case, in base64, JSON-escaped and case-folded', () => {
    const secret = 'Pa/ss"w0rd@x';
    registerSecrets([secret]);
    const pct = encodeURIComponent(secret);
    const b64 = Buffer.from(secret).toString('base64');
    const said = [secret, pct, pct.toLowerCase(), b64, JSON.stringify(secret).slice(1, -1), secret.toUpperCase(), secret.toLowerCase()];
    for (const form of said) expect(scrubText(`before ${form} after`), form).toBe('before *** after');
  });

  it('masks the longer of two secrets whole when one holds the other', () => {
    registerSecrets(['S3CRET', 'S3CRET-MARK-LONG']);
    expect(scrubText('x S3CRET-MARK-LONG y S3CRET z')).toBe('x *** y *** z');
  });

  it(`leaves text alone for a secret shorter than ${MIN_SCRUBBED_LENGTH} characters, and without secrets`, () => {
    expect(scrubText('anything at all')).toBe('anything at all');
    registerSecrets(['e', '1', ':', '"', 'redis']);
    expect(isScrubbable('redis')).toBe(false);
    expect(isScrubbable('postgres')).toBe(true);
    expect(scrubText('{"level":"info","host":"127.0.0.1:6379"} redis')).toBe('{"level":"info","host":"127.0.0.1:6379"} redis');
  });

  it('peerText and preview scrub before they cut, so that no head of a secret is left at the cut', () => {
    const secret = 'ABCDEFGHIJKL';
    registerSecrets([secret]);
    const long = `${'x'.repeat(195)}${secret}`;
    expect(peerText(long)).not.toContain('ABCDE');
    expect(preview(Buffer.from(`${'y'.repeat(20)}${secret}`))).toBe(`${'y'.repeat(20)}***`);
  });

  it('property: only the secrets are replaced, each by ***, whatever the text around them', () => {
    const secretChars = fc.constantFrom(...'abcXYZ019-_./:@"\\ %+=é'.split(''));
    // Characters the text around is made of: none of base64's or percent-encoding's, so that only the
    // secret's own occurrences can match; those that fold to a character of the secret are left out below.
    const aroundChars = '!#&(),;<>?[]^{}|~ \n\tßñ{}:'.split('');
    fc.assert(
      fc.property(
        fc.string({ unit: secretChars, minLength: MIN_SCRUBBED_LENGTH, maxLength: 16 }),
        fc.array(fc.array(fc.nat(aroundChars.length - 1), { maxLength: 12 }), { minLength: 1, maxLength: 5 }),
        (secret, pieces) => {
          const allowed = aroundChars.filter((c) => !new RegExp(escape(c), 'iu').test(secret));
          fc.pre(allowed.length > 0);
          const around = pieces.map((p) => p.map((i) => allowed[i % allowed.length] as string).join(''));
          registerSecrets([secret]);
          expect(scrubText(around.join(secret))).toBe(around.join('***'));
        },
      ),
    );
  });
});

describe('log lines with arbitrary secrets and arbitrary server texts', () => {
  /** A not_ready line as the waiter writes it: composed parts (label, peer, numbers) and one server text. */
  async function lineFor(serverText: string): Promise<Record<string, unknown>[]> {
    const lines: string[] = [];
    const log = await createLogger({ level: 'debug', format: 'json' }, (l) => lines.push(l));
    const target = 'redis://:***@127.0.0.1:6379/1';
    const reason = `127.0.0.1:6379 answered AUTH with "${peerText(serverText)}"`;
    log.log('info', 'not_ready', { target, attempt: 3, stage: 'auth', code: 'ERR', reason, elapsed_ms: 12, retry_in_ms: 200 }, `${target} not ready (auth, ERR): ${reason}`);
    log.log('warn', 'warning', {}, 'a warning that names no secret');
    return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  it('property: every line parses with the same keys; composed values are untouched; no server text keeps a secret', async () => {
    await fc.assert(
      // Any printable secret but one holding a star, which the mask itself could form again next to its neighbours.
      fc.asyncProperty(fc.array(fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !s.includes('*')), { minLength: 1, maxLength: 3 }), fc.string({ maxLength: 40 }), async (secrets, around) => {
        registerSecrets(secrets);
        const said = `${around}${secrets.join(around)}${around}`;
        const [notReady, warning] = await lineFor(said);
        expect(Object.keys(notReady ?? {})).toEqual(['level', 'time', 'event', 'target', 'attempt', 'stage', 'code', 'reason', 'elapsed_ms', 'retry_in_ms', 'msg']);
        expect(notReady).toMatchObject({ level: 'info', event: 'not_ready', target: 'redis://:***@127.0.0.1:6379/1', attempt: 3, stage: 'auth', code: 'ERR', elapsed_ms: 12, retry_in_ms: 200 });
        expect(warning).toMatchObject({ level: 'warn', event: 'warning', msg: 'a warning that names no secret' });
        const reason = String(notReady?.reason);
        expect(reason.startsWith('127.0.0.1:6379 answered AUTH with "')).toBe(true);
        const quoted = reason.slice('127.0.0.1:6379 answered AUTH with "'.length, -1);
        for (const secret of secrets.filter(isScrubbable)) {
          expect(quoted.toLowerCase()).not.toContain(secret.toLowerCase());
        }
        // The message is the same composition: it says what the fields say.
        expect(notReady?.msg).toBe(`redis://:***@127.0.0.1:6379/1 not ready (auth, ERR): ${reason}`);
      }),
      { numRuns: 200 },
    );
  });
});
