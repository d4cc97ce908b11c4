import { configErrorOfAsync } from './helpers/errors.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../src/config/options.ts';
import { ConfigError } from '../src/basics/errors.ts';
import { makeSelfSignedSync } from './helpers/certs.ts';

const SECRET = 'S3CRET-MARK-jobservice';
const CORE_LABEL = 'http://harbor-core/api/v2.0/internalconfig';

let dir: string;
let files: {
  secretA: string;
  secretB: string;
  caA: string;
  caB: string;
  certA: string;
  certB: string;
  keyA: string;
  keyB: string;
  notPem: string;
  empty: string;
  missing: string;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'harbor-wait-config-'));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const made = (name: string) => makeSelfSignedSync(dir, name);
  files = {
    secretA: write('secret-a', `${SECRET}-A\n`),
    secretB: write('secret-b', `${SECRET}-B`),
    // Real certificates and keys: TLS files are read as such at start, and a key must match its certificate.
    caA: made('ca-a').cert,
    caB: made('ca-b').cert,
    certA: made('pair-a').cert,
    certB: made('pair-b').cert,
    keyA: join(dir, 'pair-a.key'),
    keyB: join(dir, 'pair-b.key'),
    notPem: write('not.pem', 'hello\n'),
    empty: write('empty', '\n'),
    missing: join(dir, 'does-not-exist'),
  };
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

type Env = Record<string, string | undefined>;

const TARGET = 'tcp://harbor-database:5432';

async function run(argv: readonly string[], env: Env = {}): Promise<Config> {
  const loaded = await loadConfig(argv, env);
  if (loaded.kind !== 'run') throw new Error(`expected a run, got ${loaded.kind}`);
  return loaded.config;
}

function configError(argv: readonly string[], env: Env = {}): Promise<ConfigError> {
  return configErrorOfAsync(() => loadConfig(argv, env));
}

describe('loadConfig: defaults', () => {
  it('uses the documented defaults', async () => {
    const c = await run([TARGET]);
    expect(c.deadlineMs).toBe(300_000);
    expect(c.attemptTimeoutMs).toBe(5_000);
    expect(c.backoff).toEqual({ initialMs: 100, maxMs: 1_000, factor: 2 });
    expect(c.expectStatus.text).toBe('200-299');
    expect(c.logLevel).toBe('info');
    expect(c.logFormat).toBe('json');
    expect(c.once).toBe(false);
    expect(c.tls).toEqual({ insecureSkipVerify: false });
    expect(c.tlsFiles).toEqual({});
    expect(c.secrets).toEqual([]);
    expect(c.warnings).toEqual([]);
    expect(c.targets.map((t) => t.label)).toEqual([TARGET]);
    expect(c.targets[0]?.from).toBe('argument');
  });

  it('returns a frozen configuration', async () => {
    expect(Object.isFrozen((await run([TARGET])))).toBe(true);
  });

  it('treats an empty environment variable as unset', async () => {
    const c = await run([TARGET], { WAIT_DEADLINE: '', WAIT_LOG_LEVEL: '', WAIT_ONCE: '', WAIT_EXPECT_STATUS: '', WAIT_HARBOR_CORE: '' });
    expect(c.deadlineMs).toBe(300_000);
    expect(c.logLevel).toBe('info');
    expect(c.once).toBe(false);
    expect(c.expectStatus.text).toBe('200-299');
    expect(c.targets).toHaveLength(1);
  });
});

describe('loadConfig: --help and --version', () => {
  it('returns help or version without needing targets', async () => {
    expect((await loadConfig(['--help'], {}))).toEqual({ kind: 'help' });
    expect((await loadConfig(['--version'], {}))).toEqual({ kind: 'version' });
    expect((await loadConfig([TARGET, '--help'], { WAIT_DEADLINE: 'junk' }))).toEqual({ kind: 'help' });
  });
});

interface Case {
  readonly name: string;
  /** Environment every run of the case needs. */
  readonly base?: Env;
  readonly flag: () => string[];
  readonly env: () => Env;
  /** What the flag gives, what the env var gives, what the default is. */
  readonly read: (c: Config) => unknown;
  readonly fromFlag: () => unknown;
  readonly fromEnv: () => unknown;
  readonly byDefault: () => unknown;
}

const CASES: Case[] = [
  { name: 'deadline', flag: () => ['--deadline', '10s'], env: () => ({ WAIT_DEADLINE: '20' }), read: (c) => c.deadlineMs, fromFlag: () => 10_000, fromEnv: () => 20_000, byDefault: () => 300_000 },
  { name: 'attempt-timeout', flag: () => ['--attempt-timeout', '250ms'], env: () => ({ WAIT_ATTEMPT_TIMEOUT: '2s' }), read: (c) => c.attemptTimeoutMs, fromFlag: () => 250, fromEnv: () => 2_000, byDefault: () => 5_000 },
  { name: 'backoff-initial', flag: () => ['--backoff-initial', '200ms'], env: () => ({ WAIT_BACKOFF_INITIAL: '300ms' }), read: (c) => c.backoff.initialMs, fromFlag: () => 200, fromEnv: () => 300, byDefault: () => 100 },
  { name: 'backoff-max', flag: () => ['--backoff-max', '30s'], env: () => ({ WAIT_BACKOFF_MAX: '1m' }), read: (c) => c.backoff.maxMs, fromFlag: () => 30_000, fromEnv: () => 60_000, byDefault: () => 1_000 },
  { name: 'backoff-factor', flag: () => ['--backoff-factor', '1.5'], env: () => ({ WAIT_BACKOFF_FACTOR: '3' }), read: (c) => c.backoff.factor, fromFlag: () => 1.5, fromEnv: () => 3, byDefault: () => 2 },
  { name: 'expect-status', flag: () => ['--expect-status', '204'], env: () => ({ WAIT_EXPECT_STATUS: '200,300-399' }), read: (c) => c.expectStatus.text, fromFlag: () => '204', fromEnv: () => '200,300-399', byDefault: () => '200-299' },
  { name: 'log-level', flag: () => ['--log-level', 'debug'], env: () => ({ WAIT_LOG_LEVEL: 'warn' }), read: (c) => c.logLevel, fromFlag: () => 'debug', fromEnv: () => 'warn', byDefault: () => 'info' },
  { name: 'log-format', flag: () => ['--log-format', 'pretty'], env: () => ({ WAIT_LOG_FORMAT: 'json' }), read: (c) => c.logFormat, fromFlag: () => 'pretty', fromEnv: () => 'json', byDefault: () => 'json' },
  { name: 'once', flag: () => ['--once'], env: () => ({ WAIT_ONCE: 'false' }), read: (c) => c.once, fromFlag: () => true, fromEnv: () => false, byDefault: () => false },
  { name: 'once (env true)', flag: () => ['--once'], env: () => ({ WAIT_ONCE: 'true' }), read: (c) => c.once, fromFlag: () => true, fromEnv: () => true, byDefault: () => false },
  { name: 'insecure-skip-verify', flag: () => ['--insecure-skip-verify'], env: () => ({ WAIT_INSECURE_SKIP_VERIFY: '0' }), read: (c) => c.tls.insecureSkipVerify, fromFlag: () => true, fromEnv: () => false, byDefault: () => false },
  { name: 'insecure-skip-verify (env true)', flag: () => ['--insecure-skip-verify'], env: () => ({ WAIT_INSECURE_SKIP_VERIFY: 'yes' }), read: (c) => c.tls.insecureSkipVerify, fromFlag: () => true, fromEnv: () => true, byDefault: () => false },
  { name: 'ca-file', flag: () => ['--ca-file', files.caA], env: () => ({ WAIT_CA_FILE: files.caB }), read: (c) => [c.tls.ca === readFileSync(files.caA, 'utf8') ? 'A' : c.tls.ca === readFileSync(files.caB, 'utf8') ? 'B' : undefined, c.tlsFiles.ca], fromFlag: () => ['A', files.caA], fromEnv: () => ['B', files.caB], byDefault: () => [undefined, undefined] },
  {
    name: 'cert-file + key-file',
    flag: () => ['--cert-file', files.certA, '--key-file', files.keyA],
    env: () => ({ WAIT_CERT_FILE: files.certB, WAIT_KEY_FILE: files.keyB }),
    read: (c) => {
      const which = (text: string | undefined, a: string, b: string) => (text === undefined ? undefined : text === readFileSync(a, 'utf8') ? 'A' : text === readFileSync(b, 'utf8') ? 'B' : '?');
      return [which(c.tls.cert, files.certA, files.certB), which(c.tls.key, files.keyA, files.keyB), c.tlsFiles.cert, c.tlsFiles.key];
    },
    fromFlag: () => ['A', 'A', files.certA, files.keyA],
    fromEnv: () => ['B', 'B', files.certB, files.keyB],
    byDefault: () => [undefined, undefined, undefined, undefined],
  },
  {
    name: 'harbor-core',
    base: { JOBSERVICE_SECRET: SECRET },
    flag: () => ['--harbor-core', 'http://harbor-core:80'],
    env: () => ({ WAIT_HARBOR_CORE: 'http://other-core:80', JOBSERVICE_SECRET: SECRET }),
    read: (c) => c.targets.filter((t) => t.label.includes('internalconfig')).map((t) => [t.label, t.from]),
    fromFlag: () => [[CORE_LABEL, '--harbor-core']],
    fromEnv: () => [['http://other-core/api/v2.0/internalconfig', 'WAIT_HARBOR_CORE']],
    byDefault: () => [],
  },
  {
    name: 'harbor-secret-file',
    base: { WAIT_HARBOR_CORE: 'http://harbor-core:80', JOBSERVICE_SECRET: `${SECRET}-ENV` },
    flag: () => ['--harbor-secret-file', files.secretA],
    env: () => ({ WAIT_HARBOR_SECRET_FILE: files.secretB }),
    read: (c) => c.secrets,
    fromFlag: () => [`${SECRET}-A`],
    fromEnv: () => [`${SECRET}-B`],
    byDefault: () => [`${SECRET}-ENV`],
  },
];

describe('loadConfig: a flag beats its env var, which beats the default', () => {
  it.each(CASES)('$name', async (c) => {
    const base = c.base ?? {};
    expect(c.read((await run([TARGET, ...c.flag()], { ...base, ...c.env() }))), 'flag and env').toEqual(c.fromFlag());
    expect(c.read((await run([TARGET, ...c.flag()], base))), 'flag only').toEqual(c.fromFlag());
    expect(c.read((await run([TARGET], { ...base, ...c.env() }))), 'env only').toEqual(c.fromEnv());
    expect(c.read((await run([TARGET], base))), 'neither').toEqual(c.byDefault());
  });

  it('accepts the --name=value form', async () => {
    expect((await run([TARGET, '--deadline=1m', '--log-level=warn'])).deadlineMs).toBe(60_000);
    expect((await run([TARGET, '--log-level=WARN'])).logLevel).toBe('warn');
  });

  it('reads a deadline of 0 (wait forever)', async () => {
    expect((await run([TARGET, '--deadline', '0'])).deadlineMs).toBe(0);
    expect((await run([TARGET], { WAIT_DEADLINE: '0s' })).deadlineMs).toBe(0);
  });
});

describe('loadConfig: targets', () => {
  it('reads WAIT_TARGETS separated by any white space', async () => {
    const c = await run([], { WAIT_TARGETS: '  redis://harbor-redis:6379/0\n\ttcp://harbor-database:5432   http://harbor-core:8080/api/v2.0/ping\n' });
    expect(c.targets.map((t) => t.label)).toEqual([
      'redis://harbor-redis:6379/0',
      'tcp://harbor-database:5432',
      'http://harbor-core:8080/api/v2.0/ping',
    ]);
    expect(c.targets.every((t) => t.from === 'WAIT_TARGETS')).toBe(true);
  });

  it('lets positional targets replace WAIT_TARGETS', async () => {
    const c = await run(['redis://a:6379', 'tcp://b:1'], { WAIT_TARGETS: 'redis://c:6379 redis://d:6379' });
    expect(c.targets.map((t) => [t.label, t.from])).toEqual([
      ['redis://a:6379', 'argument'],
      ['tcp://b:1', 'argument'],
    ]);
  });

  it('adds --harbor-core to the other targets', async () => {
    const c = await run(['redis://a:6379', '--harbor-core', 'http://harbor-core:80'], { JOBSERVICE_SECRET: SECRET });
    expect(c.targets.map((t) => t.label)).toEqual(['redis://a:6379', CORE_LABEL]);
  });

  it('refuses to run with nothing to wait for', async () => {
    for (const env of [{}, { WAIT_TARGETS: '' }, { WAIT_TARGETS: ' \n\t ' }]) {
      const err = await configError([], env);
      expect(err.message).toContain('WAIT_TARGETS');
      expect(err.message).toContain('--harbor-core');
    }
  });

  it('checks a target given twice once, with a warning', async () => {
    const c = await run(['redis://a:6379/0', 'tcp://b:1', 'redis://a:6379/0']);
    expect(c.targets.map((t) => t.label)).toEqual(['redis://a:6379/0', 'tcp://b:1']);
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toMatch(/redis:\/\/a:6379\/0 is given twice/);
  });

  it('reports a bad target as a ConfigError naming where it came from, without its password', async () => {
    const fromArg = await configError(['redis://:S3CRET-MARK@h:6379?foo=1']);
    expect(fromArg.input).toMatch(/^argument /);
    expect(fromArg.message).not.toContain('S3CRET-MARK');
    const fromEnv = await configError([], { WAIT_TARGETS: 'redis://:S3CRET-MARK@h:6379/x' });
    expect(fromEnv.input).toMatch(/^WAIT_TARGETS /);
    expect(fromEnv.message).not.toContain('S3CRET-MARK');
    expect((await configError(['ftp://h'])).input).toMatch(/^argument /);
    expect((await configError(['harbor-redis:6379'])).input).toMatch(/^argument /);
  });
});

describe('loadConfig: options on the command line', () => {
  it('refuses an unknown option, naming it and never echoing its value', async () => {
    for (const [argv, name] of [
      [['--bogus'], '--bogus'],
      [['--bogus=S3CRET-MARK'], '--bogus'],
      [['--dead-line', '5s'], '--dead-line'],
      [['-x'], '-x'],
      [['-h'], '-h'],
    ] as const) {
      const err = await configError([TARGET, ...argv]);
      expect(err.input).toBe(name);
      expect(err.message).toContain(name);
      expect(err.message).toMatch(/unknown option/);
      expect(err.message).not.toContain('S3CRET-MARK');
    }
  });

  it.each(['--harbor-secret', '--secret', '--jobservice-secret', '--core-secret'])(
    'refuses %s: secrets are not accepted on the command line, and the value is not echoed',
    async (flag) => {
      for (const argv of [[flag, SECRET], [`${flag}=${SECRET}`]]) {
        const err = await configError([TARGET, ...argv]);
        expect(err.input).toBe(flag);
        expect(err.message).toMatch(/never accepted on the command line/);
        expect(err.message).toContain('--harbor-secret-file');
        expect(err.message).toContain('JOBSERVICE_SECRET');
        expect(err.message).not.toContain(SECRET);
        expect(err.message).not.toContain('S3CRET');
      }
    },
  );

  it('refuses a string option without a value', async () => {
    const err = await configError([TARGET, '--deadline']);
    expect(err.input).toBe('--deadline');
    expect(err.message).toMatch(/needs a value/);
  });

  it('refuses a value given to a boolean flag', async () => {
    const err = await configError([TARGET, '--once=false']);
    expect(err.input).toBe('--once');
    expect(err.message).toContain('WAIT_ONCE');
  });
});

describe('loadConfig: the Harbor secret', () => {
  it('reads it from JOBSERVICE_SECRET exactly as jobservice does: white space kept, a line break refused', async () => {
    const c = await run(['--harbor-core', 'http://harbor-core:80'], { JOBSERVICE_SECRET: ` ${SECRET} ` });
    expect(c.targets.map((t) => t.label)).toEqual([CORE_LABEL]);
    expect(c.secrets).toEqual([` ${SECRET} `]);
    const err = await configError(['--harbor-core', 'http://harbor-core:80'], { JOBSERVICE_SECRET: `${SECRET}\n` });
    expect(err.input).toBe('JOBSERVICE_SECRET');
    expect(err.message).not.toContain(SECRET);
  });

  it('reads it from a file (one final line ending dropped), the file winning over JOBSERVICE_SECRET', async () => {
    const c = await run(['--harbor-core', 'http://harbor-core:80', '--harbor-secret-file', files.secretA], { JOBSERVICE_SECRET: 'from-env' });
    expect(c.secrets).toEqual([`${SECRET}-A`]);
    expect(c.secrets).not.toContain('from-env');
    const viaEnv = await run([], { WAIT_HARBOR_CORE: 'http://harbor-core:80', WAIT_HARBOR_SECRET_FILE: files.secretB, JOBSERVICE_SECRET: 'from-env' });
    expect(viaEnv.secrets).toEqual([`${SECRET}-B`]);
    expect(viaEnv.targets[0]?.label).toBe(CORE_LABEL);
  });

  it('refuses --harbor-core without a secret, naming both ways to give it', async () => {
    const err = await configError(['--harbor-core', 'http://harbor-core:80']);
    expect(err.input).toBe('--harbor-core');
    expect(err.message).toContain('--harbor-secret-file');
    expect(err.message).toContain('JOBSERVICE_SECRET');
    expect(err.message).not.toContain('CORE_SECRET is set');
  });

  it('names WAIT_HARBOR_CORE when the core URL came from it and the secret is missing', async () => {
    const err = await configError([], { WAIT_HARBOR_CORE: 'http://harbor-core:80' });
    expect(err.input).toBe('WAIT_HARBOR_CORE');
    expect(err.message).toContain('--harbor-secret-file');
    expect(err.message).toContain('JOBSERVICE_SECRET');
  });

  it('hints at JOBSERVICE_SECRET when only CORE_SECRET is set, without echoing it', async () => {
    const err = await configError(['--harbor-core', 'http://harbor-core:80'], { CORE_SECRET: 'S3CRET-MARK-core' });
    expect(err.message).toMatch(/CORE_SECRET is set/);
    expect(err.message).toMatch(/give JOBSERVICE_SECRET/);
    expect(err.message).not.toContain('S3CRET-MARK-core');
  });

  it('refuses an empty JOBSERVICE_SECRET like a missing one', async () => {
    expect((await configError(['--harbor-core', 'http://harbor-core:80'], { JOBSERVICE_SECRET: ' \n' })).message).toContain('JOBSERVICE_SECRET');
  });

  it('refuses an unreadable or empty secret file, naming the flag or env var', async () => {
    const flag = await configError(['--harbor-core', 'http://harbor-core:80', '--harbor-secret-file', files.missing]);
    expect(flag.input).toBe('--harbor-secret-file');
    expect(flag.message).toContain(files.missing);
    expect(flag.message).toContain('ENOENT');
    const env = await configError(['--harbor-core', 'http://harbor-core:80'], { WAIT_HARBOR_SECRET_FILE: files.missing, JOBSERVICE_SECRET: SECRET });
    expect(env.input).toBe('WAIT_HARBOR_SECRET_FILE');
    const empty = await configError(['--harbor-core', 'http://harbor-core:80', '--harbor-secret-file', files.empty]);
    expect(empty.input).toBe('--harbor-secret-file');
    expect(empty.message).toMatch(/empty/);
  });

  it('refuses a bad core URL, naming --harbor-core or WAIT_HARBOR_CORE', async () => {
    const flag = await configError(['--harbor-core', 'http://harbor-core/api/internal/configurations'], { JOBSERVICE_SECRET: SECRET });
    expect(flag.input).toMatch(/^--harbor-core /);
    expect(flag.message).toMatch(/gone/);
    expect(flag.message).not.toContain(SECRET);
    const env = await configError([], { WAIT_HARBOR_CORE: 'http://harbor-core:80/x', JOBSERVICE_SECRET: SECRET });
    expect(env.input).toMatch(/^WAIT_HARBOR_CORE /);
  });

  it('warns about a secret file without --harbor-core', async () => {
    const c = await run([TARGET, '--harbor-secret-file', files.secretA]);
    expect(c.warnings.some((w) => /secret file.*no --harbor-core/.test(w))).toBe(true);
    expect(c.secrets).toEqual([]);
  });
});

describe('loadConfig: bad values name the flag or env var', () => {
  it.each([
    ['--deadline', 'WAIT_DEADLINE', 'soon'],
    ['--deadline', 'WAIT_DEADLINE', '-5s'],
    ['--deadline', 'WAIT_DEADLINE', '1000h'],
    ['--attempt-timeout', 'WAIT_ATTEMPT_TIMEOUT', '5x'],
    ['--backoff-initial', 'WAIT_BACKOFF_INITIAL', '1.5'],
    ['--backoff-max', 'WAIT_BACKOFF_MAX', 'max'],
  ])('%s / %s = %j', async (flag, envName, value) => {
    const viaFlag = await configError([TARGET, `${flag}=${value}`]);
    expect(viaFlag.input).toBe(flag);
    expect(viaFlag.message).toContain(`"${value}"`);
    const viaEnv = await configError([TARGET], { [envName]: value });
    expect(viaEnv.input).toBe(envName);
    expect(viaEnv.message).toContain(`"${value}"`);
  });

  it.each(['maybe', '2', 'ja'])('refuses WAIT_ONCE=%s and WAIT_INSECURE_SKIP_VERIFY=%s', async (value) => {
    const once = await configError([TARGET], { WAIT_ONCE: value });
    expect(once.input).toBe('WAIT_ONCE');
    expect(once.message).toContain(`"${value}"`);
    expect((await configError([TARGET], { WAIT_INSECURE_SKIP_VERIFY: value })).input).toBe('WAIT_INSECURE_SKIP_VERIFY');
  });

  it('reads the usual boolean spellings', async () => {
    for (const v of ['true', 'TRUE', '1', 'yes', 'on', ' On ']) expect((await run([TARGET], { WAIT_ONCE: v })).once, v).toBe(true);
    for (const v of ['false', 'False', '0', 'no', 'off']) expect((await run([TARGET], { WAIT_ONCE: v })).once, v).toBe(false);
  });

  it('refuses a bad log level or format', async () => {
    const level = await configError([TARGET, '--log-level', 'verbose']);
    expect(level.input).toBe('--log-level');
    expect(level.message).toContain('"verbose"');
    expect(level.message).toContain('debug, info, warn, error');
    expect((await configError([TARGET], { WAIT_LOG_LEVEL: 'trace' })).input).toBe('WAIT_LOG_LEVEL');
    expect((await configError([TARGET, '--log-format', 'xml'])).input).toBe('--log-format');
    expect((await configError([TARGET], { WAIT_LOG_FORMAT: 'text' })).input).toBe('WAIT_LOG_FORMAT');
  });

  it('refuses a bad status list', async () => {
    const flag = await configError([TARGET, '--expect-status', '200-']);
    expect(flag.input).toBe('--expect-status');
    expect((await configError([TARGET], { WAIT_EXPECT_STATUS: '600' })).input).toBe('WAIT_EXPECT_STATUS');
  });

  it('refuses --attempt-timeout 0', async () => {
    const flag = await configError([TARGET, '--attempt-timeout', '0']);
    expect(flag.input).toBe('--attempt-timeout');
    expect(flag.message).toMatch(/more than 0/);
    expect((await configError([TARGET], { WAIT_ATTEMPT_TIMEOUT: '0s' })).input).toBe('WAIT_ATTEMPT_TIMEOUT');
  });

  it('refuses --backoff-initial 0', async () => {
    expect((await configError([TARGET, '--backoff-initial', '0'])).input).toBe('--backoff-initial');
  });

  it('refuses a backoff-max below backoff-initial', async () => {
    const flag = await configError([TARGET, '--backoff-initial', '2s', '--backoff-max', '1s']);
    expect(flag.input).toBe('--backoff-max');
    expect(flag.message).toContain('2s');
    const env = await configError([TARGET], { WAIT_BACKOFF_INITIAL: '2s', WAIT_BACKOFF_MAX: '500ms' });
    expect(env.input).toBe('WAIT_BACKOFF_MAX');
    expect((await run([TARGET, '--backoff-initial', '1s', '--backoff-max', '1s'])).backoff).toMatchObject({ initialMs: 1000, maxMs: 1000 });
  });

  it('raises the default backoff-max to a larger backoff-initial when no maximum is given', async () => {
    expect((await run([TARGET, '--backoff-initial', '5s'])).backoff).toMatchObject({ initialMs: 5000, maxMs: 5000 });
    expect((await run([TARGET], { WAIT_BACKOFF_INITIAL: '200ms' })).backoff).toMatchObject({ initialMs: 200, maxMs: 1000 });
  });

  it.each(['0.5', '0', 'abc', '101', '-2', '1e2', '2x'])('refuses --backoff-factor %s', async (value) => {
    const flag = await configError([TARGET, `--backoff-factor=${value}`]);
    expect(flag.input).toBe('--backoff-factor');
    expect(flag.message).toContain(`"${value}"`);
  });

  it('accepts backoff factors from 1 to 100', async () => {
    expect((await run([TARGET, '--backoff-factor', '1'])).backoff.factor).toBe(1);
    expect((await run([TARGET, '--backoff-factor', '100'])).backoff.factor).toBe(100);
    expect((await configError([TARGET], { WAIT_BACKOFF_FACTOR: '0.9' })).input).toBe('WAIT_BACKOFF_FACTOR');
  });
});

describe('loadConfig: TLS files', () => {
  it('refuses --cert-file without --key-file, and the reverse', async () => {
    const noKey = await configError([TARGET, '--cert-file', files.certA]);
    expect(noKey.input).toBe('--key-file');
    expect(noKey.message).toMatch(/both --cert-file and --key-file/);
    const noCert = await configError([TARGET, '--key-file', files.keyA]);
    expect(noCert.input).toBe('--cert-file');
  });

  it('refuses an unreadable or non-PEM file, naming the flag or env var', async () => {
    const missing = await configError([TARGET, '--ca-file', files.missing]);
    expect(missing.input).toBe('--ca-file');
    expect(missing.message).toContain(files.missing);
    expect((await configError([TARGET], { WAIT_CA_FILE: files.missing })).input).toBe('WAIT_CA_FILE');
    const notPem = await configError([TARGET, '--ca-file', files.notPem]);
    expect(notPem.input).toBe('--ca-file');
    expect(notPem.message).toMatch(/no PEM/);
    expect((await configError([TARGET, '--cert-file', files.notPem, '--key-file', files.keyA])).input).toBe('--cert-file');
    expect((await configError([TARGET, '--cert-file', files.certA], { WAIT_KEY_FILE: files.missing })).input).toBe('WAIT_KEY_FILE');
  });
});

describe('loadConfig: secrets and warnings', () => {
  it('collects the Harbor secret and every URL password (decoded and raw), once each', async () => {
    const c = (await run(
      ['redis://:p%40ss@harbor-redis:6379/0', 'redis+sentinel://:pw2@s1:26379,s2:26379/mymaster/0', 'http://u:h%3Dpw@h/', 'redis://:p%40ss@other:6379', '--harbor-core', 'http://harbor-core:80'],
      { JOBSERVICE_SECRET: SECRET },
    ));
    expect(c.secrets).toEqual(expect.arrayContaining(['p@ss', 'p%40ss', 'pw2', 'h=pw', 'h%3Dpw', SECRET]));
    expect(new Set(c.secrets).size).toBe(c.secrets.length);
    for (const t of c.targets) for (const s of ['p@ss', 'p%40ss', 'pw2', 'h=pw', SECRET]) expect(t.label).not.toContain(s);
  });

  it('warns about an unknown WAIT_* variable, and not about known ones or others', async () => {
    const c = await run([TARGET], { WAIT_DEADLIEN: '5s', WAIT_DEADLINE: '5s', WAIT_TARGETS: 'redis://x:1', HOME: '/root', CORE_SECRET: 'x' });
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toContain('WAIT_DEADLIEN');
  });

  it('warns when certificate verification is off, by flag, env var or skip_verify in a URL', async () => {
    expect((await run([TARGET, '--insecure-skip-verify'])).warnings.some((w) => /verification is off/.test(w))).toBe(true);
    expect((await run([TARGET], { WAIT_INSECURE_SKIP_VERIFY: 'true' })).warnings.some((w) => /verification is off/.test(w))).toBe(true);
    const url = await run(['rediss://h:6379?skip_verify=true']);
    expect(url.warnings).toHaveLength(1);
    expect(url.warnings[0]).toMatch(/verification is off for rediss:\/\/h:6379\?skip_verify=true/);
    expect(url.tls.insecureSkipVerify).toBe(false);
  });
});
