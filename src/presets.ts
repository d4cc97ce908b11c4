/**
 * Harbor presets: the targets a Harbor component needs, found in the environment and files the chart already
 * gives that component, so the wait container needs nothing but the component's own `envFrom` (harbor-facts
 * §3, §5, §6). A preset only finds targets; config.ts merges them with explicit ones and owns every other rule.
 */
import { builtin } from './builtin.ts';
import { ConfigError } from './errors.ts';
import { harborCoreTarget, parseTarget, type Target } from './targets/index.ts';

export const PRESETS = ['core', 'jobservice'] as const;
export type Preset = (typeof PRESETS)[number];

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

/** Reads jobservice's config.yml; undefined when the file does not exist. */
async function redisUrlFromConfigFile(file: PresetInput['jobserviceConfig'], warnings: string[]): Promise<string | undefined> {
  const what = `${file.input} "${file.path}"`;
  let text: string;
  try {
    text = builtin('node:fs').readFileSync(file.path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error';
    if (code === 'ENOENT') return undefined;
    throw new ConfigError(what, `cannot read jobservice's config file (${code})`);
  }
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    throw new ConfigError(what, `is larger than ${MAX_CONFIG_BYTES / 1024} KiB: not jobservice's config.yml`);
  }
  if (text.includes('\0')) throw new ConfigError(what, 'is binary, not YAML: not jobservice\'s config.yml');
  const { LineCounter, parseDocument } = await import('yaml');
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  const error = doc.errors[0];
  if (error) {
    // Only the position and code: the message quotes the file, which may hold the Redis password.
    const at = lines.linePos(error.pos[0]);
    throw new ConfigError(what, `is not valid YAML (line ${at.line}, column ${at.col}): ${error.code}`);
  }
  let node: unknown = doc.toJS({ maxAliasCount: 100 });
  for (const key of CONFIG_KEY) {
    node = node !== null && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined;
  }
  if (node === undefined || node === null || node === '') {
    warnings.push(`${file.path} has no ${CONFIG_KEY.join('.')}; using _REDIS_URL_CORE if set`);
    return undefined;
  }
  if (typeof node !== 'string') {
    throw new ConfigError(what, `${CONFIG_KEY.join('.')} is a ${Array.isArray(node) ? 'list' : typeof node}, not a Redis URL`);
  }
  return node.trim();
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

  // An explicit --harbor-core replaces CORE_URL; config.ts then reads the secret for it.
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
  if (!redis) {
    const fromFile = await redisUrlFromConfigFile(p.jobserviceConfig, warnings);
    if (fromFile) redis = { url: fromFile, from: `${p.jobserviceConfig.path} (${CONFIG_KEY.join('.')})` };
  }
  if (!redis) {
    const fromCore = envValue(p.env, '_REDIS_URL_CORE');
    if (fromCore) redis = { url: fromCore, from: '_REDIS_URL_CORE' };
  }
  if (!redis) {
    missing.push(
      `a Redis URL: JOB_SERVICE_POOL_REDIS_URL is unset, ${p.jobserviceConfig.path} does not exist (mount volume jobservice-config, ` +
        'ConfigMap <fullname>-jobservice, subPath config.yml) and _REDIS_URL_CORE is unset',
    );
  }
  if (missing.length > 0) throw missingError(p.input, 'jobservice', missing);

  if (coreUrl && secret) targets.push(harborCoreTarget(coreUrl, 'CORE_URL', secret));
  if (redis) targets.push(parseTarget(redis.url, redis.from));
  return targets;
}

function core(p: PresetInput): Target[] {
  // Core's cache uses _REDIS_URL_HARBOR when set, but its session store always uses _REDIS_URL_CORE, and the
  // registry's database is _REDIS_URL_REG: wait for each distinct one.
  const names = ['_REDIS_URL_HARBOR', '_REDIS_URL_CORE', '_REDIS_URL_REG'];
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
  const targets = preset === 'jobservice' ? await jobservice(p, warnings) : core(p);
  const ca = internalCa(p, preset);
  return { targets, warnings, ...(ca ? { ca } : {}) };
}
