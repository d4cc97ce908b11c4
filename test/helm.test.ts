/**
 * The Helm values overlays in helm-snippet/. Each must be valid YAML (read alike by YAML 1.1 and 1.2), set only
 * lists the chart has, hold containers the Kubernetes API accepts (no unknown field), and reference only the
 * ConfigMaps, Secrets, keys and pod volumes the chart creates: those are read from ../shared/harbor-facts.md
 * (§3, §4, §5, §6) rather than copied here. No wait container gets a whole Secret (least privilege): each takes the
 * one key it needs by secretKeyRef, from the chart's Secret or from the operator's own Secret where the release's
 * values name one (database.external.existingSecret, jobservice.existingSecret). The last block breaks copies of
 * the snippets on purpose and checks that each break is caught, so that every check is known to bite.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Container, type IContainer } from 'kubernetes-models/v1/Container';
import { describe, expect, it } from 'vitest';
import { OPTIONS, TARGETS_ENV } from '../src/config/options.ts';
import { parseDuration } from '../src/basics/duration.ts';
import { helmValues, parseHelmValuesArgs } from '../src/commands/helm-values.ts';
import { DEFAULT_JOBSERVICE_CONFIG } from '../src/config/presets.ts';
import { SNIPPETS as SNIPPET_FLAGS } from '../scripts/snippets.ts';
import { quantity } from './helpers/kubelet.ts';
import { loadYaml } from './helpers/yaml.ts';
import { modelOf, unknownFields } from './helpers/k8s-schema.ts';

const SNIPPET_DIR = new URL('../helm-snippet/', import.meta.url);
const FACTS_FILE = new URL('../../shared/harbor-facts.md', import.meta.url);
const CHART_VALUES_FILE = new URL('../../shared/harbor-helm/values-v1.19.1.yaml', import.meta.url);
const PACKAGE_FILE = new URL('../package.json', import.meta.url);

/** The fullname the snippets are written for (harbor-facts §6: the release name when it contains "harbor"). */
const FULLNAME = 'harbor';
const COMPONENTS = ['core', 'jobservice'] as const;
type Component = (typeof COMPONENTS)[number];

/** The WAIT_* variables harbor-wait reads, from its options table (its interface). */
const SPECS = Object.values(OPTIONS) as ReadonlyArray<{ type: string; env?: string; value?: string }>;
const WAIT_ENV = new Set([TARGETS_ENV, ...SPECS.flatMap((o) => (o.env ? [o.env] : []))]);
const DURATION_ENV = new Set(SPECS.flatMap((o) => (o.env && o.value === 'DURATION' ? [o.env] : [])));
const BOOLEAN_ENV = new Set(SPECS.flatMap((o) => (o.env && o.type === 'boolean' ? [o.env] : [])));
/** Each flag is its variable's name in lower case with dashes (WAIT_HARBOR_CORE → --harbor-core); WAIT_TARGETS has none. */
const FLAG_ENV = new Map(
  [...WAIT_ENV].filter((name) => name !== 'WAIT_TARGETS').map((name) => [flagOf(name), name] as const),
);

/**
 * The kubelet's restart backoff: 10 s doubling to a 5 min cap, back to 10 s once a run lasted more than 10 min
 * (kubelet.go's HasExpiredFunc: 600 s; before it, flowcontrol's 2 × the cap). A wait that gives up sooner lets
 * the gaps between runs grow to 5 min, while nothing waits.
 */
const KUBELET_BACKOFF_RESET_MS = 600_000;
/** The sidecar's startupProbe is the wait's bound: about 10 minutes, as WAIT_DEADLINE in the init variant. */
const STARTUP_WINDOW_S = { min: 540, max: 720 };
/** Node.js runs in about 80 MB; a lower memory limit gets it OOM-killed. */
const MIN_MEMORY_LIMIT = 100 * 2 ** 20;

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

function flagOf(envName: string): string {
  return `--${envName.slice('WAIT_'.length).toLowerCase().replaceAll('_', '-')}`;
}

function group(m: RegExpMatchArray | RegExpExecArray | null, i: number, what: string): string {
  const text = m?.[i];
  if (text === undefined) throw new Error(`harbor-facts.md: could not read ${what}`);
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// What the chart creates, read from harbor-facts.md

interface ChartObject {
  readonly kind: 'ConfigMap' | 'Secret';
  readonly name: string;
  readonly keys: Set<string>;
  /** Keys listed with a wildcard, e.g. POSTGRESQL_* → POSTGRESQL_. */
  readonly keyPrefixes: string[];
  /**
   * Keys the wildcards do not cover: those the Secret of the same name lists. The chart splits a component's env
   * between its ConfigMap and its Secret, so POSTGRESQL_* in ConfigMap harbor-core is all but POSTGRESQL_PASSWORD.
   */
  readonly notKeys: Set<string>;
}

interface ChartVolume {
  readonly name: string;
  /** The component whose pod has this volume. */
  readonly component: string;
  /** The files in it. */
  readonly keys: Set<string>;
  /** Where the chart mounts it in its own container (and subPath), which a wait container should copy. */
  readonly mountPath: string;
  readonly subPath?: string;
  /** Exists only with internalTLS.enabled. */
  readonly internalTlsOnly: boolean;
}

/**
 * Where a secret a wait container needs comes from: a key of a chart Secret, or of the operator's existingSecret.
 * Core's database password (§4), jobservice's JOBSERVICE_SECRET (§6).
 */
interface SecretKeySource {
  /** The variable the component reads: POSTGRESQL_PASSWORD, JOBSERVICE_SECRET. */
  readonly variable: string;
  readonly secret: string;
  readonly key: string;
  /** The chart value that names the operator's own Secret instead. */
  readonly existingSecret: string;
  /** The key the chart reads from it: a fixed one (password), or the one a chart value names (existingSecretKey). */
  readonly existingSecretKey: string | { readonly setting: string };
}

interface ChartFacts {
  readonly objects: ChartObject[];
  readonly volumes: Map<string, ChartVolume>;
  readonly databasePassword: SecretKeySource;
  readonly jobserviceSecret: SecretKeySource;
}

function factsSection(markdown: string, n: number): string {
  return group(new RegExp(`^## ${n}\\. [^\\n]*\\n([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, 'm').exec(markdown), 1, `section ${n}`);
}

function readChartFacts(markdown: string, fullname: string): ChartFacts {
  const objects: ChartObject[] = [];
  const volumes = new Map<string, ChartVolume>();
  const replaceable: SecretKeySource[] = [];
  const objectNamed = (kind: string, rawName: string): ChartObject | undefined =>
    objects.find((o) => o.kind === kind && o.name === rawName.replaceAll('<fullname>', fullname));

  // §6: | ConfigMap | `<fullname>-core` | `_REDIS_URL_CORE`, ... |. A parenthesis explains (an alternative, or the
  // volume that carries the object); a key "only when" a setting is on is not one a snippet may count on.
  for (const row of factsSection(markdown, 6).matchAll(/^\|\s*(ConfigMap|Secret)\s*\|\s*`([^`]+)`\s*\|(.*)\|\s*$/gm)) {
    const kind = group(row, 1, 'an object kind') as ChartObject['kind'];
    const name = group(row, 2, 'an object name').replaceAll('<fullname>', fullname);
    const cell = group(row, 3, 'the keys');
    const aside = [...cell.matchAll(/\(([^)]*)\)/g)].map((p) => p[1]).join(' ');
    const listed = cell.replace(/\([^)]*\)/g, '').replace(/`[^`]+`\s+only when\s+`[^`]+`/g, '');
    const tokens = [...listed.matchAll(/`([^`]+)`/g)].map((t) => group(t, 1, 'a key'));
    const object: ChartObject = {
      kind,
      name,
      keys: new Set(tokens.filter((t) => !t.endsWith('*'))),
      keyPrefixes: tokens.filter((t) => t.endsWith('*')).map((t) => t.slice(0, -1)),
      notKeys: new Set(),
    };
    objects.push(object);
    // (or `jobservice.existingSecret` / `existingSecretKey`): the operator's own Secret may hold the row's one key
    // instead, under the key the second chart value names.
    const own = /`((\w+)\.existingSecret)`\s*\/\s*`(\w+)`/.exec(aside);
    if (kind === 'Secret' && own !== null) {
      const [key, ...more] = object.keys;
      if (key === undefined || more.length > 0) throw new Error(`harbor-facts.md: Secret ${name} with ${own[1]} should list one key`);
      const setting = `${group(own, 2, 'a component')}.${group(own, 3, 'the existingSecret key setting')}`;
      replaceable.push({ variable: key, secret: name, key, existingSecret: group(own, 1, 'an existingSecret'), existingSecretKey: { setting } });
    }
    const volume = /volume `([^`]+)`/.exec(aside)?.[1];
    if (volume !== undefined) {
      const subPath = /subPath `([^`]+)`/.exec(aside)?.[1];
      volumes.set(volume, {
        name: volume,
        // The chart names a pod's volumes after its component: jobservice-config, core-internal-certs.
        component: volume.split('-')[0] ?? '',
        keys: object.keys,
        mountPath: group(/mounted at `([^`]+)`/.exec(aside), 1, `the mount path of volume ${volume}`),
        ...(subPath === undefined ? {} : { subPath }),
        internalTlsOnly: false,
      });
    }
  }

  // §3: | `_REDIS_URL_HARBOR` | core cache (optional) | ConfigMap `<fullname>-core` | adds keys to §6's objects.
  for (const row of factsSection(markdown, 3).matchAll(/^\|\s*`([A-Z_][A-Z0-9_]*)`\s*\|[^|]*\|\s*(ConfigMap|Secret) `([^`]+)`\s*\|\s*$/gm)) {
    objectNamed(group(row, 2, 'a kind'), group(row, 3, 'a name'))?.keys.add(group(row, 1, 'a variable'));
  }

  // §5: certificates at `/etc/harbor/ssl/<component>/{ca.crt,tls.crt,tls.key}` (volumes `core-internal-certs`, ...).
  const tls = factsSection(markdown, 5);
  const files = /`(\/[^`{]*<component>)\/\{([^}]+)\}`/.exec(tls);
  const base = group(files, 1, 'the internal TLS directory');
  const keys = new Set(group(files, 2, 'the internal TLS files').split(',').map((k) => k.trim()));
  const names = group(/volumes\s+((?:`[^`]+`[,\s]*)+)/.exec(tls), 1, 'the internal TLS volumes');
  for (const name of [...names.matchAll(/`([^`]+)`/g)].map((t) => group(t, 1, 'a volume'))) {
    const component = name.replace(/-internal-certs$/, '');
    volumes.set(name, { name, component, keys, mountPath: base.replace('<component>', component), internalTlsOnly: true });
  }
  if (objects.length === 0 || volumes.size === 0) throw new Error('harbor-facts.md: found no ConfigMap/Secret rows or no volumes');
  for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
    for (const key of objectNamed('Secret', cm.name)?.keys ?? []) {
      if (!cm.keys.has(key) && cm.keyPrefixes.some((p) => key.startsWith(p))) cm.notKeys.add(key);
    }
  }

  // §4: ... and `POSTGRESQL_PASSWORD` from Secret `<fullname>-core` (key `POSTGRESQL_PASSWORD`) — or, with
  // `database.external.existingSecret`, as `env` from that Secret's key `password`.
  const password = /`([A-Z_][A-Z0-9_]*)` from Secret `([^`]+)` \(key `([^`]+)`\)\s+—\s+or,\s+with\s+`([^`]+)`,\s+as\s+`env`\s+from\s+that\s+Secret's\s+key\s+`([^`]+)`/.exec(
    factsSection(markdown, 4),
  );
  const databasePassword: SecretKeySource = {
    variable: group(password, 1, "the database password's variable"),
    secret: group(password, 2, "the database password's Secret").replaceAll('<fullname>', fullname),
    key: group(password, 3, "the database password's key"),
    existingSecret: group(password, 4, "the database password's existingSecret"),
    existingSecretKey: group(password, 5, "the existingSecret's key"),
  };
  const jobserviceSecret = replaceable.find((s) => s.secret === `${fullname}-jobservice`);
  if (jobserviceSecret === undefined) throw new Error(`harbor-facts.md: §6 names no existingSecret for Secret ${fullname}-jobservice`);
  return { objects, volumes, databasePassword, jobserviceSecret };
}

// ---------------------------------------------------------------------------------------------------------------
// The checker

interface Context {
  readonly facts: ChartFacts;
  readonly chartValues: unknown;
  readonly version: string;
  /** Ports harbor's own containers listen on in the same pod network. */
  readonly harborPorts: number[];
  /** The release's own values the overlay is for (--reuse-values): which existingSecrets it sets. None by default. */
  readonly release: Obj;
}

function at(value: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((v, key) => (isObj(v) ? v[key] : undefined), value);
}

/** The key the chart reads from the operator's Secret: fixed, or the release's setting, else the chart's default. */
function existingSecretKeyOf(source: SecretKeySource, ctx: Context): string {
  if (typeof source.existingSecretKey === 'string') return source.existingSecretKey;
  const path = source.existingSecretKey.setting.split('.');
  const key = at(ctx.release, path) ?? at(ctx.chartValues, path);
  if (typeof key !== 'string' || key === '') throw new Error(`values-v1.19.1.yaml: no default for ${source.existingSecretKey.setting}`);
  return key;
}

/** The operator's Secret and key the chart reads the source from in this release, when its values name one. */
function operatorsSecretOf(source: SecretKeySource, ctx: Context): { name: string; key: string } | undefined {
  const name = at(ctx.release, source.existingSecret.split('.'));
  return typeof name === 'string' && name !== '' ? { name, key: existingSecretKeyOf(source, ctx) } : undefined;
}

/** The lists an overlay sets, by path; anything but a mapping or a list is a problem. */
function overlayLists(value: unknown, path: string[], problems: string[]): Array<{ path: string[]; list: unknown[] }> {
  if (Array.isArray(value)) return [{ path, list: value }];
  if (!isObj(value)) {
    problems.push(`${path.join('.') || '(top)'}: the overlay sets a scalar (${JSON.stringify(value)}); it should only add containers to lists, the rest is the operator's`);
    return [];
  }
  return Object.entries(value).flatMap(([key, child]) => overlayLists(child, [...path, key], problems));
}

/** A resource quantity, or undefined when it is missing or not one. */
function quantityOf(q: unknown): number | undefined {
  try {
    return q === undefined ? undefined : quantity(q, 'resources');
  } catch {
    return undefined;
  }
}

/** --flag value / --flag=value pairs; anything else is a problem. */
function parseArgs(args: readonly string[], where: string, problems: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const [flag = '', inline] = arg.split(/=(.*)/s);
    const env = FLAG_ENV.get(flag);
    if (!arg.startsWith('--') || env === undefined) {
      problems.push(`${where}: argument "${arg}" is not a harbor-wait flag (a preset needs no targets)`);
      continue;
    }
    const value = BOOLEAN_ENV.has(env) ? (inline ?? 'true') : (inline ?? args[++i]);
    if (value === undefined) problems.push(`${where}: ${flag} needs a value`);
    else flags.set(env, value);
  }
  return flags;
}

function checkContainer(raw: unknown, component: Component, where: string, ctx: Context): string[] {
  const problems: string[] = [];
  try {
    new Container(raw as IContainer).validate();
  } catch (e) {
    return [`${where}: the Kubernetes schema refuses it: ${(e as Error).message}`];
  }
  unknownFields(raw, 'Container', where, problems);
  const c = raw as IContainer;
  const { facts } = ctx;

  // Names the API server accepts: a container name is a DNS-1123 label, a port name an IANA service name.
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(c.name) || c.name.length > 63) problems.push(`${where}: name "${c.name}" is not a DNS-1123 label`);
  for (const port of c.ports ?? []) {
    const name = port.name ?? '';
    if (port.name !== undefined && (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || !/[a-z]/.test(name) || name.includes('--') || name.length > 15)) {
      problems.push(`${where}: port name "${name}" is not an IANA service name (at most 15 lower-case letters, digits and single dashes)`);
    }
  }

  // Image: harbor-wait at this project's version.
  const tag = /(?:^|\/)harbor-wait:([^/@]+)$/.exec(c.image ?? '')?.[1];
  if (tag !== ctx.version) problems.push(`${where}: image "${c.image}" should be harbor-wait:${ctx.version} (package.json version)`);

  // Arguments and environment: known flags and WAIT_* names, valid durations; flags beat env.
  const flags = parseArgs(c.args ?? [], where, problems);
  if (c.command !== undefined) problems.push(`${where}: command replaces the image's entrypoint; give flags in args`);
  const env = new Map<string, string>();
  for (const e of c.env ?? []) {
    if (env.has(e.name)) problems.push(`${where}: env ${e.name} is set twice`);
    env.set(e.name, e.value ?? '');
    if (e.name.startsWith('WAIT_') && !WAIT_ENV.has(e.name)) problems.push(`${where}: env ${e.name} is not a variable harbor-wait reads`);
  }
  const setting = (name: string): string | undefined => flags.get(name) ?? (env.get(name) || undefined);
  for (const name of DURATION_ENV) {
    const text = setting(name);
    const parsed = text === undefined ? undefined : parseDuration(text);
    if (parsed && 'problem' in parsed) problems.push(`${where}: ${name}: ${parsed.problem}`);
  }
  const preset = setting('WAIT_PRESET');
  if (preset !== component) problems.push(`${where}: preset "${preset}" in ${component}'s pod; it should be --preset ${component}`);

  // Referenced objects and keys must be ones the chart creates; an optional reference would hide a misspelling.
  // The operator's own Secret (not the chart's) is expected where the release's values name one: core's
  // database.external.existingSecret, jobservice's jobservice.existingSecret.
  const objectOf = (kind: ChartObject['kind'], ref: { name?: string; optional?: boolean } | undefined, what: string, operatorsOwn = false) => {
    if (ref === undefined) return undefined;
    if (ref.optional === true) problems.push(`${where}: ${what} is optional: a misspelt name would pass unnoticed`);
    const object = facts.objects.find((o) => o.kind === kind && o.name === ref.name);
    if (object === undefined && !operatorsOwn) problems.push(`${where}: ${what}: the chart creates no ${kind} "${ref.name}" (harbor-facts §6)`);
    return object;
  };
  const hasKey = (o: ChartObject, key: string) => o.keys.has(key) || (!o.notKeys.has(key) && o.keyPrefixes.some((p) => key.startsWith(p)));
  // The one secret this wait container needs (core: its database password; jobservice: the secret core checks).
  const secret = component === 'core' ? facts.databasePassword : facts.jobserviceSecret;
  const secretWhat = component === 'core' ? "core's database password" : 'the secret core checks';
  const own = operatorsSecretOf(secret, ctx);
  const isOperatorsSecret = (name: string, ref: { name?: string } | undefined) => name === secret.variable && own !== undefined && ref?.name === own.name;
  const sources: Array<{ object: ChartObject; prefix: string }> = [];
  (c.envFrom ?? []).forEach((source, i) => {
    const cm = objectOf('ConfigMap', source.configMapRef, `envFrom[${i}].configMapRef`);
    const whole = objectOf('Secret', source.secretRef, `envFrom[${i}].secretRef`, own !== undefined && source.secretRef?.name === own.name);
    for (const object of [cm, whole]) if (object) sources.push({ object, prefix: source.prefix ?? '' });
    // No Secret by envFrom, ever: each holds more than the wait needs (harbor-jobservice also holds
    // REGISTRY_CREDENTIAL_PASSWORD, harbor-core core's own secret). The one key it needs, by secretKeyRef.
    const name = source.secretRef?.name;
    if (name !== undefined) {
      const key = name === own?.name ? own.key : name === secret.secret ? secret.key : undefined;
      const instead = key === undefined ? 'the wait container needs none of its keys' : `use a secretKeyRef to key ${key}`;
      problems.push(`${where}: gives the whole Secret ${name} by envFrom: ${instead} (least privilege)`);
    }
  });
  for (const e of c.env ?? []) {
    const from = e.valueFrom;
    const refs = [
      ['ConfigMap', from?.configMapKeyRef, 'configMapKeyRef'],
      ['Secret', from?.secretKeyRef, 'secretKeyRef'],
    ] as const;
    for (const [kind, ref, what] of refs) {
      const object = objectOf(kind, ref, `env ${e.name}: ${what}`, kind === 'Secret' && isOperatorsSecret(e.name, ref));
      if (object && ref && !hasKey(object, ref.key)) {
        problems.push(`${where}: env ${e.name}: ${kind} "${object.name}" has no key "${ref.key}" (harbor-facts §6)`);
      }
    }
  }
  const available = (name: string) =>
    env.has(name) || sources.some(({ object, prefix }) => name.startsWith(prefix) && hasKey(object, name.slice(prefix.length)));

  // Volumes: the chart's own pod volumes of this component, mounted read-only where the chart mounts them.
  const files = new Set<string>();
  let internalCerts = false;
  for (const mount of c.volumeMounts ?? []) {
    const volume = facts.volumes.get(mount.name);
    const what = `${where}: volumeMount "${mount.name}"`;
    if (volume === undefined) {
      problems.push(`${what}: the chart's pod has no such volume (harbor-facts §5, §6)`);
      continue;
    }
    if (volume.component !== component) problems.push(`${what}: the volume belongs to ${volume.component}'s pod, not ${component}'s`);
    // Where the chart mounts it, or one of its files by subPath at the very path the chart's container sees it.
    const oneFile = mount.subPath !== undefined && volume.subPath === undefined && mount.mountPath === `${volume.mountPath}/${mount.subPath}`;
    if (!oneFile && mount.mountPath !== volume.mountPath) problems.push(`${what}: mountPath ${mount.mountPath}; the chart mounts it at ${volume.mountPath}`);
    if (!oneFile && (mount.subPath ?? undefined) !== volume.subPath) problems.push(`${what}: subPath "${mount.subPath ?? ''}"; the chart uses "${volume.subPath ?? ''}"`);
    // A certificate volume also holds the component's own private key: the wait needs only the CA.
    if (mount.subPath === undefined && volume.keys.has('tls.key')) {
      problems.push(`${what}: the whole volume brings the component's private key tls.key: mount only ca.crt by subPath (least privilege)`);
    }
    if (mount.subPath !== undefined && !volume.keys.has(mount.subPath)) problems.push(`${what}: subPath "${mount.subPath}" is not a key of the volume`);
    if (mount.readOnly !== true) problems.push(`${what}: should be readOnly`);
    internalCerts ||= volume.internalTlsOnly;
    if (mount.subPath !== undefined) files.add(mount.mountPath);
    else for (const key of volume.keys) files.add(`${mount.mountPath}/${key}`);
  }

  // What the preset reads must be there (the preset's interface).
  const tlsEnabled = available('INTERNAL_TLS_ENABLED');
  if (tlsEnabled && env.get('INTERNAL_TLS_ENABLED') !== 'true') problems.push(`${where}: INTERNAL_TLS_ENABLED should be "true" when set`);
  if (internalCerts && !tlsEnabled) problems.push(`${where}: mounts internal TLS certificates but does not set INTERNAL_TLS_ENABLED "true" (the volumes exist only with internalTLS.enabled)`);
  if (tlsEnabled) {
    const ca = env.get('INTERNAL_TLS_TRUST_CA_PATH') ?? `/etc/harbor/ssl/${component}/ca.crt`;
    if (!files.has(ca)) problems.push(`${where}: the internal TLS CA ${ca} is in no mounted volume`);
  }
  const needs = (name: string, why: string) => {
    if (!available(name)) problems.push(`${where}: ${name} is not in the container's env or envFrom (${why})`);
  };
  // The secret, from its one key by secretKeyRef: the chart's Secret's, or, when the release names its own Secret
  // (existingSecret), that Secret's key the chart reads (the chart's Secret then holds none, or a stale one).
  const entry = c.env?.find((e) => e.name === secret.variable);
  const ref = entry?.valueFrom?.secretKeyRef;
  const envWhere = `${where}: env ${secret.variable}`;
  const ownKey = typeof secret.existingSecretKey === 'string' ? secret.existingSecretKey : `${secret.existingSecretKey.setting} (${existingSecretKeyOf(secret, ctx)})`;
  const expected = `Secret ${secret.secret} key ${secret.key}, or with ${secret.existingSecret} that Secret's key ${ownKey}`;
  if (entry !== undefined && ref === undefined) {
    problems.push(`${envWhere} should come from a secretKeyRef (${expected}), not ${entry.value === undefined ? 'another source' : 'a value in the overlay'}`);
  } else if (ref !== undefined && own !== undefined && ref.name === own.name) {
    if (ref.key !== own.key) problems.push(`${envWhere}: key ${ref.key} of Secret ${ref.name} (${secret.existingSecret}); the chart reads key ${own.key}`);
  } else if (ref !== undefined && own !== undefined && ref.name === secret.secret && ref.key === secret.key) {
    problems.push(`${envWhere}: with ${secret.existingSecret} ${own.name}, ${secretWhat} is that Secret's key ${own.key}, not Secret ${secret.secret}'s`);
  } else if (ref !== undefined) {
    const chartSecret = facts.objects.find((o) => o.kind === 'Secret' && o.name === ref.name);
    // A missing Secret or key is reported above; a key the Secret has but that is not this secret, here.
    if (chartSecret !== undefined && hasKey(chartSecret, ref.key) && !(chartSecret.name === secret.secret && ref.key === secret.key)) {
      problems.push(`${envWhere}: key ${ref.key} of Secret ${ref.name} is not ${secretWhat} (${expected})`);
    }
  }
  if (component === 'core') {
    if (!available('_REDIS_URL_CORE') && !available('_REDIS_URL_HARBOR')) needs('_REDIS_URL_CORE', "core's Redis");
    needs('_REDIS_URL_REG', "the registry's Redis");
    // Core's database (harbor-facts §4): the preset waits for it when POSTGRESQL_HOST is set, and then needs the
    // password.
    if (available('POSTGRESQL_HOST')) needs(secret.variable, secretWhat);
  } else {
    needs('CORE_URL', "core's config API");
    const secretFile = setting('WAIT_HARBOR_SECRET_FILE');
    if (secretFile === undefined) needs(secret.variable, secretWhat);
    else if (!files.has(secretFile)) problems.push(`${where}: the secret file ${secretFile} is in no mounted volume`);
    const config = setting('WAIT_JOBSERVICE_CONFIG') ?? DEFAULT_JOBSERVICE_CONFIG;
    if (!available('JOB_SERVICE_POOL_REDIS_URL') && !files.has(config) && !available('_REDIS_URL_CORE')) {
      problems.push(`${where}: jobservice's Redis URL is nowhere: no JOB_SERVICE_POOL_REDIS_URL, no ${config} mounted, no _REDIS_URL_CORE`);
    }
  }

  // Security: the chart's container defaults (harbor-facts §6), a read-only root filesystem, never root.
  const sc = c.securityContext;
  if (sc?.allowPrivilegeEscalation !== false) problems.push(`${where}: securityContext.allowPrivilegeEscalation should be false`);
  if (!(sc?.capabilities?.drop ?? []).includes('ALL') || (sc?.capabilities?.add ?? []).length > 0) {
    problems.push(`${where}: securityContext.capabilities should drop ALL and add none`);
  }
  if (sc?.runAsNonRoot !== true) problems.push(`${where}: securityContext.runAsNonRoot should be true`);
  if (sc?.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${where}: securityContext.seccompProfile should be RuntimeDefault`);
  if (sc?.readOnlyRootFilesystem !== true) problems.push(`${where}: securityContext.readOnlyRootFilesystem should be true`);
  if (sc?.privileged === true) problems.push(`${where}: securityContext.privileged must not be true`);
  if (sc?.runAsUser === 0) problems.push(`${where}: securityContext.runAsUser 0 is root`);
  else if (sc?.runAsUser !== undefined) problems.push(`${where}: securityContext.runAsUser: leave it to the pod (10000)`);

  // Resources: requests and limits for cpu and memory, requests within limits, memory enough for Node.js.
  for (const resource of ['cpu', 'memory']) {
    const request = quantityOf(c.resources?.requests?.[resource]);
    const limit = quantityOf(c.resources?.limits?.[resource]);
    if (request === undefined || limit === undefined) problems.push(`${where}: resources need requests and limits for ${resource}`);
    else if (request > limit) problems.push(`${where}: resources: the ${resource} request exceeds its limit`);
  }
  const memory = quantityOf(c.resources?.limits?.['memory']);
  if (memory !== undefined && memory < MIN_MEMORY_LIMIT) problems.push(`${where}: a memory limit under 100Mi gets Node.js (about 80 MB) OOM-killed`);

  // Init container or native sidecar.
  const serve = setting('WAIT_SERVE');
  const probes = { startupProbe: '/readyz', readinessProbe: '/readyz', livenessProbe: '/livez' } as const;
  if (c.restartPolicy === undefined) {
    if (serve !== undefined) problems.push(`${where}: --serve in an init container: it never exits and the pod never starts`);
    for (const probe of [...Object.keys(probes), 'lifecycle'] as const) {
      if (c[probe as keyof IContainer] !== undefined) problems.push(`${where}: ${probe}: the API refuses probes and lifecycle on an init container without restartPolicy Always`);
    }
    const deadline = setting('WAIT_DEADLINE');
    const ms = deadline === undefined ? undefined : parseDuration(deadline);
    if (ms === undefined || !('ms' in ms) || ms.ms < KUBELET_BACKOFF_RESET_MS) {
      problems.push(`${where}: WAIT_DEADLINE should be 10m or more (not "${deadline ?? 'the default 5m'}"): a run of over 10 min resets the kubelet's restart backoff`);
    }
  } else if (c.restartPolicy !== 'Always') {
    problems.push(`${where}: restartPolicy "${c.restartPolicy}": an init container takes only Always (a native sidecar)`);
  } else {
    if (setting('WAIT_DEADLINE') !== undefined) problems.push(`${where}: WAIT_DEADLINE in a sidecar, which never exits on its own`);
    if (setting('WAIT_ONCE') !== undefined) problems.push(`${where}: WAIT_ONCE in a sidecar`);
    const port = Number(/^(?:\[[^\]]*\]|[^:]*):(\d+)$/.exec(serve ?? '')?.[1] ?? Number.NaN);
    const declared = (c.ports ?? []).find((p) => p.containerPort === port);
    if (serve === undefined || declared === undefined) {
      problems.push(`${where}: a sidecar needs --serve and a ports entry for its port (serve ${serve ?? 'unset'})`);
    } else if (declared.name === undefined) problems.push(`${where}: name the ports entry of ${port}`);
    if (ctx.harborPorts.includes(port)) problems.push(`${where}: port ${port} collides with harbor's own ports ${ctx.harborPorts.join(', ')}`);
    for (const [name, path] of Object.entries(probes) as Array<[keyof typeof probes, string]>) {
      const get = c[name]?.httpGet;
      if (get === undefined) {
        problems.push(`${where}: ${name}: a sidecar needs an httpGet ${name}`);
        continue;
      }
      const target = typeof get.port === 'number' ? get.port : (c.ports ?? []).find((p) => p.name === get.port)?.containerPort;
      if (target !== port) problems.push(`${where}: ${name} port ${String(get.port)} is not the port harbor-wait serves on (${port})`);
      if (get.path !== path) problems.push(`${where}: ${name} path ${get.path}; it should be ${path}`);
      if (get.scheme === 'HTTPS') problems.push(`${where}: ${name}: harbor-wait serves plain HTTP`);
    }
    const startup = c.startupProbe;
    const window = (startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3);
    if (window < STARTUP_WINDOW_S.min || window > STARTUP_WINDOW_S.max) {
      problems.push(`${where}: startupProbe allows ${window} s; it should allow about 10 min (periodSeconds × failureThreshold)`);
    }
  }
  return problems;
}

/** Every check of one overlay: the lists it sets exist in the chart's values, and every container in them. */
function checkOverlay(overlay: unknown, file: string, ctx: Context): string[] {
  const problems: string[] = [];
  for (const { path, list } of overlayLists(overlay, [], problems)) {
    const key = path.join('.');
    if (!Array.isArray(at(ctx.chartValues, path))) {
      problems.push(`${file}: ${key} is not a list in the chart's values-v1.19.1.yaml`);
      continue;
    }
    const component = path[0] as Component;
    if (path.length !== 2 || path[1] !== 'initContainers' || !COMPONENTS.includes(component)) {
      problems.push(`${file}: ${key}: only core.initContainers and jobservice.initContainers are expected`);
      continue;
    }
    const names = list.map((c) => (isObj(c) ? c['name'] : undefined));
    if (new Set(names).size !== names.length || names.includes(component)) {
      problems.push(`${file}: ${key}: container names must be unique and differ from the chart's own "${component}"`);
    }
    list.forEach((container, i) => problems.push(...checkContainer(container, component, `${file}: ${key}[${i}]`, ctx)));
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// The data

/** A file of the project's shared/ folder, which sits beside the project root (in CI too). */
function readShared(url: URL): string {
  try {
    return readFileSync(url, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${url.pathname} (${(err as { code?: string }).code}): these tests need the project's shared/ folder beside the project root`);
  }
}

const factsMarkdown = readShared(FACTS_FILE);
const facts = readChartFacts(factsMarkdown, FULLNAME);
const chartValues = loadYaml(readShared(CHART_VALUES_FILE), 'values-v1.19.1.yaml');
const packageJson = JSON.parse(readFileSync(PACKAGE_FILE, 'utf8')) as { version: string };
const ctx: Context = {
  facts,
  chartValues,
  version: packageJson.version,
  // harbor-facts §3 (config.yml port 8080) and §5 (8443 with internal TLS); metrics ports from the chart's values.
  harborPorts: [8080, 8443, ...COMPONENTS.map((c) => Number(at(chartValues, ['metrics', c, 'port'])))],
  release: {},
};
const snippetFiles = readdirSync(SNIPPET_DIR).filter((f) => f.endsWith('.yaml')).sort();
const snippet = (file: string): unknown => loadYaml(readFileSync(new URL(file, SNIPPET_DIR), 'utf8'), file);
const containers = (overlay: unknown, component: Component): Obj[] =>
  (at(overlay, [component, 'initContainers']) as unknown[]).filter(isObj);

// ---------------------------------------------------------------------------------------------------------------

describe('what the checks rest on', () => {
  it('reads the objects, keys and volumes the chart creates from harbor-facts.md', () => {
    const summary = facts.objects.map((o) => `${o.kind} ${o.name}: ${[...o.keys].sort().join(' ')}`);
    expect(summary).toEqual([
      'ConfigMap harbor-core: CORE_URL _REDIS_URL_CORE _REDIS_URL_HARBOR _REDIS_URL_REG',
      'Secret harbor-core: POSTGRESQL_PASSWORD secret',
      'Secret harbor-jobservice: JOBSERVICE_SECRET',
      'ConfigMap harbor-jobservice-env: CORE_URL',
      'ConfigMap harbor-jobservice: config.yml',
    ]);
    expect([...facts.volumes.values()].map((v) => `${v.component} ${v.name} ${v.mountPath} ${[...v.keys].join(',')}`)).toEqual([
      'jobservice jobservice-config /etc/jobservice/config.yml config.yml',
      'core core-internal-certs /etc/harbor/ssl/core ca.crt,tls.crt,tls.key',
      'jobservice jobservice-internal-certs /etc/harbor/ssl/jobservice ca.crt,tls.crt,tls.key',
    ]);
  });

  it("reads where core's database password is (§4), which ConfigMap harbor-core's POSTGRESQL_* does not cover", () => {
    expect(facts.databasePassword).toEqual({
      variable: 'POSTGRESQL_PASSWORD',
      secret: 'harbor-core',
      key: 'POSTGRESQL_PASSWORD',
      existingSecret: 'database.external.existingSecret',
      existingSecretKey: 'password',
    });
    const cm = facts.objects.find((o) => o.kind === 'ConfigMap' && o.name === 'harbor-core');
    expect(cm?.keyPrefixes).toEqual(['POSTGRESQL_']);
    expect([...(cm?.notKeys ?? [])]).toEqual(['POSTGRESQL_PASSWORD']);
  });

  it("reads where jobservice's secret is (§6), and the existingSecretKey's default from the chart's values", () => {
    expect(facts.jobserviceSecret).toEqual({
      variable: 'JOBSERVICE_SECRET',
      secret: 'harbor-jobservice',
      key: 'JOBSERVICE_SECRET',
      existingSecret: 'jobservice.existingSecret',
      existingSecretKey: { setting: 'jobservice.existingSecretKey' },
    });
    expect(existingSecretKeyOf(facts.jobserviceSecret, ctx)).toBe('JOBSERVICE_SECRET');
    expect(existingSecretKeyOf(facts.jobserviceSecret, { ...ctx, release: { jobservice: { existingSecretKey: 'secret' } } })).toBe('secret');
    expect(operatorsSecretOf(facts.jobserviceSecret, ctx)).toBeUndefined();
    expect(operatorsSecretOf(facts.databasePassword, { ...ctx, release: { database: { external: { existingSecret: 'db' } } } })).toEqual({ name: 'db', key: 'password' });
  });

  it('has the chart values it checks against (initContainers lists, metrics ports)', () => {
    for (const c of COMPONENTS) expect(at(chartValues, [c, 'initContainers'])).toEqual([]);
    expect(ctx.harborPorts).toEqual([8080, 8443, 8001, 8001]);
  });

  it("kubernetes-models' Container schema has the native-sidecar fields and accepts a sidecar", () => {
    const fields = modelOf('Container').fields;
    for (const field of ['restartPolicy', 'startupProbe', 'readinessProbe', 'livenessProbe', 'ports']) expect(fields.has(field)).toBe(true);
    const sidecar = {
      name: 'w',
      image: 'harbor-wait:0.1.0',
      restartPolicy: 'Always',
      ports: [{ name: 'wait-http', containerPort: 8099 }],
      startupProbe: { httpGet: { path: '/readyz', port: 'wait-http' }, periodSeconds: 2, failureThreshold: 300 },
      readinessProbe: { httpGet: { path: '/readyz', port: 8099 } },
    };
    expect(() => new Container(sidecar).validate()).not.toThrow();
    expect(() => new Container({ ...sidecar, restartPolicy: 7 } as unknown as IContainer).validate()).toThrow(/restartPolicy/);
  });

  it('finds unknown fields at any depth, which the schema validator lets through', () => {
    const bad = { name: 'w', restartPolicyy: 'Always', envFrom: [{ configMapRef: { nmae: 'harbor-core' } }] };
    expect(() => new Container(bad as unknown as IContainer).validate()).not.toThrow();
    expect(unknownFields(bad, 'Container', 'c')).toEqual([
      'c.restartPolicyy: unknown field (Kubernetes Container has no such field)',
      'c.envFrom[0].configMapRef.nmae: unknown field (Kubernetes ConfigMapEnvSource has no such field)',
    ]);
  });
});

describe('helm-snippet/', () => {
  it('holds the three overlays', () => {
    expect(snippetFiles).toEqual(['values-init.yaml', 'values-internal-tls.yaml', 'values-sidecar.yaml']);
  });

  it.each(snippetFiles)('%s is YAML that reads the same as YAML 1.1 and 1.2', (file) => {
    expect(isObj(snippet(file))).toBe(true);
  });

  it.each(snippetFiles)('%s passes every check (values paths, schema, chart objects, security, resources, probes)', (file) => {
    expect(checkOverlay(snippet(file), file, ctx)).toEqual([]);
  });

  it.each(snippetFiles)('%s gives core and jobservice one wait container each', (file) => {
    const overlay = snippet(file);
    expect(Object.keys(overlay as Obj).sort()).toEqual(['core', 'jobservice']);
    expect(containers(overlay, 'core').map((c) => c['name'])).toEqual(['wait-for-redis-and-database']);
    expect(containers(overlay, 'jobservice').map((c) => c['name'])).toEqual(['wait-for-core-and-redis']);
  });

  it.each(snippetFiles)('%s gives core its database password by one secretKeyRef, not the whole Secret', (file) => {
    const [c] = containers(snippet(file), 'core');
    const { variable, secret, key } = facts.databasePassword;
    expect(c?.['env']).toEqual(expect.arrayContaining([{ name: variable, valueFrom: { secretKeyRef: { name: secret, key } } }]));
    expect((c?.['envFrom'] as Obj[]).filter((source) => source['secretRef'] !== undefined)).toEqual([]);
  });

  it.each(snippetFiles)('%s gives jobservice its secret by one secretKeyRef, and no container a Secret by envFrom', (file) => {
    const overlay = snippet(file);
    const [c] = containers(overlay, 'jobservice');
    const { variable, secret, key } = facts.jobserviceSecret;
    expect((c?.['env'] as Obj[]).filter((e) => e['name'] === variable)).toEqual([{ name: variable, valueFrom: { secretKeyRef: { name: secret, key } } }]);
    for (const container of COMPONENTS.flatMap((k) => containers(overlay, k))) {
      expect((container['envFrom'] as Obj[] | undefined)?.filter((source) => source['secretRef'] !== undefined) ?? []).toEqual([]);
    }
  });

  // The generator's variants for a release that names the operator's own Secret (run in-process: the image tag
  // is given, as the source's version is a development one). Each passes every check of a release whose values
  // name that Secret, and fails those of one that does not.
  const generated = (file: string, flags: readonly string[]): unknown => {
    const request = parseHelmValuesArgs([...SNIPPET_FLAGS[file]!, ...flags, '--image', `harbor-wait:${ctx.version}`]);
    if (request.kind !== 'overlay') throw new Error('helm-values gave no overlay');
    return loadYaml(helmValues(request.options), file);
  };

  it.each(snippetFiles)('%s: the --database-existing-secret variant passes every check of a release with database.external.existingSecret', (file) => {
    const overlay = generated(file, ['--database-existing-secret', 'harbor-database-external']);
    expect(checkOverlay(overlay, file, { ...ctx, release: { database: { external: { existingSecret: 'harbor-database-external' } } } })).toEqual([]);
    expect(checkOverlay(overlay, file, ctx).join('\n')).toMatch(/the chart creates no Secret "harbor-database-external"/);
  });

  it.each(snippetFiles)('%s: the --jobservice-existing-secret variant passes every check, with any existingSecretKey', (file) => {
    for (const existingSecretKey of [undefined, 'jobservice-secret']) {
      const jobservice = { existingSecret: 'harbor-jobservice-own', ...(existingSecretKey === undefined ? {} : { existingSecretKey }) };
      const release = { ...ctx, release: { jobservice } };
      const flag = `harbor-jobservice-own${existingSecretKey === undefined ? '' : `:${existingSecretKey}`}`;
      const overlay = generated(file, ['--jobservice-existing-secret', flag]);
      expect(checkOverlay(overlay, file, release)).toEqual([]);
      expect(checkOverlay(overlay, file, ctx).join('\n')).toMatch(/the chart creates no Secret "harbor-jobservice-own"/);
      // With the release's existingSecret, the overlay for the default release points at a key the chart's
      // Secret no longer holds.
      expect(checkOverlay(snippet(file), file, release).join('\n')).toMatch(/with jobservice.existingSecret harbor-jobservice-own, the secret core checks is that Secret's key/);
    }
  });

  it('values-init.yaml: plain init containers, no internal TLS', () => {
    for (const c of COMPONENTS.flatMap((k) => containers(snippet('values-init.yaml'), k))) {
      expect(c['restartPolicy']).toBeUndefined();
      expect(JSON.stringify(c)).not.toMatch(/INTERNAL_TLS|internal-certs/);
    }
  });

  it('values-sidecar.yaml: every container is a native sidecar', () => {
    for (const c of COMPONENTS.flatMap((k) => containers(snippet('values-sidecar.yaml'), k))) {
      expect(c['restartPolicy']).toBe('Always');
      expect(c['args']).toEqual(expect.arrayContaining(['--serve', ':8099']));
    }
  });

  it('values-internal-tls.yaml: every container trusts its component CA from the chart volume', () => {
    const overlay = snippet('values-internal-tls.yaml');
    for (const component of COMPONENTS) {
      const [c] = containers(overlay, component);
      expect(c?.['env']).toEqual(expect.arrayContaining([
        { name: 'INTERNAL_TLS_ENABLED', value: 'true' },
        { name: 'INTERNAL_TLS_TRUST_CA_PATH', value: `/etc/harbor/ssl/${component}/ca.crt` },
      ]));
      expect(c?.['volumeMounts']).toEqual(expect.arrayContaining([
        { name: `${component}-internal-certs`, mountPath: `/etc/harbor/ssl/${component}/ca.crt`, subPath: 'ca.crt', readOnly: true },
      ]));
    }
  });

  // The variants are one design: what the sidecar and internal TLS add, taken away, leaves values-init.yaml.
  const withoutEnv = (c: Obj, drop: (name: string) => boolean): Obj => ({
    ...c,
    env: (c['env'] as Array<{ name: string }>).filter((e) => !drop(e.name)),
  });

  it('values-internal-tls.yaml is values-init.yaml plus the internal TLS env and mounts', () => {
    const strip = (c: Obj): Obj => {
      const out = withoutEnv(c, (name) => name.startsWith('INTERNAL_TLS_'));
      out['volumeMounts'] = (c['volumeMounts'] as Array<{ name: string }> | undefined)?.filter((m) => !m.name.endsWith('-internal-certs'));
      if ((out['volumeMounts'] as unknown[] | undefined)?.length === 0) delete out['volumeMounts'];
      return out;
    };
    for (const component of COMPONENTS) {
      expect(containers(snippet('values-internal-tls.yaml'), component).map(strip)).toEqual(containers(snippet('values-init.yaml'), component));
    }
  });

  it('values-sidecar.yaml is values-init.yaml plus restartPolicy, --serve, a port and probes, minus WAIT_DEADLINE', () => {
    const strip = (c: Obj): Obj => {
      const { restartPolicy: _r, ports: _p, startupProbe: _s, readinessProbe: _rp, livenessProbe: _l, ...rest } = c;
      const args = [...(c['args'] as string[])];
      args.splice(args.indexOf('--serve'), 2);
      return { ...rest, args };
    };
    for (const component of COMPONENTS) {
      expect(containers(snippet('values-sidecar.yaml'), component).map(strip)).toEqual(
        containers(snippet('values-init.yaml'), component).map((c) => withoutEnv(c, (name) => name === 'WAIT_DEADLINE')),
      );
    }
  });
});

describe('the checks catch a broken snippet', () => {
  type Mutation = (overlay: Obj) => void;
  const first = (overlay: Obj, component: Component): Obj => {
    const c = containers(overlay, component)[0];
    if (c === undefined) throw new Error(`no ${component} container`);
    return c;
  };
  const env = (c: Obj) => c['env'] as Array<{ name: string; value?: string; valueFrom?: unknown }>;
  const envFrom = (c: Obj) => c['envFrom'] as Array<{ configMapRef?: Obj; secretRef?: Obj; prefix?: string }>;
  const secretKeyRef = (c: Obj, name: string): Obj => {
    const ref = (env(c).find((e) => e.name === name)?.valueFrom as { secretKeyRef?: Obj } | undefined)?.secretKeyRef;
    if (ref === undefined) throw new Error(`no secretKeyRef for ${name}`);
    return ref;
  };
  const mounts = (c: Obj) => c['volumeMounts'] as Obj[];
  const probe = (c: Obj, name: string) => c[name] as { httpGet: Obj; periodSeconds: number; failureThreshold: number };
  const security = (c: Obj) => c['securityContext'] as Obj;

  /** Label, file, the break, the problem expected; and the release's values, when the case needs some. */
  const cases: Array<[string, string, Mutation, RegExp, Obj?]> = [
    ['a misspelt ConfigMap', 'values-init.yaml', (o) => { (envFrom(first(o, 'core'))[0] as Obj)['configMapRef'] = { name: 'harbor-cor' }; }, /no ConfigMap "harbor-cor"/],
    ['a misspelt Secret', 'values-init.yaml', (o) => { secretKeyRef(first(o, 'jobservice'), 'JOBSERVICE_SECRET')['name'] = 'harbor-jobservic'; }, /env JOBSERVICE_SECRET: secretKeyRef: the chart creates no Secret "harbor-jobservic"/],
    ['another release fullname', 'values-init.yaml', (o) => { (envFrom(first(o, 'jobservice'))[0] as Obj)['configMapRef'] = { name: 'other-jobservice-env' }; }, /no ConfigMap "other-jobservice-env"/],
    ['an optional reference', 'values-init.yaml', (o) => { (envFrom(first(o, 'core'))[0] as Obj)['configMapRef'] = { name: 'harbor-core', optional: true }; }, /optional/],
    ['a secretKeyRef to a missing key', 'values-init.yaml', (o) => { secretKeyRef(first(o, 'jobservice'), 'JOBSERVICE_SECRET')['key'] = 'secret'; }, /Secret "harbor-jobservice" has no key "secret"/],
    ['no JOBSERVICE_SECRET at all', 'values-init.yaml', (o) => { const c = first(o, 'jobservice'); c['env'] = env(c).filter((e) => e.name !== 'JOBSERVICE_SECRET'); }, /JOBSERVICE_SECRET is not in the container's env/],
    ['the whole Secret harbor-jobservice by envFrom', 'values-init.yaml', (o) => {
      const c = first(o, 'jobservice');
      c['env'] = env(c).filter((e) => e.name !== 'JOBSERVICE_SECRET');
      envFrom(c).push({ secretRef: { name: 'harbor-jobservice' } });
    }, /jobservice.initContainers\[0\]: gives the whole Secret harbor-jobservice by envFrom: use a secretKeyRef to key JOBSERVICE_SECRET \(least privilege\)/],
    ['the whole Secret harbor-jobservice besides', 'values-internal-tls.yaml', (o) => { envFrom(first(o, 'jobservice')).push({ secretRef: { name: 'harbor-jobservice' }, prefix: 'JS_' }); }, /gives the whole Secret harbor-jobservice by envFrom/],
    ["core's Secret in jobservice", 'values-sidecar.yaml', (o) => { envFrom(first(o, 'jobservice')).push({ secretRef: { name: 'harbor-core' } }); }, /gives the whole Secret harbor-core by envFrom: the wait container needs none of its keys \(least privilege\)/],
    ["jobservice's Secret in core", 'values-init.yaml', (o) => { envFrom(first(o, 'core')).push({ secretRef: { name: 'harbor-jobservice' } }); }, /core.initContainers\[0\]: gives the whole Secret harbor-jobservice by envFrom: the wait container needs none/],
    ["the operator's Secret by envFrom", 'values-init.yaml', (o) => {
      const c = first(o, 'jobservice');
      c['env'] = env(c).filter((e) => e.name !== 'JOBSERVICE_SECRET');
      envFrom(c).push({ secretRef: { name: 'harbor-jobservice-own' } });
    }, /gives the whole Secret harbor-jobservice-own by envFrom: use a secretKeyRef to key JOBSERVICE_SECRET \(least privilege\)/, { jobservice: { existingSecret: 'harbor-jobservice-own' } }],
    ['a JOBSERVICE_SECRET in the overlay', 'values-sidecar.yaml', (o) => {
      const e = env(first(o, 'jobservice')).find((v) => v.name === 'JOBSERVICE_SECRET') as Obj;
      delete e['valueFrom'];
      e['value'] = 'not-a-secret-123';
    }, /JOBSERVICE_SECRET should come from a secretKeyRef \(Secret harbor-jobservice key JOBSERVICE_SECRET, or with jobservice.existingSecret that Secret's key jobservice.existingSecretKey \(JOBSERVICE_SECRET\)\), not a value/],
    ["core's own secret as JOBSERVICE_SECRET", 'values-init.yaml', (o) => {
      Object.assign(secretKeyRef(first(o, 'jobservice'), 'JOBSERVICE_SECRET'), { name: 'harbor-core', key: 'secret' });
    }, /env JOBSERVICE_SECRET: key secret of Secret harbor-core is not the secret core checks/],
    ['an existingSecret the release does not set', 'values-init.yaml', (o) => {
      secretKeyRef(first(o, 'jobservice'), 'JOBSERVICE_SECRET')['name'] = 'harbor-jobservice-own';
    }, /the chart creates no Secret "harbor-jobservice-own"/],
    ["the chart's Secret when the release sets existingSecret", 'values-sidecar.yaml', () => {}, /with jobservice.existingSecret harbor-jobservice-own, the secret core checks is that Secret's key JOBSERVICE_SECRET, not Secret harbor-jobservice's/, { jobservice: { existingSecret: 'harbor-jobservice-own' } }],
    ["the existingSecret's default key when the release sets another", 'values-init.yaml', (o) => {
      secretKeyRef(first(o, 'jobservice'), 'JOBSERVICE_SECRET')['name'] = 'harbor-jobservice-own';
    }, /key JOBSERVICE_SECRET of Secret harbor-jobservice-own \(jobservice.existingSecret\); the chart reads key secret/, { jobservice: { existingSecret: 'harbor-jobservice-own', existingSecretKey: 'secret' } }],
    ["the database's existingSecret with another key", 'values-internal-tls.yaml', (o) => {
      Object.assign(secretKeyRef(first(o, 'core'), 'POSTGRESQL_PASSWORD'), { name: 'harbor-database-external', key: 'POSTGRESQL_PASSWORD' });
    }, /key POSTGRESQL_PASSWORD of Secret harbor-database-external \(database.external.existingSecret\); the chart reads key password/, { database: { external: { existingSecret: 'harbor-database-external' } } }],
    ['core without its ConfigMap', 'values-init.yaml', (o) => { const c = first(o, 'core'); c['envFrom'] = []; }, /_REDIS_URL_CORE is not in/],
    ['no database password', 'values-init.yaml', (o) => { const c = first(o, 'core'); c['env'] = env(c).filter((e) => e.name !== 'POSTGRESQL_PASSWORD'); }, /POSTGRESQL_PASSWORD is not in the container's env/],
    ['a misspelt database password key', 'values-internal-tls.yaml', (o) => {
      (env(first(o, 'core')).find((e) => e.name === 'POSTGRESQL_PASSWORD') as Obj)['valueFrom'] = { secretKeyRef: { name: 'harbor-core', key: 'POSTGRESQL_PASWORD' } };
    }, /Secret "harbor-core" has no key "POSTGRESQL_PASWORD"/],
    ['the whole Secret harbor-core instead', 'values-sidecar.yaml', (o) => {
      const c = first(o, 'core');
      c['env'] = env(c).filter((e) => e.name !== 'POSTGRESQL_PASSWORD');
      envFrom(c).push({ secretRef: { name: 'harbor-core' } });
    }, /gives the whole Secret harbor-core by envFrom: use a secretKeyRef to key POSTGRESQL_PASSWORD \(least privilege\)/],
    ['the whole Secret harbor-core besides', 'values-init.yaml', (o) => { envFrom(first(o, 'core')).push({ secretRef: { name: 'harbor-core' }, prefix: 'CORE_' }); }, /gives the whole Secret harbor-core by envFrom/],
    ['a database password in the overlay', 'values-init.yaml', (o) => {
      const e = env(first(o, 'core')).find((v) => v.name === 'POSTGRESQL_PASSWORD') as Obj;
      delete e['valueFrom'];
      e['value'] = 'root123';
    }, /POSTGRESQL_PASSWORD should come from a secretKeyRef/],
    ["core's own secret as the database password", 'values-init.yaml', (o) => {
      (env(first(o, 'core')).find((e) => e.name === 'POSTGRESQL_PASSWORD') as Obj)['valueFrom'] = { secretKeyRef: { name: 'harbor-core', key: 'secret' } };
    }, /key secret of Secret harbor-core is not core's database password/],
    ['an existingSecret with another key', 'values-init.yaml', (o) => {
      (env(first(o, 'core')).find((e) => e.name === 'POSTGRESQL_PASSWORD') as Obj)['valueFrom'] = { secretKeyRef: { name: 'harbor-database-external', key: 'passwd' } };
    }, /the chart creates no Secret "harbor-database-external"/],
    ['a misspelt volume', 'values-init.yaml', (o) => { (mounts(first(o, 'jobservice'))[0] as Obj)['name'] = 'jobservice-conf'; }, /"jobservice-conf": the chart's pod has no such volume/],
    ['a wrong subPath', 'values-init.yaml', (o) => { (mounts(first(o, 'jobservice'))[0] as Obj)['subPath'] = 'config.yaml'; }, /subPath "config.yaml"/],
    ['a writable mount', 'values-init.yaml', (o) => { delete (mounts(first(o, 'jobservice'))[0] as Obj)['readOnly']; }, /readOnly/],
    ["another pod's volume", 'values-init.yaml', (o) => { first(o, 'core')['volumeMounts'] = [{ name: 'jobservice-config', mountPath: '/etc/jobservice/config.yml', subPath: 'config.yml', readOnly: true }]; }, /belongs to jobservice's pod/],
    ['certificates without internal TLS', 'values-init.yaml', (o) => { first(o, 'core')['volumeMounts'] = [{ name: 'core-internal-certs', mountPath: '/etc/harbor/ssl/core', readOnly: true }]; }, /does not set INTERNAL_TLS_ENABLED/],
    ['the whole certificate volume', 'values-internal-tls.yaml', (o) => {
      (mounts(first(o, 'core'))[0] as Obj)['mountPath'] = '/etc/harbor/ssl/core';
      delete (mounts(first(o, 'core'))[0] as Obj)['subPath'];
    }, /volumeMount "core-internal-certs": the whole volume brings the component's private key tls.key: mount only ca.crt by subPath/],
    ['a CA path outside the mount', 'values-internal-tls.yaml', (o) => { (env(first(o, 'jobservice')).find((e) => e.name === 'INTERNAL_TLS_TRUST_CA_PATH') as { value: string }).value = '/etc/harbor/ssl/core/ca.crt'; }, /CA \/etc\/harbor\/ssl\/core\/ca.crt is in no mounted volume/],
    ['an unknown field', 'values-init.yaml', (o) => { first(o, 'core')['restartPolicyy'] = 'Always'; }, /restartPolicyy: unknown field/],
    ['a nested unknown field', 'values-init.yaml', (o) => { (security(first(o, 'core'))['capabilities'] as Obj)['dorp'] = ['ALL']; }, /capabilities.dorp: unknown field/],
    ['a schema violation', 'values-sidecar.yaml', (o) => { (first(o, 'core')['ports'] as Obj[])[0] = { name: 'wait-http', containerPort: '8099' }; }, /schema refuses it.*containerPort/],
    ['an unquoted env value', 'values-internal-tls.yaml', (o) => { (env(first(o, 'core')).find((e) => e.name === 'INTERNAL_TLS_ENABLED') as Obj)['value'] = true; }, /schema refuses it/],
    ['runAsUser 0', 'values-init.yaml', (o) => { security(first(o, 'core'))['runAsUser'] = 0; }, /runAsUser 0 is root/],
    ['privileged', 'values-init.yaml', (o) => { security(first(o, 'jobservice'))['privileged'] = true; }, /privileged/],
    ['a writable root filesystem', 'values-sidecar.yaml', (o) => { security(first(o, 'core'))['readOnlyRootFilesystem'] = false; }, /readOnlyRootFilesystem/],
    ['capabilities kept', 'values-init.yaml', (o) => { security(first(o, 'core'))['capabilities'] = { drop: ['NET_RAW'] }; }, /capabilities should drop ALL/],
    ['no seccomp profile', 'values-init.yaml', (o) => { delete security(first(o, 'core'))['seccompProfile']; }, /seccompProfile/],
    ['no limits', 'values-init.yaml', (o) => { delete (first(o, 'core')['resources'] as Obj)['limits']; }, /requests and limits for cpu/],
    ['too little memory', 'values-init.yaml', (o) => { first(o, 'core')['resources'] = { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '250m', memory: '64Mi' } }; }, /OOM/],
    ['a misspelt WAIT_ variable', 'values-init.yaml', (o) => { (env(first(o, 'core'))[0] as Obj)['name'] = 'WAIT_DEADLIN'; }, /WAIT_DEADLIN is not a variable/],
    ['a bad duration', 'values-init.yaml', (o) => { (env(first(o, 'core'))[1] as Obj)['value'] = '5 seconds'; }, /WAIT_ATTEMPT_TIMEOUT: "5 seconds" is not a duration/],
    ['the default 5m deadline', 'values-init.yaml', (o) => { (env(first(o, 'jobservice'))[0] as Obj)['value'] = '5m'; }, /WAIT_DEADLINE should be 10m or more/],
    ['a wrong preset', 'values-init.yaml', (o) => { first(o, 'core')['args'] = ['--preset', 'jobservice']; }, /preset "jobservice" in core's pod/],
    ['a stray argument', 'values-init.yaml', (o) => { first(o, 'core')['args'] = ['--preset', 'core', 'redis://harbor-redis:6379']; }, /not a harbor-wait flag/],
    ['a container name with capitals', 'values-init.yaml', (o) => { first(o, 'core')['name'] = 'Wait-For-Redis-And-Database'; }, /not a DNS-1123 label/],
    ['a port name too long', 'values-sidecar.yaml', (o) => {
      const c = first(o, 'core');
      (c['ports'] as Obj[])[0] = { name: 'harbor-wait-http', containerPort: 8099, protocol: 'TCP' };
      for (const name of ['startupProbe', 'readinessProbe', 'livenessProbe']) probe(c, name).httpGet['port'] = 'harbor-wait-http';
    }, /port name "harbor-wait-http" is not an IANA service name/],
    ['another image version', 'values-init.yaml', (o) => { first(o, 'core')['image'] = 'harbor-wait:0.0.9'; }, /should be harbor-wait:/],
    ['a misspelt values path', 'values-init.yaml', (o) => { o['jobsevice'] = o['jobservice']; delete o['jobservice']; }, /jobsevice.initContainers is not a list/],
    ['a chart setting', 'values-internal-tls.yaml', (o) => { o['internalTLS'] = { enabled: true }; }, /internalTLS.enabled: the overlay sets a scalar/],
    ['a clash with the chart container name', 'values-init.yaml', (o) => { first(o, 'core')['name'] = 'core'; }, /differ from the chart's own "core"/],
    ['--serve in an init container', 'values-init.yaml', (o) => { first(o, 'core')['args'] = ['--preset', 'core', '--serve', ':8099']; }, /never exits/],
    ['a probe on an init container', 'values-init.yaml', (o) => { first(o, 'core')['readinessProbe'] = { httpGet: { path: '/readyz', port: 8099 } }; }, /readinessProbe: the API refuses probes/],
    ['another restartPolicy', 'values-sidecar.yaml', (o) => { first(o, 'core')['restartPolicy'] = 'OnFailure'; }, /restartPolicy "OnFailure"/],
    ['a deadline in a sidecar', 'values-sidecar.yaml', (o) => { env(first(o, 'core')).push({ name: 'WAIT_DEADLINE', value: '10m' }); }, /WAIT_DEADLINE in a sidecar/],
    ['a probe on the wrong port name', 'values-sidecar.yaml', (o) => { probe(first(o, 'jobservice'), 'readinessProbe').httpGet['port'] = 'http'; }, /readinessProbe port http is not the port/],
    ['a probe on core\'s port', 'values-sidecar.yaml', (o) => { probe(first(o, 'core'), 'startupProbe').httpGet['port'] = 8080; }, /startupProbe port 8080 is not the port/],
    ['liveness on /readyz', 'values-sidecar.yaml', (o) => { probe(first(o, 'core'), 'livenessProbe').httpGet['path'] = '/readyz'; }, /livenessProbe path \/readyz; it should be \/livez/],
    ['a short startup window', 'values-sidecar.yaml', (o) => { probe(first(o, 'core'), 'startupProbe').failureThreshold = 30; }, /startupProbe allows 60 s/],
    ['a serve port without a ports entry', 'values-sidecar.yaml', (o) => { first(o, 'core')['args'] = ['--preset', 'core', '--serve', ':8098']; }, /needs --serve and a ports entry/],
    ["serving on harbor's metrics port", 'values-sidecar.yaml', (o) => {
      const c = first(o, 'core');
      c['args'] = ['--preset', 'core', '--serve', ':8001'];
      c['ports'] = [{ name: 'wait-http', containerPort: 8001, protocol: 'TCP' }];
    }, /collides with harbor's own ports/],
  ];

  it.each(cases)('%s (%s)', (_label, file, mutate, expected, release) => {
    const overlay = structuredClone(snippet(file)) as Obj;
    expect(checkOverlay(overlay, file, ctx)).toEqual([]);
    mutate(overlay);
    const problems = checkOverlay(overlay, file, release === undefined ? ctx : { ...ctx, release });
    expect(problems.join('\n')).toMatch(expected);
  });

  it.each([
    ['a syntax error', 'core:\n  initContainers: [\n', /YAML 1.2/],
    ['a duplicate key', 'core:\n  initContainers: []\ncore: {}\n', /unique/i],
    ['two documents', 'core: {}\n---\njobservice: {}\n', /multiple documents/i],
    ['a YAML 1.1 boolean', 'core:\n  initContainers:\n    - name: w\n      tty: yes\n', /reads differently as YAML 1.1/],
  ])('a YAML file with %s fails to load', (_label, text, expected) => {
    expect(() => loadYaml(text, 'broken.yaml')).toThrow(expected);
  });

  it('a harbor-facts.md whose §6 table or §4 password sentence changed shape fails loudly, not with an empty list', () => {
    expect(() => readChartFacts(factsMarkdown.replace(/^\| (ConfigMap|Secret) \|/gm, '| $1 object |'), FULLNAME)).toThrow(/no ConfigMap\/Secret rows/);
    expect(() => readChartFacts(factsMarkdown.replace(/^## 6\./m, '## Six.'), FULLNAME)).toThrow(/section 6/);
    expect(() => readChartFacts(factsMarkdown.replace("as `env` from that Secret's key", 'from its key'), FULLNAME)).toThrow(/database password/);
  });
});
