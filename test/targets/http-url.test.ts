import { isScrubbable } from '../../src/basics/redact.ts';
import { configErrorOf } from '../helpers/errors.ts';
import { describe, expect, it } from 'vitest';
import { ConfigError, NotReady } from '../../src/basics/errors.ts';
import { parseStatusSet, type StatusSet } from '../../src/basics/status-set.ts';
import { CORE_CONFIG_PATH, parseHarborCore, parseHttpUrl } from '../../src/protocols/http/url.ts';

const INPUT = '--harbor-core "test"';
const SECRET = 'S3CRET-MARK-jobservice';

function statusSet(text: string): StatusSet {
  const s = parseStatusSet(text);
  if ('problem' in s) throw new Error(s.problem);
  return s;
}

const configError = configErrorOf;

describe('parseHttpUrl', () => {
  it('reads a plain URL: no headers, no secrets, the label is the URL', () => {
    const { spec, label, secrets } = parseHttpUrl('http://harbor-core:8080/api/v2.0/ping', 'argument');
    expect(spec.url.href).toBe('http://harbor-core:8080/api/v2.0/ping');
    expect(spec.headers).toEqual({});
    expect(secrets).toEqual([]);
    expect(label).toBe('http://harbor-core:8080/api/v2.0/ping');
  });

  it('keeps the query in the URL and the label', () => {
    const { spec, label } = parseHttpUrl('https://h/api/v1/stats?x=1', 'argument');
    expect(spec.url.search).toBe('?x=1');
    expect(label).toBe('https://h/api/v1/stats?x=1');
  });

  it('sends a token in the query, but hides its value in the label and counts it as a secret', () => {
    const { spec, label, secrets } = parseHttpUrl('https://h/health?full=1&access_token=S3CRET%2FMARK&Password=pw1234', 'argument');
    expect(spec.url.search).toBe('?full=1&access_token=S3CRET%2FMARK&Password=pw1234');
    expect(label).toBe('https://h/health?full=1&access_token=***&Password=***');
    expect(secrets).toEqual(expect.arrayContaining(['S3CRET%2FMARK', 'S3CRET/MARK', 'pw1234']));
    expect(secrets).not.toContain('1');
  });

  it('hides a short secret value in the label; it is a secret, too short for the scrubber to search for (config.ts warns)', () => {
    const { label, secrets } = parseHttpUrl('http://h/?token=ab', 'argument');
    expect(label).toBe('http://h/?token=***');
    expect(secrets).toEqual(['ab']);
    expect(isScrubbable('ab')).toBe(false);
  });

  it('turns user info into HTTP Basic, hides the password in the label and drops it from the URL', () => {
    const raw = 'http://admin:S3CRET-MARK%40x@harbor-core:8080/api/v2.0/health';
    const { spec, label, secrets } = parseHttpUrl(raw, 'argument');
    const basic = Buffer.from('admin:S3CRET-MARK@x').toString('base64');
    expect(spec.headers).toEqual({ authorization: `Basic ${basic}` });
    expect(label).toBe('http://admin:***@harbor-core:8080/api/v2.0/health');
    expect(label).not.toContain('S3CRET');
    expect(spec.url.href).toBe('http://harbor-core:8080/api/v2.0/health');
    expect(spec.url.username).toBe('');
    expect(spec.url.password).toBe('');
    expect(secrets).toEqual(expect.arrayContaining(['S3CRET-MARK@x', 'S3CRET-MARK%40x', basic]));
  });

  it('decodes a percent-encoded user name for the Basic header', () => {
    const { spec } = parseHttpUrl('http://us%20er:pw@h/', 'argument');
    expect(spec.headers.authorization).toBe(`Basic ${Buffer.from('us er:pw').toString('base64')}`);
  });

  it('sends Basic with an empty password for a lone user name, and counts the header as a secret', () => {
    const { spec, secrets } = parseHttpUrl('http://robot@h/', 'argument');
    const basic = Buffer.from('robot:').toString('base64');
    expect(spec.headers.authorization).toBe(`Basic ${basic}`);
    expect(secrets).toContain(basic);
    expect(secrets).not.toContain('');
  });

  it('hides a lone user name in the label, as it may be a password written without its colon', () => {
    const { label, secrets } = parseHttpUrl('http://S3CRET-MARK@h/health', 'argument');
    expect(label).toBe('http://***@h/health');
    expect(secrets).toContain('S3CRET-MARK');
  });

  it('refuses what is not an http(s) URL', () => {
    expect(configError(() => parseHttpUrl('harbor-core:80', 'argument')).message).toMatch(/^argument: /);
    expect(configError(() => parseHttpUrl('ftp://h/', 'argument')).message).toMatch(/http:\/\/ or https:\/\//);
    expect(configError(() => parseHttpUrl('http://', 'argument')).message).toMatch(/not a valid URL/);
  });

  it('refuses a fragment', () => {
    expect(configError(() => parseHttpUrl('http://h/#x', 'argument')).message).toMatch(/fragment/);
  });

  it('refuses a malformed percent-escape in the user info without echoing it', () => {
    const err = configError(() => parseHttpUrl('http://u:S3CRET%zzMARK@h/', 'argument'));
    expect(err.message).toMatch(/malformed percent-escape/);
    expect(err.message).not.toContain('S3CRET');
  });

  describe('judge (generic)', () => {
    const { spec } = parseHttpUrl('http://h/', 'argument');

    it('is ready for a status in the set', () => {
      expect(spec.judge(200, 'h:80', statusSet('200-299'))).toBeUndefined();
      expect(spec.judge(204, 'h:80', statusSet('200-299'))).toBeUndefined();
      expect(spec.judge(304, 'h:80', statusSet('200,304'))).toBeUndefined();
      expect(spec.judge(401, 'h:80', statusSet('401'))).toBeUndefined();
    });

    it('is not ready otherwise, with code HTTP_<status> at stage response', () => {
      const r = spec.judge(404, 'h:80', statusSet('200-299'));
      expect(r).toBeInstanceOf(NotReady);
      expect(r?.stage).toBe('response');
      expect(r?.code).toBe('HTTP_404');
      expect(r?.reason).toContain('h:80');
      expect(r?.reason).toContain('404');
      expect(r?.reason).toContain('200-299');
      expect(spec.judge(200, 'h:80', statusSet('204'))?.code).toBe('HTTP_200');
      expect(spec.judge(500, 'h:80', statusSet('200'))?.code).toBe('HTTP_500');
    });

    it('explains a 503 as a proxy or mesh without a healthy upstream', () => {
      const r = spec.judge(503, 'h:80', statusSet('200-299'));
      expect(r?.code).toBe('HTTP_503');
      expect(r?.reason).toMatch(/proxy or mesh/);
    });
  });
});

describe('parseHarborCore', () => {
  it("calls GET <base>/api/v2.0/internalconfig with Authorization: Harbor-Secret <secret>", () => {
    expect(CORE_CONFIG_PATH).toBe('/api/v2.0/internalconfig');
    const { spec, label, secrets } = parseHarborCore('http://harbor-core:80', INPUT, SECRET);
    expect(spec.url.pathname).toBe('/api/v2.0/internalconfig');
    expect(spec.url.hostname).toBe('harbor-core');
    expect(spec.url.protocol).toBe('http:');
    expect(spec.url.href).toBe('http://harbor-core/api/v2.0/internalconfig');
    expect(spec.headers).toEqual({ authorization: `Harbor-Secret ${SECRET}` });
    expect(label).toBe('http://harbor-core/api/v2.0/internalconfig');
    expect(label).not.toContain(SECRET);
    expect(secrets).toEqual([SECRET]);
  });

  it('takes the internal TLS form and a trailing slash', () => {
    const { spec } = parseHarborCore('https://my-harbor-core:443/', INPUT, SECRET);
    expect(spec.url.href).toBe('https://my-harbor-core/api/v2.0/internalconfig');
    expect(parseHarborCore('http://harbor-core:8080/', INPUT, SECRET).spec.url.href).toBe(
      'http://harbor-core:8080/api/v2.0/internalconfig',
    );
  });

  it('refuses a base URL with a path, saying the config path is added', () => {
    for (const raw of ['http://harbor-core/api', 'http://harbor-core/api/v2.0/internalconfig', 'http://harbor-core:80/x/']) {
      const err = configError(() => parseHarborCore(raw, INPUT, SECRET));
      expect(err.input).toBe(INPUT);
      expect(err.message, raw).toContain(CORE_CONFIG_PATH);
      expect(err.message).toMatch(/without a path/);
      expect(err.message).not.toContain(SECRET);
    }
  });

  it('refuses the old /api/internal/configurations path, saying it is gone', () => {
    const err = configError(() => parseHarborCore('http://harbor-core/api/internal/configurations', INPUT, SECRET));
    expect(err.message).toContain('/api/internal/configurations');
    expect(err.message).toMatch(/gone/);
    expect(err.message).toMatch(/v2\.3/);
  });

  it('refuses a query', () => {
    const err = configError(() => parseHarborCore('http://harbor-core:80/?x=1', INPUT, SECRET));
    expect(err.message).toMatch(/without a query/);
  });

  it('refuses user info', () => {
    for (const raw of ['http://admin:pw@harbor-core:80', 'http://admin@harbor-core']) {
      const err = configError(() => parseHarborCore(raw, INPUT, SECRET));
      expect(err.message, raw).toMatch(/no user info/);
      expect(err.message).not.toContain('pw@');
    }
  });

  it('refuses other schemes and fragments', () => {
    expect(configError(() => parseHarborCore('tcp://harbor-core:80', INPUT, SECRET)).message).toMatch(/http/);
    expect(configError(() => parseHarborCore('http://harbor-core/#x', INPUT, SECRET)).message).toMatch(/fragment/);
    expect(configError(() => parseHarborCore('harbor-core', INPUT, SECRET)).message).toMatch(/not a valid URL/);
  });

  describe('judge (core)', () => {
    const { spec } = parseHarborCore('http://harbor-core:80', INPUT, SECRET);
    const any = statusSet('200-299');
    const peer = 'harbor-core:80';

    it('is ready on 200 only', () => {
      expect(spec.judge(200, peer, any)).toBeUndefined();
      for (const status of [201, 204, 301, 302]) {
        const r = spec.judge(status, peer, any);
        expect(r, String(status)).toBeInstanceOf(NotReady);
        expect(r?.code).toBe(`HTTP_${status}`);
        expect(r?.stage).toBe('response');
      }
    });

    it('ignores --expect-status', () => {
      expect(spec.judge(200, peer, statusSet('204'))).toBeUndefined();
      expect(spec.judge(401, peer, statusSet('401'))?.code).toBe('HTTP_401');
    });

    it('401: the secret is wrong, pointing at JOBSERVICE_SECRET', () => {
      const r = spec.judge(401, peer, any);
      expect(r?.stage).toBe('auth');
      expect(r?.code).toBe('HTTP_401');
      expect(r?.reason).toContain('JOBSERVICE_SECRET');
      expect(r?.reason).toContain(peer);
      expect(r?.reason).not.toContain(SECRET);
    });

    it('403 is an auth failure too', () => {
      const r = spec.judge(403, peer, any);
      expect(r?.stage).toBe('auth');
      expect(r?.code).toBe('HTTP_403');
    });

    it('500: core is up but its database or Redis may not be', () => {
      const r = spec.judge(500, peer, any);
      expect(r?.stage).toBe('response');
      expect(r?.code).toBe('HTTP_500');
      expect(r?.reason).toMatch(/database or Redis/);
    });

    it('404: wrong base URL or a core older than v2.3', () => {
      const r = spec.judge(404, peer, any);
      expect(r?.code).toBe('HTTP_404');
      expect(r?.reason).toContain(CORE_CONFIG_PATH);
    });

    it('502/503/504 come from a proxy or mesh in front of core', () => {
      for (const status of [502, 503, 504]) {
        const r = spec.judge(status, peer, any);
        expect(r?.code).toBe(`HTTP_${status}`);
        expect(r?.stage).toBe('response');
        expect(r?.reason).toMatch(/proxy or mesh/);
      }
    });
  });
});
