import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger, makeScrubber, prettyLine } from '../src/log.ts';
import type { LogFormat, LogLevel } from '../src/config.ts';

function capture(level: LogLevel, secrets: readonly string[] = [], format: LogFormat = 'json') {
  const lines: string[] = [];
  const logger = createLogger({ level, format, secrets }, (line) => lines.push(line));
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('makeScrubber', () => {
  it('replaces every occurrence of every secret', () => {
    const scrub = makeScrubber(['alpha', 'beta']);
    expect(scrub('alpha beta alpha-x betabeta')).toBe('*** *** ***-x ******');
  });

  it('leaves text alone when there are no secrets (or only empty ones)', () => {
    expect(makeScrubber([])('a "b" \\c')).toBe('a "b" \\c');
    expect(makeScrubber([''])('abc')).toBe('abc');
  });

  it('replaces the longer secret first, so that no tail of it is left', () => {
    const scrub = makeScrubber(['S3CRET', 'S3CRET-MARK-LONG']);
    expect(scrub('x S3CRET-MARK-LONG y S3CRET z')).toBe('x *** y *** z');
    expect(makeScrubber(['S3CRET-MARK-LONG', 'S3CRET'])('S3CRET-MARK-LONG')).toBe('***');
  });

  it('replaces the JSON-escaped form of a secret with a quote or a backslash', () => {
    const secret = 'p"a\\ss';
    const scrub = makeScrubber([secret]);
    const json = JSON.stringify({ pw: secret });
    expect(json).toContain('p\\"a\\\\ss');
    expect(scrub(json)).toBe('{"pw":"***"}');
    expect(scrub(`raw ${secret} raw`)).toBe('raw *** raw');
  });

  it('replaces the JSON-escaped form of a secret with a control character', () => {
    const secret = 'tab\there\nnl';
    expect(makeScrubber([secret])(JSON.stringify({ v: secret }))).toBe('{"v":"***"}');
  });

  it('property: no secret is left in a JSON document holding it, raw or escaped', () => {
    const chars = fc.constantFrom(...'aZ09-_"\\/:@ \n\t{}é'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 20 }), fc.string({ maxLength: 20 }), (tail, around) => {
        const secret = `S3CRET${tail}`;
        const text = JSON.stringify({ a: `${around}${secret}${around}`, b: [secret], c: { d: secret } }) + ` ${secret}`;
        const out = makeScrubber([secret])(text);
        expect(out).not.toContain(secret);
        expect(out).not.toContain(JSON.stringify(secret).slice(1, -1));
        expect(out).not.toContain('S3CRET');
      }),
    );
  });
});

describe('prettyLine', () => {
  const json = (o: Record<string, unknown>) => JSON.stringify(o);

  it('shows time of day, level and message', () => {
    expect(prettyLine(json({ level: 'info', time: '2024-05-06T12:00:01.250Z', msg: 'all ready', event: 'done' }))).toBe(
      '12:00:01.250 INFO  all ready\n',
    );
    expect(prettyLine(json({ level: 'error', time: '2024-05-06T23:59:59.999Z', msg: 'x' }))).toBe('23:59:59.999 ERROR x\n');
  });

  it('adds target, stage and code when the message does not hold them', () => {
    const line = prettyLine(
      json({ level: 'warn', time: '2024-05-06T12:00:01.250Z', msg: 'not ready', target: 'redis://h:6379', stage: 'connect', code: 'ECONNREFUSED' }),
    );
    expect(line).toBe('12:00:01.250 WARN  not ready  target=redis://h:6379 stage=connect code=ECONNREFUSED\n');
  });

  it('does not repeat a field the message already holds', () => {
    const line = prettyLine(json({ level: 'info', time: '2024-05-06T12:00:01.250Z', msg: 'redis://h:6379 is ready', target: 'redis://h:6379' }));
    expect(line).toBe('12:00:01.250 INFO  redis://h:6379 is ready\n');
  });

  it('returns a line that is not JSON unchanged', () => {
    expect(prettyLine('not json at all')).toBe('not json at all');
  });
});

describe('createLogger', () => {
  it('writes one JSON line per call: level as a word, ISO time, msg, event and the fields', () => {
    const { logger, lines, parsed } = capture('info');
    const before = Date.now();
    logger.log('info', 'ready', { target: 'redis://h:6379', address: '10.0.0.5:6379' }, 'redis://h:6379 is ready');
    logger.log('warn', 'warning', {}, 'careful');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
    }
    const [first, second] = parsed();
    expect(first).toMatchObject({
      level: 'info',
      msg: 'redis://h:6379 is ready',
      event: 'ready',
      target: 'redis://h:6379',
      address: '10.0.0.5:6379',
    });
    expect(typeof first?.time).toBe('string');
    const time = first?.time as string;
    expect(new Date(time).toISOString()).toBe(time);
    expect(Date.parse(time)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(time)).toBeLessThanOrEqual(Date.now() + 1000);
    expect(first).not.toHaveProperty('pid');
    expect(first).not.toHaveProperty('hostname');
    expect(second).toMatchObject({ level: 'warn', event: 'warning', msg: 'careful' });
  });

  it('writes every level as a word', () => {
    const { logger, parsed } = capture('debug');
    for (const level of ['debug', 'info', 'warn', 'error'] as const) logger.log(level, 'start', {}, level);
    expect(parsed().map((o) => o.level)).toEqual(['debug', 'info', 'warn', 'error']);
  });

  it('respects the level: debug is hidden at info', () => {
    const { logger, parsed } = capture('info');
    logger.log('debug', 'not_ready', {}, 'hidden');
    logger.log('info', 'waiting', {}, 'shown');
    expect(parsed().map((o) => o.msg)).toEqual(['shown']);
  });

  it('respects the level: only errors at error', () => {
    const { logger, parsed } = capture('error');
    logger.log('info', 'start', {}, 'a');
    logger.log('warn', 'warning', {}, 'b');
    logger.log('error', 'failed', {}, 'c');
    expect(parsed().map((o) => o.msg)).toEqual(['c']);
  });

  it('scrubs secrets in the message and in any field, nested or escaped', () => {
    const secrets = ['S3CRET-MARK', 'Q"U\\OTE-MARK'];
    const { logger, lines, parsed } = capture('debug', secrets);
    logger.log(
      'error',
      'failed',
      {
        reason: 'AUTH S3CRET-MARK failed',
        nested: { deep: ['x', 'Q"U\\OTE-MARK'], other: 'S3CRET-MARKS3CRET-MARK' },
        err: new Error('password S3CRET-MARK rejected'),
      },
      'msg with S3CRET-MARK and Q"U\\OTE-MARK',
    );
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    expect(line).not.toContain('MARK');
    const obj = parsed()[0] as Record<string, unknown>;
    expect(obj.msg).toBe('msg with *** and ***');
    expect(obj.reason).toBe('AUTH *** failed');
    expect(obj.nested).toEqual({ deep: ['x', '***'], other: '******' });
  });

  it('writes pretty lines when asked, scrubbed too', () => {
    const { logger, lines } = capture('info', ['S3CRET-MARK'], 'pretty');
    logger.log('warn', 'not_ready', { target: 'redis://:***@h:6379', stage: 'auth', code: 'WRONGPASS' }, 'not ready: S3CRET-MARK');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN  not ready: \*\*\*  target=redis:\/\/:\*\*\*@h:6379 stage=auth code=WRONGPASS\n$/);
  });
});
