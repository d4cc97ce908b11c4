/**
 * Harbor presets: the targets a Harbor component needs, found in the environment and files the chart already
 * gives that component, so the wait container needs nothing but the component's own ConfigMap and its one
 * secret (harbor-facts §3, §4, §5, §6). A preset only finds targets; options.ts merges them with explicit ones
 * and owns every other rule.
 */
import { coreDatabase } from './core-database.ts';
import { ConfigError } from '../basics/errors.ts';
import { fileErrorCode, readBounded } from '../basics/files.ts';
import { harborCoreTarget, parseTarget, type Target } from '../protocols/registry.ts';

export const PRESETS = ['core', 'jobservice'] as const;
export type Preset = (typeof PRESETS)[number];

/** The names of the wait containers `helm-values` adds to core's and jobservice's pods (a public contract; lint looks for them). */
export const CORE_CONTAINER = 'wait-for-redis-and-database';
export const JOBSERVICE_CONTAINER = 'wait-for-core-and-redis';

export const DEFAULT_JOBSERVICE_CONFIG = '/etc/jobservice/config.yml';
/** Where jobservice's config.yml keeps its Redis URL. */
const CONFIG_KEY = ['worker_pool', 'redis_pool', 'redis_url'] as const;
/** A config.yml larger than this is not the chart's. */
const MAX_CONFIG_BYTES = 1024 * 1024;

type Env = Readonly<Record<string, string | undefined>>;

export interface PresetInput {
  readonly env: Env;
  /** How the preset was asked for, for errors: `--preset` or `WAIT_PRESET`. */
  readonly input: string;
  /** jobservice's config file, and the flag or variable that named it (or the default). */
  readonly jobserviceConfig: { readonly path: string; readonly input: string };
  /** Set when --harbor-core / WAIT_HARBOR_CORE is given: it replaces the preset's CORE_URL. */
  readonly coreGiven: boolean;
  /** Reads the jobservice secret (file or JOBSERVICE_SECRET); undefined when there is none. */
  readonly secret: () => string | undefined;
  /** Set when --ca-file / WAIT_CA_FILE is given: it replaces the internal-TLS CA. */
  readonly caGiven: boolean;
  /** For `diagnose`: what core's connection string would break becomes a finding instead of an error. */
  readonly diagnose?: boolean;
}

export interface PresetFound {
  readonly targets: readonly Target[];
  /** The internal-TLS CA to trust, when INTERNAL_TLS_ENABLED=true. */
  readonly ca?: { readonly path: string; readonly input: string };
  readonly warnings: readonly string[];
}

/** The value of an environment variable, trimmed; empty counts as unset. */
function envValue(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** What jobservice's config.yml says: no file, a file without the Redis URL, or the URL. */
type FromFile =
  | { readonly kind: 'absent' }
  | { readonly kind: 'no-url' }
  | { readonly kind: 'url'; readonly url: string; readonly tag?: string };

/** Reads jobservice's config.yml as jobservice does (go-yaml.ts), bounded in size. */
async function redisUrlFromConfigFile(file: PresetInput['jobserviceConfig'], warnings: string[]): Promise<FromFile> {
  const what = `${file.input} "${file.path}"`;
  let bytes: Buffer | undefined;
  try {
    bytes = readBounded(file.path, MAX_CONFIG_BYTES);
  } catch (err) {
    const code = fileErrorCode(err);
    if (code === 'ENOENT') return { kind: 'absent' };
    throw new ConfigError(what, `cannot read jobservice's config file (${code})`);
  }
  if (bytes === undefined) {
    throw new ConfigError(what, `is larger than ${MAX_CONFIG_BYTES / 1024} KiB: not jobservice's config.yml`);
  }
  let text: string;
  try {
    // Not UTF-8, or control characters YAML does not allow: some other file is mounted there.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) throw new Error('control character');
  } catch {
    throw new ConfigError(what, 'is binary, not YAML: not jobservice\'s config.yml');
  }
  const { readYamlString } = await import('./go-yaml.ts');
  const found = readYamlString(text, CONFIG_KEY, what);
  if (found === undefined) {
    warnings.push(`${file.path} has no ${CONFIG_KEY.join('.')}; using _REDIS_URL_CORE if set`);
    return { kind: 'no-url' };
  }
  // As jobservice's Load: a URL without a scheme is a redis:// one. Used as written otherwise, byte for byte.
  const url = found.text.includes('://') ? found.text : `redis://${found.text}`;
  return { kind: 'url', url, ...(found.tag ? { tag: found.tag } : {}) };
}

/**
 * CACHE_ENABLED as Harbor reads it (a BoolType setting: Go's strconv.ParseBool). With it, core and jobservice
 * open the cache layer's Redis (src/lib/cache/cache.go LayerCache) from the cached managers (src/pkg/factory.go).
 */
function cacheEnabled(env: Env): boolean {
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(env.CACHE_ENABLED ?? '');
}

function missingError(input: string, preset: Preset, missing: readonly string[]): ConfigError {
  return new ConfigError(
    `${input} ${preset}`,
    `missing ${missing.join('; ')}. Give the wait container the same envFrom as the ${preset} container (see helm-snippet/)`,
  );
}

async function jobservice(p: PresetInput, warnings: string[]): Promise<Target[]> {
  const targets: Target[] = [];
  const missing: string[] = [];

  // An explicit --harbor-core replaces CORE_URL; options.ts then reads the secret for it.
  const coreUrl = p.coreGiven ? undefined : envValue(p.env, 'CORE_URL');
  const secret = p.coreGiven ? undefined : p.secret();
  if (!p.coreGiven && !coreUrl) missing.push('CORE_URL (the chart keeps it in ConfigMap <fullname>-jobservice-env)');
  if (!p.coreGiven && !secret) {
    const hint = p.env.CORE_SECRET ? '; CORE_SECRET is set, but core checks the jobservice secret' : '';
    missing.push(`JOBSERVICE_SECRET (the chart keeps it in Secret <fullname>-jobservice, key JOBSERVICE_SECRET${hint})`);
  }

  let redis: { url: string; from: string } | undefined;
  const fromEnv = envValue(p.env, 'JOB_SERVICE_POOL_REDIS_URL');
  if (fromEnv) redis = { url: fromEnv, from: 'JOB_SERVICE_POOL_REDIS_URL' };
  let fromFile: FromFile = { kind: 'absent' };
  if (!redis) {
    fromFile = await redisUrlFromConfigFile(p.jobserviceConfig, warnings);
    if (fromFile.kind === 'url') {
      const how = fromFile.tag ? `, ${fromFile.tag} decoded` : '';
      redis = { url: fromFile.url, from: `${p.jobserviceConfig.path} (${CONFIG_KEY.join('.')}${how})` };
    }
  }
  if (!redis) {
    const fromCore = envValue(p.env, '_REDIS_URL_CORE');
    if (fromCore) redis = { url: fromCore, from: '_REDIS_URL_CORE' };
  }
  if (!redis) {
    const file =
      fromFile.kind === 'no-url'
        ? `${p.jobserviceConfig.path} has no ${CONFIG_KEY.join('.')} (is it the chart's ConfigMap <fullname>-jobservice, key config.yml?)`
        : `${p.jobserviceConfig.path} does not exist (mount volume jobservice-config, ConfigMap <fullname>-jobservice, subPath config.yml)`;
    missing.push(`a Redis URL: JOB_SERVICE_POOL_REDIS_URL is unset, ${file} and _REDIS_URL_CORE is unset`);
  }
  if (missing.length > 0) throw missingError(p.input, 'jobservice', missing);

  if (coreUrl && secret) targets.push(harborCoreTarget(coreUrl, 'CORE_URL', secret));
  if (redis) targets.push(parseTarget(redis.url, redis.from));
  // The cache layer (CACHE_ENABLED): _REDIS_URL_CACHE_LAYER, else _REDIS_URL_CORE, as jobservice has no default
  // cache to fall back to (src/lib/cache/cache.go LayerCache). The chart sets both in ConfigMap <fullname>-jobservice-env.
  if (cacheEnabled(p.env)) {
    const name = envValue(p.env, '_REDIS_URL_CACHE_LAYER') ? '_REDIS_URL_CACHE_LAYER' : '_REDIS_URL_CORE';
    const url = envValue(p.env, name);
    if (!url) {
      warnings.push('CACHE_ENABLED is true but neither _REDIS_URL_CACHE_LAYER nor _REDIS_URL_CORE is set: jobservice\'s cache layer has no Redis and fails when a job first uses it (the chart sets _REDIS_URL_CORE in ConfigMap <fullname>-jobservice-env with cache.enabled)');
    } else if (url !== redis?.url) {
      targets.push(parseTarget(url, name));
    }
  }
  return targets;
}

function core(p: PresetInput, warnings: string[]): Target[] {
  // Core's cache uses _REDIS_URL_HARBOR when set, but its session store always uses _REDIS_URL_CORE, and the
  // registry's database is _REDIS_URL_REG; with CACHE_ENABLED, the cache layer uses _REDIS_URL_CACHE_LAYER when
  // set (else the cache above). Wait for each distinct URL string once.
  const names = ['_REDIS_URL_HARBOR', '_REDIS_URL_CORE', '_REDIS_URL_REG', ...(cacheEnabled(p.env) ? ['_REDIS_URL_CACHE_LAYER'] : [])];
  if (!envValue(p.env, '_REDIS_URL_CORE') && !envValue(p.env, '_REDIS_URL_HARBOR')) {
    throw missingError(p.input, 'core', ['_REDIS_URL_CORE (the chart keeps it in ConfigMap <fullname>-core)']);
  }
  const seen = new Set<string>();
  const targets: Target[] = [];
  for (const name of names) {
    const url = envValue(p.env, name);
    if (!url || seen.has(url)) continue;
    seen.add(url);
    targets.push(parseTarget(url, name));
  }
  const database = coreDatabase(p.env, warnings, p.diagnose === true);
  if (database) targets.push(database.target);
  return targets;
}

/** INTERNAL_TLS_ENABLED=true: trust the component's CA, unless --ca-file says otherwise. */
function internalCa(p: PresetInput, preset: Preset): PresetFound['ca'] {
  const enabled = envValue(p.env, 'INTERNAL_TLS_ENABLED')?.toLowerCase();
  if (enabled !== 'true' || p.caGiven) return undefined;
  const path = envValue(p.env, 'INTERNAL_TLS_TRUST_CA_PATH');
  if (path) return { path, input: 'INTERNAL_TLS_TRUST_CA_PATH' };
  return {
    path: `/etc/harbor/ssl/${preset}/ca.crt`,
    input: `INTERNAL_TLS_ENABLED (the CA is read from the default path; mount volume ${preset}-internal-certs at /etc/harbor/ssl/${preset})`,
  };
}

/** The targets (and CA) of a preset. Throws ConfigError naming every missing variable and where the chart keeps it. */
export async function resolvePreset(preset: Preset, p: PresetInput): Promise<PresetFound> {
  const warnings: string[] = [];
  const targets = preset === 'jobservice' ? await jobservice(p, warnings) : core(p, warnings);
  const ca = internalCa(p, preset);
  return { targets, warnings, ...(ca ? { ca } : {}) };
}
