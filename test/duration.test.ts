import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, MAX_DURATION_MS, parseDuration, parseGoDuration } from '../src/basics/duration.ts';

describe('parseGoDuration', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['2h45m', 9_900_000],
    ['1h2m3s4ms', 3_723_004],
    ['.5s', 500],
    ['1.s', 1_000],
    ['0', 0],
    ['+0', 0],
    ['-0', 0],
    ['0s', 0],
    ['+5s', 5_000],
    ['-2s', -2_000],
    ['1000us', 1],
    ['1000µs', 1],
    ['1000μs', 1],
    ['2000000ns', 2],
  ])('%s is %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it('rounds a tiny positive duration up to a whole millisecond, never to 0', () => {
    expect(parseGoDuration('1ns')).toBe(1);
    expect(parseGoDuration('1us')).toBe(1);
    expect(parseGoDuration('0.1ms')).toBe(1);
    expect(parseGoDuration('1.5ms')).toBe(2);
  });

  // Go computes durations exactly (integer nanoseconds); a decimal that is a whole number of milliseconds
  // must come out as exactly that number, not one more because of a floating-point residue.
  it.each([
    ['1.1h', 3_960_000],
    ['2.2h', 7_920_000],
    ['8.3m', 498_000],
    ['16.1m', 966_000],
    ['2.007s', 2_007],
    ['2.011s', 2_011],
    ['16.1s', 16_100],
    ['32.7s', 32_700],
  ])('%s is exactly %d ms (no floating-point residue rounded up)', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each(['', '5', '1.5', '1h30', '5S', '5 s', ' 5s', 'abc', '5x', '1h-5m', '.', 's', '--5s', '+-5s', '1e3s', '0x10s', '5s '])(
    'refuses %j',
    (text) => {
      expect(parseGoDuration(text)).toBeUndefined();
    },
  );
});

describe('parseDuration', () => {
  it('reads a bare integer as seconds', () => {
    expect(parseDuration('5')).toEqual({ ms: 5_000 });
    expect(parseDuration('0')).toEqual({ ms: 0 });
    expect(parseDuration('00')).toEqual({ ms: 0 });
    expect(parseDuration('300')).toEqual({ ms: 300_000 });
  });

  it.each([
    ['250ms', 250],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['2h45m', 9_900_000],
    ['5m', 300_000],
  ])('reads the Go form %s', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ms });
  });

  it('ignores surrounding white space', () => {
    expect(parseDuration('  5s \n')).toEqual({ ms: 5_000 });
    expect(parseDuration(' 7 ')).toEqual({ ms: 7_000 });
  });

  it('refuses negative durations', () => {
    const r = parseDuration('-2s');
    expect(r).toHaveProperty('problem');
    expect((r as { problem: string }).problem).toContain('"-2s"');
    expect((r as { problem: string }).problem).toMatch(/negative/);
  });

  it('refuses a negative bare number', () => {
    expect(parseDuration('-5')).toHaveProperty('problem');
  });

  it('refuses durations a timer cannot hold', () => {
    expect(parseDuration('596h')).toEqual({ ms: 596 * 3_600_000 });
    for (const text of ['597h', '1000h', '2147484s', '99999999999999999999']) {
      const r = parseDuration(text);
      expect(r, text).toHaveProperty('problem');
      expect((r as { problem: string }).problem).toContain(`"${text}"`);
      expect((r as { problem: string }).problem).toMatch(/too long/);
    }
    expect(parseDuration(`${MAX_DURATION_MS}ms`)).toEqual({ ms: MAX_DURATION_MS });
    expect(parseDuration(`${MAX_DURATION_MS + 1}ms`)).toHaveProperty('problem');
  });

  it.each(['abc', '5x', '1.5', '', '   ', '5 s', 'ten seconds', '1h30'])('refuses junk %j with a problem quoting it', (text) => {
    const r = parseDuration(text);
    expect(r).toHaveProperty('problem');
    const problem = (r as { problem: string }).problem;
    expect(problem).toContain(`"${text}"`);
    expect(problem).toMatch(/not a duration/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [1, '1ms'],
    [250, '250ms'],
    [999, '999ms'],
    [1_000, '1s'],
    [1_500, '1.5s'],
    [5_000, '5s'],
    [60_000, '1m'],
    [90_000, '1m30s'],
    [300_000, '5m'],
    [3_600_000, '1h'],
    [3_601_000, '1h1s'],
    [7_200_000, '2h'],
    [9_900_000, '2h45m'],
    [5_400_000, '1h30m'],
    [59_999, '1m'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('writes what parseDuration reads back (to within the 0.1 s it rounds to)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DURATION_MS - 100 }), (ms) => {
        const text = formatDuration(ms);
        const back = parseDuration(text);
        expect(back, text).toHaveProperty('ms');
        expect(Math.abs((back as { ms: number }).ms - ms)).toBeLessThanOrEqual(50);
      }),
      // Fixed seed: a run must not depend on which values happen to be drawn.
      { seed: 20_240_506, numRuns: 2_000 },
    );
  });

  it('formats 16 050 ms as 16.1s, which must read back as 16 100 ms', () => {
    expect(formatDuration(16_050)).toBe('16.1s');
    expect(parseDuration('16.1s')).toEqual({ ms: 16_100 });
  });

  it('round-trips the values the command line shows as defaults exactly', () => {
    for (const ms of [100, 250, 1_000, 5_000, 90_000, 300_000, 3_600_000]) {
      expect(parseDuration(formatDuration(ms))).toEqual({ ms });
    }
  });
});
