/**
 * Harbor presets: the targets found in the env and files the chart gives a component (harbor-facts §3, §5,
 * §6), merged with explicit ones; every missing piece named with where the chart keeps it. The last block runs
 * the built bundle with a chart-like environment against a real Redis and the imitation of core.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../src/config/options.ts';
import { coreDatabase } from '../src/config/core-database.ts';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { makeCerts } from './helpers/certs.ts';
import { runCli } from './helpers/cli.ts';
import { startFakeCore, type FakeCore } from './helpers/core.ts';
import { configErrorOfAsync } from './helpers/errors.ts';
import { tempDir } from './helpers/processes.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';
import { chartCoreRedisEnv, chartDatabaseEnv, chartJobserviceRedisEnv, chartJobserviceRedisUrl } from './helpers/chart-env.ts';

type Env = Record<string, string | undefined>;

const SECRET = 'S3CRET-MARK-jobservice';
const REDIS_PW = 'p@ss-MARK';
const CHART_CONFIG = readFileSync(new URL('./fixtures/jobservice-config.yml', import.meta.url), 'utf8');

let dir: string;
/** Writes a file into the test's directory and returns its path. */
function file(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** jobservice's config.yml as the chart renders it, with this Redis URL. */
function chartConfig(redisUrl: string): string {
  return CHART_CONFIG.replace('redis://harbor-redis:6379/1', redisUrl);
}

/** The env the chart gives jobservice: ConfigMap harbor-jobservice-env and Secret harbor-jobservice. */
const JOBSERVICE_ENV: Env = { CORE_URL: 'http://harbor-core:80', JOBSERVICE_SECRET: SECRET, CORE_SECRET: 'core-S3CRET-MARK' };
const DB_PASSWORD = 'db-S3CRET-MARK';
/**
 * The env the chart gives core: ConfigMap harbor-core (chart example URLs, harbor-facts §3; the internal
 * database, §4), and POSTGRESQL_PASSWORD from Secret harbor-core.
 */
const CORE_ENV: Env = {
  _REDIS_URL_CORE: 'redis://harbor-redis:6379/0?idle_timeout_seconds=30',
  _REDIS_URL_REG: 'redis://harbor-redis:6379/2?idle_timeout_seconds=30',
  CORE_URL: 'http://harbor-core:80',
  ...chartDatabaseEnv(DB_PASSWORD),
};
const CORE_DATABASE = { target: 'postgres://postgres:***@harbor-database:5432/registry?sslmode=disable', from: 'POSTGRESQL_*' };

async function run(argv: readonly string[], env: Env): Promise<Config> {
  const loaded = await loadConfig(argv, env);
  if (loaded.kind !== 'run') throw new Error(`expected a run, got ${loaded.kind}`);
  return loaded.config;
}
const targetsOf = (c: Config) => c.targets.map((t) => ({ target: t.label, from: t.from }));
const error = (argv: readonly string[], env: Env) => configErrorOfAsync(() => loadConfig(argv, env));

let configFile: string;
beforeAll(() => {
  dir = tempDir('harbor-wait-presets-');
  configFile = file('config.yml', chartConfig('redis://harbor-redis:6379/1'));
});

describe('--preset jobservice', () => {
  it("waits for core's config API (CORE_URL, JOBSERVICE_SECRET) and the Redis URL of the chart's config.yml", async () => {
    const c = await run(['--preset', 'jobservice', '--jobservice-config', configFile], JOBSERVICE_ENV);
    expect(c.preset).toBe('jobservice');
    expect(targetsOf(c)).toEqual([
      { target: 'http://harbor-core/api/v2.0/internalconfig', from: 'CORE_URL' },
      { target: 'redis://harbor-redis:6379/1', from: `${configFile} (worker_pool.redis_pool.redis_url)` },
    ]);
    expect(c.secrets).toContain(SECRET);
    expect(c.warnings).toEqual([]);
  });

  it('is chosen by WAIT_PRESET, and finds its file by WAIT_JOBSERVICE_CONFIG', async () => {
    const c = await run([], { ...JOBSERVICE_ENV, WAIT_PRESET: 'jobservice', WAIT_JOBSERVICE_CONFIG: configFile });
    expect(c.preset).toBe('jobservice');
    expect(c.targets.map((t) => t.from)).toEqual(['CORE_URL', `${configFile} (worker_pool.redis_pool.redis_url)`]);
  });

  it('takes JOB_SERVICE_POOL_REDIS_URL over config.yml, and config.yml over _REDIS_URL_CORE', async () => {
    const env = { ...JOBSERVICE_ENV, _REDIS_URL_CORE: 'redis://core-redis:6379/0' };
    const all = await run(['--preset', 'jobservice', '--jobservice-config', configFile], { ...env, JOB_SERVICE_POOL_REDIS_URL: 'redis://pool-redis:6379/3' });
    expect(targetsOf(all)[1]).toEqual({ target: 'redis://pool-redis:6379/3', from: 'JOB_SERVICE_POOL_REDIS_URL' });
    const fileOnly = await run(['--preset', 'jobservice', '--jobservice-config', configFile], env);
    expect(targetsOf(fileOnly)[1]?.target).toBe('redis://harbor-redis:6379/1');
    const neither = await run(['--preset', 'jobservice', '--jobservice-config', join(dir, 'absent.yml')], env);
    expect(targetsOf(neither)[1]).toEqual({ target: 'redis://core-redis:6379/0', from: '_REDIS_URL_CORE' });
  });

  it('reads the sentinel and password forms the chart writes, and keeps the password out of the label', async () => {
    const url = `redis+sentinel://:${encodeURIComponent(REDIS_PW)}@s1:26379,s2:26379,s3:26379/mymaster/1`;
    const c = await run(['--preset', 'jobservice', '--jobservice-config', file('sentinel.yml', chartConfig(url))], JOBSERVICE_ENV);
    expect(c.targets[1]?.label).toBe('redis+sentinel://:***@s1:26379,s2:26379,s3:26379/mymaster/1');
    expect(c.secrets).toEqual(expect.arrayContaining([REDIS_PW]));
  });

  it('falls back to _REDIS_URL_CORE with a warning when config.yml has no redis_url', async () => {
    const noKey = file('no-key.yml', 'protocol: "http"\nport: 8080\nworker_pool:\n  backend: "redis"\n');
    const c = await run(['--preset', 'jobservice', '--jobservice-config', noKey], { ...JOBSERVICE_ENV, _REDIS_URL_CORE: 'redis://harbor-redis:6379/0' });
    expect(targetsOf(c)[1]).toEqual({ target: 'redis://harbor-redis:6379/0', from: '_REDIS_URL_CORE' });
    expect(c.warnings).toEqual([`${noKey} has no worker_pool.redis_pool.redis_url; using _REDIS_URL_CORE if set`]);
  });

  it('lets --harbor-core replace CORE_URL, and adds explicit targets to what it found', async () => {
    const c = await run(
      ['--preset', 'jobservice', '--jobservice-config', configFile, '--harbor-core', 'https://harbor-core:443', 'tcp://harbor-database:5432'],
      JOBSERVICE_ENV,
    );
    expect(targetsOf(c)).toEqual([
      { target: 'redis://harbor-redis:6379/1', from: `${configFile} (worker_pool.redis_pool.redis_url)` },
      { target: 'tcp://harbor-database:5432', from: 'argument' },
      { target: 'https://harbor-core/api/v2.0/internalconfig', from: '--harbor-core' },
    ]);
  });

  it('names every missing variable and the Secret or ConfigMap the chart keeps it in', async () => {
    const err = await error(['--preset', 'jobservice', '--jobservice-config', join(dir, 'absent.yml')], {});
    expect(err.input).toBe('--preset jobservice');
    expect(err.message).toContain('CORE_URL (the chart keeps it in ConfigMap <fullname>-jobservice-env)');
    expect(err.message).toContain('JOBSERVICE_SECRET (the chart keeps it in Secret <fullname>-jobservice, key JOBSERVICE_SECRET)');
    expect(err.message).toContain('JOB_SERVICE_POOL_REDIS_URL is unset');
    expect(err.message).toContain('mount volume jobservice-config');
    expect(err.message).toContain('_REDIS_URL_CORE is unset');
    const viaEnv = await error([], { WAIT_PRESET: 'jobservice', WAIT_JOBSERVICE_CONFIG: configFile, CORE_URL: 'http://harbor-core:80' });
    expect(viaEnv.input).toBe('WAIT_PRESET jobservice');
    expect(viaEnv.message).not.toContain('CORE_URL (');
    expect(viaEnv.message).toContain('JOBSERVICE_SECRET (');
  });

  it('says so when CORE_SECRET is given where JOBSERVICE_SECRET is meant, without showing it', async () => {
    const err = await error(['--preset', 'jobservice', '--jobservice-config', configFile], { CORE_URL: 'http://harbor-core:80', CORE_SECRET: 'core-S3CRET-MARK' });
    expect(err.message).toContain('CORE_SECRET is set, but core checks the jobservice secret');
    expect(err.message).not.toContain('core-S3CRET-MARK');
  });

  it('refuses a config.yml that is not YAML, naming the file and line but quoting nothing from it', async () => {
    const bad = file('bad.yml', `worker_pool:\n  redis_pool:\n    redis_url: "redis://:${REDIS_PW}@h:6379/1\n  - x: [\n`);
    const err = await error(['--preset', 'jobservice', '--jobservice-config', bad], JOBSERVICE_ENV);
    expect(err.input).toBe(`--jobservice-config "${bad}"`);
    expect(err.message).toMatch(/is not valid YAML \(line \d+, column \d+\): [A-Z_]+$/);
    expect(err.message).not.toContain(REDIS_PW);
  });

  it.each([
    ['a list', 'worker_pool:\n  redis_pool:\n    redis_url: [a, b]\n', /is a list, not a Redis URL/],
    ['binary', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0xff]), /is binary, not YAML/],
    ['huge', `# ${'x'.repeat(1024 * 1024)}\n`, /larger than 1024 KiB/],
    ['a directory', null, /cannot read jobservice's config file \(EISDIR\)/],
  ])('refuses a config.yml that is %s', async (_what, content, message) => {
    const path = content === null ? dir : file(`odd-${_what.replace(/\W/g, '')}.yml`, content);
    const err = await error(['--preset', 'jobservice'], { ...JOBSERVICE_ENV, WAIT_JOBSERVICE_CONFIG: path });
    expect(err.input).toBe(`WAIT_JOBSERVICE_CONFIG "${path}"`);
    expect(err.message).toMatch(message);
  });

  it('refuses a Redis URL in config.yml that Harbor would refuse, naming where it came from', async () => {
    const err = await error(['--preset', 'jobservice', '--jobservice-config', file('param.yml', chartConfig('redis://harbor-redis:6379/1?foo=1'))], JOBSERVICE_ENV);
    expect(err.input).toContain('(worker_pool.redis_pool.redis_url)');
    expect(err.message).toContain('foo');
  });
});

describe('--preset core', () => {
  it('waits for _REDIS_URL_CORE and _REDIS_URL_REG from ConfigMap harbor-core', async () => {
    const c = await run(['--preset', 'core'], CORE_ENV);
    expect(targetsOf(c)).toEqual([
      { target: 'redis://harbor-redis:6379/0?idle_timeout_seconds=30', from: '_REDIS_URL_CORE' },
      { target: 'redis://harbor-redis:6379/2?idle_timeout_seconds=30', from: '_REDIS_URL_REG' },
      CORE_DATABASE,
    ]);
    expect(c.secrets).toContain(DB_PASSWORD);
  });

  it('adds _REDIS_URL_HARBOR (the cache) when set, and checks a URL given twice once, without a warning', async () => {
    const env = { ...CORE_ENV, _REDIS_URL_HARBOR: 'redis://cache-redis:6379/5', _REDIS_URL_REG: CORE_ENV._REDIS_URL_CORE };
    const c = await run(['--preset', 'core'], env);
    expect(targetsOf(c)).toEqual([
      { target: 'redis://cache-redis:6379/5', from: '_REDIS_URL_HARBOR' },
      { target: 'redis://harbor-redis:6379/0?idle_timeout_seconds=30', from: '_REDIS_URL_CORE' },
      CORE_DATABASE,
    ]);
    expect(c.warnings).toEqual([]);
  });

  it('warns that a Harbor secret file is not used by the core preset', async () => {
    const secretFile = file('secret', 'one-line-secret\n');
    const c = await run(['--preset', 'core', '--harbor-secret-file', secretFile], CORE_ENV);
    expect(c.warnings).toEqual(['a Harbor secret file is given but no --harbor-core URL: the secret is not used']);
    const jobservice = await run(['--preset', 'jobservice', '--jobservice-config', configFile, '--harbor-secret-file', secretFile], { CORE_URL: 'http://harbor-core:80' });
    expect(jobservice.warnings).toEqual([]);
  });

  it('names _REDIS_URL_CORE and ConfigMap <fullname>-core when neither core URL is set', async () => {
    const err = await error(['--preset', 'core'], { _REDIS_URL_REG: 'redis://r:6379/2' });
    expect(err.input).toBe('--preset core');
    expect(err.message).toContain('_REDIS_URL_CORE (the chart keeps it in ConfigMap <fullname>-core)');
  });

  it('refuses an unknown preset, listing the known ones', async () => {
    const err = await error(['--preset', 'registry'], CORE_ENV);
    expect(err.input).toBe('--preset');
    expect(err.message).toContain('core, jobservice');
    expect((await error([], { ...CORE_ENV, WAIT_PRESET: 'portal' })).input).toBe('WAIT_PRESET');
  });
});

describe('the cache layer (CACHE_ENABLED): every Redis URL the component opens, each distinct one once', () => {
  const CACHE = { cacheEnabled: true, cacheLayerDatabaseIndex: '7' } as const;

  it("core: with the chart's cache.enabled and cacheLayerDatabaseIndex, _REDIS_URL_CACHE_LAYER too", async () => {
    const c = await run(['--preset', 'core'], chartCoreRedisEnv(CACHE));
    expect(targetsOf(c)).toEqual([
      { target: 'redis://harbor-redis:6379/0?idle_timeout_seconds=30', from: '_REDIS_URL_CORE' },
      { target: 'redis://harbor-redis:6379/2?idle_timeout_seconds=30', from: '_REDIS_URL_REG' },
      { target: 'redis://harbor-redis:6379/7?idle_timeout_seconds=30', from: '_REDIS_URL_CACHE_LAYER' },
    ]);
  });

  it('core: without CACHE_ENABLED true, _REDIS_URL_CACHE_LAYER is not opened, so not waited for', async () => {
    for (const enabled of [undefined, 'false', '', 'yes', ' true']) {
      const env = { ...chartCoreRedisEnv({ cacheLayerDatabaseIndex: '7' }), CACHE_ENABLED: enabled };
      expect(targetsOf(await run(['--preset', 'core'], env)).map((t) => t.from), String(enabled)).toEqual(['_REDIS_URL_CORE', '_REDIS_URL_REG']);
    }
    // Go's strconv.ParseBool, as Harbor reads the setting.
    for (const enabled of ['1', 't', 'T', 'TRUE', 'True']) {
      const env = { ...chartCoreRedisEnv({ cacheLayerDatabaseIndex: '7' }), CACHE_ENABLED: enabled };
      expect(targetsOf(await run(['--preset', 'core'], env)).map((t) => t.from), enabled).toContain('_REDIS_URL_CACHE_LAYER');
    }
  });

  it('core: a cache layer on the same URL as another variable is checked once; without its own URL it is the cache already waited for', async () => {
    const same = await run(['--preset', 'core'], { ...chartCoreRedisEnv(CACHE), _REDIS_URL_CACHE_LAYER: 'redis://harbor-redis:6379/0?idle_timeout_seconds=30' });
    expect(targetsOf(same).map((t) => t.from)).toEqual(['_REDIS_URL_CORE', '_REDIS_URL_REG']);
    const none = await run(['--preset', 'core'], chartCoreRedisEnv({ cacheEnabled: true, harborDatabaseIndex: '6' }));
    expect(targetsOf(none).map((t) => t.from)).toEqual(['_REDIS_URL_HARBOR', '_REDIS_URL_CORE', '_REDIS_URL_REG']);
    expect(none.warnings).toEqual([expect.stringMatching(/^PostgreSQL is not configured/)]);
  });

  it("jobservice: with the chart's cache.enabled, _REDIS_URL_CACHE_LAYER, else _REDIS_URL_CORE (jobservice has no default cache)", async () => {
    const config = file('cache.yml', chartConfig(chartJobserviceRedisUrl()));
    const argv = ['--preset', 'jobservice', '--jobservice-config', config];
    const layer = await run(argv, { ...JOBSERVICE_ENV, ...chartJobserviceRedisEnv(CACHE) });
    expect(targetsOf(layer).slice(1)).toEqual([
      { target: 'redis://harbor-redis:6379/1', from: `${config} (worker_pool.redis_pool.redis_url)` },
      { target: 'redis://harbor-redis:6379/7?idle_timeout_seconds=30', from: '_REDIS_URL_CACHE_LAYER' },
    ]);
    const core = await run(argv, { ...JOBSERVICE_ENV, ...chartJobserviceRedisEnv({ cacheEnabled: true }) });
    expect(targetsOf(core).slice(1).map((t) => t.from)).toEqual([`${config} (worker_pool.redis_pool.redis_url)`, '_REDIS_URL_CORE']);
    expect(core.warnings).toEqual([]);
    // Without cache.enabled the chart gives no _REDIS_URL_CORE; with only the index, the layer is not opened.
    const off = await run(argv, { ...JOBSERVICE_ENV, ...chartJobserviceRedisEnv({ cacheLayerDatabaseIndex: '7' }) });
    expect(targetsOf(off).slice(1).map((t) => t.from)).toEqual([`${config} (worker_pool.redis_pool.redis_url)`]);
  });

  it('jobservice: the pool URL again as the cache layer is checked once; no cache URL at all is a warning', async () => {
    const config = file('cache-same.yml', chartConfig('redis://harbor-redis:6379/1'));
    const argv = ['--preset', 'jobservice', '--jobservice-config', config];
    const same = await run(argv, { ...JOBSERVICE_ENV, CACHE_ENABLED: 'true', _REDIS_URL_CACHE_LAYER: 'redis://harbor-redis:6379/1' });
    expect(targetsOf(same).map((t) => t.from)).toEqual(['CORE_URL', `${config} (worker_pool.redis_pool.redis_url)`]);
    const none = await run(argv, { ...JOBSERVICE_ENV, CACHE_ENABLED: 'true' });
    expect(targetsOf(none)).toHaveLength(2);
    expect(none.warnings).toEqual([expect.stringMatching(/^CACHE_ENABLED is true but neither _REDIS_URL_CACHE_LAYER nor _REDIS_URL_CORE is set/)]);
  });

  it('a bad cache-layer URL is exit 2 naming _REDIS_URL_CACHE_LAYER, without its password', async () => {
    const err = await error(['--preset', 'core'], { ...chartCoreRedisEnv(CACHE), _REDIS_URL_CACHE_LAYER: `redis://:${REDIS_PW}@harbor-redis:6379/x` });
    expect(err.input).toBe('_REDIS_URL_CACHE_LAYER "redis://***@harbor-redis:6379/x"');
    expect(err.message).not.toContain(REDIS_PW);
  });
});

describe("jobservice's config.yml as jobservice's YAML reader (gopkg.in/yaml.v2) reads it", () => {
  const POOL = ['worker_pool', 'redis_pool', 'redis_url'].join('.');
  const urlOf = async (text: string) => {
    const path = file('reader.yml', text);
    const c = await run(['--preset', 'jobservice', '--jobservice-config', path], JOBSERVICE_ENV);
    return { target: c.targets[1]?.label, from: c.targets[1]?.from?.replace(path, '<file>') };
  };
  const refusal = async (text: string | Buffer) => {
    const path = file('refused.yml', text);
    const err = await error(['--preset', 'jobservice', '--jobservice-config', path], JOBSERVICE_ENV);
    expect(err.input).toBe(`--jobservice-config "${path}"`);
    return err.message.slice(err.input.length + 2);
  };
  /** An alias bomb: ten levels of lists of ten aliases of the level below, 10^9 values expanded. */
  const bomb = (() => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 10; i++) text += `a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]\n`;
    return `${text}${CHART_CONFIG}`;
  })();

  it('reads 200 ordinary references to one anchor (the old reader stopped at 100: "Excessive alias count")', async () => {
    const refs = `level: &level INFO\nlevels:\n${'  - *level\n'.repeat(200)}`;
    expect(await urlOf(`${refs}${chartConfig('redis://harbor-redis:6379/1')}`)).toEqual({ target: 'redis://harbor-redis:6379/1', from: `<file> (${POOL})` });
    // The URL itself through an alias, and a key through one.
    expect((await urlOf('u: &u redis://alias:6379/2\nworker_pool:\n  redis_pool:\n    redis_url: *u\n')).target).toBe('redis://alias:6379/2');
    expect((await urlOf('k: &k worker_pool\n*k : {redis_pool: {redis_url: "redis://key:6379/3"}}\n')).target).toBe('redis://key:6379/3');
  });

  it('refuses an alias bomb at once, naming the file and what jobservice says', async () => {
    const started = Date.now();
    expect(await refusal(bomb)).toMatch(/^expands its aliases far beyond what a config\.yml needs \(an alias bomb\?\): jobservice's YAML reader refuses it \("document contains excessive aliasing"\)$/);
    expect(Date.now() - started).toBeLessThan(20_000);
    // A large mapping merged thousands of times: the same bound (the old reader would copy 25 million keys).
    const big = `m: &m {${Array.from({ length: 5000 }, (_, i) => `k${i}: v`).join(', ')}}\n${Array.from({ length: 5000 }, (_, i) => `x${i}: {<<: *m}`).join('\n')}\n`;
    expect(await refusal(`${big}${CHART_CONFIG}`)).toContain('"document contains excessive aliasing"');
  });

  it('reads merge keys (<<) as yaml.v2 does: where the key stands, the first of a list winning, into the same struct', async () => {
    const defaults = 'defaults: &defaults\n  redis_url: "redis://merged:6379/1"\n  namespace: "ns"\n';
    expect((await urlOf(`${defaults}worker_pool:\n  redis_pool:\n    <<: *defaults\n`)).target).toBe('redis://merged:6379/1');
    expect((await urlOf(`${defaults}worker_pool:\n  redis_pool:\n    <<: *defaults\n    redis_url: "redis://after:6379/1"\n`)).target).toBe('redis://after:6379/1');
    // yaml.v2 sets the merged fields where "<<" stands: over a field given before it.
    expect((await urlOf(`${defaults}worker_pool:\n  redis_pool:\n    redis_url: "redis://before:6379/1"\n    <<: *defaults\n`)).target).toBe('redis://merged:6379/1');
    const two = 'a: &a {redis_url: "redis://first:6379/1"}\nb: &b {redis_url: "redis://second:6379/1"}\n';
    expect((await urlOf(`${two}worker_pool:\n  redis_pool:\n    <<: [*a, *b]\n`)).target).toBe('redis://first:6379/1');
    // worker_pool is a pointer to a struct: a second mapping for it fills the same struct; a null resets it.
    const base = 'base: &base\n  worker_pool:\n    redis_pool: {redis_url: "redis://deep:6379/1"}\n<<: *base\n';
    expect((await urlOf(`${base}worker_pool:\n  backend: "redis"\n`)).target).toBe('redis://deep:6379/1');
    const reset = file('reset.yml', `${base}worker_pool: ~\n`);
    const c = await run(['--preset', 'jobservice', '--jobservice-config', reset], { ...JOBSERVICE_ENV, _REDIS_URL_CORE: 'redis://harbor-redis:6379/0' });
    expect(targetsOf(c)[1]).toEqual({ target: 'redis://harbor-redis:6379/0', from: '_REDIS_URL_CORE' });
    expect(c.warnings).toEqual([`${reset} has no ${POOL}; using _REDIS_URL_CORE if set`]);
  });

  it.each([
    ['an alias naming no anchor before it', `worker_pool: *pool\n`, /^an alias at line 2, column 14 names no anchor defined before it, which jobservice's YAML reader refuses/],
    ['an alias inside its own anchor', `worker_pool: &w\n  redis_pool: *w\n`, /^the alias at line 3, column 15 is inside the anchor it names.*"anchor value contains itself"/],
    ['a merge of a scalar', `x: &x "redis://h:6379/1"\nworker_pool:\n  <<: *x\n`, /^the merge key \("<<"\) at line 4, column 3 merges something that is not a mapping/],
    ['a key that is a list', `worker_pool:\n  ? [redis_pool]\n  : x\n`, /^a key at line 3, column 5 is a list, which jobservice's YAML reader cannot take as a field name$/],
    ['!!binary that is not base64', `worker_pool:\n  redis_pool:\n    redis_url: !!binary "not base64!"\n`, /^worker_pool\.redis_pool\.redis_url is tagged !!binary but is not base64.*"!!binary value contains invalid base64 data"/],
    ['!!int', `worker_pool:\n  redis_pool:\n    redis_url: !!int "redis://h:6379/1"\n`, /^worker_pool\.redis_pool\.redis_url is tagged !!int, an integer, not a Redis URL: write the URL as plain text$/],
    ['!!bool', `worker_pool:\n  redis_pool:\n    redis_url: !!bool true\n`, /is tagged !!bool, a boolean, not a Redis URL/],
    ['a plain number', `worker_pool:\n  redis_pool:\n    redis_url: 6379\n`, /^worker_pool\.redis_pool\.redis_url is a number, not a Redis URL$/],
    ['nested deeper than can be read', `x: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, /^nests deeper than harbor-wait can read \(line 2, column \d+\): not jobservice's config\.yml$/],
  ])('refuses %s, naming the file and the place, quoting nothing', async (_what, text, message) => {
    const said = await refusal(`password: &pw "${REDIS_PW}"\n${text}`);
    expect(said).toMatch(message);
    expect(said).not.toContain(REDIS_PW);
  });

  it('describes a tagged redis_url: !!binary is decoded as yaml.v2 decodes it, !!str and custom tags are text', async () => {
    const b64 = Buffer.from(`redis://:${REDIS_PW}@binary:6379/1`).toString('base64');
    const binary = await urlOf(`worker_pool:\n  redis_pool:\n    redis_url: !!binary ${b64}\n`);
    expect(binary).toEqual({ target: 'redis://:***@binary:6379/1', from: `<file> (${POOL}, !!binary decoded)` });
    expect((await urlOf('worker_pool:\n  redis_pool:\n    redis_url: !!str redis://str:6379/1\n')).target).toBe('redis://str:6379/1');
    expect((await urlOf('worker_pool:\n  redis_pool:\n    redis_url: !url redis://custom:6379/1\n')).target).toBe('redis://custom:6379/1');
    // A bad URL written in base64 is named with how it was written.
    const path = file('binary-bad.yml', `worker_pool:\n  redis_pool:\n    redis_url: !!binary ${Buffer.from('redis://h:6379/x').toString('base64')}\n`);
    const err = await error(['--preset', 'jobservice', '--jobservice-config', path], JOBSERVICE_ENV);
    expect(err.input).toBe(`${path} (${POOL}, !!binary decoded) "redis://h:6379/x"`);
  });

  it('takes the URL byte for byte, as jobservice does: redis:// added when there is no scheme, a final line break refused', async () => {
    expect((await urlOf('worker_pool:\n  redis_pool:\n    redis_url: harbor-redis:6379/1\n')).target).toBe('redis://harbor-redis:6379/1');
    const path = file('block.yml', 'worker_pool:\n  redis_pool:\n    redis_url: |\n      redis://harbor-redis:6379/1\n');
    const err = await error(['--preset', 'jobservice', '--jobservice-config', path], JOBSERVICE_ENV);
    expect(err.input).toContain(`(${POOL})`);
    expect(err.message).toContain('holds U+000A');
  });

  it('reads a large file in time (keys given twice are found without comparing every pair: a minute before)', async () => {
    const large = `${Array.from({ length: 90_000 }, (_, i) => `k${i}: v`).join('\n')}\n${CHART_CONFIG}`;
    const started = Date.now();
    expect((await urlOf(large)).target).toBe('redis://harbor-redis:6379/1');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await refusal(`${large}k7: again\n`)).toMatch(/^is not valid YAML \(line \d+, column 1\): DUPLICATE_KEY/);
  });
});

describe("--preset core: the database, as core reads it (harbor-facts §4)", () => {
  const without = (...names: string[]) => Object.fromEntries(Object.entries(CORE_ENV).filter(([k]) => !names.includes(k)));
  const database = (c: Config) => c.targets.find((t) => t.from === 'POSTGRESQL_*');

  it("fills in core's defaults for unset variables and says which", async () => {
    const c = await run(['--preset', 'core'], without('POSTGRESQL_PORT', 'POSTGRESQL_USERNAME', 'POSTGRESQL_DATABASE', 'POSTGRESQL_SSLMODE', 'DATABASE_TYPE'));
    expect(database(c)?.label).toBe('postgres://postgres:***@harbor-database:5432/registry?sslmode=disable');
    expect(database(c)?.defaults).toEqual({ POSTGRESQL_PORT: '5432', POSTGRESQL_USERNAME: 'postgres', POSTGRESQL_DATABASE: 'registry', POSTGRESQL_SSLMODE: 'disable' });
    // An empty POSTGRESQL_SSLMODE is disable, as in Harbor.
    expect(database(await run(['--preset', 'core'], { ...CORE_ENV, POSTGRESQL_SSLMODE: '' }))?.label).toMatch(/sslmode=disable$/);
  });

  it('an IPv6 POSTGRESQL_HOST is an address core connects to', async () => {
    const c = await run(['--preset', 'core'], { ...CORE_ENV, POSTGRESQL_HOST: '::1' });
    expect(database(c)?.label).toBe('postgres://postgres:***@[::1]:5432/registry?sslmode=disable');
  });

  it('without POSTGRESQL_HOST waits for Redis only, with a warning', async () => {
    const c = await run(['--preset', 'core'], without('POSTGRESQL_HOST', 'POSTGRESQL_PASSWORD'));
    expect(database(c)).toBeUndefined();
    expect(c.warnings).toEqual([expect.stringMatching(/^PostgreSQL is not configured \(POSTGRESQL_HOST is unset\)/)]);
  });

  it.each([
    ['unset', without('POSTGRESQL_PASSWORD'), /is unset: core would log in with its built-in default password/],
    ['empty', { ...CORE_ENV, POSTGRESQL_PASSWORD: '' }, /is empty/],
  ])('a missing POSTGRESQL_PASSWORD (%s) is exit 2 naming Secret <fullname>-core and its key', async (_, env, problem) => {
    const err = await error(['--preset', 'core'], env);
    expect(err.input).toBe('POSTGRESQL_PASSWORD');
    expect(err.message).toMatch(problem);
    expect(err.message).toContain('Secret <fullname>-core, key POSTGRESQL_PASSWORD');
  });

  it.each([
    ['white space', `${DB_PASSWORD} x`, /white space/],
    ['a leading quote', `'${DB_PASSWORD}`, /begins with '/],
    ['a trailing backslash', `${DB_PASSWORD}\\`, /ends with \\/],
    ['an escaped backslash', `a\\\\${DB_PASSWORD}`, /turns them into/],
    ['a tab', `${DB_PASSWORD}\t`, /white space/],
  ])('a password core\'s unquoted string would break (%s) is refused without showing it', async (_, password, problem) => {
    const err = await error(['--preset', 'core'], { ...CORE_ENV, POSTGRESQL_PASSWORD: password });
    expect(err.input).toBe('POSTGRESQL_PASSWORD');
    expect(err.message).toMatch(problem);
    expect(err.message).toContain('not shown');
    expect(err.message).not.toContain('S3CRET');
  });

  it.each([
    ['DATABASE_TYPE', 'mysql', /"mysql" is not postgresql: core would fail with "invalid database: mysql"/],
    ['POSTGRESQL_PORT', '5432x', /not a port.*core would ignore it and connect to 5432/],
    ['POSTGRESQL_PORT', '70000', /not a port/],
    ['POSTGRESQL_HOST', 'harbor_database!', /not a host name/],
    ['POSTGRESQL_USERNAME', 'harbor admin', /white space/],
    ['POSTGRESQL_DATABASE', "'registry", /begins with '/],
    ['POSTGRESQL_SSLMODE', 'required', /sslmode "required" is invalid/],
    ['PGCONNECT_TIMEOUT', '5s', /not a whole number of seconds/],
    ['PGTARGETSESSIONATTRS', 'master', /not one of any, read-write/],
    ['PGSSLROOTCERT', '/nonexistent/ca.crt', /cannot read certificate/],
  ])('%s=%s is exit 2 naming it', async (name, value, problem) => {
    const err = await error(['--preset', 'core'], { ...CORE_ENV, [name]: value });
    expect(err.input).toBe(name);
    expect(err.message).toMatch(problem);
  });

  describe('for diagnose (coreDatabase(env, warnings, true), as `harbor-wait diagnose --preset core` calls it)', () => {
    const finding = (env: Env) => {
      const db = coreDatabase(env, [], true);
      expect(db?.urlFindings).toHaveLength(1);
      return db?.urlFindings[0];
    };

    it('nothing wrong: an ok `core connection string` finding with the length of the password, nothing of it', () => {
      const f = finding(CORE_ENV);
      expect(f).toEqual({ layer: 'url', name: 'core connection string', status: 'ok', value: `user, dbname and password (${DB_PASSWORD.length} characters, not shown) go into core's unquoted "key=value" string as they are` });
    });

    it.each([
      ['white space', `${DB_PASSWORD} x`, 'POSTGRESQL_PASSWORD holds white space (not shown)'],
      ['a final newline', `${DB_PASSWORD}\n`, 'POSTGRESQL_PASSWORD holds white space at an end (a Secret made with echo without -n, or from a file with a final newline?) (not shown)'],
      ['a leading quote', `'${DB_PASSWORD}`, "POSTGRESQL_PASSWORD begins with ' (not shown)"],
      ['a trailing backslash', `${DB_PASSWORD}\\`, 'POSTGRESQL_PASSWORD ends with \\ (not shown)'],
    ])('a password core would break (%s): no error, a failed finding naming the problem, never the password', (_, password, value) => {
      const f = finding({ ...CORE_ENV, POSTGRESQL_PASSWORD: password });
      expect(f).toMatchObject({ layer: 'url', name: 'core connection string', status: 'fail', value });
      expect(f?.hint).toMatch(/unquoted \("\.\.\. password=<value> \.\.\."\).*choose values without white space/);
      expect(JSON.stringify(f)).not.toContain('S3CRET');
      // The target still logs in with the password as it is, and scrubs it.
      expect(coreDatabase({ ...CORE_ENV, POSTGRESQL_PASSWORD: password }, [], true)?.target.secrets).toContain(password);
    });

    it('a user name and a database name core would break: one failed finding naming both (they are not secret)', () => {
      const f = finding({ ...CORE_ENV, POSTGRESQL_USERNAME: 'harbor admin', POSTGRESQL_DATABASE: "'registry" });
      expect(f).toMatchObject({ status: 'fail', value: `POSTGRESQL_USERNAME "harbor admin" holds white space; POSTGRESQL_DATABASE "'registry" begins with '` });
      expect(f?.hint).toContain('"... user=<value> dbname=<value> ..."');
    });

    it('what is no connection-string problem is still a configuration error; and without diagnose nothing changes', () => {
      expect(() => coreDatabase({ ...CORE_ENV, POSTGRESQL_PASSWORD: '' }, [], true)).toThrow(/POSTGRESQL_PASSWORD: is empty/);
      expect(() => coreDatabase({ ...CORE_ENV, POSTGRESQL_PORT: 'x' }, [], true)).toThrow(/POSTGRESQL_PORT/);
      expect(() => coreDatabase({ ...CORE_ENV, POSTGRESQL_PASSWORD: `${DB_PASSWORD} x` }, [])).toThrow(/POSTGRESQL_PASSWORD: holds white space \(not shown\)/);
      expect(coreDatabase(CORE_ENV, [])?.urlFindings).toEqual([]);
    });
  });

  it('reads the PG* variables that reach core\'s driver (pgx), and warns that PGSERVICE is not read', async () => {
    const c = await run(['--preset', 'core'], { ...CORE_ENV, PGCONNECT_TIMEOUT: '7', PGTARGETSESSIONATTRS: 'any', PGAPPNAME: 'core-wait', PGSERVICE: 'harbor' });
    expect(database(c)).toBeDefined();
    expect(c.warnings).toEqual([expect.stringMatching(/^PGSERVICE is set/)]);
  });
});

describe('presets with internal TLS', () => {
  let caFile: string;
  let otherCa: string;
  beforeAll(async () => {
    caFile = (await makeCerts()).caCert;
    otherCa = (await makeCerts()).caCert;
  });

  it('trusts the CA at INTERNAL_TLS_TRUST_CA_PATH when INTERNAL_TLS_ENABLED=true', async () => {
    const env = { ...JOBSERVICE_ENV, CORE_URL: 'https://harbor-core:443', INTERNAL_TLS_ENABLED: 'true', INTERNAL_TLS_TRUST_CA_PATH: caFile };
    const c = await run(['--preset', 'jobservice', '--jobservice-config', configFile], env);
    expect(c.tls.ca).toBe(readFileSync(caFile, 'utf8'));
    expect(c.tlsFiles.ca).toBe(caFile);
  });

  it('lets --ca-file / WAIT_CA_FILE say otherwise', async () => {
    const env = { ...CORE_ENV, INTERNAL_TLS_ENABLED: 'true', INTERNAL_TLS_TRUST_CA_PATH: caFile };
    expect((await run(['--preset', 'core', '--ca-file', otherCa], env)).tlsFiles.ca).toBe(otherCa);
    expect((await run(['--preset', 'core'], { ...env, WAIT_CA_FILE: otherCa })).tlsFiles.ca).toBe(otherCa);
  });

  it("names the component's certificate volume when the default CA path is missing", async () => {
    const err = await error(['--preset', 'core'], { ...CORE_ENV, INTERNAL_TLS_ENABLED: 'true' });
    expect(err.message).toContain('/etc/harbor/ssl/core/ca.crt');
    expect(err.input).toContain('mount volume core-internal-certs at /etc/harbor/ssl/core');
  });

  it('ignores internal TLS unless INTERNAL_TLS_ENABLED is true', async () => {
    const c = await run(['--preset', 'core'], { ...CORE_ENV, INTERNAL_TLS_ENABLED: 'false', INTERNAL_TLS_TRUST_CA_PATH: caFile });
    expect(c.tlsFiles).toEqual({});
  });
});

describe('--preset jobservice, run as the chart runs it', () => {
  let redis: RedisServer;
  let core: FakeCore;
  beforeAll(async () => {
    [redis, core] = await Promise.all([
      startRedis({ args: ['--requirepass', REDIS_PW] }),
      startFakeCore({ secret: SECRET, dbPassword: 'db-PASSWORD-mark' }),
    ]);
  });
  afterAll(() => core.close());

  it('exits 0 once core and the Redis of config.yml are ready; start says where each target came from', async () => {
    const url = `redis://:${encodeURIComponent(REDIS_PW)}@127.0.0.1:${redis.port}/1`;
    const config = file('live.yml', chartConfig(url));
    const r = await runCli(['--preset', 'jobservice'], {
      CORE_URL: core.url,
      JOBSERVICE_SECRET: SECRET,
      WAIT_JOBSERVICE_CONFIG: config,
      _REDIS_URL_CORE: 'redis://127.0.0.1:1/0',
    });
    expect(r.code).toBe(ExitCode.Ready);
    const start = r.events('start')[0] as unknown as { targets: unknown; settings: { preset: string } };
    expect(start.settings.preset).toBe('jobservice');
    expect(start.targets).toEqual([
      { target: `${core.url}/api/v2.0/internalconfig`, from: 'CORE_URL' },
      { target: `redis://:***@127.0.0.1:${redis.port}/1`, from: `${config} (worker_pool.redis_pool.redis_url)` },
    ]);
    expect(r.events('ready')).toHaveLength(2);
    expect(core.requests.at(-1)?.authorization).toBe(`Harbor-Secret ${SECRET}`);
    for (const s of [SECRET, REDIS_PW, encodeURIComponent(REDIS_PW), 'db-PASSWORD-mark']) expect(r.stdout + r.stderr).not.toContain(s);
  });

  it('exits 2 with one config_error line when the chart env is missing', async () => {
    const r = await runCli(['--preset', 'jobservice'], { WAIT_JOBSERVICE_CONFIG: join(dir, 'absent.yml') });
    expect(r.code).toBe(ExitCode.ConfigError);
    expect(r.lines.map((l) => l.event)).toEqual(['config_error']);
    expect(r.lines[0]?.msg).toContain('CORE_URL');
    expect(r.stderr).toBe('');
  });
});

describe('the cache layer, run as the chart runs it: a real Redis with 4 databases, the cache layer at index 7', () => {
  let redis: RedisServer;
  let core: FakeCore;
  beforeAll(async () => {
    [redis, core] = await Promise.all([
      startRedis({ args: ['--requirepass', REDIS_PW, '--databases', '4'] }),
      startFakeCore({ secret: SECRET, dbPassword: 'db-PASSWORD-mark' }),
    ]);
  });
  afterAll(() => core.close());
  const base = () => `redis://:${encodeURIComponent(REDIS_PW)}@127.0.0.1:${redis.port}`;
  const label = (db: number) => `redis://:***@127.0.0.1:${redis.port}/${db}?idle_timeout_seconds=30`;
  const noSecrets = (r: { stdout: string; stderr: string }) => {
    for (const s of [SECRET, REDIS_PW, encodeURIComponent(REDIS_PW)]) expect(r.stdout + r.stderr).not.toContain(s);
  };
  /** The not_ready line of the cache layer: SELECT 7 refused. */
  const outOfRange = (r: Awaited<ReturnType<typeof runCli>>, target: string) => {
    const lines = r.events('not_ready').filter((l) => l.target === target);
    expect(lines.length, r.stdout).toBeGreaterThan(0);
    expect(lines[0]).toMatchObject({ stage: 'response' });
    expect(String(lines[0]?.reason)).toContain('DB index is out of range');
    expect(r.events('ready').map((l) => l.target)).not.toContain(target);
  };

  it('core: exit 1 with --once while _REDIS_URL_CACHE_LAYER names a database Redis does not have; 0 once it does', async () => {
    const env = chartCoreRedisEnv({ url: base(), cacheEnabled: true, cacheLayerDatabaseIndex: '7' });
    const r = await runCli(['--preset', 'core', '--once'], env);
    expect(r.code, r.stdout).toBe(ExitCode.Failure);
    const start = r.events('start')[0] as unknown as { targets: Array<{ target: string; from: string }> };
    expect(start.targets).toEqual([
      { target: label(0), from: '_REDIS_URL_CORE' },
      { target: label(2), from: '_REDIS_URL_REG' },
      { target: label(7), from: '_REDIS_URL_CACHE_LAYER' },
    ]);
    outOfRange(r, label(7));
    expect(r.events('ready').map((l) => l.target).sort()).toEqual([label(0), label(2)]);
    expect(r.stderr).toBe('');
    noSecrets(r);

    const fixed = await runCli(['--preset', 'core', '--once'], chartCoreRedisEnv({ url: base(), cacheEnabled: true, cacheLayerDatabaseIndex: '3' }));
    expect(fixed.code, fixed.stdout).toBe(ExitCode.Ready);
    expect(fixed.events('ready').map((l) => l.target).sort()).toEqual([label(0), label(2), label(3)]);
    noSecrets(fixed);
  });

  it('core: without cache.enabled the cache layer is not opened by core, so an index out of range does not hold it', async () => {
    const r = await runCli(['--preset', 'core', '--once'], chartCoreRedisEnv({ url: base(), cacheLayerDatabaseIndex: '7' }));
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
    expect(r.events('ready')).toHaveLength(2);
  });

  it('jobservice: exit 1 with --once while the cache layer is out of range; 0 with a database Redis has', async () => {
    const config = file('cache-live.yml', chartConfig(chartJobserviceRedisUrl({ url: base() })));
    const env = (index: string) => ({
      CORE_URL: core.url,
      JOBSERVICE_SECRET: SECRET,
      WAIT_JOBSERVICE_CONFIG: config,
      ...chartJobserviceRedisEnv({ url: base(), cacheEnabled: true, cacheLayerDatabaseIndex: index }),
    });
    const r = await runCli(['--preset', 'jobservice', '--once'], env('7'));
    expect(r.code, r.stdout).toBe(ExitCode.Failure);
    const start = r.events('start')[0] as unknown as { targets: Array<{ target: string; from: string }> };
    expect(start.targets.map((t) => t.from)).toEqual(['CORE_URL', `${config} (worker_pool.redis_pool.redis_url)`, '_REDIS_URL_CACHE_LAYER']);
    outOfRange(r, label(7));
    noSecrets(r);

    const fixed = await runCli(['--preset', 'jobservice', '--once'], env('3'));
    expect(fixed.code, fixed.stdout).toBe(ExitCode.Ready);
    expect(fixed.events('ready')).toHaveLength(3);
    noSecrets(fixed);
  });
});

describe("config.yml with aliases and merge keys, run as the chart runs it", () => {
  let redis: RedisServer;
  let core: FakeCore;
  beforeAll(async () => {
    [redis, core] = await Promise.all([startRedis({ args: ['--requirepass', REDIS_PW] }), startFakeCore({ secret: SECRET, dbPassword: 'db-PASSWORD-mark' })]);
  });
  afterAll(() => core.close());
  const env = (config: string) => ({ CORE_URL: core.url, JOBSERVICE_SECRET: SECRET, WAIT_JOBSERVICE_CONFIG: config });
  /** No crash: exit 2, one config_error line naming the file, nothing on stderr, no stack, no password. */
  const refused = (r: Awaited<ReturnType<typeof runCli>>, config: string) => {
    expect(r.code, r.stdout + r.stderr).toBe(ExitCode.ConfigError);
    expect(r.lines.map((l) => l.event)).toEqual(['config_error']);
    expect(r.lines[0]?.input).toBe(`WAIT_JOBSERVICE_CONFIG "${config}"`);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(/internal error|\n\s+at .*:\d+:\d+/);
    expect(r.stdout + r.stderr).not.toContain(REDIS_PW);
    return String(r.lines[0]?.msg);
  };

  it('200 references to one anchor and the Redis settings merged in with <<: ready, exit 0', async () => {
    const url = `redis://:${encodeURIComponent(REDIS_PW)}@127.0.0.1:${redis.port}/1`;
    const text = `redis: &redis\n  redis_url: "${url}"\n  namespace: "harbor_job_service_namespace"\nlevel: &level INFO\nlevels:\n${'  - *level\n'.repeat(200)}worker_pool:\n  workers: 10\n  backend: "redis"\n  redis_pool:\n    <<: *redis\n    idle_timeout_second: 3600\n`;
    const config = file('aliases-live.yml', text);
    const r = await runCli(['--preset', 'jobservice'], env(config));
    expect(r.code, r.stdout + r.stderr).toBe(ExitCode.Ready);
    expect(r.events('ready').map((l) => l.target)).toContain(`redis://:***@127.0.0.1:${redis.port}/1`);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain(REDIS_PW);
  });

  it('an alias bomb: exit 2 naming the file, at once, no stack trace (was "internal error ... Excessive alias count", exit 1)', async () => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 10; i++) text += `a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]\n`;
    const config = file('bomb-live.yml', `${text}${chartConfig(`redis://:${REDIS_PW}@127.0.0.1:${redis.port}/1`)}`);
    expect(refused(await runCli(['--preset', 'jobservice'], env(config)), config)).toContain('"document contains excessive aliasing"');
  });

  it('an alias naming no anchor, and a mapping as a key: exit 2, and no library warning on stderr quoting the file', async () => {
    const unknown = file('unknown-live.yml', `a: *nowhere\n${chartConfig(`redis://:${REDIS_PW}@127.0.0.1:${redis.port}/1`)}`);
    expect(refused(await runCli(['--preset', 'jobservice'], env(unknown)), unknown)).toContain('names no anchor defined before it');
    // The old reader made the yaml library print "Keys with collection values will be stringified: { redis_url: ... }" on stderr.
    const key = file('key-live.yml', `worker_pool:\n  ? {redis_url: "redis://:${REDIS_PW}@h:6379/1"}\n  : x\n`);
    expect(refused(await runCli(['--preset', 'jobservice'], env(key)), key)).toContain('is a mapping, which jobservice\'s YAML reader cannot take as a field name');
  });
});
