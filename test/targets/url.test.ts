import { configErrorOf } from '../helpers/errors.ts';
import { describe, expect, it } from 'vitest';
import { parseUrl, redactParsed, redactRaw, userinfoSecrets } from '../../src/protocols/url.ts';

const INPUT = 'argument "test-url"';

const configError = configErrorOf;

describe('parseUrl', () => {
  it('splits a plain URL', () => {
    const u = parseUrl('redis://harbor-redis:6379/0?idle_timeout_seconds=30', INPUT);
    expect(u.raw).toBe('redis://harbor-redis:6379/0?idle_timeout_seconds=30');
    expect(u.scheme).toBe('redis');
    expect(u.userinfo).toBeUndefined();
    expect(u.hosts).toEqual([{ host: 'harbor-redis', port: 6379 }]);
    expect(u.path).toBe('/0');
    expect(u.query).toEqual([['idle_timeout_seconds', '30']]);
  });

  it('lower-cases the scheme and keeps +sentinel', () => {
    expect(parseUrl('REDIS://h', INPUT).scheme).toBe('redis');
    expect(parseUrl('rediss+sentinel://s1:26379/m', INPUT).scheme).toBe('rediss+sentinel');
  });

  it('gives no port, an empty path and no query when there are none', () => {
    const u = parseUrl('tcp://db', INPUT);
    expect(u.hosts).toEqual([{ host: 'db', port: undefined }]);
    expect(u.path).toBe('');
    expect(u.query).toEqual([]);
  });

  it('decodes percent-encoded user info and hides exactly the raw password', () => {
    const raw = 'redis://us%3Aer:p%40ss%2Fw%3Ard@h:6379/0';
    const u = parseUrl(raw, INPUT);
    expect(u.userinfo?.user).toBe('us:er');
    expect(u.userinfo?.password).toBe('p@ss/w:rd');
    expect(u.userinfo?.rawHidden).toBe('p%40ss%2Fw%3Ard');
    const [from, to] = u.userinfo?.hide ?? [0, 0];
    expect(raw.slice(from, to)).toBe('p%40ss%2Fw%3Ard');
    expect(u.hosts).toEqual([{ host: 'h', port: 6379 }]);
  });

  it('reads an empty user name (`:pass@`), as Harbor writes it', () => {
    const u = parseUrl('redis://:p%40ss@10.0.0.5:6379/0', INPUT);
    expect(u.userinfo?.user).toBe('');
    expect(u.userinfo?.password).toBe('p@ss');
    expect(u.hosts).toEqual([{ host: '10.0.0.5', port: 6379 }]);
  });

  it('keeps every colon after the first in the password', () => {
    expect(parseUrl('redis://u:a:b:c@h', INPUT).userinfo?.password).toBe('a:b:c');
  });

  it('splits the user info at the last "@" of the authority', () => {
    const u = parseUrl('redis://:p@ss@h', INPUT);
    expect(u.userinfo?.password).toBe('p@ss');
    expect(u.hosts).toEqual([{ host: 'h', port: undefined }]);
  });

  it('hides all of a lone user name (it may be a password without its colon)', () => {
    const raw = 'redis://S3CRET-MARK@h:6379';
    const u = parseUrl(raw, INPUT);
    expect(u.userinfo?.user).toBe('S3CRET-MARK');
    expect(u.userinfo?.password).toBeUndefined();
    expect(u.userinfo?.rawHidden).toBe('S3CRET-MARK');
    expect(redactParsed(u)).toBe('redis://***@h:6379');
    expect(userinfoSecrets(u.userinfo)).toEqual(['S3CRET-MARK']);
  });

  it('reads an empty password', () => {
    const u = parseUrl('redis://user:@h', INPUT);
    expect(u.userinfo?.user).toBe('user');
    expect(u.userinfo?.password).toBe('');
    expect(redactParsed(u)).toBe('redis://user:***@h');
    expect(userinfoSecrets(u.userinfo)).toEqual([]);
  });

  it('reads IPv6 hosts, with and without a port', () => {
    expect(parseUrl('redis://[::1]:6379/0', INPUT).hosts).toEqual([{ host: '::1', port: 6379 }]);
    expect(parseUrl('redis://[fe80::1:2]', INPUT).hosts).toEqual([{ host: 'fe80::1:2', port: undefined }]);
    expect(parseUrl('redis://[::ffff:10.0.0.1]:1', INPUT).hosts).toEqual([{ host: '::ffff:10.0.0.1', port: 1 }]);
  });

  it('refuses malformed IPv6 hosts', () => {
    expect(configError(() => parseUrl('redis://[::1:6379', INPUT)).message).toMatch(/closing "\]"/);
    expect(configError(() => parseUrl('redis://[zz]:6379', INPUT)).message).toMatch(/not an IPv6 address/);
    expect(configError(() => parseUrl('redis://[10.0.0.1]:6379', INPUT)).message).toMatch(/not an IPv6 address/);
    expect(configError(() => parseUrl('redis://[::1]6379', INPUT)).message).toMatch(/not a port/);
  });

  it('reads several hosts, each with its own port or none', () => {
    const u = parseUrl('redis+sentinel://:pw@s1:26379,s2,[::1]:26380,10.0.0.4:26381/mymaster/0', INPUT);
    expect(u.hosts).toEqual([
      { host: 's1', port: 26379 },
      { host: 's2', port: undefined },
      { host: '::1', port: 26380 },
      { host: '10.0.0.4', port: 26381 },
    ]);
    expect(u.path).toBe('/mymaster/0');
    expect(u.userinfo?.password).toBe('pw');
  });

  it('accepts ports 1 to 65535 only', () => {
    expect(parseUrl('tcp://h:1', INPUT).hosts[0]?.port).toBe(1);
    expect(parseUrl('tcp://h:65535', INPUT).hosts[0]?.port).toBe(65535);
    for (const port of ['0', '65536', '99999', 'abc', '', '-1', '123456', '6379x']) {
      const err = configError(() => parseUrl(`tcp://h:${port}`, INPUT));
      expect(err.message, port).toMatch(/not a port \(1-65535\)/);
    }
  });

  it('refuses a missing or malformed host', () => {
    for (const raw of ['redis://', 'redis://:pw@', 'redis://:6379', 'redis://h1,,h2', 'redis:///0']) {
      expect(configError(() => parseUrl(raw, INPUT)).message, raw).toMatch(/host is missing/);
    }
    for (const raw of ['redis://ho st:6379', 'redis://h%41', 'redis://-h', 'redis://h-', 'redis://h!']) {
      expect(configError(() => parseUrl(raw, INPUT)).message, raw).toMatch(/not a host name or address/);
    }
  });

  it('refuses what is not a URL with an authority', () => {
    for (const raw of ['harbor-redis:6379', 'redis:/h', '://h', '', '6379://h']) {
      expect(configError(() => parseUrl(raw, INPUT)).message, raw).toMatch(/not a URL/);
    }
  });

  it('decodes the query: "+" is a space, percent-escapes, empty values, repeated names in order', () => {
    const u = parseUrl('redis://h?a=b+c&d=%26%3D&e&&f=&a=2&x%2By=1%2B1', INPUT);
    expect(u.query).toEqual([
      ['a', 'b c'],
      ['d', '&='],
      ['e', ''],
      ['f', ''],
      ['a', '2'],
      ['x+y', '1+1'],
    ]);
    expect(u.path).toBe('');
  });

  it('keeps "=" after the first one in the value', () => {
    expect(parseUrl('redis://h?client_name=a=b', INPUT).query).toEqual([['client_name', 'a=b']]);
  });

  it('refuses malformed percent-escapes, naming the part', () => {
    expect(configError(() => parseUrl('redis://h?a=%zz', INPUT)).message).toMatch(/query has a malformed percent-escape/);
    expect(configError(() => parseUrl('redis://u:p%zz@h', INPUT)).message).toMatch(/password has a malformed/);
    expect(configError(() => parseUrl('redis://u%zz:p@h', INPUT)).message).toMatch(/user name has a malformed/);
  });

  it('refuses an "@" after "/", "?" or "#" (an unencoded character in the password)', () => {
    for (const raw of [
      'redis://:S3CRET/MARK@h:6379/0',
      'redis://:S3CRET?MARK@h:6379',
      'redis://:S3CRET#MARK@h:6379',
      'redis://h:6379/0@x',
    ]) {
      const err = configError(() => parseUrl(raw, INPUT));
      expect(err.message, raw).toMatch(/percent-encode/);
      expect(err.message).not.toContain('S3CRET');
      expect(err.message).not.toContain('MARK');
      expect(err.input).toBe(INPUT);
    }
  });

  it('refuses ";" in the query (Go does not split on it)', () => {
    const err = configError(() => parseUrl('redis://h?db=1;pool_size=3', INPUT));
    expect(err.message).toMatch(/";"/);
    expect(err.message).toMatch(/&/);
  });

  it('refuses a fragment', () => {
    expect(configError(() => parseUrl('redis://h:6379/0#frag', INPUT)).message).toMatch(/fragment/);
    expect(configError(() => parseUrl('http://h/#', INPUT)).message).toMatch(/fragment/);
  });

  it('names the input it was given in every error: "<input>: <problem>"', () => {
    const err = configError(() => parseUrl('redis://h:0', 'WAIT_TARGETS "redis://h:0"'));
    expect(err.input).toBe('WAIT_TARGETS "redis://h:0"');
    expect(err.message.startsWith('WAIT_TARGETS "redis://h:0": ')).toBe(true);
  });
});

describe('redactRaw', () => {
  it('hides everything between "://" and the last "@"', () => {
    expect(redactRaw('redis://:pw@h:6379/0')).toBe('redis://***@h:6379/0');
    expect(redactRaw('redis://user:pw@h')).toBe('redis://***@h');
    expect(redactRaw('redis://:p@ss@h')).toBe('redis://***@h');
    expect(redactRaw('redis://:S3CRET/MARK@h/0')).toBe('redis://***@h/0');
  });

  it('leaves a URL without "@" or without "://" alone', () => {
    expect(redactRaw('redis://h:6379/0')).toBe('redis://h:6379/0');
    expect(redactRaw('harbor-redis:6379')).toBe('harbor-redis:6379');
    expect(redactRaw('user@host')).toBe('user@host');
    expect(redactRaw('')).toBe('');
  });
});

describe('redactParsed', () => {
  it('returns the raw URL when there is no user info', () => {
    const raw = 'redis+sentinel://s1:26379,s2:26379/mymaster/0';
    expect(redactParsed(parseUrl(raw, INPUT))).toBe(raw);
  });

  it('hides the password only, keeping the user name', () => {
    expect(redactParsed(parseUrl('redis://admin:p%40ss@h:6379/0?db=1', INPUT))).toBe('redis://admin:***@h:6379/0?db=1');
    expect(redactParsed(parseUrl('redis://:pw@s1:26379,s2:26379/m', INPUT))).toBe('redis://:***@s1:26379,s2:26379/m');
  });

  it('hides a password that contains "@"', () => {
    expect(redactParsed(parseUrl('redis://u:S3CRET@MARK@h', INPUT))).toBe('redis://u:***@h');
  });
});

describe('userinfoSecrets', () => {
  it('is empty without user info', () => {
    expect(userinfoSecrets(undefined)).toEqual([]);
  });

  it('gives the decoded and the raw password, once each', () => {
    expect(userinfoSecrets(parseUrl('redis://u:p%40ss@h', INPUT).userinfo)).toEqual(['p@ss', 'p%40ss']);
    expect(userinfoSecrets(parseUrl('redis://u:plain@h', INPUT).userinfo)).toEqual(['plain']);
  });

  it('does not count the user name as a secret when a password is given', () => {
    expect(userinfoSecrets(parseUrl('redis://admin:pw@h', INPUT).userinfo)).not.toContain('admin');
  });

  it('gives a lone user name, decoded and raw', () => {
    expect(userinfoSecrets(parseUrl('redis://p%40ss@h', INPUT).userinfo)).toEqual(['p@ss', 'p%40ss']);
  });
});
