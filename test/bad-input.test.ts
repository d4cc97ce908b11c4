/**
 * Bad input, property-based: for any bad target URL, duration, status list, WAIT_* value, preset env or
 * jobservice config.yml, harbor-wait exits 2 with one `config_error` line that names the input (the flag, the
 * variable, the file, or the target redacted), no stack trace, and no fragment of a secret given in the input.
 * Good inputs are accepted. Harbor's own mistakes (shared/harbor-facts.md) get a message saying what to do.
 *
 * Most cases drive the in-process run() with a signal already aborted: a bad input fails in loadConfig, before
 * anything is contacted, and a good one returns 143 right after it — so no case here can open a connection.
 * The last block runs the built bundle on a few representative cases, for the process-level contract.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { run, Shutdown } from '../src/cli.ts';
import { loadConfig, OPTIONS, type Config } from '../src/config.ts';
import { ExitCode } from '../src/exit-codes.ts';
import type { Lookup } from '../src/targets/types.ts';
import { redactRaw } from '../src/targets/url.ts';
import { runCli, type CliResult } from './helpers/cli.ts';
import { tempDir } from './helpers/processes.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';

type Env = Record<string, string | undefined>;

// ---------------------------------------------------------------------------------------------------------
// Secrets embedded in the generated inputs, and files the inputs point at
// ---------------------------------------------------------------------------------------------------------

/** A Redis password, written percent-encoded into URLs; the suffixes make encoding matter. */
const PASSWORD = markedSecret('pw');
const HARBOR_SECRET = markedSecret('hs');
const CORE_SECRET = markedSecret('cs');
const SECRETS = [PASSWORD, HARBOR_SECRET, CORE_SECRET];
const enc = encodeURIComponent;

const CHART_CONFIG = `protocol: "http"
port: 8080
worker_pool:
  workers: 10
  backend: "redis"
  redis_pool:
    redis_url: "redis://:${PASSWORD}@harbor-redis:6379/1"
    namespace: "harbor_job_service_namespace"
    idle_timeout_second: 3600
`;

// Made when the file loads, not in a hook: the generators below are built from these paths.
const dir = tempDir('harbor-wait-bad-input-');
let fileCount = 0;
/** A fresh file in the test's directory. */
function file(content: string | Uint8Array, name = 'f'): string {
  const path = join(dir, `${name}-${fileCount++}`);
  writeFileSync(path, content);
  return path;
}

const directory = join(dir, 'a-directory');
mkdirSync(directory);
const files = {
  missing: join(dir, 'does-not-exist'),
  empty: file(' \n', 'empty'),
  directory,
  notPem: file(`not a certificate ${PASSWORD}\n`, 'not-pem'),
  binary: file(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe]), 'binary'),
  huge: file(`-----BEGIN CERTIFICATE-----\n${'A'.repeat(1024 * 1024)}\n`, 'huge'),
  headerSecret: file(`Harbor-Secret ${HARBOR_SECRET}\n`, 'header-secret'),
  goodCert: file('-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n', 'cert'),
  goodKey: file('-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----\n', 'key'),
  config: file(CHART_CONFIG, 'config.yml'),
};

// ---------------------------------------------------------------------------------------------------------
// Running harbor-wait in-process, and the contract for bad input
// ---------------------------------------------------------------------------------------------------------

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Refuses every name: nothing here may resolve a real DNS name. */
const refuseLookup: Lookup = (hostname) =>
  Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));

/** Already aborted: run() returns 143 right after a good configuration is loaded, before any check. */
const STOPPED = AbortSignal.abort(new Shutdown('SIGTERM'));

/** Core's URL given as `--harbor-core`, as `WAIT_HARBOR_CORE`, or as the chart's `CORE_URL` to the jobservice preset. */
function coreUrlGiven(how: '--harbor-core' | 'WAIT_HARBOR_CORE' | 'CORE_URL', raw: string): [string[], Env] {
  if (how === '--harbor-core') return [['--harbor-core', raw], { JOBSERVICE_SECRET: HARBOR_SECRET }];
  if (how === 'WAIT_HARBOR_CORE') return [[], { WAIT_HARBOR_CORE: raw, JOBSERVICE_SECRET: HARBOR_SECRET }];
  return [['--preset', 'jobservice', '--jobservice-config', files.config], { CORE_URL: raw, JOBSERVICE_SECRET: HARBOR_SECRET }];
}

async function runInProcess(argv: readonly string[], env: Env, signal: AbortSignal = STOPPED): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await run({
    argv,
    env,
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    signal,
    lookup: refuseLookup,
  });
  return { code, stdout, stderr };
}

/** A V8 stack frame, and an error printed with its class name: neither may reach an operator for bad input. */
const STACK_FRAME = /^\s+at .*:\d+:\d+\)?$/m;
const ERROR_DUMP = /\b[A-Z][A-Za-z]*Error(?: \[[A-Z_]+\])?: /;

interface Expected {
  /** The `input` field exactly, or a test on it. */
  readonly input: string | ((input: string) => boolean);
  /** Words the message must hold: the hint that tells the operator what to do. */
  readonly mentions?: readonly string[];
  /** Secrets given in the input (SECRETS are always checked). */
  readonly secrets?: readonly string[];
}

/** Exit 2, one JSON `config_error` line naming the input, nothing on stderr, no stack, no secret. */
function expectConfigError(o: Outcome, e: Expected): { input: string; msg: string } {
  const lines = o.stdout.split('\n').filter((l) => l !== '');
  expect(o.code, `exit code; stdout: ${o.stdout.slice(0, 2000)} stderr: ${o.stderr.slice(0, 2000)}`).toBe(ExitCode.ConfigError);
  expect(o.stderr).toBe('');
  expect(lines).toHaveLength(1);
  const line = JSON.parse(lines[0] as string) as { level: string; event: string; input: string; msg: string };
  expect(line).toMatchObject({ level: 'error', event: 'config_error' });
  if (typeof e.input === 'string') expect(line.input).toBe(e.input);
  else expect(e.input(line.input), `input ${JSON.stringify(line.input)}`).toBe(true);
  expect(line.msg.startsWith(`${line.input}: `), line.msg).toBe(true);
  for (const word of e.mentions ?? []) expect(line.msg).toContain(word);
  expect(o.stdout).not.toMatch(STACK_FRAME);
  expect(o.stdout).not.toMatch(ERROR_DUMP);
  expectNoSecret({ stdout: o.stdout, stderr: o.stderr }, [...SECRETS, ...(e.secrets ?? [])]);
  return line;
}

/** A good configuration: run() got past loadConfig and stopped at the aborted signal, having said nothing. */
function expectAccepted(o: Outcome): void {
  expect(o.stdout, 'a good input was refused').toBe('');
  expect(o.stderr).toBe('');
  expect(o.code).toBe(ExitCode.Sigterm);
}

async function config(argv: readonly string[], env: Env): Promise<Config> {
  const loaded = await loadConfig(argv, env);
  if (loaded.kind !== 'run') throw new Error(`expected a run, got ${loaded.kind}`);
  return loaded.config;
}

/** In-process cases are cheap: a few hundred each. */
const MANY = { numRuns: 300 };
const SOME = { numRuns: 150 };

// ---------------------------------------------------------------------------------------------------------
// Target URLs: generators
// ---------------------------------------------------------------------------------------------------------

const SCHEMES = ['redis', 'rediss', 'redis+sentinel', 'rediss+sentinel', 'http', 'https', 'tcp'] as const;
type Scheme = (typeof SCHEMES)[number];
type Kind = 'redis' | 'sentinel' | 'http' | 'tcp';

function kindOf(scheme: Scheme): Kind {
  if (scheme.endsWith('+sentinel')) return 'sentinel';
  if (scheme.startsWith('redis')) return 'redis';
  return scheme === 'tcp' ? 'tcp' : 'http';
}

/** A URL in parts, so that one part at a time can be made bad. */
interface Parts {
  readonly scheme: Scheme;
  readonly userinfo: string;
  readonly hosts: readonly string[];
  readonly path: string;
  readonly query: string;
  readonly fragment: string;
}

const joinParts = (p: Parts): string => `${p.scheme}://${p.userinfo}${p.hosts.join(',')}${p.path}${p.query}${p.fragment}`;

/** Host names only (never an IP literal), so that a good URL run for real reaches nothing but the refusing lookup. */
const hostName = fc.stringMatching(/^[a-z]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z]([a-z0-9-]{0,8}[a-z0-9])?){0,2}$/);
const port = fc.integer({ min: 1, max: 65535 });
const hostPort = fc.tuple(hostName, port).map(([h, p]) => `${h}:${p}`);

/** A password that needs percent-encoding: the marked secret and a few characters URLs treat specially. */
const password = fc.constantFrom('', '/', '@', ':', '%', ' ', 'é', '#?', '+&=').map((suffix) => `${PASSWORD}${suffix}`);

/** The query parameters Harbor accepts (harbor-facts §3), with good values. */
const GOOD_PARAMS = ['idle_timeout_seconds=30', 'db=2', 'dial_timeout=5s', 'read_timeout=3', 'pool_size=10', 'pool_fifo=true', 'client_name=harbor', 'max_retries=3', 'conn_max_idle_time=1m30s', 'protocol=3'];
const ACCEPTED_PARAMS = new Set(['db', 'protocol', 'client_name', 'max_retries', 'min_retry_backoff', 'max_retry_backoff', 'dial_timeout', 'read_timeout', 'write_timeout', 'pool_fifo', 'pool_size', 'pool_timeout', 'min_idle_conns', 'max_idle_conns', 'max_active_conns', 'max_concurrent_dials', 'conn_max_idle_time', 'idle_timeout', 'idle_timeout_seconds', 'conn_max_lifetime', 'max_conn_age', 'skip_verify']);

function goodParts(scheme: Scheme): fc.Arbitrary<Parts> {
  const kind = kindOf(scheme);
  const tls = scheme === 'rediss' || scheme === 'rediss+sentinel';
  const userinfo =
    kind === 'tcp'
      ? fc.constant('')
      : fc.oneof(fc.constant(''), fc.tuple(fc.constantFrom('', 'harbor'), password).map(([u, pw]) => `${u}:${enc(pw)}@`));
  const hosts = {
    sentinel: fc.array(hostPort, { minLength: 1, maxLength: 3 }),
    tcp: hostPort.map((h) => [h]),
    redis: fc.oneof(hostName, hostPort).map((h) => [h]),
    http: fc.oneof(hostName, hostPort).map((h) => [h]),
  }[kind];
  const path = {
    sentinel: fc.constantFrom('/mymaster', '/mymaster/0', '/harbor/3', '/mymaster/'),
    redis: fc.constantFrom('', '/', '/0', '/1', '/15'),
    http: fc.constantFrom('', '/', '/api/v2.0/ping', '/api/v1/stats', '/a%20b'),
    tcp: fc.constantFrom('', '/'),
  }[kind];
  const params = [...GOOD_PARAMS, ...(tls ? ['skip_verify=false'] : [])];
  const query =
    kind === 'tcp'
      ? fc.constant('')
      : kind === 'http'
        ? fc.constantFrom('', '?x=1', '?a=b&c=d')
        : fc.subarray(params, { maxLength: 3 }).map((ps) => (ps.length ? `?${ps.join('&')}` : ''));
  return fc.record({ scheme: fc.constant(scheme), userinfo, hosts, path, query, fragment: fc.constant('') });
}

/** Hosts no parser may take: bad characters, bad labels, bad IP literals, pasted typography, over-long names. */
const BAD_HOSTS = [
  'ho st', 'h%41', '-h', 'h-', 'h!', 'a..b', 'a.-b', '.h', 'h.', '[::1', '[xyz]', '[::::1]', '[10.0.0.1]',
  '999.1.1.1', '10.0.0.256', '10.1', 'harbor\u2010core', 'hé', '中文', 'h"x', 'h<b>', 'h{x}', 'h|x', 'h^x', 'h`x',
  'a'.repeat(64), `${`${'a'.repeat(60)}.`.repeat(5)}a`,
];
const BAD_HOST_CHARS = [' ', '\u0000', '\u0007', '\u001b', '\u007f', 'é', '中', '\u2010', '\u00a0', '\u202e', '\ufeff', '<', '>', '"', '`', '{', '}', '|', '^', '%', '!', '$', '&', "'", '(', ')', '*', '+', ';', '=', '~'];
const label = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const badHost = fc.oneof(
  fc.constantFrom(...BAD_HOSTS),
  fc.tuple(label, fc.constantFrom(...BAD_HOST_CHARS), label).map(([a, c, b]) => `${a}${c}${b}`),
);

const BAD_PORTS = ['0', '00', '65536', '99999', '123456', '-1', 'abc', '6379x', '+80', '0x50', '1e3', '８０', ' 80', '9'.repeat(1000)];
const badPort = (kind: Kind) =>
  fc.oneof(fc.constantFrom(...BAD_PORTS, ...(kind === 'http' ? [] : [''])), fc.integer({ min: 65536, max: 2 ** 31 - 1 }).map(String));

/** A password broken the ways people break it: a bad percent-escape (never one the next characters complete), or "/", "?", "#" left unencoded. */
const brokenUserinfo = fc
  .tuple(fc.constantFrom('', 'harbor'), fc.integer({ min: 0, max: PASSWORD.length }), fc.constantFrom('%zz', '%x', '%e9', '%c3%28', '%G1', '/', '?', '#'))
  .map(([user, at, broken]) => `${user}:${PASSWORD.slice(0, at)}${broken}${PASSWORD.slice(at)}@`);

const unknownParam = fc.stringMatching(/^[a-z][a-z_]{0,20}$/).filter((n) => !ACCEPTED_PARAMS.has(n));

/** One part of a good URL made bad; which parts can be bad depends on the kind of target. */
function badParts(scheme: Scheme): fc.Arbitrary<Parts> {
  const kind = kindOf(scheme);
  const tls = scheme.startsWith('rediss');
  const good = goodParts(scheme);
  /** The first host replaced; sentinels and tcp keep a port so that only the host is wrong. */
  const withHost = good.chain((p) =>
    badHost.map((h) => ({ ...p, hosts: [kind === 'sentinel' || kind === 'tcp' ? `${h}:26379` : h, ...p.hosts.slice(1)] })),
  );
  const withPort = good.chain((p) => fc.tuple(hostName, badPort(kind)).map(([h, pt]) => ({ ...p, hosts: [`${h}:${pt}`, ...p.hosts.slice(1)] })));
  const withUserinfo = good.chain((p) =>
    kind === 'tcp' ? fc.constant({ ...p, userinfo: `:${PASSWORD}@` }) : brokenUserinfo.map((userinfo) => ({ ...p, userinfo })),
  );
  const withFragment = good.chain((p) => fc.stringMatching(/^[a-z0-9]{1,8}$/).map((f) => ({ ...p, fragment: `#${f}` })));
  const variants: Array<fc.Arbitrary<Parts>> = [withHost, withPort, withUserinfo, withFragment];
  if (kind === 'redis') {
    const badDb = fc.oneof(fc.constantFrom('/abc', '/0/1', '/-1', '/1.5', '/ 1', '/%30', '/0x1', '/١'), fc.stringMatching(/^[a-z]{1,8}$/).map((s) => `/${s}`));
    variants.push(good.chain((p) => badDb.map((path) => ({ ...p, path }))));
    variants.push(good.chain((p) => fc.tuple(hostPort, hostPort).map(([a, b]) => ({ ...p, hosts: [a, b] }))));
  }
  if (kind === 'sentinel') {
    // No master name, another path shape, or a sentinel without its port (Harbor needs it).
    variants.push(good.chain((p) => fc.constantFrom('', '/', '//', '/m/x', '/m/0/0', '/m%zz', '/m/-1', '/%zz').map((path) => ({ ...p, path }))));
    variants.push(good.chain((p) => hostName.map((h) => ({ ...p, hosts: [...p.hosts, h] }))));
  }
  if (kind === 'redis' || kind === 'sentinel') {
    const badQuery = fc.oneof(
      unknownParam.map((n) => `?${n}=1`),
      fc.constantFrom(
        `?password=${PASSWORD}`,
        `?sentinel_password=${enc(PASSWORD)}`,
        '?idle_timeout_second=30',
        '?ssl=true',
        '?DB=1',
        '?db=x',
        '?db=-1',
        '?pool_fifo=yes',
        '?dial_timeout=soon',
        '?max_retries=1.5',
        '?a=1;b=2',
        '?%zz=1',
        '?db=%zz',
        ...(tls ? [] : ['?skip_verify=true']),
      ),
    );
    variants.push(good.chain((p) => badQuery.map((query) => ({ ...p, query }))));
  }
  if (kind === 'tcp') {
    variants.push(good.chain((p) => fc.constantFrom('/x', '/0', '/a/b').map((path) => ({ ...p, path }))));
    variants.push(good.chain((p) => fc.constantFrom('?a=1', '?x', '?db=0').map((query) => ({ ...p, query }))));
    variants.push(good.chain((p) => hostName.map((h) => ({ ...p, hosts: [h] }))));
    variants.push(good.chain((p) => hostPort.map((h) => ({ ...p, hosts: [...p.hosts, h] }))));
  }
  if (kind === 'http') variants.push(good.chain((p) => fc.tuple(hostName, hostName).map(([a, b]) => ({ ...p, hosts: [a, b] }))));
  return fc.oneof(...variants);
}

const scheme = fc.constantFrom(...SCHEMES);
const goodUrl = scheme.chain(goodParts).map(joinParts);

/** Schemes harbor-wait does not take, and strings that are not URLs at all (some hiding a password). */
const badScheme = fc.oneof(
  fc
    .tuple(fc.constantFrom('postgres', 'redis+cluster', 'valkey', 'unix', 'ftp', 'redis-sentinel', 'rediss+sentinels', 'sentinel', 'rediss+tls', 'http+unix', 'ws', 'grpc'), hostPort)
    .map(([s, h]) => `${s}://:${PASSWORD}@${h}/0`),
  fc.constantFrom(
    'harbor-redis:6379',
    `redis:/:${PASSWORD}@h:6379`,
    `redis:${PASSWORD}@h`,
    '//h:1',
    `:${PASSWORD}@h:6379`,
    `redis//:${PASSWORD}@h`,
    'redis:/h',
    'http:h',
    `harbor:${PASSWORD}@redis:6379/0`,
  ),
);

/** A control character anywhere in a good URL: Go's url.Parse (Harbor's) refuses it. */
const withControl = fc
  .tuple(goodUrl, fc.nat(), fc.oneof(fc.integer({ min: 0, max: 31 }), fc.constant(127)))
  .map(([raw, at, c]) => {
    const i = at % (raw.length + 1);
    return `${raw.slice(0, i)}${String.fromCharCode(c)}${raw.slice(i)}`;
  });

/** Large inputs, bad in one place. */
const huge = fc.tuple(scheme, fc.integer({ min: 10_000, max: 300_000 })).map(([s, n]) => {
  switch (kindOf(s)) {
    case 'redis':
      return `${s}://:${PASSWORD}@h:6379/${'1'.repeat(n)}x`;
    case 'sentinel':
      return `${s}://:${PASSWORD}@${'s1:26379,'.repeat(Math.ceil(n / 9))}s2:26379`;
    case 'http':
      return `${s}://:${PASSWORD}@${'a'.repeat(n)}/`;
    case 'tcp':
      return `${s}://h:${'9'.repeat(n)}`;
  }
});

const badUrl = fc.oneof(
  { weight: 6, arbitrary: scheme.chain(badParts).map(joinParts) },
  { weight: 1, arbitrary: badScheme },
  { weight: 1, arbitrary: withControl },
  { weight: 1, arbitrary: huge },
);

/** Where a target comes from, and the input name its errors must carry. */
function targetFrom(raw: string, source: 'argument' | 'WAIT_TARGETS'): { argv: string[]; env: Env; input: string } {
  if (source === 'argument') return { argv: [raw], env: {}, input: `argument "${redactRaw(raw)}"` };
  // A piece with "@" but no "://" may be half of a password split at white space: it is never echoed.
  const input = !raw.includes('://') && raw.includes('@') ? TARGETS_ENV : `${TARGETS_ENV} "${redactRaw(raw)}"`;
  return { argv: [], env: { [TARGETS_ENV]: raw }, input };
}
const TARGETS_ENV = 'WAIT_TARGETS';

// ---------------------------------------------------------------------------------------------------------
// Target URLs: properties
// ---------------------------------------------------------------------------------------------------------

describe('bad target URLs, every scheme', () => {
  it('property: exit 2, one config_error naming the target (redacted), no stack, no password', async () => {
    await fc.assert(
      fc.asyncProperty(badUrl, fc.boolean(), async (raw, fromEnv) => {
        // WAIT_TARGETS is split at white space, so only a URL without any can come from there whole.
        const t = targetFrom(raw, fromEnv && !/\s/.test(raw) ? 'WAIT_TARGETS' : 'argument');
        expectConfigError(await runInProcess(t.argv, t.env), { input: t.input });
      }),
      MANY,
    );
  });

  it('property: a bad target among good ones is still named, whatever its position', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(goodUrl, { maxLength: 3 }), badUrl, fc.nat(), async (good, bad, at) => {
        const argv = [...good];
        argv.splice(at % (good.length + 1), 0, bad);
        expectConfigError(await runInProcess(argv, {}), { input: `argument "${redactRaw(bad)}"`, secrets: [PASSWORD] });
      }),
      SOME,
    );
  });

  it('property: good URLs of every scheme are accepted, their passwords never in a label', async () => {
    await fc.assert(
      fc.asyncProperty(goodUrl, fc.boolean(), async (raw, fromEnv) => {
        const t = fromEnv && !/\s/.test(raw) ? { argv: [], env: { WAIT_TARGETS: raw } } : { argv: [raw], env: {} };
        expectAccepted(await runInProcess(t.argv, t.env));
        const c = await config(t.argv, t.env);
        for (const target of c.targets) expectNoSecret({ label: target.label }, [PASSWORD]);
      }),
      MANY,
    );
  });

  it('property: good URLs run for real (names refused by the resolver, --once) end in exit 1, never 2, never a password', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(goodUrl, { minLength: 1, maxLength: 3 }), async (urls) => {
        const controller = new AbortController();
        const o = await runInProcess(['--once', '--log-level', 'debug', ...urls], {}, controller.signal);
        expect(o.code, o.stdout).toBe(ExitCode.Failure);
        expect(o.stdout).not.toContain('config_error');
        expect(o.stderr).toBe('');
        expectNoSecret({ stdout: o.stdout }, [PASSWORD]);
      }),
      { numRuns: 40 },
    );
  });
});

describe('bad core URLs (--harbor-core, WAIT_HARBOR_CORE, CORE_URL)', () => {
  const badCoreUrl = fc.oneof(
    scheme
      .filter((s) => kindOf(s) === 'http')
      .chain(badParts)
      .map(joinParts),
    // Core's URL is a base URL: no path, no query, no user info, http(s) only.
    fc.tuple(fc.constantFrom('http', 'https'), hostName, fc.constantFrom('/api', '/api/v2.0/internalconfig', '/x/', '/api/v2.0/ping', '?x=1', '/?a=b')).map(([s, h, rest]) => `${s}://${h}${rest}`),
    hostName.map((h) => `http://harbor:${PASSWORD}@${h}:80`),
    hostName.map((h) => `tcp://${h}:80`),
    hostName,
  );

  it('property: exit 2 naming the flag or variable and the URL, never the secret', async () => {
    await fc.assert(
      fc.asyncProperty(badCoreUrl.filter((raw) => raw === raw.trim()), fc.constantFrom('--harbor-core', 'WAIT_HARBOR_CORE', 'CORE_URL'), async (raw, how) => {
        const [argv, env] = coreUrlGiven(how, raw);
        expectConfigError(await runInProcess(argv, env), { input: `${how} "${redactRaw(raw)}"` });
      }),
      MANY,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Durations, factors, status lists, and every WAIT_* variable
// ---------------------------------------------------------------------------------------------------------

const DURATION_OPTIONS = Object.entries(OPTIONS)
  .filter(([, o]) => 'value' in o && o.value === 'DURATION')
  .map(([name, o]) => ({ flag: `--${name}`, env: (o as { env: string }).env }));

/** What the README calls a duration: a Go duration or a bare integer (seconds). An oracle of its own, not the parser. */
const DURATION_FORM = /^(\d+|[+-]?0|\+?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;

const badDuration = fc.oneof(
  fc.tuple(fc.nat(1000), fc.constantFrom('x', 'sec', 'secs', 'min', 'mins', 'd', 'w', 'y', 'S', 'M', 'H', 'MS', 'hr', 'µ', 'mss', 'sm')).map(([n, u]) => `${n}${u}`),
  fc.tuple(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom('ms', 's', 'm', 'h')).map(([n, u]) => `-${n}${u}`),
  fc.integer({ min: 597, max: 1e9 }).map((h) => `${h}h`),
  fc.integer({ min: 2_147_484, max: 1e12 }).map(String),
  fc.constantFrom('1.5', '.5', '1e3', '0x10', '1_000', '1,5s', '5 s', '1m 30s', '1h30', 'five', 'soon', 'never', 'forever', 'Infinity', 'NaN', '-', '+', '.', 's', 'ms', '5s5', '５s', '٥s', ' ', '\t', '9'.repeat(400)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).filter((s) => !DURATION_FORM.test(s.trim())),
);

/** A good duration and its milliseconds, written the ways the README shows. */
const goodDuration = fc.oneof(
  fc.integer({ min: 1, max: 100_000 }).map((n) => ({ text: String(n), ms: n * 1000 })),
  fc.integer({ min: 1, max: 1_000_000 }).map((n) => ({ text: `${n}ms`, ms: n })),
  fc.tuple(fc.nat(100), fc.nat(59), fc.nat(59)).filter(([h, m, s]) => h + m + s > 0).map(([h, m, s]) => ({ text: `${h}h${m}m${s}s`, ms: ((h * 60 + m) * 60 + s) * 1000 })),
);

/** The three ways to give an option: `--name value`, `--name=value`, and its WAIT_* variable. */
type Way = 'flag' | 'flag=' | 'env';
const way = fc.constantFrom<Way>('flag', 'flag=', 'env');
function give(o: { flag: string; env: string }, value: string, how: Way): { argv: string[]; env: Env; input: string } {
  // A value starting with "-" would be read as an option after a separate flag: that form is always "=".
  if (how === 'flag' && !value.startsWith('-')) return { argv: [o.flag, value], env: {}, input: o.flag };
  if (how === 'env') return { argv: [], env: { [o.env]: value }, input: o.env };
  return { argv: [`${o.flag}=${value}`], env: {}, input: o.flag };
}

const TARGET = 'tcp://harbor-database:5432';

describe('durations', () => {
  it('property: a bad duration in any duration flag or WAIT_* variable is refused, quoting the value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...DURATION_OPTIONS), badDuration, way, async (option, value, how) => {
        const g = give(option, value, how);
        expectConfigError(await runInProcess([TARGET, ...g.argv], g.env), { input: g.input, mentions: [`"${value}"`] });
      }),
      MANY,
    );
  });

  it('property: 0 is refused where a wait of nothing makes no sense', async () => {
    const zero = fc.constantFrom('0', '0s', '0ms', '00', '+0', '0h0m0s', '0.0s', '0.0000001ns');
    const options = DURATION_OPTIONS.filter((o) => !['--deadline', '--backoff-max'].includes(o.flag));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...options), zero, way, async (option, value, how) => {
        const g = give(option, value, how);
        expectConfigError(await runInProcess([TARGET, ...g.argv], g.env), { input: g.input, mentions: ['more than 0'] });
      }),
      SOME,
    );
  });

  it('property: a maximum backoff below the initial one names the maximum', async () => {
    await fc.assert(
      fc.asyncProperty(goodDuration, goodDuration, fc.boolean(), async (a, b, viaEnv) => {
        fc.pre(a.ms !== b.ms);
        const [initial, max] = a.ms > b.ms ? [a, b] : [b, a];
        const [argv, env, input]: [string[], Env, string] = viaEnv
          ? [[TARGET], { WAIT_BACKOFF_INITIAL: initial.text, WAIT_BACKOFF_MAX: max.text }, 'WAIT_BACKOFF_MAX']
          : [[TARGET, '--backoff-initial', initial.text, '--backoff-max', max.text], {}, '--backoff-max'];
        expectConfigError(await runInProcess(argv, env), { input, mentions: ['at least the initial backoff'] });
      }),
      SOME,
    );
  });

  it('property: good durations are read exactly, from a flag or its variable', async () => {
    const read: Record<string, (c: Config) => number> = {
      '--deadline': (c) => c.deadlineMs,
      '--attempt-timeout': (c) => c.attemptTimeoutMs,
      '--backoff-initial': (c) => c.backoff.initialMs,
      '--backoff-max': (c) => c.backoff.maxMs,
      '--serve-interval': (c) => c.serveIntervalMs,
    };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...DURATION_OPTIONS), goodDuration, way, async (option, d, how) => {
        // The maximum backoff must stay at or above the default initial 100 ms.
        fc.pre(option.flag !== '--backoff-max' || d.ms >= 100);
        const g = give(option, d.text, how);
        expect(read[option.flag]?.(await config([TARGET, ...g.argv], g.env))).toBe(d.ms);
      }),
      MANY,
    );
  });
});

describe('backoff factor', () => {
  /** Good: a plain decimal from 1 to 100 (README). */
  const isGoodFactor = (s: string) => /^\s*\d+(\.\d+)?\s*$/.test(s) && Number(s) >= 1 && Number(s) <= 100;
  const badFactor = fc.oneof(
    fc.constantFrom('0', '0.5', '101', '1e2', '-2', 'abc', '2x', 'NaN', 'Infinity', ' ', '1.', '.5', '1,5', '0x2', '２'),
    fc.double({ min: 100.01, max: 1e9, noNaN: true }).map(String),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }).filter((s) => !isGoodFactor(s)),
  );

  it('property: a bad factor is refused, quoting it', async () => {
    await fc.assert(
      fc.asyncProperty(badFactor, way, async (value, how) => {
        const g = give({ flag: '--backoff-factor', env: 'WAIT_BACKOFF_FACTOR' }, value, how);
        expectConfigError(await runInProcess([TARGET, ...g.argv], g.env), { input: g.input, mentions: [`"${value}"`] });
      }),
      SOME,
    );
  });
});

describe('status lists (--expect-status, WAIT_EXPECT_STATUS)', () => {
  const status = fc.integer({ min: 100, max: 599 });
  const goodElement = fc.oneof(
    status.map((s) => ({ text: String(s), lo: s, hi: s })),
    fc.tuple(status, status).map(([a, b]) => ({ text: `${Math.min(a, b)}-${Math.max(a, b)}`, lo: Math.min(a, b), hi: Math.max(a, b) })),
  );
  const badElement = fc.oneof(
    fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(3, '0')),
    fc.integer({ min: 600, max: 999 }).map(String),
    fc.integer({ min: 0, max: 99 }).map(String),
    fc.integer({ min: 1000, max: 99_999 }).map(String),
    fc.tuple(status, status).filter(([a, b]) => a !== b).map(([a, b]) => `${Math.max(a, b)}-${Math.min(a, b)}`),
    fc.constantFrom('2xx', '200-', '-200', '200--299', '200-299-399', '', 'ok', '200 -299', '２００', '200.0', '0x0C8', '+200', '200/201', '200;201', '*'),
  );
  const spaced = (s: string) => fc.constantFrom(s, ` ${s}`, `${s} `);

  it('property: a list with one bad element is refused, quoting that element', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(goodElement, { maxLength: 4 }), badElement, fc.nat(), way, async (good, bad, at, how) => {
        const parts = good.map((g) => g.text);
        parts.splice(at % (parts.length + 1), 0, bad);
        const text = parts.join(',');
        fc.pre(!(how === 'env' && text === '')); // an empty variable counts as unset
        const g = give({ flag: '--expect-status', env: 'WAIT_EXPECT_STATUS' }, text, how);
        expectConfigError(await runInProcess(['http://harbor-core/', ...g.argv], g.env), { input: g.input, mentions: [`"${bad.trim()}"`] });
      }),
      MANY,
    );
  });

  it('property: a good list is accepted and means exactly its ranges', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(goodElement, { minLength: 1, maxLength: 4 }).chain((els) => fc.tuple(fc.constant(els), fc.tuple(...els.map((e) => spaced(e.text))))), fc.boolean(), async ([els, texts], viaEnv) => {
        const text = texts.join(',');
        const c = await config(['http://harbor-core/', ...(viaEnv ? [] : ['--expect-status', text])], viaEnv ? { WAIT_EXPECT_STATUS: text } : {});
        for (const s of [99, 100, 200, 204, 301, 404, 499, 500, 599, 600, ...els.flatMap((e) => [e.lo - 1, e.lo, e.hi, e.hi + 1])]) {
          expect(c.expectStatus.has(s), `${s} in ${text}`).toBe(els.some((e) => s >= e.lo && s <= e.hi));
        }
      }),
      SOME,
    );
  });
});

describe('every WAIT_* variable', () => {
  const choiceNot = (choices: readonly string[]) =>
    fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => !choices.includes(s.trim().toLowerCase()));
  const BOOLEAN_WORDS = ['true', '1', 'yes', 'on', 'false', '0', 'no', 'off'];
  const badListen = fc.constantFrom('8099', 'host:99999', ':', ':abc', 'http://:8099', '[::1', '::1:8099', ':8099:', 'localhost', ':-1', ':65536', '1.2.3.4', ' : 8099');

  /** For each variable: bad values, the env it needs around it, and how its error names it. */
  const CASES: Record<string, { value: fc.Arbitrary<string>; env?: () => Env; positional?: boolean; input?: (name: string, value: string) => string }> = {
    WAIT_DEADLINE: { value: badDuration },
    WAIT_ATTEMPT_TIMEOUT: { value: badDuration },
    WAIT_BACKOFF_INITIAL: { value: badDuration },
    WAIT_BACKOFF_MAX: { value: badDuration },
    WAIT_SERVE_INTERVAL: { value: badDuration },
    WAIT_BACKOFF_FACTOR: { value: fc.constantFrom('0', '101', 'abc', '1e2', '-1', ' ') },
    WAIT_EXPECT_STATUS: { value: fc.constantFrom('2xx', '600', '200-', '99', '299-200', ' ') },
    WAIT_LOG_LEVEL: { value: choiceNot(['debug', 'info', 'warn', 'error']) },
    WAIT_LOG_FORMAT: { value: choiceNot(['json', 'pretty']) },
    WAIT_PRESET: { value: choiceNot(['core', 'jobservice']) },
    WAIT_ONCE: { value: choiceNot(BOOLEAN_WORDS) },
    WAIT_INSECURE_SKIP_VERIFY: { value: choiceNot(BOOLEAN_WORDS) },
    WAIT_SERVE: { value: badListen },
    WAIT_HARBOR_CORE: {
      value: fc.constantFrom('harbor-core', 'http://harbor-core/api/internal/configurations', `http://u:${PASSWORD}@harbor-core`, 'http://harbor-core:0', 'ftp://harbor-core'),
      env: () => ({ JOBSERVICE_SECRET: HARBOR_SECRET }),
      input: (name, v) => `${name} "${redactRaw(v)}"`,
    },
    WAIT_HARBOR_SECRET_FILE: {
      value: fc.constantFrom(files.missing, files.empty, files.directory, files.huge, files.headerSecret, '/dev/zero'),
      env: () => ({ WAIT_HARBOR_CORE: 'http://harbor-core:80', JOBSERVICE_SECRET: HARBOR_SECRET }),
    },
    WAIT_CA_FILE: { value: fc.constantFrom(files.missing, files.directory, files.notPem, files.binary, files.huge, '/dev/zero') },
    WAIT_CERT_FILE: { value: fc.constantFrom(files.missing, files.directory, files.notPem, files.binary, '/dev/zero'), env: () => ({ WAIT_KEY_FILE: files.goodKey }) },
    WAIT_KEY_FILE: { value: fc.constantFrom(files.missing, files.directory, files.notPem, files.binary, '/dev/zero'), env: () => ({ WAIT_CERT_FILE: files.goodCert }) },
    WAIT_JOBSERVICE_CONFIG: {
      value: fc.constantFrom(files.directory, files.binary, files.huge, files.notPem, '/dev/zero'),
      env: () => ({ WAIT_PRESET: 'jobservice', CORE_URL: 'http://harbor-core:80', JOBSERVICE_SECRET: HARBOR_SECRET }),
      input: (name, v) => `${name} "${v}"`,
    },
    WAIT_TARGETS: { value: badUrl.filter((raw) => !/\s/.test(raw)), positional: false, input: (_name, v) => targetFrom(v, 'WAIT_TARGETS').input },
  };

  it('the table covers every WAIT_* variable of the options table, and WAIT_TARGETS', () => {
    const names = [TARGETS_ENV, ...Object.values(OPTIONS).flatMap((o) => ('env' in o ? [o.env] : []))];
    expect(Object.keys(CASES).sort()).toEqual([...new Set(names)].sort());
  });

  it('property: a bad value in any of them is exit 2 naming that variable', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(CASES)).chain((name) => (CASES[name] as (typeof CASES)[string]).value.map((v) => [name, v] as const)),
        async ([name, value]) => {
          const c = CASES[name] as (typeof CASES)[string];
          const argv = c.positional === false ? [] : [TARGET];
          const input = c.input?.(name, value) ?? name;
          expectConfigError(await runInProcess(argv, { ...c.env?.(), [name]: value }), { input });
        },
      ),
      MANY,
    );
  });

  it('property: any value at all in any of them is accepted or refused naming it — never a crash', async () => {
    const names = Object.keys(CASES).filter((n) => !['WAIT_HARBOR_SECRET_FILE', 'WAIT_CA_FILE', 'WAIT_CERT_FILE', 'WAIT_KEY_FILE', 'WAIT_JOBSERVICE_CONFIG'].includes(n));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), fc.string({ unit: 'binary', maxLength: 40 }), async (name, value) => {
        const o = await runInProcess(name === TARGETS_ENV ? [] : [TARGET], { [name]: value });
        if (o.code === ExitCode.Sigterm) return expectAccepted(o);
        // WAIT_TARGETS with nothing in it leaves nothing to wait for: that error names "targets".
        expectConfigError(o, { input: (input) => input.startsWith(name) || (name === TARGETS_ENV && input === 'targets') });
      }),
      MANY,
    );
  });

  it('property: an unknown WAIT_* variable is only a warning', async () => {
    const known = new Set(Object.keys(CASES));
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^WAIT_[A-Z_]{1,20}$/).filter((n) => !known.has(n)), fc.string({ maxLength: 20 }), async (name, value) => {
        expectAccepted(await runInProcess([TARGET], { [name]: value }));
        expect((await config([TARGET], { [name]: value })).warnings.join('\n')).toContain(name);
      }),
      SOME,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Presets: jobservice's config.yml and the chart's env
// ---------------------------------------------------------------------------------------------------------

/** Lines that make any YAML document invalid wherever they are put (checked against the yaml parser). */
const YAML_BREAKERS = [']', '}', '\tx: 1', 'a: b: c', '&a &b x', 'x: "a\\q"', ': :'];

function withLine(text: string, at: number, line: string): string {
  const lines = text.split('\n');
  lines.splice(at % lines.length, 0, line);
  return lines.join('\n');
}

const redisUrlLine = (value: string) => CHART_CONFIG.replace(/redis_url: .*/, `redis_url: ${value}`);

/** A config.yml jobservice could not use, and what the error must say. */
const badConfigFile: fc.Arbitrary<{ content: string | Uint8Array | null; mentions: readonly string[] }> = fc.oneof(
  fc.tuple(fc.constantFrom(...YAML_BREAKERS), fc.nat()).map(([line, at]) => ({ content: withLine(CHART_CONFIG, at, line), mentions: ['is not valid YAML (line'] })),
  fc.constant({ content: redisUrlLine(`"redis://:${PASSWORD}@harbor-redis:6379/1`), mentions: ['is not valid YAML'] }),
  fc.constant({ content: `${CHART_CONFIG}worker_pool: {}\n`, mentions: ['DUPLICATE_KEY'] }),
  fc.constantFrom('5', 'true', '1.5', '[a, b]', `{url: "redis://:${PASSWORD}@h"}`, `[redis://:${PASSWORD}@h]`).map((v) => ({ content: redisUrlLine(v), mentions: ['redis_url is a', 'not a Redis URL'] })),
  fc.constantFrom('worker_pool: "x"', 'worker_pool: [1]', 'worker_pool: 3').map((v) => ({ content: CHART_CONFIG.replace(/^worker_pool:$/m, v).replace(/^ {2}.*\n/gm, ''), mentions: ['worker_pool is a', 'not a mapping'] })),
  fc.constantFrom('- a\n- b\n', 'hello\n', '42\n').map((content) => ({ content, mentions: ['the document is a', 'not a mapping'] })),
  fc.integer({ min: 1024 * 1024 + 1, max: 1536 * 1024 }).map((n) => ({ content: `${CHART_CONFIG}#${'x'.repeat(n)}\n`, mentions: ['larger than 1024 KiB'] })),
  fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0x00, 0xff, 0xfe, 0xc0, 0x01, 0x7f), fc.nat()).map(([bytes, odd, at]) => {
    const out = Buffer.concat([Buffer.from(CHART_CONFIG), Buffer.from(bytes)]);
    const i = at % (out.length + 1);
    return { content: Buffer.concat([out.subarray(0, i), Buffer.from([odd]), out.subarray(i)]), mentions: ['is binary, not YAML'] };
  }),
  fc.constant({ content: null, mentions: ["cannot read jobservice's config file (EISDIR)"] }),
);

const JOBSERVICE_ENV: Env = { CORE_URL: 'http://harbor-core:80', JOBSERVICE_SECRET: HARBOR_SECRET, CORE_SECRET };

describe("--preset jobservice: jobservice's config.yml", () => {
  it('property: a config.yml that is not YAML, of the wrong shape, huge, binary or a directory is refused, naming the file', async () => {
    await fc.assert(
      fc.asyncProperty(badConfigFile, fc.boolean(), fc.boolean(), async ({ content, mentions }, viaEnv, coreUrlSet) => {
        const path = content === null ? files.directory : file(content, 'config.yml');
        // _REDIS_URL_CORE would be the fallback for a file without the URL; a broken file is refused all the same.
        const env = { ...JOBSERVICE_ENV, ...(coreUrlSet ? { _REDIS_URL_CORE: 'redis://harbor-redis:6379/0' } : {}) };
        const [argv, envAll, input]: [string[], Env, string] = viaEnv
          ? [['--preset', 'jobservice'], { ...env, WAIT_JOBSERVICE_CONFIG: path }, `WAIT_JOBSERVICE_CONFIG "${path}"`]
          : [['--preset', 'jobservice', '--jobservice-config', path], env, `--jobservice-config "${path}"`];
        expectConfigError(await runInProcess(argv, envAll), { input, mentions });
      }),
      SOME,
    );
  });

  const withoutUrl = fc.constantFrom(
    '',
    'protocol: "http"\n',
    'worker_pool:\n',
    'worker_pool:\n  redis_pool:\n',
    'worker_pool:\n  redis_pool:\n    redis_url: ""\n',
    'worker_pool:\n  redis_pool:\n    redis_url: null\n',
    'worker_pool:\n  redis_pool:\n    namespace: "x"\n',
  );

  it('property: a config.yml without redis_url, and no _REDIS_URL_CORE, is refused saying the file has no redis_url', async () => {
    await fc.assert(
      fc.asyncProperty(withoutUrl, fc.boolean(), async (content, viaEnv) => {
        const path = file(content, 'config.yml');
        const [argv, env, input]: [string[], Env, string] = viaEnv
          ? [[], { ...JOBSERVICE_ENV, WAIT_PRESET: 'jobservice', WAIT_JOBSERVICE_CONFIG: path }, 'WAIT_PRESET jobservice']
          : [['--preset', 'jobservice', '--jobservice-config', path], JOBSERVICE_ENV, '--preset jobservice'];
        const line = expectConfigError(await runInProcess(argv, env), { input, mentions: [`${path} has no worker_pool.redis_pool.redis_url`, '_REDIS_URL_CORE is unset'] });
        expect(line.msg).not.toContain('does not exist');
      }),
      SOME,
    );
  });

  it('property: ...and with _REDIS_URL_CORE set it is accepted, with a warning', async () => {
    await fc.assert(
      fc.asyncProperty(withoutUrl, async (content) => {
        const path = file(content, 'config.yml');
        const env = { ...JOBSERVICE_ENV, _REDIS_URL_CORE: 'redis://harbor-redis:6379/0' };
        expectAccepted(await runInProcess(['--preset', 'jobservice', '--jobservice-config', path], env));
        const c = await config(['--preset', 'jobservice', '--jobservice-config', path], env);
        expect(c.warnings).toEqual([`${path} has no worker_pool.redis_pool.redis_url; using _REDIS_URL_CORE if set`]);
      }),
      { numRuns: 20 },
    );
  });

  it('property: a Redis URL in config.yml that Harbor would refuse is named by file and key, never with its password', async () => {
    const badRedis = scheme.filter((s) => kindOf(s) === 'redis' || kindOf(s) === 'sentinel').chain(badParts).map(joinParts);
    await fc.assert(
      fc.asyncProperty(badRedis.filter((raw) => raw === raw.trim() && !/[\u0000-\u001f\u007f]/.test(raw)), async (raw) => {
        const path = file(redisUrlLine(JSON.stringify(raw)), 'config.yml');
        expectConfigError(await runInProcess(['--preset', 'jobservice', '--jobservice-config', path], JOBSERVICE_ENV), {
          input: `${path} (worker_pool.redis_pool.redis_url) "${redactRaw(raw)}"`,
        });
      }),
      SOME,
    );
  });
});

describe('presets: the env the chart gives each component', () => {
  const badRedis = scheme
    .filter((s) => kindOf(s) === 'redis' || kindOf(s) === 'sentinel')
    .chain(badParts)
    .map(joinParts)
    .filter((raw) => raw === raw.trim());
  const CORE_ENV: Env = { _REDIS_URL_CORE: 'redis://harbor-redis:6379/0?idle_timeout_seconds=30', _REDIS_URL_REG: 'redis://harbor-redis:6379/2' };

  it('property: a bad Redis URL in any variable a preset reads is named by that variable', async () => {
    const cases = fc.oneof(
      fc.constantFrom('_REDIS_URL_CORE', '_REDIS_URL_REG', '_REDIS_URL_HARBOR').map((name) => ({ preset: 'core', name, base: CORE_ENV, argv: [] as string[] })),
      fc.constant({ preset: 'jobservice', name: 'JOB_SERVICE_POOL_REDIS_URL', base: JOBSERVICE_ENV, argv: ['--jobservice-config', join(dir, 'absent.yml')] }),
      // _REDIS_URL_CORE is jobservice's last resort, read when neither the pool URL nor config.yml is there.
      fc.constant({ preset: 'jobservice', name: '_REDIS_URL_CORE', base: JOBSERVICE_ENV, argv: ['--jobservice-config', join(dir, 'absent.yml')] }),
    );
    await fc.assert(
      fc.asyncProperty(cases, badRedis, fc.boolean(), async (c, raw, viaEnv) => {
        const argv = viaEnv ? c.argv : ['--preset', c.preset, ...c.argv];
        const env = { ...c.base, [c.name]: raw, ...(viaEnv ? { WAIT_PRESET: c.preset } : {}) };
        expectConfigError(await runInProcess(argv, env), { input: `${c.name} "${redactRaw(raw)}"` });
      }),
      MANY,
    );
  });

  it('property: a missing internal-TLS CA is refused, naming where it was looked for', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('core', 'jobservice'), fc.constantFrom(files.missing, files.directory, files.notPem, files.huge, '/dev/zero', null), fc.constantFrom('true', 'TRUE', ' true '), async (preset, ca, enabled) => {
        const base = preset === 'core' ? CORE_ENV : JOBSERVICE_ENV;
        const env = { ...base, INTERNAL_TLS_ENABLED: enabled, ...(ca === null ? {} : { INTERNAL_TLS_TRUST_CA_PATH: ca }) };
        const argv = ['--preset', preset, '--jobservice-config', files.config];
        const input = ca === null ? (i: string) => i.startsWith('INTERNAL_TLS_ENABLED') && i.includes(`${preset}-internal-certs`) : 'INTERNAL_TLS_TRUST_CA_PATH';
        expectConfigError(await runInProcess(argv, env), { input });
      }),
      SOME,
    );
  });

  it('property: a preset without what it needs names every missing variable and where the chart keeps it', async () => {
    const jobserviceNeeds = ['CORE_URL', 'JOBSERVICE_SECRET'] as const;
    await fc.assert(
      fc.asyncProperty(fc.subarray([...jobserviceNeeds], { minLength: 1 }), fc.constantFrom('', '  ', '\n'), async (missing, blank) => {
        const env: Env = { ...JOBSERVICE_ENV };
        for (const name of missing) env[name] = blank === '' ? undefined : blank; // blank counts as missing
        delete env.CORE_SECRET;
        const line = expectConfigError(await runInProcess(['--preset', 'jobservice', '--jobservice-config', files.config], env), { input: '--preset jobservice' });
        if (missing.includes('CORE_URL')) expect(line.msg).toContain('CORE_URL (the chart keeps it in ConfigMap <fullname>-jobservice-env)');
        if (missing.includes('JOBSERVICE_SECRET')) expect(line.msg).toContain('JOBSERVICE_SECRET (the chart keeps it in Secret <fullname>-jobservice');
      }),
      { numRuns: 30 },
    );
    const core = expectConfigError(await runInProcess(['--preset', 'core'], { _REDIS_URL_REG: 'redis://harbor-redis:6379/2' }), { input: '--preset core' });
    expect(core.msg).toContain('_REDIS_URL_CORE (the chart keeps it in ConfigMap <fullname>-core)');
  });

  it('property: the env the chart renders is accepted (passwords in URLs, sentinel, internal TLS off)', async () => {
    const redis = fc.constantFrom(
      'redis://harbor-redis:6379/0?idle_timeout_seconds=30',
      `redis://:${enc(PASSWORD)}@harbor-redis:6379/0?idle_timeout_seconds=30`,
      `redis+sentinel://:${enc(PASSWORD)}@s1:26379,s2:26379,s3:26379/mymaster/0?idle_timeout_seconds=30`,
      'rediss://harbor-redis:6380/1',
    );
    await fc.assert(
      fc.asyncProperty(redis, redis, fc.option(redis), fc.constantFrom(undefined, 'false', ''), async (core, reg, harbor, tls) => {
        const env = { _REDIS_URL_CORE: core, _REDIS_URL_REG: reg, ...(harbor ? { _REDIS_URL_HARBOR: harbor } : {}), INTERNAL_TLS_ENABLED: tls, CORE_SECRET };
        expectAccepted(await runInProcess(['--preset', 'core'], env));
        expectAccepted(await runInProcess(['--preset', 'jobservice', '--jobservice-config', files.config], { ...JOBSERVICE_ENV, _REDIS_URL_CORE: core }));
      }),
      { numRuns: 30 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Harbor's own mistakes, each with a message that says what to do
// ---------------------------------------------------------------------------------------------------------

describe("Harbor's own mistakes", () => {
  it('property: CORE_SECRET where JOBSERVICE_SECRET is meant: says core checks the jobservice secret, without showing either', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.boolean(), async (viaEnv, withCoreUrl) => {
        const env: Env = { CORE_SECRET, ...(withCoreUrl ? { CORE_URL: 'http://harbor-core:80' } : {}), ...(viaEnv ? { WAIT_PRESET: 'jobservice' } : {}) };
        const argv = [...(viaEnv ? [] : ['--preset', 'jobservice']), '--jobservice-config', files.config];
        expectConfigError(await runInProcess(argv, env), {
          input: viaEnv ? 'WAIT_PRESET jobservice' : '--preset jobservice',
          mentions: ['CORE_SECRET is set, but core checks the jobservice secret', 'JOBSERVICE_SECRET', 'Secret <fullname>-jobservice'],
        });
      }),
      { numRuns: 20 },
    );
    expectConfigError(await runInProcess(['--harbor-core', 'http://harbor-core:80'], { CORE_SECRET }), {
      input: '--harbor-core',
      mentions: ['CORE_SECRET is set, but core checks the jobservice secret: give JOBSERVICE_SECRET'],
    });
  });

  it("property: core's old /api/internal/configurations path: says it is gone and what is called instead", async () => {
    const oldPath = fc
      .tuple(fc.constantFrom('http', 'https'), hostName, fc.option(port), fc.constantFrom('', '/', '/x', '?a=b'))
      .map(([s, h, p, rest]) => `${s}://${h}${p ? `:${p}` : ''}/api/internal/configurations${rest}`);
    await fc.assert(
      fc.asyncProperty(oldPath, fc.constantFrom('--harbor-core', 'WAIT_HARBOR_CORE', 'CORE_URL'), async (raw, how) => {
        const [argv, env] = coreUrlGiven(how, raw);
        expectConfigError(await runInProcess(argv, env), {
          input: `${how} "${raw}"`,
          mentions: ['/api/internal/configurations is gone since Harbor v2.3', '/api/v2.0/internalconfig is added', "core's base URL"],
        });
      }),
      SOME,
    );
  });

  it('property: redis+sentinel without a master name: shows the form with the master name', async () => {
    const sentinelUrl = fc
      .tuple(fc.constantFrom('redis+sentinel', 'rediss+sentinel'), fc.option(password), fc.array(hostPort, { minLength: 1, maxLength: 3 }), fc.constantFrom('', '/', '?db=1', '/?idle_timeout_seconds=30'))
      .map(([s, pw, hosts, rest]) => `${s}://${pw === null ? '' : `:${enc(pw)}@`}${hosts.join(',')}${rest}`);
    await fc.assert(
      fc.asyncProperty(sentinelUrl, async (raw) => {
        expectConfigError(await runInProcess([raw], {}), { input: `argument "${redactRaw(raw)}"`, mentions: ['/<master-name>', '://s1:26379,s2:26379/mymaster/0'] });
      }),
      SOME,
    );
  });

  it('property: a sentinel written without its port: says to write it with 26379, as Harbor needs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostPort, { maxLength: 2 }), hostName, async (withPorts, bare) => {
        const raw = `redis+sentinel://${[...withPorts, bare].join(',')}/mymaster`;
        expectConfigError(await runInProcess([raw], {}), { input: `argument "${raw}"`, mentions: [`"${bare}" has no port`, `${bare}:26379`] });
      }),
      SOME,
    );
  });

  it('property: a query parameter Harbor rejects: quotes Harbor\'s own error and lists what it accepts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('redis', 'rediss', 'redis+sentinel://s1:26379,s2:26379/mymaster', 'rediss+sentinel://s1:26379/mymaster'), unknownParam, async (base, name) => {
        const raw = base.includes('://') ? `${base}?${name}=1` : `${base}://harbor-redis:6379/0?${name}=1`;
        expectConfigError(await runInProcess([raw], {}), {
          input: `argument "${redactRaw(raw)}"`,
          mentions: [`redis: unexpected option: ${name}`, 'accepted: db, protocol', 'idle_timeout_seconds', 'skip_verify'],
        });
      }),
      SOME,
    );
  });

  // The test names show the parameter name only: the value may be the marked password.
  it.each([
    ['idle_timeout_second', '30', 'did you mean idle_timeout_seconds?'],
    ['idle_timeout_secs', '30', 'did you mean idle_timeout_seconds?'],
    ['DB', '1', 'did you mean db?'],
    ['dial_timout', '5s', 'did you mean dial_timeout?'],
    ['password', PASSWORD, 'put the credentials in the user info'],
    ['sentinel_password', PASSWORD, 'Harbor sends no AUTH to the sentinels'],
    ['ssl', 'true', 'for TLS use the rediss:// scheme'],
    ['tls', '1', 'for TLS use the rediss:// scheme'],
  ])('a rejected ?%s=... gets a hint', async (name, value, hint) => {
    const raw = `redis://harbor-redis:6379/0?${name}=${value}`;
    const line = expectConfigError(await runInProcess([raw], {}), { input: `argument "${redactRaw(raw)}"`, mentions: [hint] });
    expect(line.input).not.toContain(PASSWORD);
  });

  it('skip_verify on a plain redis:// URL: says it applies to rediss only', async () => {
    for (const raw of ['redis://harbor-redis:6379?skip_verify=true', 'redis+sentinel://s1:26379/mymaster?skip_verify=1']) {
      expectConfigError(await runInProcess([raw], {}), { input: `argument "${raw}"`, mentions: ['skip_verify applies to rediss:// only'] });
    }
  });

  it('several hosts on redis://: says that is the sentinel form', async () => {
    const raw = 'redis://r1:6379,r2:6379/0';
    expectConfigError(await runInProcess([raw], {}), { input: `argument "${raw}"`, mentions: ['several hosts are for redis+sentinel://'] });
  });

  it("the whole config path given as core's URL: says the path is added", async () => {
    const raw = 'http://harbor-core:80/api/v2.0/internalconfig';
    expectConfigError(await runInProcess(['--harbor-core', raw], { JOBSERVICE_SECRET: HARBOR_SECRET }), {
      input: `--harbor-core "${raw}"`,
      mentions: ['without a path: /api/v2.0/internalconfig is added'],
    });
  });

  it('the secret given as the whole header value ("Harbor-Secret ..."): says to give the secret alone', async () => {
    expectConfigError(await runInProcess(['--harbor-core', 'http://harbor-core:80', '--harbor-secret-file', files.headerSecret], {}), {
      input: '--harbor-secret-file',
      mentions: ['give the secret alone'],
    });
    expectConfigError(await runInProcess(['--preset', 'jobservice', '--jobservice-config', files.config], { ...JOBSERVICE_ENV, JOBSERVICE_SECRET: `Harbor-Secret ${HARBOR_SECRET}` }), {
      input: 'JOBSERVICE_SECRET',
      mentions: ['give the secret alone'],
    });
  });

  it('property: a secret with a line break or other control character inside: refused, since a header cannot carry it', async () => {
    const control = fc.integer({ min: 0, max: 0x1f }).filter((c) => c !== 0x09).map((c) => String.fromCharCode(c));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: HARBOR_SECRET.length - 1 }), control, async (at, char) => {
        const secret = `${HARBOR_SECRET.slice(0, at)}${char}${HARBOR_SECRET.slice(at)}`;
        expectConfigError(await runInProcess(['--preset', 'jobservice', '--jobservice-config', files.config], { ...JOBSERVICE_ENV, JOBSERVICE_SECRET: secret }), {
          input: 'JOBSERVICE_SECRET',
          mentions: ['which an HTTP header cannot carry'],
        });
      }),
      SOME,
    );
  });

  it('property: a password with white space, unencoded, in WAIT_TARGETS: says to percent-encode it, showing neither half', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: PASSWORD.length - 1 }), fc.constantFrom(' ', '\t', '\n', '  '), goodUrl, async (at, space, other) => {
        const split = `redis://:${PASSWORD.slice(0, at)}${space}${PASSWORD.slice(at)}@harbor-redis:6379/0`;
        fc.pre(!/\s/.test(other));
        expectConfigError(await runInProcess([], { WAIT_TARGETS: `${other} ${split}` }), { input: 'WAIT_TARGETS', mentions: ['percent-encode it: %20'] });
      }),
      SOME,
    );
  });

  it('the pieces of a mistyped scheme never show the password (redis:/ instead of redis://)', async () => {
    for (const raw of [`redis:/:${PASSWORD}@harbor-redis:6379`, `redis:${PASSWORD}@harbor-redis`, `:${PASSWORD}@harbor-redis:6379`]) {
      expectConfigError(await runInProcess([raw], {}), { input: `argument "${redactRaw(raw)}"`, mentions: ['not a target URL'] });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// The process-level contract, through the built bundle
// ---------------------------------------------------------------------------------------------------------

describe.concurrent('through the built bundle: the same contract for a real process', () => {
  /** Exit 2, exactly one JSON config_error line, nothing on stderr, no stack, no secret. */
  function expectProcessConfigError(r: CliResult, input: string, mentions: readonly string[] = []): void {
    expectConfigError({ code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr }, { input, mentions, secrets: [PASSWORD] });
    expect(r.signal).toBeNull();
  }

  it('a bad Redis URL holding a password, in WAIT_TARGETS', async () => {
    const raw = `redis://:${enc(`${PASSWORD}/@`)}@harbor-redis:6379/0?idle_timeout_second=30`;
    expectProcessConfigError(await runCli([], { WAIT_TARGETS: raw }), `WAIT_TARGETS "${redactRaw(raw)}"`, ['did you mean idle_timeout_seconds?']);
  });

  it('a bad duration in a WAIT_* variable, with a control character', async () => {
    expectProcessConfigError(await runCli([TARGET], { WAIT_ATTEMPT_TIMEOUT: '5\u0007s' }), 'WAIT_ATTEMPT_TIMEOUT', ['is not a duration']);
  });

  it('the jobservice preset with CORE_SECRET only', async () => {
    expectProcessConfigError(await runCli(['--preset', 'jobservice', '--jobservice-config', files.config], { CORE_URL: 'http://harbor-core:80', CORE_SECRET }), '--preset jobservice', [
      'CORE_SECRET is set, but core checks the jobservice secret',
    ]);
  });

  it("core's old configuration path", async () => {
    const raw = 'http://harbor-core/api/internal/configurations';
    expectProcessConfigError(await runCli(['--harbor-core', raw], { JOBSERVICE_SECRET: HARBOR_SECRET }), `--harbor-core "${raw}"`, ['gone since Harbor v2.3']);
  });

  it('a binary config.yml', async () => {
    const path = file(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0xff]), 'config.yml');
    expectProcessConfigError(await runCli(['--preset', 'jobservice'], { ...(JOBSERVICE_ENV as Record<string, string>), WAIT_JOBSERVICE_CONFIG: path }), `WAIT_JOBSERVICE_CONFIG "${path}"`, ['is binary']);
  });

  it('/dev/zero as the secret file: refused at once, not read forever', async () => {
    const r = await runCli(['--harbor-core', 'http://harbor-core:80', '--harbor-secret-file', '/dev/zero']);
    expectProcessConfigError(r, '--harbor-secret-file', ['larger than 1 MiB']);
  });

  it('a secret on the command line, in pretty format: one ERROR line naming the flag, no value', async () => {
    const r = await runCli(['--log-format', 'pretty', '--harbor-secret', HARBOR_SECRET, TARGET]);
    expect(r.code).toBe(ExitCode.ConfigError);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR: --harbor-secret: a secret is never accepted on the command line/);
    expect(r.stdout).not.toMatch(STACK_FRAME);
    expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, SECRETS);
  });
});
