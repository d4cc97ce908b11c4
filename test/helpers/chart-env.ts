/**
 * What harbor-helm gives core's pod for its database (shared/harbor-facts.md §4, §6): DATABASE_TYPE and the
 * POSTGRESQL_* keys of ConfigMap <fullname>-core, and POSTGRESQL_PASSWORD from Secret <fullname>-core. The
 * chart's internal database by default (harbor-database:5432, user postgres); tests point it at their own server.
 */
export function chartDatabaseEnv(
  password: string,
  o: { readonly host?: string; readonly port?: number; readonly user?: string } = {},
): Record<string, string> {
  return {
    DATABASE_TYPE: 'postgresql',
    POSTGRESQL_HOST: o.host ?? 'harbor-database',
    POSTGRESQL_PORT: String(o.port ?? 5432),
    POSTGRESQL_USERNAME: o.user ?? 'postgres',
    POSTGRESQL_DATABASE: 'registry',
    POSTGRESQL_SSLMODE: 'disable',
    POSTGRESQL_MAX_IDLE_CONNS: '100',
    POSTGRESQL_MAX_OPEN_CONNS: '900',
    POSTGRESQL_PASSWORD: password,
  };
}

/** The chart's Redis settings (values.yaml `redis.*` and `cache.*`) a test renders, internal Redis by default. */
export interface ChartRedis {
  /** The Redis URL without its path, as harbor.redis.url renders it: `redis://harbor-redis:6379` (internal). */
  readonly url?: string;
  readonly jobserviceDatabaseIndex?: string;
  readonly registryDatabaseIndex?: string;
  /** Optional in the chart: _REDIS_URL_HARBOR only when set. */
  readonly harborDatabaseIndex?: string;
  /** Optional in the chart: _REDIS_URL_CACHE_LAYER only when set (whatever cache.enabled says). */
  readonly cacheLayerDatabaseIndex?: string;
  /** `cache.enabled`: CACHE_ENABLED (and, for jobservice, _REDIS_URL_CORE) only when true. */
  readonly cacheEnabled?: boolean;
}

/**
 * The Redis keys harbor-helm v1.19.1 puts in core's ConfigMap <fullname>-core (templates/core/core-cm.yaml): the
 * core URL (index 0) and the registry's with `?idle_timeout_seconds=30`, _REDIS_URL_HARBOR and
 * _REDIS_URL_CACHE_LAYER when their index is set, CACHE_ENABLED and CACHE_EXPIRE_HOURS with cache.enabled.
 */
export function chartCoreRedisEnv(o: ChartRedis = {}): Record<string, string> {
  const url = o.url ?? 'redis://harbor-redis:6379';
  const at = (index: string) => `${url}/${index}?idle_timeout_seconds=30`;
  return {
    _REDIS_URL_CORE: at('0'),
    _REDIS_URL_REG: at(o.registryDatabaseIndex ?? '2'),
    ...(o.harborDatabaseIndex ? { _REDIS_URL_HARBOR: at(o.harborDatabaseIndex) } : {}),
    ...(o.cacheLayerDatabaseIndex ? { _REDIS_URL_CACHE_LAYER: at(o.cacheLayerDatabaseIndex) } : {}),
    ...(o.cacheEnabled ? { CACHE_ENABLED: 'true', CACHE_EXPIRE_HOURS: '24' } : {}),
  };
}

/**
 * The Redis keys of jobservice's ConfigMap <fullname>-jobservice-env (templates/jobservice/jobservice-cm-env.yaml):
 * with cache.enabled, _REDIS_URL_CORE (core's URL, for the cache layer), CACHE_ENABLED and CACHE_EXPIRE_HOURS;
 * _REDIS_URL_CACHE_LAYER when its index is set. The pool's own URL is in config.yml: chartJobserviceRedisUrl.
 */
export function chartJobserviceRedisEnv(o: ChartRedis = {}): Record<string, string> {
  const url = o.url ?? 'redis://harbor-redis:6379';
  return {
    ...(o.cacheEnabled ? { _REDIS_URL_CORE: `${url}/0?idle_timeout_seconds=30`, CACHE_ENABLED: 'true', CACHE_EXPIRE_HOURS: '24' } : {}),
    ...(o.cacheLayerDatabaseIndex ? { _REDIS_URL_CACHE_LAYER: `${url}/${o.cacheLayerDatabaseIndex}?idle_timeout_seconds=30` } : {}),
  };
}

/** The Redis URL of jobservice's config.yml (harbor.redis.urlForJobservice): no query string. */
export function chartJobserviceRedisUrl(o: ChartRedis = {}): string {
  return `${o.url ?? 'redis://harbor-redis:6379'}/${o.jobserviceDatabaseIndex ?? '1'}`;
}
