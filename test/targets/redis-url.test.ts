import { configErrorOf } from '../helpers/errors.ts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/basics/errors.ts';
import { parseRedisUrl } from '../../src/protocols/redis/url.ts';
import { redactRaw } from '../../src/protocols/url.ts';

/** The input name as the target registry builds it: where from, and the URL without its user info. */
function inputOf(raw: string): string {
  return `argument "${redactRaw(raw)}"`;
}

function parse(raw: string) {
  return parseRedisUrl(raw, inputOf(raw));
}

function configError(raw: string): ConfigError {
  const err = configErrorOf(() => parse(raw));
  expect(err.input).toBe(inputOf(raw));
  return err;
}

/** Every query parameter Harbor accepts (harbor-facts.md §3), with a valid value. */
const ACCEPTED: ReadonlyArray<readonly [string, string]> = [
  ['db', '2'],
  ['protocol', '3'],
  ['client_name', 'harbor-core'],
  ['max_retries', '3'],
  ['min_retry_backoff', '8ms'],
  ['max_retry_backoff', '512ms'],
  ['dial_timeout', '5s'],
  ['read_timeout', '3'],
  ['write_timeout', '1m30s'],
  ['pool_fifo', 'true'],
  ['pool_size', '10'],
  ['pool_timeout', '4s'],
  ['min_idle_conns', '0'],
  ['max_idle_conns', '5'],
  ['max_active_conns', '20'],
  ['max_concurrent_dials', '4'],
  ['conn_max_idle_time', '30m'],
  ['idle_timeout', '300'],
  ['idle_timeout_seconds', '30'],
  ['conn_max_lifetime', '1h'],
  ['max_conn_age', '0'],
  ['skip_verify', 'true'],
];

describe('parseRedisUrl: the URLs of harbor-facts.md §3', () => {
  it("core's URL with no path: redis://redis:6379?idle_timeout_seconds=30", () => {
    const { spec, label, secrets } = parse('redis://redis:6379?idle_timeout_seconds=30');
    expect(spec).toEqual({
      tls: false,
      sentinel: false,
      hosts: [{ host: 'redis', port: 6379 }],
      masterName: undefined,
      username: undefined,
      password: undefined,
      emptyPassword: false,
      db: 0,
      skipVerify: false,
    });
    expect(label).toBe('redis://redis:6379?idle_timeout_seconds=30');
    expect(secrets).toEqual([]);
  });

  it('the chart internal URL: redis://harbor-redis:6379/0?idle_timeout_seconds=30', () => {
    const { spec } = parse('redis://harbor-redis:6379/0?idle_timeout_seconds=30');
    expect(spec.hosts).toEqual([{ host: 'harbor-redis', port: 6379 }]);
    expect(spec.db).toBe(0);
    expect(spec.password).toBeUndefined();
    expect(spec.tls).toBe(false);
    expect(spec.sentinel).toBe(false);
  });

  it('the chart external URL: redis://:p%40ss@10.0.0.5:6379/0?idle_timeout_seconds=30', () => {
    const raw = 'redis://:p%40ss@10.0.0.5:6379/0?idle_timeout_seconds=30';
    const { spec, label, secrets } = parse(raw);
    expect(spec.hosts).toEqual([{ host: '10.0.0.5', port: 6379 }]);
    expect(spec.password).toBe('p@ss');
    expect(spec.username).toBeUndefined();
    expect(spec.db).toBe(0);
    expect(label).toBe('redis://:***@10.0.0.5:6379/0?idle_timeout_seconds=30');
    expect(secrets).toContain('p@ss');
    expect(secrets).toContain('p%40ss');
  });

  it('the chart sentinel URL: redis+sentinel://:pw@s1:26379,s2:26379,s3:26379/mymaster/0?idle_timeout_seconds=30', () => {
    const raw = 'redis+sentinel://:pw@s1:26379,s2:26379,s3:26379/mymaster/0?idle_timeout_seconds=30';
    const { spec, label, secrets } = parse(raw);
    expect(spec).toEqual({
      tls: false,
      sentinel: true,
      hosts: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
        { host: 's3', port: 26379 },
      ],
      masterName: 'mymaster',
      username: undefined,
      password: 'pw',
      emptyPassword: false,
      db: 0,
      skipVerify: false,
    });
    expect(label).toBe('redis+sentinel://:***@s1:26379,s2:26379,s3:26379/mymaster/0?idle_timeout_seconds=30');
    expect(secrets).toEqual(['pw']);
  });

  it("jobservice's URL: redis://harbor-redis:6379/1", () => {
    const { spec, label } = parse('redis://harbor-redis:6379/1');
    expect(spec.hosts).toEqual([{ host: 'harbor-redis', port: 6379 }]);
    expect(spec.db).toBe(1);
    expect(label).toBe('redis://harbor-redis:6379/1');
  });

  it('the general form with a user: redis://user:password@host:port/db', () => {
    const { spec, label } = parse('redis://us%40er:pa%3Ass@cache.example:6380/7');
    expect(spec.username).toBe('us@er');
    expect(spec.password).toBe('pa:ss');
    expect(spec.hosts).toEqual([{ host: 'cache.example', port: 6380 }]);
    expect(spec.db).toBe(7);
    expect(label).toBe('redis://us%40er:***@cache.example:6380/7');
  });
});

describe('parseRedisUrl: schemes, ports, db, master name', () => {
  it('defaults the port to 6379 and the db to 0', () => {
    const { spec } = parse('redis://harbor-redis');
    expect(spec.hosts).toEqual([{ host: 'harbor-redis', port: 6379 }]);
    expect(spec.db).toBe(0);
    expect(parse('redis://h/').spec.db).toBe(0);
  });

  it('sets tls for rediss and rediss+sentinel only', () => {
    expect(parse('redis://h').spec.tls).toBe(false);
    expect(parse('rediss://h').spec.tls).toBe(true);
    expect(parse('redis+sentinel://s:26379/m').spec.tls).toBe(false);
    const s = parse('rediss+sentinel://s:26379/m').spec;
    expect(s.tls).toBe(true);
    expect(s.sentinel).toBe(true);
    expect(parse('rediss://h').spec.hosts).toEqual([{ host: 'h', port: 6379 }]);
  });

  it('reads the scheme case-insensitively', () => {
    expect(parse('REDISS://h').spec.tls).toBe(true);
  });

  it('refuses other schemes', () => {
    for (const raw of ['http://h', 'redis+cluster://h', 'valkey://h', 'unix://h']) {
      expect(configError(raw).message, raw).toMatch(/not a Redis scheme/);
    }
  });

  it('reads IPv6 hosts', () => {
    expect(parse('redis://[::1]/3').spec.hosts).toEqual([{ host: '::1', port: 6379 }]);
    expect(parse('redis+sentinel://[fd00::1]:26379,[fd00::2]:26379/m').spec.hosts).toEqual([
      { host: 'fd00::1', port: 26379 },
      { host: 'fd00::2', port: 26379 },
    ]);
  });

  it('takes the db from the `db` query parameter', () => {
    expect(parse('redis://h?db=5').spec.db).toBe(5);
    expect(parse('redis://h:6379?db=%2B5').spec.db).toBe(5);
    expect(parse('redis://h?db=').spec.db).toBe(0);
    expect(parse('redis+sentinel://s:26379/m?db=4').spec.db).toBe(4);
  });

  it('reads the sentinel master name (percent-decoded) and optional db', () => {
    expect(parse('redis+sentinel://s1:26379/mymaster').spec).toMatchObject({ masterName: 'mymaster', db: 0 });
    expect(parse('redis+sentinel://s1:26379/mymaster/').spec).toMatchObject({ masterName: 'mymaster', db: 0 });
    expect(parse('redis+sentinel://s1:26379/my%20master/2').spec).toMatchObject({ masterName: 'my master', db: 2 });
  });

  it('has no master name for a plain server', () => {
    expect(parse('redis://h/0').spec.masterName).toBeUndefined();
  });

  it('refuses a sentinel URL without a master name, or with another path shape', () => {
    for (const raw of ['redis+sentinel://s1:26379', 'redis+sentinel://s1:26379/', 'redis+sentinel://s1:26379/m/0/x']) {
      expect(configError(raw).message, raw).toMatch(/\/<master-name>/);
    }
  });

  it('refuses a sentinel without a port', () => {
    const err = configError('redis+sentinel://s1:26379,s2/mymaster');
    expect(err.message).toMatch(/"s2" has no port/);
    expect(err.message).toMatch(/26379/);
  });

  it('refuses more than one host without +sentinel', () => {
    for (const raw of ['redis://h1:6379,h2:6379/0', 'rediss://h1,h2']) {
      expect(configError(raw).message, raw).toMatch(/one host.*sentinel/);
    }
  });

  it('refuses a bad db', () => {
    expect(configError('redis://h/abc').message).toMatch(/"abc" is not a database number/);
    expect(configError('redis://h/0/1').message).toMatch(/must be empty or \/<db>/);
    expect(configError('redis://h/-1').message).toMatch(/not a database number/);
    expect(configError('redis+sentinel://s:26379/m/x').message).toMatch(/"x" is not a database number/);
    expect(configError('redis://h?db=abc').message).toMatch(/db="abc" must be an integer/);
    expect(configError('redis://h?db=-1').message).toMatch(/not a database number/);
  });
});

describe('parseRedisUrl: query parameters', () => {
  it.each(ACCEPTED)('accepts %s=%s (on rediss)', (name, value) => {
    expect(() => parse(`rediss://h:6379/0?${name}=${encodeURIComponent(value)}`)).not.toThrow();
  });

  it.each(ACCEPTED.filter(([n]) => n !== 'skip_verify'))('accepts %s=%s on plain redis and sentinel', (name, value) => {
    expect(() => parse(`redis://h:6379/0?${name}=${value}`)).not.toThrow();
    expect(() => parse(`redis+sentinel://s:26379/m?${name}=${value}`)).not.toThrow();
  });

  it('accepts every parameter at once, and an empty value for any of them', () => {
    const all = ACCEPTED.map(([n, v]) => `${n}=${encodeURIComponent(v)}`).join('&');
    expect(parse(`rediss://h?${all}`).spec.db).toBe(2);
    const empty = ACCEPTED.map(([n]) => `${n}=`).join('&');
    expect(() => parse(`rediss://h?${empty}`)).not.toThrow();
  });

  it.each(['foo', 'password', 'sentinel_password', 'timeout', 'idle_timeout_second', 'DB', 'ssl', 'tls'])(
    'refuses the unknown parameter %s, as Harbor would ("unexpected option")',
    (name) => {
      const err = configError(`redis://h:6379/0?${name}=1`);
      expect(err.message).toContain(`"${name}"`);
      expect(err.message).toContain('unexpected option');
      expect(err.message).toContain(`redis: unexpected option: ${name}`);
    },
  );

  it('lists the accepted parameters when refusing one', () => {
    const err = configError('redis://h?foo=1');
    for (const [name] of ACCEPTED) expect(err.message).toContain(name);
  });

  it('accepts skip_verify only with TLS', () => {
    expect(parse('rediss://h?skip_verify=true').spec.skipVerify).toBe(true);
    expect(parse('rediss://h?skip_verify=1').spec.skipVerify).toBe(true);
    expect(parse('rediss://h?skip_verify=false').spec.skipVerify).toBe(false);
    expect(parse('rediss://h?skip_verify=0').spec.skipVerify).toBe(false);
    expect(parse('rediss://h?skip_verify=').spec.skipVerify).toBe(false);
    expect(parse('rediss+sentinel://s:26379/m?skip_verify=true').spec.skipVerify).toBe(true);
    expect(parse('rediss://h').spec.skipVerify).toBe(false);
    for (const raw of ['redis://h?skip_verify=true', 'redis+sentinel://s:26379/m?skip_verify=false']) {
      const err = configError(raw);
      expect(err.message, raw).toContain('unexpected option');
      expect(err.message).toContain('skip_verify');
      expect(err.message).toMatch(/rediss/);
    }
  });

  it.each([
    ['max_retries', 'three'],
    ['pool_size', '1.5'],
    ['protocol', '3x'],
    ['db', 'one'],
    ['min_idle_conns', '10s'],
  ])('refuses a non-integer %s=%s', (name, value) => {
    expect(configError(`redis://h?${name}=${value}`).message).toContain(`${name}="${value}" must be an integer`);
  });

  it.each([
    ['dial_timeout', 'soon'],
    ['read_timeout', '1.5'],
    ['idle_timeout_seconds', '30 s'],
    ['conn_max_idle_time', '5x'],
    ['pool_timeout', '1h30'],
  ])('refuses a non-duration %s=%j', (name, value) => {
    const err = configError(`redis://h?${name}=${encodeURIComponent(value)}`);
    expect(err.message).toContain(`${name}="${value}"`);
    expect(err.message).toMatch(/must be a duration/);
  });

  it('accepts durations as bare seconds or Go durations, signed as Go allows', () => {
    for (const v of ['30', '500ms', '1m30s', '-1', '+5s', '0']) {
      expect(() => parse(`redis://h?dial_timeout=${encodeURIComponent(v)}`), v).not.toThrow();
    }
  });

  it.each(['yes', 'no', 'TRUE', 'on', '2'])('refuses the boolean pool_fifo=%s', (value) => {
    expect(configError(`redis://h?pool_fifo=${value}`).message).toContain('must be true, false, 1 or 0');
  });
});

describe('parseRedisUrl: secrets', () => {
  const PASSWORD = 'S3CRET-MARK';

  it('never shows the password in the label; lists it decoded and raw as secrets', () => {
    const raw = 'redis://admin:S3CRET-MARK%2F%40%3A@h:6379/0';
    const { spec, label, secrets } = parse(raw);
    expect(spec.password).toBe('S3CRET-MARK/@:');
    expect(label).not.toContain(PASSWORD);
    expect(label).toBe('redis://admin:***@h:6379/0');
    expect(secrets).toEqual(expect.arrayContaining(['S3CRET-MARK/@:', 'S3CRET-MARK%2F%40%3A']));
  });

  it('hides a lone user name (no password is sent for it)', () => {
    const { spec, label, secrets } = parse('redis://S3CRET-MARK@h:6379');
    expect(label).toBe('redis://***@h:6379');
    expect(secrets).toContain(PASSWORD);
    expect(spec.password).toBeUndefined();
  });

  it('property: any password survives percent-encoding and never reaches the label', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (password) => {
        const encoded = encodeURIComponent(password);
        const { spec, label, secrets } = parse(`redis://:${encoded}@h:6379/0`);
        expect(spec.password).toBe(password);
        expect(label).toBe('redis://:***@h:6379/0');
        expect(secrets).toContain(password);
        expect(secrets).toContain(encoded);
      }),
    );
  });

  it.each([
    'redis://:S3CRET-MARK@h:6379/abc',
    'redis://:S3CRET-MARK@h:6379/0/1',
    'redis://:S3CRET-MARK@h1:6379,h2:6379/0',
    'redis://:S3CRET-MARK@h:0',
    'redis://:S3CRET-MARK@h:6379?foo=1',
    'redis://:S3CRET-MARK@h:6379?skip_verify=true',
    'redis://:S3CRET-MARK@h:6379?db=x',
    'redis://:S3CRET-MARK@h:6379?pool_fifo=maybe',
    'redis://:S3CRET-MARK@h:6379?dial_timeout=never',
    'redis://:S3CRET-MARK@h:6379?a=1;b=2',
    'redis://:S3CRET-MARK@h:6379#x',
    'redis://:S3CRET-MARK@',
    'redis://:S3CRET-MARK@ho st',
    'redis://:S3CRET-MARK@[::1',
    'redis://:S3CRET-MARK@[xyz]',
    'redis://:S3CRET-MARK%zz@h',
    'redis://:S3CRET/MARK@h:6379/0',
    'redis://:S3CRET?MARK@h:6379/0',
    'redis://:S3CRET#MARK@h:6379/0',
    'redis://S3CRET-MARK@h:6379/x',
    'redis://user:S3CRET-MARK@h?protocol=x',
    'redis+sentinel://:S3CRET-MARK@s1:26379',
    'redis+sentinel://:S3CRET-MARK@s1:26379,s2/m',
    'redis+sentinel://:S3CRET-MARK@s1:26379/m/z',
    'redis+sentinel://:S3CRET-MARK@s1:26379/m%zz',
    'rediss+sentinel://:S3CRET-MARK@s1:26379/m/0/0',
    'http://:S3CRET-MARK@h',
  ])('never puts the password in a ConfigError message: %s', (raw) => {
    const err = configError(raw);
    expect(err.message).not.toContain('S3CRET');
    expect(err.message).not.toContain('MARK');
    expect(err.input).not.toContain('S3CRET');
  });
});
