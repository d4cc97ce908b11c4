import { describe, expect, it } from 'vitest';
import { DEFAULT_EXPECT_STATUS, parseStatusSet, type StatusSet } from '../src/basics/status-set.ts';

function ok(text: string): StatusSet {
  const r = parseStatusSet(text);
  if ('problem' in r) throw new Error(`unexpected problem: ${r.problem}`);
  return r;
}

function problem(text: string): string {
  const r = parseStatusSet(text);
  if (!('problem' in r)) throw new Error(`"${text}" was accepted as ${r.text}`);
  return r.problem;
}

describe('parseStatusSet', () => {
  it('reads one status', () => {
    const s = ok('200');
    expect(s.text).toBe('200');
    expect(s.has(200)).toBe(true);
    expect(s.has(201)).toBe(false);
    expect(s.has(199)).toBe(false);
  });

  it('reads a list', () => {
    const s = ok('200,204');
    expect(s.text).toBe('200,204');
    expect([200, 204].map((x) => s.has(x))).toEqual([true, true]);
    expect([201, 203, 205, 404].map((x) => s.has(x))).toEqual([false, false, false, false]);
  });

  it('reads ranges, bounds included', () => {
    const s = ok('200-299,304');
    expect(s.text).toBe('200-299,304');
    for (const x of [200, 250, 299, 304]) expect(s.has(x), String(x)).toBe(true);
    for (const x of [199, 300, 303, 305, 500]) expect(s.has(x), String(x)).toBe(false);
  });

  it('the default is every 2xx', () => {
    const s = ok(DEFAULT_EXPECT_STATUS);
    expect(s.text).toBe('200-299');
    expect(s.has(200)).toBe(true);
    expect(s.has(299)).toBe(true);
    expect(s.has(300)).toBe(false);
  });

  it('gives a canonical text: trimmed, a one-status range written as the status', () => {
    expect(ok(' 200 , 204 ').text).toBe('200,204');
    expect(ok('200-200').text).toBe('200');
    expect(ok('100-599').text).toBe('100-599');
    expect(ok(' 300-399 ,200').text).toBe('300-399,200');
  });

  it('accepts the whole range 100-599 and its edges', () => {
    expect(ok('100').has(100)).toBe(true);
    expect(ok('599').has(599)).toBe(true);
  });

  it.each([
    ['abc', 'abc'],
    ['99', '99'],
    ['600', '600'],
    ['300-200', '300-200'],
    ['', ''],
    ['200,', ''],
    [',200', ''],
    ['200,,204', ''],
    ['2000', '2000'],
    ['200-', '200-'],
    ['-200', '-200'],
    ['200-600', '200-600'],
    ['099', '099'],
    ['2xx', '2xx'],
  ])('refuses %j, quoting the bad part', (text, part) => {
    expect(problem(text)).toContain(`"${part}"`);
  });

  it('says why a part is wrong', () => {
    expect(problem('abc')).toMatch(/not a status/);
    expect(problem('600')).toMatch(/outside 100-599/);
    expect(problem('300-200')).toMatch(/empty range/);
  });
});
