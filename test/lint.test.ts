/**
 * `harbor-wait lint` on real renders of harbor-helm 1.19.1 (helm template on ../shared/harbor-helm/chart),
 * through the built entry copied alone, the render on its standard input as `helm template … | harbor-wait
 * lint -` gives it. Each correct kind of install passes with no failure; each mistake of shared/lint-facts.md,
 * made in the values as operators make it, fails with the hint that names the value to change. No password
 * reaches the report.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BUNDLE, runCli, watchProcess } from './helpers/cli.ts';
import { generateOverlay, renderChartText, type RenderOptions } from './helpers/helm.ts';
import { startKubeApi } from './helpers/kube-api.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';

interface Check {
  readonly layer: string;
  readonly name: string;
  readonly status: 'ok' | 'warn' | 'fail' | 'skip';
  readonly value: string;
  readonly hint?: string;
}
interface Report {
  readonly ok: boolean;
  readonly components: ReadonlyArray<{ readonly component: string; readonly from: string; readonly checks: readonly Check[] }>;
}

interface Linted {
  readonly code: number | null;
  readonly report: Report;
  readonly pretty: string;
  readonly stderr: string;
  /** The checks of one group (`core`, `release`, ...). */
  group(component: string): readonly Check[];
  /** One check of one group; the test fails when there is none. */
  check(component: string, name: string): Check;
  /** Every failed check, as `group: name`. */
  readonly failures: string[];
}

const tmp = mkdtempSync(join(tmpdir(), 'harbor-wait-lint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Renders the chart with `values` (plus `extra` YAML appended to the stream) and lints it, JSON and pretty. */
async function lint(values: ReadonlyArray<string | object>, o: { args?: readonly string[]; extra?: string; render?: Partial<RenderOptions>; secrets?: readonly string[] } = {}): Promise<Linted> {
  const text = (await renderChartText({ release: 'harbor', values, ...o.render })) + (o.extra ? `\n---\n${o.extra}` : '');
  const args = o.args ?? [];
  const [json, pretty] = await Promise.all([
    runCli(['lint', '--log-format', 'json', ...args, '-'], {}, { input: text }),
    runCli(['lint', ...args, '-'], {}, { input: text }),
  ]);
  expect(json.code, json.stderr).toBe(pretty.code);
  expect(json.stderr).toBe('');
  expectNoSecret({ json: json.stdout, pretty: pretty.stdout, stderr: pretty.stderr }, o.secrets ?? []);
  const report = JSON.parse(json.stdout) as Report;
  const group = (component: string) => report.components.find((c) => c.component === component)?.checks ?? [];
  return {
    code: json.code,
    report,
    pretty: pretty.stdout,
    stderr: pretty.stderr,
    group,
    check(component, name) {
      const found = group(component).find((c) => c.name === name);
      if (!found) throw new Error(`no check "${name}" in ${component}; the report:\n${pretty.stdout}`);
      return found;
    },
    failures: report.components.flatMap((c) => c.checks.filter((k) => k.status === 'fail').map((k) => `${c.component}: ${k.name}`)),
  };
}

/** No check failed, and the exit code says so. */
function expectPasses(r: Linted): void {
  expect(r.failures, r.pretty).toEqual([]);
  expect(r.code, r.pretty).toBe(0);
  expect(r.report.ok).toBe(true);
}

/** Exit 1, and this check failed with a hint naming `value`. */
function expectFails(r: Linted, component: string, name: string, value: string | RegExp): Check {
  expect(r.code, r.pretty).toBe(1);
  expect(r.report.ok).toBe(false);
  const c = r.check(component, name);
  expect(c.status, r.pretty).toBe('fail');
  if (typeof value === 'string') expect(c.hint).toContain(value);
  else expect(c.hint).toMatch(value);
  return c;
}

const externalRedis = (password: string, extra: object = {}) => ({ redis: { type: 'external', external: { addr: 'redis.example.internal:6379', password, ...extra } } });
const externalDb = (password: string, extra: object = {}) => ({ database: { type: 'external', maxOpenConns: 40, maxIdleConns: 10, external: { host: 'pg.example.internal', port: '5432', username: 'harbor', password, coreDatabase: 'registry', sslmode: 'require', ...extra } } });

/** A Secret for the stream, as an operator applies one before installing (stringData). */
function secret(name: string, data: Record<string, string>): string {
  return `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n  namespace: harbor\nstringData:\n${Object.entries(data).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}\n`;
}

describe('lint on correct installs: no failure', () => {
  it('the chart as it comes (internal Redis and database): warnings only, naming the helm-values command and the budget', async () => {
    const r = await lint([]);
    expectPasses(r);
    expect(r.report.components.map((c) => c.component)).toEqual(['core', 'jobservice', 'registry', 'trivy adapter', 'release']);
    const wait = r.check('core', 'harbor-wait');
    expect(wait.status).toBe('warn');
    expect(wait.hint).toContain('harbor-wait helm-values --release harbor > harbor-wait-values.yaml');
    // 900 per pod for core and for jobservice: each fits harbor-db's 1024, both together do not.
    const budget = r.check('release', 'connections');
    expect(budget.status).toBe('warn');
    expect(budget.value).toContain('core 1 x 900 + jobservice 1 x 900 = 1800 at most, against max_connections 1024');
    expect(budget.hint).toContain('database.maxOpenConns');
    expect(r.check('core', '_REDIS_URL_CORE').value).toBe('redis://harbor-redis:6379/0?idle_timeout_seconds=30 (db 0, no password)');
    expect(r.check('release', 'indexes')).toMatchObject({ status: 'ok', value: 'core 0, registry 2, jobservice 1, trivy 5' });
    expect(r.pretty).toMatch(/^harbor-wait \S+ lint: \d+ objects from standard input; core, jobservice, registry, trivy adapter\n/);
    expect(r.pretty).toMatch(/\nlint: no failures, 3 warnings in 3 of 5 groups; warnings can be ignored if Harbor works \(\d+ ok, 0 skipped\)\n$/);
  });

  it('with the overlay helm-values generates: the wait containers are found, in init and in sidecar mode', async () => {
    for (const mode of ['init', 'sidecar']) {
      const overlay = await generateOverlay(['--release', 'harbor', '--mode', mode]);
      const r = await lint([overlay.text]);
      expectPasses(r);
      for (const component of ['core', 'jobservice']) {
        expect(r.check(component, 'harbor-wait').status, r.pretty).toBe('ok');
        expect(r.check(component, 'init resources').status, r.pretty).toBe('ok');
      }
      expect(r.check('core', 'harbor-wait').value).toContain(mode === 'sidecar' ? 'native sidecar wait-for-redis-and-database' : 'init container wait-for-redis-and-database');
    }
  });

  it('external Redis with a password and an external database within its connections', async () => {
    const redisPassword = markedSecret('redi');
    const dbPassword = markedSecret('db');
    const r = await lint([externalRedis(redisPassword), externalDb(dbPassword)], { secrets: [redisPassword, dbPassword] });
    expectPasses(r);
    expect(r.check('release', 'password')).toMatchObject({ status: 'ok', value: expect.stringMatching(new RegExp(`^the same in all 4 URLs \\(${redisPassword.length} characters, not shown`)) });
    expect(r.check('registry', 'password').status).toBe('ok');
    expect(r.check('release', 'connections')).toMatchObject({ status: 'ok' });
    expect(r.check('release', 'connections').value).toContain('core 1 x 40 + jobservice 1 x 40 = 80 at most, against max_connections 100 (assumed');
    expect(r.check('core', 'sslmode').value).toBe('require (TLS, the server not verified)');
  });

  it('Sentinel: the URLs name the master set and the registry gets sentinelMasterSet', async () => {
    const password = markedSecret('sent');
    const r = await lint([externalRedis(password, { addr: 's1.example.internal:26379,s2.example.internal:26379,s3.example.internal:26379', sentinelMasterSet: 'mymaster' })], { secrets: [password] });
    expectPasses(r);
    expect(r.check('core', '_REDIS_URL_CORE').value).toMatch(/^redis\+sentinel:\/\/:\*\*\*@s1\.example\.internal:26379,s2\.example\.internal:26379,s3\.example\.internal:26379\/mymaster\/0\?/);
    expect(r.check('registry', 'addr').value).toBe('sentinels s1.example.internal:26379, s2.example.internal:26379, s3.example.internal:26379, master set mymaster');
  });

  it("TLS to Redis (tlsOptions.enable, Azure's 6380) and internal TLS with the overlay that trusts its CA", async () => {
    const password = markedSecret('tls');
    const overlay = await generateOverlay(['--release', 'harbor', '--internal-tls']);
    const r = await lint([externalRedis(password, { addr: 'cache.redis.cache.windows.net:6380', tlsOptions: { enable: true } }), { internalTLS: { enabled: true } }, overlay.text], { secrets: [password] });
    expectPasses(r);
    expect(r.check('core', '_REDIS_URL_CORE').value).toMatch(/^rediss:\/\//);
    expect(r.check('registry', 'TLS').value).toBe('enabled, as the URLs');
    expect(r.check('core', 'harbor-wait').status).toBe('ok');
  });

  it('existingSecret values with their Secrets supplied in the stream (database, jobservice), and the overlay made for them', async () => {
    const dbPassword = markedSecret('dbx');
    const jsSecret = markedSecret('js');
    const overlay = await generateOverlay(['--release', 'harbor', '--jobservice-existing-secret', 'my-js:token', '--database-existing-secret', 'my-db']);
    const extra = `${secret('my-db', { password: dbPassword })}---\n${secret('my-js', { token: jsSecret })}`;
    const r = await lint([externalDb('', { existingSecret: 'my-db' }), { jobservice: { existingSecret: 'my-js', existingSecretKey: 'token' } }, overlay.text], { extra, secrets: [dbPassword, jsSecret] });
    expectPasses(r);
    expect(r.check('core', 'POSTGRESQL_PASSWORD')).toMatchObject({ status: 'ok', value: `${dbPassword.length} characters, not shown (Secret my-db key password)` });
    expect(r.check('jobservice', 'JOBSERVICE_SECRET').value).toBe(`${jsSecret.length} characters, not shown (Secret my-js key token)`);
    expect(r.check('core', 'harbor-wait').status).toBe('ok');
  });

  it('existingSecret values whose Secrets are outside the stream: named, not failed, their values not checked', async () => {
    const r = await lint([externalDb('', { existingSecret: 'my-db' }), { jobservice: { existingSecret: 'my-js' } }]);
    expectPasses(r);
    expect(r.check('core', 'Secret my-db').value).toBe('outside the stream, named by database.external.existingSecret (env POSTGRESQL_PASSWORD): it must exist in the namespace before the pod starts');
    expect(r.check('core', 'POSTGRESQL_PASSWORD').status).toBe('skip');
    expect(r.check('core', 'harbor-wait').hint).toContain('harbor-wait helm-values --release harbor --jobservice-existing-secret my-js --database-existing-secret my-db');
  });

  it('the exporter (metrics.enabled): its Redis URL and database password, its pool in the budget', async () => {
    const dbPassword = markedSecret('exp');
    const r = await lint([externalDb(dbPassword, { }), { database: { maxOpenConns: 30 }, metrics: { enabled: true } }], { secrets: [dbPassword] });
    expectPasses(r);
    expect(r.check('exporter', 'HARBOR_REDIS_URL').status).toBe('ok');
    expect(r.check('exporter', 'HARBOR_DATABASE_PASSWORD').status).toBe('ok');
    expect(r.check('exporter', 'harbor-wait').status).toBe('skip');
    expect(r.check('release', 'connections').value).toContain('core 1 x 30 + jobservice 1 x 30 + exporter 1 x 30 = 90 at most');
  });

  it('redis.external.existingSecret rendered against the cluster (helm template --dry-run=server): lookup finds the Secret', async () => {
    const password = markedSecret('look');
    const api = await startKubeApi({ 'harbor/my-redis': { REDIS_PASSWORD: password } });
    try {
      const r = await lint([{ redis: { type: 'external', external: { addr: 'redis.example.internal:6379', existingSecret: 'my-redis' } } }], { render: { kubeconfig: api.kubeconfig }, secrets: [password] });
      expectPasses(r);
      expect(api.requests).toContain('/api/v1/namespaces/harbor/secrets/my-redis');
      expect(r.check('release', 'password').value).toMatch(new RegExp(`^the same in all 4 URLs \\(${password.length} characters`));
      expect(r.check('registry', 'password').value).toBe(`the URLs' (${password.length} characters, not shown), from config.yml password`);
    } finally {
      await api.close();
    }
  });

  it('a fullname of its own: the helm-values command names it', async () => {
    const r = await lint([{ fullnameOverride: 'registry' }]);
    expectPasses(r);
    expect(r.check('core', 'harbor-wait').hint).toContain('harbor-wait helm-values --release registry --fullname registry >');
  });
});

describe('lint on the mistakes operators make: the failure, with the value to change', () => {
  it("redis.external.existingSecret under helm template: Helm's lookup finds nothing, every URL carries \":@\"", async () => {
    const r = await lint([{ redis: { type: 'external', external: { addr: 'redis.example.internal:6379', existingSecret: 'my-redis' } } }]);
    const c = expectFails(r, 'release', 'password', 'redis.external.existingSecret');
    expect(c.value).toBe('4 of 4 URLs carry an empty password (":@"): core _REDIS_URL_CORE, core _REDIS_URL_REG, jobservice config.yml redis_url, trivy adapter SCANNER_REDIS_URL');
    expect(c.hint).toContain('helm template');
    expectFails(r, 'registry', 'password', 'lookup');
  });

  it('an empty password in one URL beside others with one: the lookup symptom, said so', async () => {
    const password = markedSecret('half');
    // Made by hand, as an override does: one URL of the stream loses its password.
    const text = (await renderChartText({ release: 'harbor', values: [externalRedis(password)] })).replace(/(_REDIS_URL_REG: "redis:\/\/):[^@]*@/, '$1:@');
    const res = await runCli(['lint', '--log-format', 'json', '-'], {}, { input: text });
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout) as Report;
    const check = report.components.find((g) => g.component === 'release')?.checks.find((k) => k.name === 'password');
    expect(check?.status).toBe('fail');
    expect(check?.value).toMatch(/^1 of 4 URLs carry an empty password \(":@"\): core _REDIS_URL_REG, beside 3 with one/);
    expectNoSecret({ stdout: res.stdout }, [password]);
  });

  it("a space in the Redis password: the chart's urlquery makes it \"+\", which Harbor reads as \"+\"", async () => {
    const password = `${markedSecret('spc')} and more`;
    const r = await lint([externalRedis(password)], { secrets: [password.split(' ')[0] as string] });
    const c = expectFails(r, 'release', 'password', 'choose a password without spaces: redis.external.password');
    expect(c.value).toBe('the password holds "+" in 4 of 4 URLs (core _REDIS_URL_CORE, core _REDIS_URL_REG, jobservice config.yml redis_url, trivy adapter SCANNER_REDIS_URL): that is how the chart\'s urlquery writes a space, and Harbor\'s components read "+" as "+", so they log in with another password');
    expect(r.check('core', '_REDIS_URL_CORE').status).toBe('ok');
    const reg = expectFails(r, 'registry', 'password', 'one Redis needs one password, without spaces: redis.external.password');
    expect(reg.value).toContain('it has a space where the URLs have "+"');
  });

  it("a space in the existingSecret's REDIS_PASSWORD, rendered against the cluster: the same \"+\", and the registry's own copy differs", async () => {
    const password = `${markedSecret('exs')} tail`;
    const api = await startKubeApi({ 'harbor/my-redis': { REDIS_PASSWORD: password } });
    try {
      const r = await lint([{ redis: { type: 'external', external: { addr: 'redis.example.internal:6379', existingSecret: 'my-redis' } } }], { render: { kubeconfig: api.kubeconfig }, secrets: [password.split(' ')[0] as string] });
      expectFails(r, 'release', 'password', 'REDIS_PASSWORD of the Secret redis.external.existingSecret names');
      expect(expectFails(r, 'registry', 'password', 'without spaces').value).toContain('config.yml password differs');
    } finally {
      await api.close();
    }
  });

  it('a password percent-encoded by hand: the chart encodes it again (%25...)', async () => {
    const r = await lint([externalRedis('p%40ssw0rd-long-enough')]);
    const c = expectFails(r, 'release', 'password', 'not encoded: the chart encodes it (goharbor/harbor#18786)');
    expect(c.value).toContain('percent-encoded twice');
  });

  it('a comma list of sentinels without sentinelMasterSet: redis:// with several hosts, and the registry dials the list', async () => {
    const r = await lint([externalRedis('secretpw1', { addr: 's1.example.internal:26379,s2.example.internal:26379' })]);
    const c = expectFails(r, 'core', '_REDIS_URL_CORE', 'redis.external.sentinelMasterSet');
    expect(c.value).toContain('2 addresses for redis://, which takes one');
    expectFails(r, 'registry', 'addr', 'redis.external.sentinelMasterSet');
  });

  it('Sentinel with TLS: the chart writes sentinelMasterSet for redis+sentinel only, so the registry gets the bare list', async () => {
    const r = await lint([externalRedis('secretpw2', { addr: 's1.example.internal:26379,s2.example.internal:26379', sentinelMasterSet: 'mymaster', tlsOptions: { enable: true } })]);
    const c = expectFails(r, 'registry', 'addr', 'sentinelMasterSet');
    expect(c.value).toContain('harbor-helm 1.19.1 writes sentinelMasterSet for redis+sentinel only');
    expect(r.check('core', '_REDIS_URL_CORE').status).toBe('ok');
  });

  it('an index given as a number renders as %!s(float64=5) in the trivy URL; a missing one as %!s(<nil>)', async () => {
    const r = await lint([externalRedis('secretpw3', { trivyAdapterIndex: 5, jobserviceDatabaseIndex: null })]);
    const trivy = expectFails(r, 'trivy adapter', 'SCANNER_REDIS_URL', 'redis.external.trivyAdapterIndex as a quoted string');
    expect(trivy.value).toContain('%!s(float64=5)');
    expectFails(r, 'jobservice', 'config.yml redis_url', 'redis.external.jobserviceDatabaseIndex');
  });

  it('core on another index than 0', async () => {
    const r = await lint([externalRedis('secretpw4', { coreDatabaseIndex: '3' })]);
    const c = expectFails(r, 'release', 'indexes', 'redis.external.coreDatabaseIndex must be "0"');
    expect(c.value).toBe("core's _REDIS_URL_CORE selects db 3");
  });

  it('TLS-only Redis reached in plain text (port 6380), and TLS with a core older than 2.13', async () => {
    const plain = await lint([externalRedis('secretpw5', { addr: 'cache.redis.cache.windows.net:6380' })]);
    expectFails(plain, 'core', '_REDIS_URL_CORE', 'redis.external.tlsOptions.enable: true');
    const old = await lint([externalRedis('secretpw6', { tlsOptions: { enable: true } }), { core: { image: { tag: 'v2.12.2' } } }]);
    const c = expectFails(old, 'core', '_REDIS_URL_CORE', 'Harbor 2.13 or later');
    expect(c.value).toContain("core's image is v2.12");
  });

  it("a loopback Redis address (in a pod, the pod itself), and a sentinel's port without sentinelMasterSet", async () => {
    const r = await lint([externalRedis('secretpw7', { addr: '127.0.0.1:6379' })]);
    expectFails(r, 'core', '_REDIS_URL_CORE', 'redis.external.addr');
    const sentinel = await lint([externalRedis('secretpw8', { addr: 's1.example.internal:26379' })]);
    expect(expectFails(sentinel, 'core', '_REDIS_URL_CORE', 'redis.external.sentinelMasterSet').value).toContain("port 26379 is a sentinel's");
  });

  it('overrides that make the components disagree: a jobservice URL of its own (extraEnvVars), a registry block edited by hand, a core URL removed', async () => {
    const password = markedSecret('ovr');
    const other = markedSecret('oth');
    const text = (await renderChartText({ release: 'harbor', values: [externalRedis(password), { jobservice: { extraEnvVars: [{ name: 'JOB_SERVICE_POOL_REDIS_URL', value: `redis://:${other}@redis.example.internal:6379/1` }] } }] }))
      .replace(/^( {6}db: )2$/m, '$13')
      .replace(/^( {6}enableTLS: )false$/m, '$1true');
    const res = await runCli(['lint', '--log-format', 'json', '-'], {}, { input: text });
    expect(res.code).toBe(1);
    expectNoSecret({ stdout: res.stdout }, [password, other]);
    const report = JSON.parse(res.stdout) as Report;
    const check = (component: string, name: string) => report.components.find((g) => g.component === component)?.checks.find((k) => k.name === name);
    expect(check('jobservice', 'JOB_SERVICE_POOL_REDIS_URL')?.status).toBe('ok');
    expect(check('release', 'password')).toMatchObject({ status: 'fail', value: 'the URLs carry 2 different passwords (not shown)' });
    expect(check('registry', 'db')).toMatchObject({ status: 'warn', value: "3, but core's _REDIS_URL_REG selects db 2" });
    expect(check('registry', 'TLS')).toMatchObject({ status: 'fail', value: 'enableTLS true, but the URLs do not use TLS' });
    // One URL without a password beside others with one; then core's own URL gone.
    const without = text.replace(/(_REDIS_URL_REG: "redis:\/\/):[^@]*@/, '$1');
    const w = JSON.parse((await runCli(['lint', '--log-format', 'json', '-'], {}, { input: without })).stdout) as Report;
    expect(w.components.find((g) => g.component === 'release')?.checks.find((k) => k.name === 'password')?.value).toMatch(/^1 of 4 URLs carry no password \(core _REDIS_URL_REG\), beside 3 with one$/);
    const gone = JSON.parse((await runCli(['lint', '--log-format', 'json', '-'], {}, { input: text.replace(/^ {2}_REDIS_URL_CORE: .*\n/m, '') })).stdout) as Report;
    expect(gone.components.find((g) => g.component === 'core')?.checks.find((k) => k.name === '_REDIS_URL_CORE')).toMatchObject({ status: 'fail', value: 'unset' });
  });

  it("the connection budget: the chart's 900 per pod against an external PostgreSQL's 100, and what --max-connections changes", async () => {
    const pw = markedSecret('bud');
    const values = [externalDb(pw, {}), { database: { maxOpenConns: 900 } }];
    const r = await lint(values, { secrets: [pw] });
    const c = expectFails(r, 'release', 'connections', 'database.maxOpenConns');
    expect(c.value).toBe("core 1 x 900 + jobservice 1 x 900 = 1800 at most, against max_connections 100 (assumed: PostgreSQL's default; give --max-connections N for your server's): one pod alone can take every connection");
    const big = await lint(values, { args: ['--max-connections', '2000'], secrets: [pw] });
    expect(big.check('release', 'connections')).toMatchObject({ status: 'ok' });
    expect(big.check('release', 'connections').value).toContain('against max_connections 2000 (as given by --max-connections)');
    const replicas = await lint([...values, { database: { maxOpenConns: 300 }, core: { replicas: 3 } }], { args: ['--max-connections', '1000'], secrets: [pw] });
    expect(replicas.check('release', 'connections')).toMatchObject({ status: 'warn', value: expect.stringContaining('core 3 x 300 + jobservice 1 x 300 = 1200 at most') });
    const unlimited = await lint([...values, { database: { maxOpenConns: 0 } }], { secrets: [pw] });
    expect(expectFails(unlimited, 'release', 'connections', 'database.maxOpenConns').value).toContain('core, jobservice may open any number');
  });

  it("init containers without resources in a pod that declares them (a ResourceQuota refuses it), the chart's busybox example", async () => {
    const busybox = { name: 'wait', image: 'busybox', command: ['sh', '-c', 'sleep 20'] };
    const resources = { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } };
    const r = await lint([{ core: { initContainers: [busybox], resources } }]);
    const c = expectFails(r, 'core', 'init resources', 'ResourceQuota');
    expect(c.value).toBe("wait (core.initContainers[0].resources): no cpu and memory requests and limits, while the pod's other containers declare them");
    const loose = await lint([{ core: { initContainers: [busybox] } }]);
    expect(loose.check('core', 'init resources').status).toBe('warn');
    expect(loose.code).toBe(0);
  });

  it("a database password core's unquoted connection string breaks, an invalid sslmode, an empty password", async () => {
    const spaced = `${markedSecret('dbs')} x`;
    const r = await lint([externalDb(spaced)], { secrets: [spaced.split(' ')[0] as string] });
    const c = expectFails(r, 'core', 'core connection string', 'database.external.password');
    expect(c.value).toBe('POSTGRESQL_PASSWORD holds white space (not shown)');
    const ssl = await lint([externalDb('secret-db-pw', { sslmode: 'required' })]);
    const s = expectFails(ssl, 'core', 'POSTGRESQL_SSLMODE', 'database.external.sslmode');
    expect(s.value).toContain('sslmode "required" is invalid');
    const exporter = await lint([externalDb('secret-db-pw', { sslmode: 'required' }), { metrics: { enabled: true } }]);
    expect(expectFails(exporter, 'exporter', 'HARBOR_DATABASE_SSLMODE', 'database.external.sslmode').value).toBe('"required" is not an sslmode the driver takes (disable, allow, prefer, require, verify-ca, verify-full)');
    const empty = await lint([externalDb('')]);
    expect(expectFails(empty, 'core', 'POSTGRESQL_PASSWORD', 'database.external.password').value).toContain('is empty');
  });

  it('an overlay made without --database-existing-secret for a release that has one: the wait container names a key the Secret lacks, and the hint the command that fits', async () => {
    const overlay = await generateOverlay(['--release', 'harbor']);
    const r = await lint([externalDb('', { existingSecret: 'my-db' }), overlay.text], { extra: secret('my-db', { password: 'the-db-password' }) });
    const c = expectFails(r, 'core', 'Secret harbor-core', 'harbor-wait helm-values --release harbor --database-existing-secret my-db >');
    expect(c.value).toBe('has no key POSTGRESQL_PASSWORD (env POSTGRESQL_PASSWORD of wait-for-redis-and-database)');
  });

  it('a supplied Secret without the key the chart reads, and one with an empty value', async () => {
    const noKey = await lint([externalDb('', { existingSecret: 'my-db' })], { extra: secret('my-db', { POSTGRES_PASSWORD: 'wrong-key-value' }) });
    const c = expectFails(noKey, 'core', 'Secret my-db', "couldn't find key password");
    expect(c.value).toBe('has no key password (env POSTGRESQL_PASSWORD of core)');
    const empty = await lint([{ jobservice: { existingSecret: 'my-js' } }], { extra: secret('my-js', { JOBSERVICE_SECRET: '' }) });
    expect(expectFails(empty, 'jobservice', 'JOBSERVICE_SECRET', 'jobservice.secret').value).toBe('empty (Secret my-js key JOBSERVICE_SECRET)');
  });
});

describe('lint reads what a release gives it', () => {
  it('a file, and the same report as from standard input', async () => {
    const text = await renderChartText({ release: 'harbor', values: [] });
    const file = join(tmp, 'render.yaml');
    writeFileSync(file, text);
    const [fromFile, fromStdin] = await Promise.all([runCli(['lint', '--log-format', 'json', file]), runCli(['lint', '--log-format', 'json', '-'], {}, { input: text })]);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toBe(fromStdin.stdout);
  });

  it("a partial stream (core's Secret left out): what it would set is not checked, not called unset; the reference warns", async () => {
    const text = await renderChartText({ release: 'harbor', values: [] });
    const partial = text.split(/^---$/m).filter((d) => !(/^kind: Secret$/m.test(d) && /^  name: harbor-core$/m.test(d))).join('---');
    const r = await runCli(['lint', '--log-format', 'json', '-'], {}, { input: partial });
    expect(r.code, r.stdout).toBe(0);
    const core = (JSON.parse(r.stdout) as Report).components.find((c) => c.component === 'core')?.checks ?? [];
    expect(core.find((c) => c.name === 'Secret harbor-core')).toMatchObject({ status: 'warn', value: expect.stringContaining('the chart makes it, so the stream is partial') });
    expect(core.find((c) => c.name === 'POSTGRESQL_PASSWORD')).toMatchObject({ status: 'skip' });
    expect(core.find((c) => c.name === 'CORE_SECRET')).toMatchObject({ status: 'skip' });
    // Without core's ConfigMap the pool size is unknown: not core's default (no limit), so the budget is not judged.
    const noConfig = partial.split(/^---$/m).filter((d) => !(/^kind: ConfigMap$/m.test(d) && /^  name: harbor-core$/m.test(d))).join('---');
    const r2 = await runCli(['lint', '--log-format', 'json', '-'], {}, { input: noConfig });
    expect(r2.code, r2.stdout).toBe(0);
    const release = (JSON.parse(r2.stdout) as Report).components.find((c) => c.component === 'release')?.checks ?? [];
    expect(release.find((c) => c.name === 'connections')).toMatchObject({ status: 'skip', hint: expect.stringContaining('ConfigMap harbor-core') });
  });

  it('SIGTERM while it waits for standard input (a pipe that never closes): exit 143 at once, no report', async () => {
    const child = spawn(process.execPath, [BUNDLE, 'lint', '-'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const watched = watchProcess(child);
    child.stdin?.write('apiVersion: v1\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGTERM');
    const r = await watched.result;
    child.stdin?.destroy();
    expect(r.code).toBe(143);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
  });

  it('--exit-zero: a failure is reported and the exit is 0; --log-level error shows failures only', async () => {
    const text = await renderChartText({ release: 'harbor', values: [externalRedis('a b c d e f')] });
    const r = await runCli(['lint', '--exit-zero', '--log-level', 'error', '-'], {}, { input: text });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[FAIL]');
    expect(r.stdout).not.toContain('[ok]');
    expect(r.stdout).not.toContain('[warn]');
  });
});
