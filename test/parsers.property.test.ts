/**
 * No input crashes it (issue 17, item 5): for arbitrary operator input — target URLs of every scheme (as
 * arguments and in WAIT_TARGETS), durations, status lists, listen addresses, the env of both presets, jobservice's
 * config.yml as text and as generated YAML structures (anchors, aliases, merge keys, tags), and arbitrary bytes as
 * PEM files — loadConfig either returns a configuration or throws a ConfigError, never any other exception, and
 * makes no library print a warning. The parsers' own results stay in range. A sample runs through the built entry:
 * exit 0, 1, 2 or 124 only, no "internal error", no stack trace; only configurations whose every target is on
 * loopback are run, so nothing leaves the machine.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../src/config/options.ts';
import { MAX_DURATION_MS, parseDuration } from '../src/basics/duration.ts';
import { ConfigError } from '../src/basics/errors.ts';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { parseListenAddress } from '../src/net/listen-address.ts';
import { parseStatusSet } from '../src/basics/status-set.ts';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/processes.ts';

type Env = Record<string, string | undefined>;

const dir = tempDir('harbor-wait-parsers-');
let fileCount = 0;
function file(content: string | Uint8Array, name = 'f'): string {
  const path = join(dir, `${name}-${fileCount++ % 200}`);
  writeFileSync(path, content);
  return path;
}

/** Warnings Node or a library emitted (process.emitWarning) while a property ran: they would go to stderr. */
let emitted: string[] = [];
const onWarning = (w: Error) => emitted.push(`${w.name}: ${w.message}`);
beforeEach(() => {
  emitted = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
  expect(emitted, 'a warning went to stderr').toEqual([]);
});

/** loadConfig's only outcomes: a configuration, or a ConfigError naming an input. */
async function outcome(argv: readonly string[], env: Env): Promise<Config | ConfigError> {
  try {
    const loaded = await loadConfig(argv, env);
    if (loaded.kind !== 'run') throw new Error(`expected a run, got ${loaded.kind}`);
    return loaded.config;
  } catch (err) {
    if (err instanceof ConfigError) {
      expect(err.input).not.toBe('');
      expect(err.message.startsWith(`${err.input}: `)).toBe(true);
      return err;
    }
    throw new Error(`not a ConfigError for argv ${JSON.stringify(argv)}, env ${JSON.stringify(env)}: ${(err as Error)?.stack ?? String(err)}`);
  }
}

const MANY = { numRuns: 1500 };
const SOME = { numRuns: 400 };

// ---------------------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------------------

const SCHEMES = ['redis', 'rediss', 'redis+sentinel', 'rediss+sentinel', 'postgres', 'postgresql', 'http', 'https', 'tcp'] as const;

/** Pieces URLs are made of, and the characters and escapes parsers trip on. */
const FRAGMENTS = [
  'a', 'h', 'x1', '0', '1', '9', '6379', '26379', '65536', '99999999999', ':', '::', '/', '//', '@', '@@', '?', '#', '&', '=', '%', '%zz', '%41',
  '%00', '%2F', '%40', '%c3%28', '%ed%a0%80', '[', ']', '[::1]', '[::ffff:127.0.0.1]', '[fe80::1%25eth0]', '127.0.0.1', '10.0.0.300', 'localhost',
  ',', '.', '..', '-', '_', '+', '~', '!', '*', "'", '(', ')', '$', ';', '\\', '"', '<', '>', '{', '}', '|', '^', '`', ' ', '\t', '\n', '\r',
  '\u0000', '\u007f', '\u00a0', 'é', '中', '\u2010', '\ufeff', '\ud800', '\udc00', '😀', 'db=', 'db=1', 'db=-1', 'skip_verify=', 'skip_verify=true',
  'sslmode=', 'sslmode=verify-full', 'sslrootcert=', 'sslrootcert=system', 'sslcert=', 'sslkey=', 'connect_timeout=', 'connect_timeout=99999999',
  'target_session_attrs=', 'application_name=', 'dial_timeout=', 'dial_timeout=1h', 'idle_timeout_seconds=30', 'password=', 'mymaster', '/mymaster/0',
  ':pw@', 'user:pw@', ':@', 'user@',
];
const fragment = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FRAGMENTS) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) });
const junk = fc.array(fragment, { maxLength: 16 }).map((parts) => parts.join(''));

/** scheme://junk, now and then a long one. */
const targetUrl = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...SCHEMES), junk).map(([s, rest]) => `${s}://${rest}`) },
  { weight: 1, arbitrary: junk },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...SCHEMES), fragment, fc.integer({ min: 1000, max: 100_000 })).map(([s, f, n]) => `${s}://${f.repeat(Math.ceil(n / Math.max(1, f.length)))}`) },
);

const anyText = fc.oneof(junk, fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }));
const durationText = fc.oneof(
  anyText,
  fc.tuple(fc.constantFrom('', '-', '+'), fc.array(fc.tuple(fc.oneof(fc.nat(), fc.double({ noNaN: true, min: 0, max: 1e12 })), fc.constantFrom('ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h', '', 'd', 'S')), { maxLength: 4 }))
    .map(([sign, parts]) => `${sign}${parts.map(([n, u]) => `${n}${u}`).join('')}`),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
);
const statusText = fc.oneof(anyText, fc.array(fc.oneof(fc.integer({ min: -1, max: 1000 }).map(String), fc.tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 999 })).map(([a, b]) => `${a}-${b}`), fragment), { maxLength: 5 }).map((p) => p.join(',')));
const listenText = fc.oneof(
  anyText,
  fc.tuple(fc.constantFrom('', '0.0.0.0', '127.0.0.1', '[::1]', '[::]', 'localhost', '::1', '[', 'h', '1.2.3.4.5'), fc.constantFrom(':', '', '::'), fc.oneof(fc.integer({ min: -5, max: 70_000 }).map(String), fragment))
    .map(([h, c, p]) => `${h}${c}${p}`),
);

const DURATION_FLAGS = ['deadline', 'attempt-timeout', 'backoff-initial', 'backoff-max', 'serve-interval'] as const;
const envName = (flag: string) => `WAIT_${flag.toUpperCase().replaceAll('-', '_')}`;

// ---------------------------------------------------------------------------------------------------------
// The parsers on their own: never a throw, results in range
// ---------------------------------------------------------------------------------------------------------

describe('the small parsers: a value in range or a problem, never a throw', () => {
  it('property: parseDuration gives 0..MAX_DURATION_MS milliseconds or a problem quoting the text', () => {
    fc.assert(
      fc.property(durationText, (text) => {
        const r = parseDuration(text);
        if ('problem' in r) {
          expect(r.problem).toContain(`"${text}"`);
          return;
        }
        expect(Number.isInteger(r.ms)).toBe(true);
        expect(r.ms).toBeGreaterThanOrEqual(0);
        expect(r.ms).toBeLessThanOrEqual(MAX_DURATION_MS);
      }),
      MANY,
    );
  });

  it('property: parseStatusSet gives statuses within 100-599 only, or a problem', () => {
    fc.assert(
      fc.property(statusText, fc.integer({ min: -1000, max: 2000 }), (text, status) => {
        const r = parseStatusSet(text);
        if ('problem' in r) return;
        if (r.has(status)) expect(status >= 100 && status <= 599).toBe(true);
        // The canonical text means the same set.
        const again = parseStatusSet(r.text);
        expect('problem' in again).toBe(false);
        if (!('problem' in again)) expect(again.has(status)).toBe(r.has(status));
      }),
      MANY,
    );
  });

  it('property: parseListenAddress gives a port 0-65535 or a problem quoting the text', () => {
    fc.assert(
      fc.property(listenText, (text) => {
        const r = parseListenAddress(text);
        if ('problem' in r) {
          expect(r.problem).toContain(`"${text}"`);
          return;
        }
        expect(Number.isInteger(r.port) && r.port >= 0 && r.port <= 65535).toBe(true);
      }),
      MANY,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// loadConfig: a configuration or a ConfigError, whatever the input
// ---------------------------------------------------------------------------------------------------------

describe('loadConfig: a configuration or a ConfigError, never another exception', () => {
  it('property: target URLs of every scheme, as arguments or in WAIT_TARGETS', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(targetUrl, { minLength: 1, maxLength: 3 }), fc.boolean(), async (urls, viaEnv) => {
        await outcome(viaEnv ? [] : urls, viaEnv ? { WAIT_TARGETS: urls.join(' ') } : {});
      }),
      MANY,
    );
  });

  it('property: durations, status lists, listen addresses, factors and choices, as flags or their variables', async () => {
    const flagValue = fc.oneof(
      fc.tuple(fc.constantFrom(...DURATION_FLAGS), durationText),
      fc.tuple(fc.constant('expect-status'), statusText),
      fc.tuple(fc.constant('serve'), listenText),
      fc.tuple(fc.constantFrom('backoff-factor', 'log-level', 'log-format', 'preset', 'termination-log', 'jobservice-config'), anyText),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(flagValue, fc.boolean()), { maxLength: 4 }), fc.array(fc.constantFrom('--once', '--diagnose', 'diagnose', '--insecure-skip-verify', '--exit-zero', '-x', '--', '--=', '--once=1'), { maxLength: 2 }), async (pairs, extra) => {
        const argv = ['redis://127.0.0.1:1/0'];
        const env: Env = {};
        for (const [[flag, value], viaEnv] of pairs) {
          if (viaEnv) env[envName(flag)] = value;
          else argv.push(`--${flag}`, value);
        }
        await outcome([...extra, ...argv], env);
      }),
      MANY,
    );
  });

  it('property: any value in any WAIT_* boolean or choice variable', async () => {
    const names = ['WAIT_ONCE', 'WAIT_INSECURE_SKIP_VERIFY', 'WAIT_DIAGNOSE', 'WAIT_EXIT_ZERO', 'WAIT_LOG_LEVEL', 'WAIT_LOG_FORMAT', 'WAIT_PRESET', 'WAIT_HARBOR_CORE', 'WAIT_SERVE'];
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(...names), anyText), async (env) => {
        await outcome(['tcp://127.0.0.1:1'], { JOBSERVICE_SECRET: 'secret', CORE_URL: 'http://127.0.0.1:1', _REDIS_URL_CORE: 'redis://127.0.0.1:1', ...env });
      }),
      SOME,
    );
  });
});

/** Every variable a preset reads, and values for them: good ones of each kind, and junk. */
const PRESET_VARIABLES = [
  '_REDIS_URL_CORE', '_REDIS_URL_REG', '_REDIS_URL_HARBOR', '_REDIS_URL_CACHE_LAYER', 'CACHE_ENABLED', 'CORE_URL', 'JOBSERVICE_SECRET', 'CORE_SECRET',
  'JOB_SERVICE_POOL_REDIS_URL', 'DATABASE_TYPE', 'POSTGRESQL_HOST', 'POSTGRESQL_PORT', 'POSTGRESQL_USERNAME', 'POSTGRESQL_PASSWORD', 'POSTGRESQL_DATABASE',
  'POSTGRESQL_SSLMODE', 'PGCONNECT_TIMEOUT', 'PGTARGETSESSIONATTRS', 'PGAPPNAME', 'PGSSLROOTCERT', 'PGSSLCERT', 'PGSSLKEY', 'PGSERVICE', 'INTERNAL_TLS_ENABLED',
  'INTERNAL_TLS_TRUST_CA_PATH', 'WAIT_HARBOR_SECRET_FILE', 'WAIT_JOBSERVICE_CONFIG',
];
const GOOD_VALUES = [
  'redis://127.0.0.1:1/0', 'redis://127.0.0.1:1/7?idle_timeout_seconds=30', 'redis+sentinel://127.0.0.1:1,localhost:2/mymaster/1', 'rediss://localhost:1',
  'http://127.0.0.1:1', 'https://localhost:1', 'true', 'false', '1', 'postgresql', '127.0.0.1', '::1', '5432', 'postgres', 'registry', 'disable', 'verify-full',
  'secret', '', ' ',
];
const presetValue = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...GOOD_VALUES) }, { weight: 1, arbitrary: targetUrl }, { weight: 1, arbitrary: anyText });

describe('the presets: arbitrary env maps', () => {
  it('property: --preset core / jobservice (or WAIT_PRESET) with any env: a configuration or a ConfigError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('core', 'jobservice'), fc.dictionary(fc.constantFrom(...PRESET_VARIABLES), presetValue), fc.boolean(), fc.boolean(), async (preset, env, viaEnv, diagnose) => {
        const argv = [...(diagnose ? ['diagnose'] : []), ...(viaEnv ? [] : ['--preset', preset])];
        await outcome(argv, { WAIT_JOBSERVICE_CONFIG: join(dir, 'absent.yml'), ...env, ...(viaEnv ? { WAIT_PRESET: preset } : {}) });
      }),
      MANY,
    );
  });

  it('property: each preset waits for every distinct Redis URL its component reads once (the cache layer only with CACHE_ENABLED)', async () => {
    const url = fc.constantFrom('redis://127.0.0.1:1/0', 'redis://127.0.0.1:1/1', 'redis://127.0.0.1:1/2', 'redis://localhost:1/7');
    await fc.assert(
      fc.asyncProperty(fc.option(url), url, fc.option(url), fc.option(url), fc.option(url), fc.constantFrom(undefined, 'true', 'false', '1', 'True'), async (harbor, coreUrl, reg, layer, pool, cache) => {
        const enabled = cache !== undefined && ['true', '1', 'True'].includes(cache);
        const env: Env = { _REDIS_URL_CORE: coreUrl, CACHE_ENABLED: cache, CORE_URL: 'http://127.0.0.1:1', JOBSERVICE_SECRET: 'secret' };
        if (harbor) env._REDIS_URL_HARBOR = harbor;
        if (reg) env._REDIS_URL_REG = reg;
        if (layer) env._REDIS_URL_CACHE_LAYER = layer;
        if (pool) env.JOB_SERVICE_POOL_REDIS_URL = pool;
        const core = await outcome(['--preset', 'core'], env);
        const jobservice = await outcome(['--preset', 'jobservice', '--jobservice-config', join(dir, 'absent.yml')], env);
        if (core instanceof ConfigError || jobservice instanceof ConfigError) throw core instanceof ConfigError ? core : jobservice;
        const redisOf = (c: Config) => c.targets.filter((t) => t.label.startsWith('redis://')).map((t) => t.label);
        const coreWants = new Set([harbor, coreUrl, reg, enabled ? layer : undefined].filter(Boolean));
        expect(redisOf(core).sort()).toEqual([...coreWants].sort());
        const jobserviceWants = new Set([pool ?? coreUrl, enabled ? (layer ?? coreUrl) : undefined].filter(Boolean));
        expect(redisOf(jobservice).sort()).toEqual([...jobserviceWants].sort());
      }),
      SOME,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// jobservice's config.yml: arbitrary text, and generated YAML structures
// ---------------------------------------------------------------------------------------------------------

/** Lines and pieces of YAML, for arbitrary texts that are often almost jobservice's config.yml. */
const YAML_PIECES = [
  'worker_pool:', '  redis_pool:', '    redis_url: redis://127.0.0.1:1/1', '    redis_url: ', 'redis_url', '&a ', '&b ', '*a', '*b', '<<: *a', '<<: [*a, *b]', '- ', '[', ']',
  '{', '}', ':', ' ', '\n', '  ', '!!binary ', '!!int ', '!!str ', '!!merge ', '!!null ', '!foo ', '!<tag:x> ', '"', "'", '|', '>-', '---', '...', '%YAML 1.1\n',
  '%TAG ! tag:x,2000:\n', '? ', ',', '#', '~', 'null', 'cmVkaXM6Ly9oOjEvMQ==', '\t', 'x: &b [*a, *a]', '\ufeff', '\u0085', '\u2028',
];
const yamlText = fc.oneof(
  fc.array(fc.constantFrom(...YAML_PIECES), { maxLength: 40 }).map((p) => p.join('')),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

/** A YAML value in flow style, with anchors, aliases (of names that may not exist yet), merge keys and tags. */
const ANCHORS = ['a', 'b', 'c'];
const KEYS = ['worker_pool', 'redis_pool', 'redis_url', '<<', '"<<"', 'namespace', 'workers', 'x', 'y', 'z', 'k', '~', '? [a]', '*a '];
const SCALARS = ['redis://127.0.0.1:1/1', '"redis://127.0.0.1:1/2"', "'redis://localhost:1/3'", '127.0.0.1:1/4', '5', 'true', '~', '""', 'null', '!!binary cmVkaXM6Ly8xMjcuMC4wLjE6MS81', '!!binary "!"', '!!int 5', '!!str 6', '!x y'];
const { yamlValue } = fc.letrec<{ yamlValue: string; plain: string; map: string; seq: string }>((tie) => ({
  yamlValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: tie('plain') },
    { weight: 2, arbitrary: fc.constantFrom(...ANCHORS).map((a) => `*${a}`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...ANCHORS), tie('plain')).map(([a, v]) => `&${a} ${v}`) },
  ),
  plain: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constantFrom(...SCALARS), tie('map'), tie('seq')),
  map: fc.uniqueArray(fc.tuple(fc.constantFrom(...KEYS), tie('yamlValue')), { maxLength: 4, selector: ([k]) => k }).map((pairs) => `{${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
  seq: fc.array(tie('yamlValue'), { maxLength: 4 }).map((items) => `[${items.join(', ')}]`),
}));
const GOOD_URLS = ['redis://127.0.0.1:1/1', '"redis://127.0.0.1:1/2"', "'redis://localhost:1/3'", '"redis+sentinel://127.0.0.1:1,localhost:2/mymaster/4"'];
/** redis_url's value: mostly a URL, else an alias or any generated value. */
const urlValue = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...GOOD_URLS) }, { weight: 1, arbitrary: fc.constantFrom(...ANCHORS).map((a) => `*${a}`) }, { weight: 1, arbitrary: yamlValue });
/** redis_pool's value: mostly a mapping with redis_url (perhaps merged in), else an alias or any generated value. */
const poolValue = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(urlValue, fc.uniqueArray(fc.tuple(fc.constantFrom(...KEYS.filter((k) => k !== 'redis_url')), yamlValue), { maxLength: 2, selector: ([k]) => k }), fc.nat()).map(([url, more, at]) => {
    const pairs = more.map(([k, v]) => `${k}: ${v}`);
    pairs.splice(at % (pairs.length + 1), 0, `redis_url: ${url}`);
    return `{${pairs.join(', ')}}`;
  }) },
  { weight: 1, arbitrary: fc.constantFrom(...ANCHORS).map((a) => `*${a}`) },
  { weight: 1, arbitrary: yamlValue },
);
/** A document: each anchor defined first (a URL, a pool, any value; some twice), then worker_pool built of generated values. */
const anchorValue = fc.oneof(urlValue, poolValue, yamlValue).filter((v) => !/^[&*]/.test(v));
const yamlDocument = fc
  .tuple(fc.tuple(anchorValue, anchorValue, anchorValue), fc.array(fc.tuple(fc.constantFrom(...ANCHORS), anchorValue), { maxLength: 2 }), poolValue, yamlValue)
  .map(([first, again, pool, rest]) => {
    const defs = [...ANCHORS.map((a, i) => [a, first[i] as string] as const), ...again];
    return `${defs.map(([a, v], i) => `d${i}: &${a} ${v}`).join('\n')}\nworker_pool: {redis_pool: ${pool}, extra: ${rest}}\n`;
  });

describe("jobservice's config.yml: arbitrary text and YAML structures", () => {
  const run = (path: string) => outcome(['--preset', 'jobservice', '--jobservice-config', path], { CORE_URL: 'http://127.0.0.1:1', JOBSERVICE_SECRET: 'secret' });

  it('property: any text (or bytes) as config.yml: a configuration or a ConfigError naming the file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(yamlText, fc.uint8Array({ maxLength: 300 })), async (content) => {
        const path = file(content, 'config.yml');
        const r = await run(path);
        if (r instanceof ConfigError) expect(r.input.includes(path) || r.input === '--preset jobservice').toBe(true);
      }),
      MANY,
    );
  });

  it('property: generated YAML with anchors, aliases, merge keys and tags: a configuration with the Redis URL, or a ConfigError', async () => {
    let read = 0;
    await fc.assert(
      fc.asyncProperty(yamlDocument, async (text) => {
        const path = file(text, 'generated.yml');
        const r = await run(path);
        if (r instanceof ConfigError) return;
        read++;
        expect(r.targets[1]?.label).toMatch(/^redis/);
      }),
      MANY,
    );
    // Not all refused: the generator makes readable files too.
    expect(read).toBeGreaterThan(MANY.numRuns / 10);
  });

  it('property: without merge keys, the URL found is the one the yaml library itself resolves (aliases expanded the same way)', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(yamlDocument.filter((t) => !t.includes('<<') && !t.includes('!')), async (text) => {
        const path = file(text, 'compare.yml');
        const r = await run(path);
        let expected: unknown;
        try {
          const doc = parseDocument(text, { uniqueKeys: true });
          if (doc.errors.length > 0) return;
          // mapAsMap: a collection as a key stays one (else the library warns on stderr).
          let node: unknown = doc.toJS({ maxAliasCount: -1, mapAsMap: true });
          for (const key of ['worker_pool', 'redis_pool', 'redis_url']) node = node instanceof Map ? node.get(key) : undefined;
          expected = node;
        } catch {
          return; // a structure the library cannot turn into JavaScript (a self-containing anchor, an unknown alias)
        }
        if (typeof expected !== 'string' || expected === '' || !expected.includes('://')) return;
        if (r instanceof ConfigError) {
          // What yaml.v2 refuses and the library does not (a list as a key, a self-containing anchor, an alias
          // expansion past the bound), or the URL itself, named by the file and key.
          if (/cannot take as a field name|inside the anchor it names|excessive aliasing/.test(r.message)) return;
          expect(r.input).toContain('(worker_pool.redis_pool.redis_url)');
          return;
        }
        compared++;
        expect(r.targets[1]?.label).toBe(expected);
      }),
      SOME,
    );
    expect(compared).toBeGreaterThan(SOME.numRuns / 10);
  });
});

// ---------------------------------------------------------------------------------------------------------
// PEM files: arbitrary bytes (the semantic validation of PEM is another item's; here only: no crash)
// ---------------------------------------------------------------------------------------------------------

const PEM_HEADS = ['-----BEGIN CERTIFICATE-----\n', '-----BEGIN PRIVATE KEY-----\n', '-----BEGIN RSA PRIVATE KEY-----\n', '-----BEGIN EC PRIVATE KEY-----\n', '-----BEGIN '];
const pemBytes = fc.oneof(
  fc.uint8Array({ maxLength: 400 }),
  fc.tuple(fc.constantFrom(...PEM_HEADS), fc.oneof(fc.base64String({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 })), fc.constantFrom('', '\n-----END CERTIFICATE-----\n', '\n-----END PRIVATE KEY-----\n', '-----END'))
    .map(([head, body, tail]) => Buffer.from(`${head}${body}${tail}`)),
  fc.tuple(fc.uint8Array({ maxLength: 100 }), fc.constantFrom(...PEM_HEADS), fc.uint8Array({ maxLength: 100 })).map(([a, head, b]) => Buffer.concat([a, Buffer.from(head), b])),
);

describe('PEM files: arbitrary bytes in --ca-file, --cert-file, --key-file and a URL\'s sslrootcert/sslcert/sslkey', () => {
  it('property: a configuration or a ConfigError', async () => {
    await fc.assert(
      fc.asyncProperty(pemBytes, pemBytes, pemBytes, fc.constantFrom('flags', 'env', 'postgres', 'internal-tls'), async (ca, cert, key, how) => {
        const [caFile, certFile, keyFile] = [file(ca, 'ca'), file(cert, 'cert'), file(key, 'key')];
        if (how === 'flags') await outcome(['--ca-file', caFile, '--cert-file', certFile, '--key-file', keyFile, 'https://127.0.0.1:1'], {});
        if (how === 'env') await outcome(['rediss://127.0.0.1:1'], { WAIT_CA_FILE: caFile, WAIT_CERT_FILE: certFile, WAIT_KEY_FILE: keyFile });
        if (how === 'postgres') {
          const q = `sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}&sslcert=${encodeURIComponent(certFile)}&sslkey=${encodeURIComponent(keyFile)}`;
          await outcome([`postgres://u:p@127.0.0.1:1/db?${q}`], {});
        }
        if (how === 'internal-tls') await outcome(['--preset', 'core'], { _REDIS_URL_CORE: 'rediss://127.0.0.1:1', INTERNAL_TLS_ENABLED: 'true', INTERNAL_TLS_TRUST_CA_PATH: caFile });
      }),
      SOME,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Through the built entry, for a sample
// ---------------------------------------------------------------------------------------------------------

/** The hosts a target label names (`scheme://[user:***@]h1:p1,h2:p2/...`). */
function labelHosts(label: string): string[] {
  const m = /^[a-z+]+:\/\/([^/?#]*)/i.exec(label);
  const authority = (m?.[1] ?? '').slice((m?.[1] ?? '').lastIndexOf('@') + 1);
  return authority.split(',').map((h) => (h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d*$/, '')));
}
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

describe('through the built entry (a sample)', () => {
  it('property: exit 0, 1, 2 or 124 only; no "internal error", no stack trace; only loopback targets are run', async () => {
    const argvAndEnv = fc.oneof(
      fc.array(targetUrl, { minLength: 1, maxLength: 2 }).map((urls) => ({ argv: urls, env: {} as Env })),
      fc.tuple(fc.constantFrom('core', 'jobservice'), fc.dictionary(fc.constantFrom(...PRESET_VARIABLES), presetValue)).map(([preset, env]) => ({ argv: ['--preset', preset], env })),
      fc.tuple(yamlDocument, fc.boolean()).map(([text, plain]) => ({ argv: ['--preset', 'jobservice'], env: { CORE_URL: 'http://127.0.0.1:1', JOBSERVICE_SECRET: 'secret', WAIT_JOBSERVICE_CONFIG: file(plain ? text : text.replaceAll('*', '&'), 'cli.yml') } as Env })),
      fc.tuple(fc.constantFrom(...DURATION_FLAGS, 'expect-status', 'serve'), anyText).map(([flag, value]) => ({ argv: ['tcp://127.0.0.1:1', `--${flag}`, value], env: {} as Env })),
    );
    // Once, each attempt short, nothing written to a termination log: whatever the sample sets before these.
    const bounds = ['--once', '--attempt-timeout', '2s', '--deadline', '20s', '--termination-log', ''];
    const samples = fc.sample(argvAndEnv, { numRuns: 400, seed: 17 });
    let ran = 0;
    for (const { argv, env } of samples) {
      if (ran >= 40) break;
      const clean = Object.fromEntries(Object.entries({ WAIT_JOBSERVICE_CONFIG: join(dir, 'absent.yml'), ...env }).filter((e): e is [string, string] => e[1] !== undefined));
      // Only what a real environment can carry (no NUL), and only configurations that reach nothing but loopback.
      if ([...argv, ...Object.values(clean)].some((v) => v.includes('\u0000'))) continue;
      const r = await outcome([...argv, ...bounds], clean);
      if (!(r instanceof ConfigError) && !r.targets.every((t) => labelHosts(t.label).every((h) => LOOPBACK.has(h)))) continue;
      ran++;
      const cli = await runCli([...argv, ...bounds], clean);
      const said = `argv ${JSON.stringify(argv)} env ${JSON.stringify(clean)}\nstdout ${cli.stdout.slice(0, 1000)}\nstderr ${cli.stderr.slice(0, 1000)}`;
      expect([ExitCode.Ready, ExitCode.Failure, ExitCode.ConfigError, ExitCode.Deadline], said).toContain(cli.code);
      expect(cli.code === ExitCode.ConfigError, said).toBe(r instanceof ConfigError);
      expect(cli.stdout + cli.stderr, said).not.toMatch(/internal error/i);
      expect(cli.stdout + cli.stderr, said).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
      expect(cli.stderr, said).toBe('');
    }
    expect(ran).toBeGreaterThanOrEqual(30);
  });
});
