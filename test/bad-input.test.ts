/**
 * Bad input, property-based: for any bad target URL (postgres:// among them), duration, status list, WAIT_*
 * value, preset env (core's database variables among them) or jobservice config.yml, harbor-wait exits 2 with
 * one `config_error` line that names the input (the flag, the variable, the file, or the target redacted), no
 * stack trace, and no fragment of a secret given in the input. Good inputs are accepted. Harbor's own mistakes
 * (shared/harbor-facts.md) get a message saying what to do.
 *
 * Most cases drive the in-process run() with a signal already aborted: a bad input fails in loadConfig, before
 * anything is contacted, and a good one returns 143 right after it — so no case here can open a connection.
 * The cases run for real resolve names with a lookup that refuses them all; the one about connect_timeout
 * resolves one name to a silent server of its own on loopback. Nothing leaves the machine.
 * The last block runs the built bundle on a few representative cases, for the process-level contract.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { run } from '../src/commands/cli.ts';
import { loadConfig, OPTIONS, type Config } from '../src/config/options.ts';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { redactRaw } from '../src/protocols/url.ts';
import { runCli, type CliResult } from './helpers/cli.ts';
import { makeSelfSignedSync } from './helpers/certs.ts';
import { tempDir } from './helpers/processes.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';
import { chartDatabaseEnv } from './helpers/chart-env.ts';
import type { Lookup } from '../src/net/dial.ts';
import { Shutdown } from '../src/commands/io.ts';

type Env = Record<string, string | undefined>;

// ---------------------------------------------------------------------------------------------------------
// Secrets embedded in the generated inputs, and files the inputs point at
// ---------------------------------------------------------------------------------------------------------

/** A Redis password, written percent-encoded into URLs; the suffixes make encoding matter. */
const PASSWORD = markedSecret('pw');
const HARBOR_SECRET = markedSecret('hs');
const CORE_SECRET = markedSecret('cs');
/** POSTGRESQL_PASSWORD as the chart gives it: nothing in it that core's unquoted connection string breaks on. */
const PG_PASSWORD = `${markedSecret('pg')}/@"#%?&=+:é`;
const SECRETS = [PASSWORD, HARBOR_SECRET, CORE_SECRET, PG_PASSWORD];
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
const good = makeSelfSignedSync(dir, 'good');
const files = {
  missing: join(dir, 'does-not-exist'),
  empty: file(' \n', 'empty'),
  directory,
  notPem: file(`not a certificate ${PASSWORD}\n`, 'not-pem'),
  binary: file(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe]), 'binary'),
  huge: file(`-----BEGIN CERTIFICATE-----\n${'A'.repeat(1024 * 1024)}\n`, 'huge'),
  headerSecret: file(`Harbor-Secret ${HARBOR_SECRET}\n`, 'header-secret'),
  // Real ones: certificate and key files are read as such at start (a pair must match).
  goodCert: good.cert,
  goodKey: good.key,
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

async function runInProcess(argv: readonly string[], env: Env, signal: AbortSignal = STOPPED, lookup: Lookup = refuseLookup): Promise<Outcome> {
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
    lookup,
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

const SCHEMES = ['redis', 'rediss', 'redis+sentinel', 'rediss+sentinel', 'postgres', 'postgresql', 'http', 'https', 'tcp'] as const;
type Scheme = (typeof SCHEMES)[number];
type Kind = 'redis' | 'sentinel' | 'postgres' | 'http' | 'tcp';

function kindOf(scheme: Scheme): Kind {
  if (scheme.startsWith('postgres')) return 'postgres';
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

// PostgreSQL (harbor-facts §4): libpq's URI, with only the parameters that change what core's login meets.
// The lists are the test's own (libpq's documented values), not the parser's.
const PG_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'connect_timeout', 'application_name', 'target_session_attrs'];
const PG_SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
const PG_SESSION_ATTRS = ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'];

const pgUser = fc.constantFrom('postgres', 'harbor', 'harbor_core', 'h%40rbor', 'a.b-c');
/** user@, user:password@ (the password percent-encoded), or user:@ (an empty password). */
const pgUserinfo = fc.oneof(
  { weight: 1, arbitrary: pgUser.map((u) => `${u}@`) },
  { weight: 3, arbitrary: fc.tuple(pgUser, password).map(([u, pw]) => `${u}:${enc(pw)}@`) },
  { weight: 1, arbitrary: pgUser.map((u) => `${u}:@`) },
);
const pgPath = fc.constantFrom('', '/', '/registry', '/harbor_core', '/my%20db', '/a%2Fb');

/** Each accepted parameter with good values; sslcert and sslkey come together. The PEM files are only read here, never used. */
const GOOD_PG_PARAMS: Record<string, fc.Arbitrary<string>> = {
  sslmode: fc.constantFrom(...PG_SSLMODES).map((v) => `sslmode=${v}`),
  connect_timeout: fc.oneof(fc.integer({ min: 0, max: 9_999_999 }), fc.integer({ min: 0, max: 60 })).map((n) => `connect_timeout=${n}`),
  application_name: fc.stringMatching(/^[A-Za-z0-9 ._-]{0,20}$/).map((v) => `application_name=${enc(v)}`),
  target_session_attrs: fc.constantFrom(...PG_SESSION_ATTRS).map((v) => `target_session_attrs=${v}`),
  sslrootcert: fc.constantFrom('system', files.goodCert).map((v) => `sslrootcert=${enc(v)}`),
  'sslcert+sslkey': fc.constant(`sslcert=${enc(files.goodCert)}&sslkey=${enc(files.goodKey)}`),
};
const pgQueryOf = (params: readonly string[]) => (params.length ? `?${params.join('&')}` : '');
const goodPgQuery = fc
  .shuffledSubarray(Object.keys(GOOD_PG_PARAMS))
  .chain((names) => (names.length === 0 ? fc.constant([] as string[]) : fc.tuple(...names.map((n) => GOOD_PG_PARAMS[n] as fc.Arbitrary<string>))))
  .map(pgQueryOf);

function goodPostgresParts(scheme: Scheme): fc.Arbitrary<Parts> {
  return fc.record({
    scheme: fc.constant(scheme),
    userinfo: pgUserinfo,
    hosts: fc.oneof(hostName, hostPort).map((h) => [h]),
    path: pgPath,
    query: goodPgQuery,
    fragment: fc.constant(''),
  });
}

/** The parameters of a query ("?a=1&b=2"), each "name=value" as written. */
const queryParams = (query: string) => query.replace(/^\?/, '').split('&').filter((p) => p !== '');
const paramName = (param: string) => param.split('=')[0] as string;

/** `p` with `extra` parameters inserted at `at` (a good one of the same name is taken out: else it would be "given twice"). */
function withParams(p: Parts, extra: readonly string[], at: number): Parts {
  const names = new Set(extra.map(paramName));
  if (names.has('sslcert') || names.has('sslkey')) names.add('sslcert').add('sslkey');
  const kept = queryParams(p.query).filter((q) => !names.has(paramName(q)));
  kept.splice(at % (kept.length + 1), 0, ...extra);
  return { ...p, query: pgQueryOf(kept) };
}

/** A postgres:// URL bad in one place, the parameter an error names after the target (if any), and what the message must say. */
interface BadPostgres {
  readonly parts: Parts;
  readonly param?: string;
  readonly mentions: readonly string[];
}

/** A parameter made bad: its text in the query, the name the error names, and what the message must say. */
interface BadParam {
  readonly params: readonly string[];
  readonly param: string;
  readonly mentions: readonly string[];
}

/** A value of a parameter, percent-encoded, and as the message quotes it (decoded). */
const badValue = (name: string, values: fc.Arbitrary<string>, says: (v: string) => string): fc.Arbitrary<BadParam> =>
  values.map((v) => ({ params: [`${name}=${enc(v)}`], param: name, mentions: [says(v)] }));

const PG_HINTS: ReadonlyArray<readonly [string, string]> = [
  ['password', 'give the user and password in the user info, percent-encoded'],
  ['user', 'give the user and password in the user info, percent-encoded'],
  ['dbname', 'give the database as the path'],
  ['host', 'give the host and port before the path'],
  ['port', 'give the host and port before the path'],
  ['ssl', 'did you mean sslmode?'],
  ['tls', 'did you mean sslmode?'],
  ['SSLMODE', 'did you mean sslmode?'],
  ['ssl-mode', 'did you mean sslmode?'],
  ['connect-timeout', 'did you mean connect_timeout?'],
  ['connecttimeout', 'did you mean connect_timeout?'],
  ['applicationname', 'did you mean application_name?'],
  ['target-session-attrs', 'did you mean target_session_attrs?'],
];

const badPgParam: fc.Arbitrary<BadParam> = fc.oneof(
  // A parameter harbor-wait does not apply: generated, or one libpq has (the password among them), with its hint.
  fc
    .stringMatching(/^[a-z][a-z_]{0,20}$/)
    .filter((n) => !PG_PARAMS.includes(n))
    .map((n) => ({ params: [`${n}=1`], param: n, mentions: [`parameter "${n}" is not one harbor-wait applies`, `accepted: ${PG_PARAMS.join(', ')}`] })),
  fc.constantFrom(...PG_HINTS).map(([n, hint]) => ({ params: [`${n}=${n === 'password' ? enc(PASSWORD) : '1'}`], param: n, mentions: [`parameter "${n}"`, hint] })),
  fc.constantFrom('sslpassword', 'passfile', 'options', 'sslnegotiation', 'gssencmode', 'channel_binding', 'sslcompression', 'keepalives', 'service').map((n) => ({
    params: [`${n}=${n.includes('pass') ? enc(PASSWORD) : '1'}`],
    param: n,
    mentions: [`parameter "${n}" is not one harbor-wait applies`],
  })),
  badValue(
    'sslmode',
    fc.oneof(
      fc.constantFrom('', 'true', 'on', '1', 'Require', 'DISABLE', 'verify_full', 'verifyfull', 'verify-all', 'prefered', 'strict', ' require', 'require ', 'required'),
      fc.stringMatching(/^[a-z-]{1,12}$/).filter((v) => !PG_SSLMODES.includes(v)),
    ),
    (v) => `sslmode "${v}" is invalid`,
  ),
  badValue(
    'target_session_attrs',
    fc.oneof(
      fc.constantFrom('', 'readwrite', 'read_write', 'Read-Write', 'master', 'slave', 'prefer_standby', 'rw', 'any '),
      fc.stringMatching(/^[a-z-]{1,15}$/).filter((v) => !PG_SESSION_ATTRS.includes(v)),
    ),
    (v) => `target_session_attrs "${v}" is not one of ${PG_SESSION_ATTRS.join(', ')}`,
  ),
  badValue(
    'connect_timeout',
    fc.oneof(
      fc.constantFrom('', ' ', '1.5', '-1', '+5', 'abc', '10s', '1e3', '0x10', '12345678', '٣', '５', '1 0', 'Infinity'),
      fc.stringMatching(/^[a-z0-9.+-]{1,10}$/).filter((v) => !/^\d{1,7}$/.test(v)),
    ),
    (v) => `connect_timeout "${v}" is not a whole number of seconds`,
  ),
  // The same parameter twice, however good each value is.
  fc
    .constantFrom(...Object.keys(GOOD_PG_PARAMS).filter((n) => !n.includes('+')))
    .chain((n) => fc.tuple(GOOD_PG_PARAMS[n] as fc.Arbitrary<string>, GOOD_PG_PARAMS[n] as fc.Arbitrary<string>).map((twice) => ({ params: twice, param: n, mentions: [`parameter ${n} is given twice`] }))),
  // Half a client certificate.
  fc.constantFrom('sslcert', 'sslkey').map((n) => ({ params: [`${n}=${enc(n === 'sslcert' ? files.goodCert : files.goodKey)}`], param: n, mentions: ['a client certificate needs both sslcert and sslkey'] })),
  // A certificate or key file that cannot be read, or is not PEM (one holds the password: it is never shown).
  fc
    .tuple(
      fc.constantFrom('sslrootcert', 'sslcert', 'sslkey'),
      fc.constantFrom(
        [files.missing, '(ENOENT)'],
        [files.directory, '(EISDIR)'],
        [files.notPem, 'holds no PEM'],
        [files.binary, 'holds no PEM'],
        [files.huge, 'is larger than 1 MiB'],
        ['/dev/zero', 'is larger than 1 MiB'],
      ),
    )
    .map(([n, [path, says]]) => {
      const pair = n === 'sslcert' ? [`sslkey=${enc(files.goodKey)}`] : n === 'sslkey' ? [`sslcert=${enc(files.goodCert)}`] : [];
      return { params: [`${n}=${enc(path)}`, ...pair], param: n, mentions: [`"${path}"`, says] };
    }),
);

function badPostgres(scheme: Scheme): fc.Arbitrary<BadPostgres> {
  const good = goodPostgresParts(scheme);
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(good, badPgParam, fc.nat()).map(([p, b, at]) => ({ parts: withParams(p, b.params, at), param: b.param, mentions: b.mentions })) },
    // No user: none at all, or an empty one before the password.
    good.chain((p) =>
      fc.constantFrom('', `:${enc(PASSWORD)}@`, '@', ':@').map((userinfo) => ({ parts: { ...p, userinfo }, mentions: ['needs a user name', '://postgres:PASSWORD@'] })),
    ),
    good.chain((p) =>
      fc.tuple(fc.oneof(hostName, hostPort), fc.array(fc.oneof(hostName, hostPort), { minLength: 1, maxLength: 2 })).map(([h, more]) => ({ parts: { ...p, hosts: [h, ...more] }, mentions: ['takes one host'] })),
    ),
    good.chain((p) =>
      fc
        .oneof(fc.constantFrom('/a/b', '/registry/', '//', '/registry/public', '/%zz/x', '/a/b/c'), fc.tuple(label, label).map(([a, b]) => `/${a}/${b}`))
        .map((path) => ({ parts: { ...p, path }, mentions: [`the path "${path}" must be empty or /<database>`] })),
    ),
    good.chain((p) => fc.constantFrom('/%zz', '/reg%2', '/%e9', '/%c3%28').map((path) => ({ parts: { ...p, path }, mentions: ['the database name has a malformed percent-escape'] }))),
  );
}

function goodParts(scheme: Scheme): fc.Arbitrary<Parts> {
  const kind = kindOf(scheme);
  if (kind === 'postgres') return goodPostgresParts(scheme);
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
  if (kind === 'postgres') variants.push(badPostgres(scheme).map((b) => b.parts), badPostgres(scheme).map((b) => b.parts));
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
    .tuple(fc.constantFrom('mysql', 'postgres+ssl', 'redis+cluster', 'valkey', 'unix', 'ftp', 'redis-sentinel', 'rediss+sentinels', 'sentinel', 'rediss+tls', 'http+unix', 'ws', 'grpc'), hostPort)
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
    case 'postgres':
      return `${s}://harbor:${PASSWORD}@h:5432/registry?${'x'.repeat(n)}=1`;
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

/**
 * The input an error about target `raw` names: `named`, which names the target (redacted); for a postgres:// URL,
 * also `named` followed by one of the URL's parameters, when that parameter is what is wrong.
 */
function namesTarget(raw: string, named: string): Expected['input'] {
  if (!/^postgres(ql)?:\/\//i.test(raw)) return named;
  const q = raw.indexOf('?');
  const params = q < 0 ? [] : queryParams(raw.slice(q)).map((p) => {
    try {
      return decodeURIComponent(paramName(p).replaceAll('+', ' '));
    } catch {
      return undefined;
    }
  });
  return (input) => input === named || params.some((p) => p !== undefined && input === `${named} ${p}`);
}

/** Where a target comes from, and the input name its errors must carry. */
function targetFrom(raw: string, source: 'argument' | 'WAIT_TARGETS'): { argv: string[]; env: Env; input: Expected['input'] } {
  if (source === 'argument') return { argv: [raw], env: {}, input: namesTarget(raw, `argument "${redactRaw(raw)}"`) };
  // A piece with "@" but no "://" may be half of a password split at white space: it is never echoed.
  const input = !raw.includes('://') && raw.includes('@') ? TARGETS_ENV : namesTarget(raw, `${TARGETS_ENV} "${redactRaw(raw)}"`);
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
        expectConfigError(await runInProcess(argv, {}), { input: namesTarget(bad, `argument "${redactRaw(bad)}"`), secrets: [PASSWORD] });
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

describe('postgres:// and postgresql:// URLs', () => {
  const pgScheme = fc.constantFrom<Scheme>('postgres', 'postgresql');

  it('property: each bad part is named: the target (redacted), the parameter when it is one, and what is wrong with it', async () => {
    await fc.assert(
      fc.asyncProperty(pgScheme.chain(badPostgres), fc.boolean(), async (bad, fromEnv) => {
        const raw = joinParts(bad.parts);
        const t = targetFrom(raw, fromEnv && !/\s/.test(raw) ? 'WAIT_TARGETS' : 'argument');
        const named = `${fromEnv && !/\s/.test(raw) ? TARGETS_ENV : 'argument'} "${redactRaw(raw)}"`;
        const line = expectConfigError(await runInProcess(t.argv, t.env), { input: bad.param ? `${named} ${bad.param}` : named, mentions: bad.mentions });
        expect(line.input).not.toContain(PASSWORD.slice(0, 8));
      }),
      MANY,
    );
  });

  it('property: a good URL is accepted, its label the URL with the password as ***', async () => {
    await fc.assert(
      fc.asyncProperty(pgScheme.chain(goodPostgresParts), async (p) => {
        const raw = joinParts(p);
        expectAccepted(await runInProcess([raw], {}));
        const [target] = (await config([raw], {})).targets;
        // A lone user name is a user name here (libpq reads the password from elsewhere): it stays.
        const shown = p.userinfo.includes(':') ? `${p.userinfo.slice(0, p.userinfo.indexOf(':'))}:***@` : p.userinfo;
        expect(target?.label).toBe(joinParts({ ...p, userinfo: shown }));
      }),
      MANY,
    );
  });

  // The test names show the parameter name only: the value may be the marked password.
  it.each(PG_HINTS)('a rejected ?%s=... gets a hint', async (name, hint) => {
    const value = name === 'password' ? enc(PASSWORD) : 'x';
    const raw = `postgres://harbor:${enc(PASSWORD)}@harbor-database:5432/registry?sslmode=disable&${name}=${value}`;
    const line = expectConfigError(await runInProcess([raw], {}), { input: `argument "${redactRaw(raw)}" ${name}`, mentions: [`parameter "${name}"`, hint] });
    // The user info goes whole (the URL is not parsed yet when it is named), and ?password=... with it.
    expect(line.input).toBe(`argument "postgres://***@harbor-database:5432/registry?sslmode=disable&${name}=${name === 'password' ? '***' : value}" ${name}`);
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
  const CASES: Record<string, { value: fc.Arbitrary<string>; env?: () => Env; positional?: boolean; input?: (name: string, value: string) => Expected['input'] }> = {
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
    WAIT_DIAGNOSE: { value: choiceNot(BOOLEAN_WORDS) },
    WAIT_EXIT_ZERO: { value: choiceNot(BOOLEAN_WORDS) },
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

  /** Variables no value of which is refused: WAIT_TERMINATION_LOG names a file written only if it exists, and empty turns it off. */
  const NEVER_REFUSED = new Set(['WAIT_TERMINATION_LOG']);

  it('the table covers every WAIT_* variable of the options table, and WAIT_TARGETS', () => {
    const names = [TARGETS_ENV, ...Object.values(OPTIONS).flatMap((o) => ('env' in o ? [o.env] : []))].filter((n) => !NEVER_REFUSED.has(n));
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
// The core preset's database: DATABASE_TYPE, POSTGRESQL_* and the PG* variables core's driver reads
// ---------------------------------------------------------------------------------------------------------

describe("--preset core: the database's variables", () => {
  /** ConfigMap <fullname>-core and the password from Secret <fullname>-core, as the chart gives them. */
  const CORE_DB_ENV: Env = {
    _REDIS_URL_CORE: 'redis://harbor-redis:6379/0',
    ...chartDatabaseEnv(PG_PASSWORD),
  };
  const withCoreDb = (env: Env) => runInProcess(['--preset', 'core'], { ...CORE_DB_ENV, ...env });

  /** A name without any character core's unquoted string breaks on. */
  const plainName = fc.stringMatching(/^[a-z][a-z0-9_]{1,12}$/);
  const SPACES = [' ', '\t', '\n', '\r', '\v', '\f', '  '];
  /** `value` broken the ways core's unquoted `key=value` string breaks (harbor-facts §4); `inner` keeps it unchanged by trimming. */
  const unquotedBreak = (value: fc.Arbitrary<string>, inner: boolean) =>
    fc.tuple(value, fc.nat(), fc.constantFrom(...SPACES), fc.constantFrom('space', 'quote', 'backslash', 'escape', 'escape')).map(([v, at, space, how]) => {
      const i = inner ? 1 + (at % (v.length - 1)) : at % (v.length + 1);
      if (how === 'space') return { value: `${v.slice(0, i)}${space}${v.slice(i)}`, says: 'holds white space' };
      if (how === 'quote') return { value: `'${v}`, says: "begins with '" };
      if (how === 'backslash') return { value: `${v}\\`, says: 'ends with \\' };
      // Never at the end, where "\\" would be a trailing backslash first.
      const j = at % v.length;
      return { value: `${v.slice(0, j)}${at % 2 ? '\\\\' : "\\'"}${v.slice(j)}`, says: "holds \\\\ or \\'" };
    });

  it("the chart's env is accepted, the database's label without the password", async () => {
    expectAccepted(await withCoreDb({}));
    const labels = (await config(['--preset', 'core'], CORE_DB_ENV)).targets.map((t) => t.label);
    expect(labels).toContain('postgres://postgres:***@harbor-database:5432/registry?sslmode=disable');
  });

  it('property: DATABASE_TYPE other than postgresql is refused naming it; unset, empty or postgresql is accepted', async () => {
    const notPostgresql = fc.oneof(
      fc.constantFrom('mysql', 'mariadb', 'postgres', 'PostgreSQL', 'POSTGRESQL', 'pgsql', 'pg', 'postgresql14', 'postgre sql', '"postgresql"', "'postgresql'", 'sqlite'),
      // The value is trimmed, as every preset variable is: only what is left counts.
      fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== '' && s.trim() !== 'postgresql'),
    );
    await fc.assert(
      fc.asyncProperty(notPostgresql, async (type) => {
        expectConfigError(await withCoreDb({ DATABASE_TYPE: type }), { input: 'DATABASE_TYPE', mentions: ['is not postgresql', 'invalid database'] });
      }),
      SOME,
    );
    for (const type of [undefined, '', 'postgresql']) expectAccepted(await withCoreDb({ DATABASE_TYPE: type }));
  });

  it('property: POSTGRESQL_PORT that is not a port (1-65535) is refused naming it', async () => {
    const isPort = (s: string) => /^\d{1,5}$/.test(s.trim()) && Number(s) >= 1 && Number(s) <= 65535;
    const notPort = fc.oneof(
      fc.constantFrom(...BAD_PORTS.filter((p) => !isPort(p)), '5432/tcp', 'tcp://10.0.0.1:5432', '5432 5433', '0005432'),
      fc.integer({ min: 65536, max: 2 ** 31 - 1 }).map(String),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }).filter((s) => s.trim() !== '' && !isPort(s)),
    );
    await fc.assert(
      fc.asyncProperty(notPort, async (portText) => {
        expectConfigError(await withCoreDb({ POSTGRESQL_PORT: portText }), { input: 'POSTGRESQL_PORT', mentions: ['is not a port (1-65535)'] });
      }),
      SOME,
    );
  });

  it('property: POSTGRESQL_HOST that is not a host name or address is refused naming it', async () => {
    await fc.assert(
      fc.asyncProperty(badHost.filter((h) => h === h.trim()), async (host) => {
        expectConfigError(await withCoreDb({ POSTGRESQL_HOST: host }), { input: 'POSTGRESQL_HOST' });
      }),
      SOME,
    );
  });

  it("property: POSTGRESQL_USERNAME or POSTGRESQL_DATABASE that core's unquoted string would break is refused naming it", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('POSTGRESQL_USERNAME', 'POSTGRESQL_DATABASE'), unquotedBreak(plainName, true), async (name, broken) => {
        expectConfigError(await withCoreDb({ [name]: broken.value }), { input: name, mentions: [broken.says, 'unquoted', name === 'POSTGRESQL_USERNAME' ? 'user=<value>' : 'dbname=<value>'] });
      }),
      SOME,
    );
  });

  it("property: POSTGRESQL_PASSWORD that core's unquoted string would break is refused naming it, never showing any of it", async () => {
    // Not trimmed: white space at either end of a password is white space in it.
    await fc.assert(
      fc.asyncProperty(unquotedBreak(fc.constant(PG_PASSWORD), false), async (broken) => {
        const line = expectConfigError(await withCoreDb({ POSTGRESQL_PASSWORD: broken.value }), {
          input: 'POSTGRESQL_PASSWORD',
          mentions: [broken.says, '(not shown)', 'password=<value>'],
          secrets: [broken.value],
        });
        expect(line.msg).not.toContain(PG_PASSWORD.slice(0, 8));
      }),
      SOME,
    );
    for (const value of [undefined, '']) {
      expectConfigError(await withCoreDb({ POSTGRESQL_PASSWORD: value }), { input: 'POSTGRESQL_PASSWORD', mentions: [value === undefined ? 'is unset' : 'is empty', 'Secret <fullname>-core'] });
    }
  });

  it('property: POSTGRESQL_SSLMODE not one of the six is refused naming it', async () => {
    const notSslmode = fc.oneof(
      fc.constantFrom('true', 'on', 'Require', 'DISABLE', 'verify_full', 'required', 'ssl', 'tls', 'prefer,require'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 15 }).filter((s) => s.trim() !== '' && !PG_SSLMODES.includes(s.trim())),
    );
    await fc.assert(
      fc.asyncProperty(notSslmode, async (mode) => {
        expectConfigError(await withCoreDb({ POSTGRESQL_SSLMODE: mode }), { input: 'POSTGRESQL_SSLMODE', mentions: ['is invalid', PG_SSLMODES.join(', ')] });
      }),
      SOME,
    );
  });

  it('property: PGCONNECT_TIMEOUT, PGTARGETSESSIONATTRS and the PGSSL* files, which core\'s driver reads too, are refused naming the variable', async () => {
    const cases = fc.oneof(
      fc.constantFrom('1.5', '-1', '10s', 'abc', '12345678').map((v) => ({ env: { PGCONNECT_TIMEOUT: v }, input: 'PGCONNECT_TIMEOUT' })),
      fc.constantFrom('readwrite', 'master', 'rw').map((v) => ({ env: { PGTARGETSESSIONATTRS: v }, input: 'PGTARGETSESSIONATTRS' })),
      fc.constantFrom(files.missing, files.directory, files.notPem, files.huge, '/dev/zero').chain((path) =>
        fc.constantFrom(
          { env: { PGSSLROOTCERT: path }, input: 'PGSSLROOTCERT' },
          { env: { PGSSLCERT: path, PGSSLKEY: files.goodKey }, input: 'PGSSLCERT' },
          { env: { PGSSLCERT: files.goodCert, PGSSLKEY: path }, input: 'PGSSLKEY' },
        ),
      ),
      fc.constantFrom({ env: { PGSSLCERT: files.goodCert }, input: 'PGSSLCERT' }, { env: { PGSSLKEY: files.goodKey }, input: 'PGSSLKEY' }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        expectConfigError(await withCoreDb(c.env), { input: c.input });
      }),
      { numRuns: 40 },
    );
  });

  it('property: any value at all in any of these variables is accepted or refused naming it — never a crash, never a stack', async () => {
    const names = ['DATABASE_TYPE', 'POSTGRESQL_HOST', 'POSTGRESQL_PORT', 'POSTGRESQL_USERNAME', 'POSTGRESQL_DATABASE', 'POSTGRESQL_PASSWORD', 'POSTGRESQL_SSLMODE', 'PGCONNECT_TIMEOUT', 'PGTARGETSESSIONATTRS', 'PGAPPNAME', 'PGSERVICE'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 8 }), async (name, value, around) => {
        // A password of any kind still holds the marked one, so that a leak of it shows.
        const v = name === 'POSTGRESQL_PASSWORD' ? `${around}${PG_PASSWORD}${value}` : value;
        const o = await withCoreDb({ [name]: v });
        if (o.code === ExitCode.Sigterm) return expectAccepted(o);
        expectConfigError(o, { input: name });
      }),
      MANY,
    );
  });

  it('property: any connect_timeout accepted is a limit, never a failure at once (a timer holds at most 2^31-1 ms)', async () => {
    // harbor-database is a server on loopback that accepts and never answers: each attempt waits until a limit
    // ends it, the 100 ms attempt timeout or connect_timeout. Every other name is refused.
    const held = new Set<Socket>();
    const silent = createServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    const toSilent: Lookup = (hostname) => (hostname === 'harbor-database' ? Promise.resolve([{ address: '127.0.0.1', family: 4 }]) : refuseLookup(hostname));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.integer({ min: 1, max: 9_999_999 }), fc.integer({ min: 2_147_484, max: 9_999_999 })), fc.boolean(), async (seconds, viaCore) => {
          const [argv, env]: [string[], Env] = viaCore
            ? [['--preset', 'core'], { ...CORE_DB_ENV, POSTGRESQL_PORT: String(silentPort), PGCONNECT_TIMEOUT: String(seconds) }]
            : [[`postgres://harbor:${enc(PASSWORD)}@harbor-database:${silentPort}/registry?sslmode=disable&connect_timeout=${seconds}`], {}];
          const o = await runInProcess(['--once', '--attempt-timeout', '100ms', ...argv], env, new AbortController().signal, toSilent);
          // Refusing a value too large is right too; failing every attempt at once with "connect_timeout" is not.
          if (o.code === ExitCode.ConfigError) return void expectConfigError(o, { input: (i) => i.endsWith(' connect_timeout') || i === 'PGCONNECT_TIMEOUT' });
          expect(o.code, o.stdout).toBe(ExitCode.Failure);
          const lines = o.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; target: string; reason: string; elapsed_ms: number });
          const db = lines.filter((l) => l.event === 'not_ready' && l.target.startsWith('postgres://'));
          expect(db, o.stdout).toHaveLength(1);
          // The attempt timeout ended it (stage timeout, after 100 ms), not connect_timeout.
          expect(db[0]?.reason, o.stdout).not.toMatch(/connect_timeout/);
          expect(db[0]?.elapsed_ms, o.stdout).toBeGreaterThanOrEqual(90);
        }),
        { numRuns: 10 },
      );
    } finally {
      process.off('warning', onWarning);
      silent.close();
      for (const socket of held) socket.destroy();
    }
    expect(warnings).toEqual([]);
  });

  it('property: good variables are accepted; run for real (names refused by the resolver, --once) they end in exit 1, never the password', async () => {
    const goodEnv = fc.record({
      DATABASE_TYPE: fc.constantFrom(undefined, '', 'postgresql'),
      POSTGRESQL_HOST: hostName,
      POSTGRESQL_PORT: fc.option(port.map(String), { nil: undefined }),
      POSTGRESQL_USERNAME: fc.option(plainName, { nil: undefined }),
      POSTGRESQL_DATABASE: fc.option(plainName, { nil: undefined }),
      POSTGRESQL_SSLMODE: fc.option(fc.constantFrom(...PG_SSLMODES), { nil: undefined }),
      // Characters URLs and JSON treat specially, but none core's string breaks on.
      POSTGRESQL_PASSWORD: fc.constantFrom('', '/', '@', ':', '%', '"', 'é', '#?', '+&=', "a'b", '\\x').map((suffix) => `${PG_PASSWORD}${suffix}`),
      PGCONNECT_TIMEOUT: fc.option(fc.integer({ min: 0, max: 600 }).map(String), { nil: undefined }),
      PGTARGETSESSIONATTRS: fc.option(fc.constantFrom(...PG_SESSION_ATTRS), { nil: undefined }),
      PGAPPNAME: fc.option(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(goodEnv, async (db) => {
        const env = { ...CORE_DB_ENV, ...db };
        expectAccepted(await runInProcess(['--preset', 'core'], env));
        const labels = (await config(['--preset', 'core'], env)).targets.map((t) => t.label);
        expectNoSecret({ labels: labels.join('\n') }, [db.POSTGRESQL_PASSWORD]);
        const o = await runInProcess(['--preset', 'core', '--once', '--log-level', 'debug'], env, new AbortController().signal);
        expect(o.code, o.stdout).toBe(ExitCode.Failure);
        expect(o.stdout).not.toContain('config_error');
        expect(o.stderr).toBe('');
        expectNoSecret({ stdout: o.stdout }, [PG_PASSWORD, db.POSTGRESQL_PASSWORD]);
      }),
      { numRuns: 40 },
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
