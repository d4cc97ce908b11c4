/**
 * `lint`'s one pass over a release: each Harbor component the stream holds (core, jobservice, registry, trivy
 * adapter, exporter) checked as that component reads its configuration, then the release as a whole (one Redis
 * password, the chart's indexes, the PostgreSQL connection budget). The result is the report's groups; nothing
 * here reads a file or prints.
 */
import { ConfigError } from '../basics/errors.ts';
import { readYamlString } from '../config/go-yaml.ts';
import type { Group } from '../engine/diagnosis-render.ts';
import { checkBudget, checkCoreDatabase, checkExporterDatabase, poolSize, type MaxConnections, type Pool } from './database.ts';
import { finding, type Line } from './findings.ts';
import { checkInitResources, checkReferences, checkSecretValues, checkWaitContainer } from './pods.ts';
import { checkRegistryRedis, checkUse, readRegistryRedis, releaseRedis, type ParsedUse, type RedisMode, type RedisUse, type Role } from './redis.ts';
import { COMPONENTS, type Container, type EnvValue, type Release, type Workload } from './release.ts';

export interface LintOptions {
  /** The server's max_connections, when the operator knows it. */
  readonly maxConnections?: number;
}

/** A component's main container (the one named as the component, else the first). */
function mainContainer(w: Workload): Container | undefined {
  const mains = w.containers.filter((c) => c.role === 'main');
  return mains.find((c) => c.name === w.component) ?? mains[0];
}

/** A component's main container's environment. */
function mainEnv(w: Workload): ReadonlyMap<string, EnvValue> {
  return mainContainer(w)?.env ?? new Map();
}

/**
 * The environment with each of `names` it lacks marked unresolved when an envFrom source is outside the
 * stream: the variable may come from there, so it is not checked rather than called unset.
 */
function withUnknown(w: Workload, names: readonly string[]): ReadonlyMap<string, EnvValue> {
  const main = mainContainer(w);
  const env = new Map(main?.env ?? []);
  if (!main || main.unknownSources.length === 0) return env;
  const from = main.unknownSources.join(', ');
  for (const name of names) {
    if (!env.has(name)) env.set(name, { value: undefined, from, secret: true, unresolved: `it may come from ${from}, which ${main.unknownSources.length === 1 ? 'is' : 'are'} not in the stream` });
  }
  return env;
}

/** core's image tag as a version (`v2.15.1` → [2, 15]), when it is one. */
function harborVersion(release: Release): [number, number] | undefined {
  const image = release.workload('core')?.containers.find((c) => c.role === 'main')?.image ?? '';
  const m = /:v?(\d+)\.(\d+)(?:\.\d+)?(?:[-@]|$)/.exec(image);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function use(component: string, name: string, role: Role, v: EnvValue | undefined): RedisUse | undefined {
  if (v === undefined) return undefined;
  return { component, name, role, raw: v.value, from: v.from, ...(v.unresolved !== undefined ? { unresolved: v.unresolved } : {}) };
}

/** The config.yml a component mounts from a ConfigMap (its volume `volume`, else its first ConfigMap volume). */
function configFile(w: Workload, release: Release, volume: string): { object: string; text: string | undefined } | undefined {
  const isConfigMap = (v: (typeof w.volumes)[number]) => typeof v.configMap === 'object' && v.configMap !== null;
  const found = w.volumes.find((v) => isConfigMap(v) && v.name === volume) ?? w.volumes.find(isConfigMap);
  const name = (found?.configMap as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string') return undefined;
  return { object: `ConfigMap ${name}`, text: release.data('ConfigMap', name)?.get('config.yml') };
}

/** jobservice's Redis URL: JOB_SERVICE_POOL_REDIS_URL over the mounted config.yml's worker_pool.redis_pool.redis_url. */
function jobserviceUse(w: Workload, release: Release): RedisUse | Line | undefined {
  const override = use('jobservice', 'JOB_SERVICE_POOL_REDIS_URL', 'jobservice', mainEnv(w).get('JOB_SERVICE_POOL_REDIS_URL'));
  if (override) return override;
  const file = configFile(w, release, 'jobservice-config');
  if (!file) return undefined;
  const name = 'config.yml redis_url';
  if (file.text === undefined) return { component: 'jobservice', name, role: 'jobservice', raw: undefined, unresolved: `${file.object} key config.yml is not in the stream`, from: file.object };
  try {
    const url = readYamlString(file.text, ['worker_pool', 'redis_pool', 'redis_url'], `${file.object} config.yml`);
    if (url === undefined) return finding('redis', name, 'fail', `${file.object} config.yml has no worker_pool.redis_pool.redis_url`, 'jobservice cannot start without it: render the chart\'s own jobservice ConfigMap');
    return { component: 'jobservice', name, role: 'jobservice', raw: url.text, from: `${file.object} key config.yml` };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return finding('redis', 'config.yml', 'fail', err.message, 'jobservice reads this file at start and would refuse it the same way');
  }
}

/** The registry's config.yml `redis:` block and the password it uses (REGISTRY_REDIS_PASSWORD over config.yml's). */
function registryLines(w: Workload, release: Release, coreReg: ParsedUse | undefined, mode: RedisMode): Line[] {
  const file = configFile(w, release, 'registry-config');
  if (file?.text === undefined) return [finding('redis', 'config.yml', 'skip', "the registry's config.yml", 'its ConfigMap is not in the stream: not checked')];
  try {
    const block = readRegistryRedis(file.text, `${file.object} config.yml`);
    if (!block) return [finding('redis', 'config.yml', 'ok', 'no redis: block: the registry runs without a Redis cache')];
    const env = w.containers.find((c) => c.name === 'registry')?.env ?? mainEnv(w);
    const fromEnv = env.get('REGISTRY_REDIS_PASSWORD')?.value;
    const fromSecret = fromEnv !== undefined && fromEnv !== '';
    return checkRegistryRedis({ ...block, password: fromSecret ? fromEnv : block.configPassword }, coreReg, mode, fromSecret);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [finding('redis', 'config.yml', 'fail', err.message, 'the registry reads this file at start and would refuse it')];
  }
}

/** The server's max_connections: given, the internal database's (POSTGRES_MAX_CONNECTIONS, 1024 by default), or 100. */
function maxConnections(release: Release, o: LintOptions): MaxConnections {
  if (o.maxConnections !== undefined) return { value: o.maxConnections, source: 'given' };
  const db = release.workload('database');
  if (db) {
    const set = poolSize(mainEnv(db).get('POSTGRES_MAX_CONNECTIONS')?.value);
    return { value: set === undefined ? 1024 : set <= 0 || set > 262143 ? 262143 : set, source: 'internal' };
  }
  return { value: 100, source: 'assumed' };
}

/** The report's groups: one per component found, in the order core, jobservice, registry, trivy, exporter, then the release. */
export function lintRelease(release: Release, o: LintOptions = {}): Group[] {
  const mode: RedisMode = { external: release.workload('redis') === undefined };
  const externalDb = release.workload('database') === undefined;
  const version = harborVersion(release);
  const groups: Group[] = [];
  const parsed: ParsedUse[] = [];
  const redisLines = (uses: ReadonlyArray<RedisUse | Line | undefined>): Line[] =>
    uses.flatMap((u) => {
      if (u === undefined) return [];
      if ('layer' in u) return [u];
      const r = checkUse(u, mode, version);
      if (r.parsed) parsed.push(r.parsed);
      return r.lines;
    });
  // core comes first (COMPONENTS' order): the registry is checked against core's _REDIS_URL_REG, parsed by then.
  const found = COMPONENTS.map((c) => release.workload(c)).filter((w): w is Workload => w !== undefined);
  for (const w of found) {
    const env = mainEnv(w);
    const lines: Line[] = [];
    if (w.component === 'core' || w.component === 'jobservice') lines.push(checkWaitContainer(w, release));
    lines.push(...checkInitResources(w), ...checkReferences(w, release), ...checkSecretValues(w, withUnknown(w, ['CORE_SECRET', 'JOBSERVICE_SECRET', 'REGISTRY_HTTP_SECRET'])));
    if (w.component === 'core') {
      lines.push(...redisLines([
        use('core', '_REDIS_URL_CORE', 'core', env.get('_REDIS_URL_CORE')),
        use('core', '_REDIS_URL_REG', 'registry', env.get('_REDIS_URL_REG')),
        use('core', '_REDIS_URL_HARBOR', 'harbor', env.get('_REDIS_URL_HARBOR')),
        use('core', '_REDIS_URL_CACHE_LAYER', 'cache', env.get('_REDIS_URL_CACHE_LAYER')),
      ]));
      if (!env.has('_REDIS_URL_CORE')) {
        const unknown = withUnknown(w, ['_REDIS_URL_CORE']).get('_REDIS_URL_CORE');
        lines.push(unknown?.unresolved
          ? finding('redis', '_REDIS_URL_CORE', 'skip', 'not in the stream', `not checked: ${unknown.unresolved}`)
          : finding('redis', '_REDIS_URL_CORE', 'fail', 'unset', "core panics without it: render the chart's own core ConfigMap"));
      }
      const dbHost = withUnknown(w, ['POSTGRESQL_HOST']).get('POSTGRESQL_HOST');
      lines.push(...(dbHost?.unresolved
        ? [finding('database', 'settings', 'skip', "core's POSTGRESQL_* settings", `not checked: ${dbHost.unresolved}`)]
        : checkCoreDatabase(withUnknown(w, ['POSTGRESQL_PASSWORD']), externalDb)));
    } else if (w.component === 'jobservice') {
      lines.push(...redisLines([jobserviceUse(w, release)]));
    } else if (w.component === 'trivy') {
      const c = w.containers.find((x) => x.role === 'main' && x.env.has('SCANNER_REDIS_URL'));
      lines.push(...redisLines([use('trivy adapter', 'SCANNER_REDIS_URL', 'trivy', c?.env.get('SCANNER_REDIS_URL'))]));
    } else if (w.component === 'exporter') {
      lines.push(...redisLines([use('exporter', 'HARBOR_REDIS_URL', 'jobservice', env.get('HARBOR_REDIS_URL'))]));
      lines.push(...checkExporterDatabase(withUnknown(w, ['HARBOR_DATABASE_PASSWORD']), externalDb));
      lines.push(finding('pod', 'harbor-wait', 'skip', 'no wait container', 'the chart has no exporter.initContainers value: the exporter cannot be held; it exits while the database is not ready, and the kubelet restarts it'));
    } else if (w.component === 'registry') {
      lines.push(...registryLines(w, release, parsed.find((p) => p.use.name === '_REDIS_URL_REG'), mode));
    }
    groups.push({ target: w.component === 'trivy' ? 'trivy adapter' : w.component, from: `${w.kind} ${w.name}`, findings: lines });
  }

  const releaseLines: Line[] = [...releaseRedis(parsed, mode)];
  const core = release.workload('core');
  if (core) {
    const coreOpen = poolSize(mainEnv(core).get('POSTGRESQL_MAX_OPEN_CONNS')?.value);
    const pools: Pool[] = [{ who: 'core', replicas: core.replicas, maxOpen: coreOpen }];
    const js = release.workload('jobservice');
    if (js) pools.push({ who: 'jobservice', replicas: js.replicas, maxOpen: coreOpen });
    const exporter = release.workload('exporter');
    if (exporter) pools.push({ who: 'exporter', replicas: exporter.replicas, maxOpen: poolSize(mainEnv(exporter).get('HARBOR_DATABASE_MAX_OPEN_CONNS')?.value) });
    // A pool size that may come from an object outside the stream is unknown, not core's default (no limit).
    const sizes: Array<[Workload | undefined, string]> = [[core, 'POSTGRESQL_MAX_OPEN_CONNS'], [exporter, 'HARBOR_DATABASE_MAX_OPEN_CONNS']];
    const unknown = sizes.map(([w, name]) => (w ? withUnknown(w, [name]).get(name)?.unresolved : undefined)).find((u) => u !== undefined);
    releaseLines.push(unknown !== undefined
      ? finding('database', 'connections', 'skip', "the pools' sizes", `not checked: ${unknown}`)
      : checkBudget(pools, maxConnections(release, o)));
  }
  if (releaseLines.length > 0) groups.push({ target: 'release', from: release.fullname ? `fullname ${release.fullname}` : 'all components', findings: releaseLines });
  return groups;
}
