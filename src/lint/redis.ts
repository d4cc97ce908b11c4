/**
 * lint's Redis checks: every Redis URL of the release read by the rules of the component that reads it
 * (Harbor's four schemes, its query parameters, the sentinel form; protocols/redis/url.ts), and what the chart
 * makes of its values on the way: an index rendered as `%!s(<nil>)`, the `:@` of an existingSecret that
 * Helm's lookup did not find, a space that urlquery turned into `+`, a password encoded twice. Then the
 * release as a whole (one password everywhere, the indexes of the chart's roles) and the registry's own
 * `redis:` block. A password is described (its length, what in it needs care), never shown.
 */
import { isMap, isScalar, parseDocument } from 'yaml';
import { ConfigError } from '../basics/errors.ts';
import { parseRedisUrl, type RedisSpec } from '../protocols/redis/url.ts';
import { parseUrl, redactRaw } from '../protocols/url.ts';
import type { Line } from './findings.ts';
import { finding } from './findings.ts';

/** What a URL is for in the chart, and the value that sets its index. */
export type Role = 'core' | 'registry' | 'harbor' | 'cache' | 'jobservice' | 'trivy';

const INDEX_VALUE: Record<Role, string> = {
  core: 'coreDatabaseIndex',
  registry: 'registryDatabaseIndex',
  harbor: 'harborDatabaseIndex',
  cache: 'cacheLayerDatabaseIndex',
  jobservice: 'jobserviceDatabaseIndex',
  trivy: 'trivyAdapterIndex',
};

/** One Redis URL of the release, where it was read. */
export interface RedisUse {
  /** Its name in the report: the variable or key (`_REDIS_URL_CORE`, `config.yml redis_url`). */
  readonly name: string;
  readonly role: Role;
  readonly component: string;
  /** The URL; undefined when the stream cannot say it (`unresolved` says why). */
  readonly raw: string | undefined;
  readonly unresolved?: string;
  /** Where it comes from, in words. */
  readonly from: string;
}

/** What the release-wide checks need of a URL whose user info could be read (the rest may still be wrong). */
export interface ParsedUse {
  readonly use: RedisUse;
  /** The password to send; undefined when the URL gives none or an empty one. */
  readonly password: string | undefined;
  /** The password as the URL writes it (percent-encoded). */
  readonly rawPassword: string | undefined;
  /** `:@`: a password, and it is empty. */
  readonly emptyPassword: boolean;
  readonly tls: boolean;
  readonly sentinel: boolean;
  /** The database it selects; undefined when the URL is wrong elsewhere. */
  readonly db: number | undefined;
}

/** How the chart was told about Redis: `redis.internal` or `redis.external`, for the names in hints. */
export interface RedisMode {
  readonly external: boolean;
}

const value = (mode: RedisMode, name: string) =>
  name === 'password' && mode.external
    ? 'redis.external.password (or the key REDIS_PASSWORD of the Secret redis.external.existingSecret names)'
    : `redis.${mode.external ? 'external' : 'internal'}.${name}`;

/** A password in words: its length and which of its characters a URL must encode; never the password. */
export function describePassword(password: string): string {
  const length = [...password].length;
  const notes: string[] = [];
  if (/\s/.test(password)) notes.push('white space');
  const special = [...new Set(password.match(/[@:/?#%+&=[\]!$'()*,;"]/g) ?? [])].sort();
  if (special.length > 0) notes.push(`${special.map((c) => `"${c}"`).join(' ')} (a URL must encode ${special.length === 1 ? 'it' : 'them'})`);
  return `${length} character${length === 1 ? '' : 's'}, not shown${notes.length > 0 ? `; holds ${notes.join(' and ')}` : ''}`;
}

/** The URL for a report line: the password hidden (as parsed), or all of the user info when it does not parse. */
function shown(raw: string, spec?: { label: string }): string {
  return spec?.label ?? redactRaw(raw);
}

const AZURE_TLS_HOST = /\.redis\.cache\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$|\.redis\.azure\.net$/i;
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1)$/i;

/**
 * One URL's findings: one fail per problem, each with the value to change, or one ok with the URL (password
 * hidden). `harborVersion` is core's image tag when it says one (rediss:// needs 2.13). `parsed` is there
 * whenever the user info could be read, so that the password is compared across the release even when the
 * URL is wrong elsewhere.
 */
export function checkUse(use: RedisUse, mode: RedisMode, harborVersion: readonly [number, number] | undefined): { lines: Line[]; parsed?: ParsedUse } {
  const layer = 'redis';
  if (use.raw === undefined) return { lines: [finding(layer, use.name, 'skip', `not checked: ${use.unresolved ?? 'unknown'}`, use.unresolved ?? 'not in the stream')] };
  const raw = use.raw;
  const index = value(mode, INDEX_VALUE[use.role]);
  const fail = (problem: string, hint: string) => finding(layer, use.name, 'fail', problem, hint);
  const rendered = /%!\w?\(/.exec(raw);
  if (rendered) {
    return { lines: [fail(`${redactRaw(raw)}: the index rendered as Go's "%!s(...)" (a value that is not a string)`, `give ${index} as a quoted string, as in ${INDEX_VALUE[use.role]}: "5" (goharbor/harbor#19568); ${use.component} cannot parse this URL`)] };
  }
  let parts;
  try {
    parts = parseUrl(raw, use.name);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { lines: [fail(`${redactRaw(raw)}: ${err.message.slice(use.name.length + 2)}`, `${use.component} cannot parse it either: check ${value(mode, 'addr')} and ${value(mode, 'password')}`)] };
  }
  const lines: Line[] = [];
  const sentinel = parts.scheme.endsWith('+sentinel');
  const tls = parts.scheme.startsWith('rediss');
  let spec: RedisSpec | undefined;
  let url = redactRaw(raw);
  if (!sentinel && parts.hosts.length > 1) {
    lines.push(fail(`${url}: ${parts.hosts.length} addresses for ${parts.scheme}://, which takes one`, `a comma list of sentinels needs ${value(mode, 'sentinelMasterSet')}: with it the chart writes redis+sentinel://.../<master set> (goharbor/harbor#16777: "dial tcp: address a:26379,b:26379")`));
  } else {
    try {
      const result = parseRedisUrl(raw, use.name);
      spec = result.spec;
      url = result.label;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      lines.push(fail(`${url}: ${err.message.slice(use.name.length + 2)}`, `${use.component} would refuse it the same way: check ${value(mode, 'addr')}, ${value(mode, 'sentinelMasterSet')} and ${index}`));
    }
  }
  const given = parts.userinfo?.password;
  const rawPassword = given !== undefined ? parts.userinfo?.rawHidden : undefined;
  const parsed: ParsedUse = { use, password: given === '' ? undefined : given, rawPassword, emptyPassword: given === '', tls, sentinel, db: spec?.db };
  const hosts = spec?.hosts ?? parts.hosts.map((h) => ({ host: h.host, port: h.port ?? 6379 }));
  if (hosts.some((h) => LOOPBACK.test(h.host))) {
    lines.push(fail(`${url}: a loopback address, which in a pod is the pod itself`, `give ${value(mode, 'addr')} the Service or host name of the Redis server${sentinel ? ' (and have the sentinels announce a reachable master, goharbor/harbor#20191)' : ''}`));
  }
  if (!sentinel && hosts.length === 1 && hosts[0]?.port === 26379) {
    lines.push(fail(`${url}: port 26379 is a sentinel's; ${parts.scheme}:// talks to it as if it were the server`, `set ${value(mode, 'sentinelMasterSet')} so that the chart writes redis+sentinel://...`));
  }
  if (!tls && hosts.some((h) => h.port === 6380 || AZURE_TLS_HOST.test(h.host))) {
    lines.push(fail(`${url}: plain text to a TLS-only Redis (port 6380, or Azure's TLS endpoint): the connection times out instead of being refused (goharbor/harbor#20109)`, 'set redis.external.tlsOptions.enable: true (and caBundleSecretName if its CA is private)'));
  }
  if (tls && harborVersion && (harborVersion[0] < 2 || (harborVersion[0] === 2 && harborVersion[1] < 13))) {
    lines.push(fail(`${url}: TLS to Redis, which Harbor supports from 2.13 on; core's image is v${harborVersion.join('.')}`, 'use Harbor 2.13 or later, or a Redis reached without TLS'));
  }
  if (lines.length === 0 && spec) {
    const auth = spec.password !== undefined ? `password ${describePassword(spec.password)}` : spec.emptyPassword ? 'an empty password' : 'no password';
    lines.push(finding(layer, use.name, 'ok', `${url} (db ${spec.db}, ${auth})`));
  }
  return { lines, parsed };
}

/** The hint for `:@`: what Helm's lookup did. */
export const LOOKUP_HINT =
  "the chart writes \":@\" when redis.external.existingSecret is set and Helm's lookup finds no such Secret, which is always the case under plain helm template, Argo CD or a client-side --dry-run (goharbor/harbor-helm#2390): render against the cluster, where lookup finds it (helm template --dry-run=server, helm install, helm upgrade), or give redis.external.password instead";

/** The release's URLs together: one password everywhere (the lookup symptom), the indexes of the chart's roles. */
export function releaseRedis(uses: readonly ParsedUse[], mode: RedisMode): Line[] {
  const out: Line[] = [];
  if (uses.length === 0) return out;
  const empty = uses.filter((u) => u.emptyPassword);
  const withPassword = uses.filter((u) => u.password !== undefined);
  const names = (list: readonly ParsedUse[]) => list.map((u) => `${u.use.component} ${u.use.name}`).join(', ');
  if (empty.length > 0) {
    const beside = withPassword.length > 0 ? `, beside ${withPassword.length} with one (${names(withPassword)})` : '';
    out.push(finding('redis', 'password', 'fail', `${empty.length} of ${uses.length} URLs carry an empty password (":@"): ${names(empty)}${beside}`, LOOKUP_HINT));
  } else if (withPassword.length > 0 && withPassword.length < uses.length) {
    const without = uses.filter((u) => u.password === undefined);
    out.push(finding('redis', 'password', 'fail', `${without.length} of ${uses.length} URLs carry no password (${names(without)}), beside ${withPassword.length} with one`, `one Redis needs one password in every URL: check the components' extraEnvVars and ${value(mode, 'password')}`));
  } else if (new Set(withPassword.map((u) => u.password)).size > 1) {
    out.push(finding('redis', 'password', 'fail', `the URLs carry ${new Set(withPassword.map((u) => u.password)).size} different passwords (not shown)`, `one Redis needs one password in every URL: check the components' extraEnvVars and ${value(mode, 'password')}`));
  } else if (withPassword.some((u) => u.rawPassword?.includes('+'))) {
    const plus = withPassword.filter((u) => u.rawPassword?.includes('+'));
    out.push(finding('redis', 'password', 'fail', `the password holds "+" in ${plus.length} of ${uses.length} URLs (${names(plus)}): that is how the chart's urlquery writes a space, and Harbor's components read "+" as "+", so they log in with another password`, `choose a password without spaces: ${value(mode, 'password')}`));
  } else if (withPassword.some((u) => u.rawPassword !== undefined && /%25[0-9A-Fa-f]{2}/.test(u.rawPassword))) {
    const twice = withPassword.filter((u) => u.rawPassword !== undefined && /%25[0-9A-Fa-f]{2}/.test(u.rawPassword));
    out.push(finding('redis', 'password', 'fail', `the password is percent-encoded twice in ${twice.length} of ${uses.length} URLs ("%25" and two hex digits): Harbor's components decode it once and log in with "%XX" where the password has one character`, `write ${value(mode, 'password')} as it is, not encoded: the chart encodes it (goharbor/harbor#18786)`));
  } else {
    const p = withPassword[0]?.password;
    out.push(finding('redis', 'password', 'ok', p !== undefined ? `the same in all ${uses.length} URLs (${describePassword(p)})` : `none in all ${uses.length} URLs: the server must not require one`));
  }
  const core = uses.find((u) => u.use.role === 'core');
  if (core?.db !== undefined && core.db !== 0) {
    out.push(finding('redis', 'indexes', 'fail', `core's _REDIS_URL_CORE selects db ${core.db}`, `${value(mode, 'coreDatabaseIndex')} must be "0": the library core uses for its sessions cannot select another`));
    return out;
  }
  // Roles that must not share a database: each keeps keys the others would read or flush.
  const byDb = new Map<number, Set<Role>>();
  const known = uses.filter((u): u is ParsedUse & { db: number } => u.db !== undefined);
  for (const u of known) {
    if (u.use.role === 'core' || u.use.role === 'harbor' || u.use.role === 'cache') continue;
    byDb.set(u.db, (byDb.get(u.db) ?? new Set()).add(u.use.role));
  }
  const shared = [...byDb].filter(([db, roles]) => roles.size > 1 || (db === 0 && roles.size > 0));
  if (known.length === 0) return out;
  const roles = [...new Map(known.map((u) => [u.use.role, u.db])).entries()].map(([r, db]) => `${r} ${db}`).join(', ');
  if (shared.length > 0) {
    const words = shared.map(([db, rs]) => `${[...rs, ...(db === 0 ? ['core'] : [])].join(' and ')} share db ${db}`).join('; ');
    out.push(finding('redis', 'indexes', 'warn', `${roles}: ${words}`, `give each role its own index (${value(mode, 'jobserviceDatabaseIndex')}, registryDatabaseIndex, trivyAdapterIndex), as the chart's defaults 1, 2 and 5 do`));
  } else out.push(finding('redis', 'indexes', 'ok', roles));
  return out;
}

/** The registry's `redis:` block, as the registry reads its config.yml (and REGISTRY_REDIS_PASSWORD over it). */
export interface RegistryRedis {
  readonly addr: string | undefined;
  readonly masterSet: string | undefined;
  readonly db: number | undefined;
  readonly enableTls: boolean | undefined;
  readonly password: string;
}

/** The `redis:` block of the registry's config.yml; undefined when there is none. Throws ConfigError on YAML it cannot read. */
export function readRegistryRedis(configYml: string, what: string): Omit<RegistryRedis, 'password'> & { configPassword: string } | undefined {
  const doc = parseDocument(configYml, { prettyErrors: false, uniqueKeys: false, version: '1.1', logLevel: 'error' });
  const error = doc.errors[0];
  if (error) throw new ConfigError(what, `is not valid YAML: ${error.code}`);
  const root = doc.contents;
  if (!isMap(root)) return undefined;
  const redis = root.get('redis', true);
  if (!isMap(redis)) return undefined;
  const scalar = (key: string): unknown => {
    const node = redis.get(key, true);
    return isScalar(node) && ['string', 'number', 'boolean'].includes(typeof node.value) ? node.value : undefined;
  };
  const str = (key: string) => {
    const v = scalar(key);
    return v === null || v === undefined ? undefined : String(v);
  };
  const db = scalar('db');
  const tls = scalar('enableTLS') ?? scalar('enabletls');
  return {
    addr: str('addr'),
    masterSet: str('sentinelMasterSet') || undefined,
    db: typeof db === 'number' ? db : typeof db === 'string' && /^\d+$/.test(db) ? Number(db) : undefined,
    enableTls: typeof tls === 'boolean' ? tls : undefined,
    configPassword: str('password') ?? '',
  };
}

/** The registry's block against the URL core uses for the registry's database (_REDIS_URL_REG). */
export function checkRegistryRedis(reg: RegistryRedis, coreReg: ParsedUse | undefined, mode: RedisMode, fromSecret: boolean): Line[] {
  const out: Line[] = [];
  const addr = reg.addr ?? '';
  const hosts = addr.split(',').filter((h) => h !== '');
  if (hosts.length > 1 && reg.masterSet === undefined) {
    const tlsQuirk = coreReg?.sentinel && coreReg.tls
      ? '; harbor-helm 1.19.1 writes sentinelMasterSet for redis+sentinel only, so with tlsOptions.enable the registry gets the list without it'
      : '';
    out.push(finding('redis', 'addr', 'fail', `${hosts.length} addresses without sentinelMasterSet: the registry dials "${redactRaw(addr)}" as one address${tlsQuirk}`, `set ${value(mode, 'sentinelMasterSet')} for a comma list of sentinels (goharbor/harbor#16777)`));
  } else if (hosts.length === 0) {
    out.push(finding('redis', 'addr', 'fail', 'empty: the registry has no Redis for its cache', `set ${value(mode, 'addr')}`));
  } else {
    out.push(finding('redis', 'addr', 'ok', redactRaw(reg.masterSet ? `sentinels ${hosts.join(', ')}, master set ${reg.masterSet}` : addr)));
  }
  if (coreReg) {
    if (reg.db !== undefined && coreReg.db !== undefined && reg.db !== coreReg.db) {
      out.push(finding('redis', 'db', 'warn', `${reg.db}, but core's _REDIS_URL_REG selects db ${coreReg.db}`, `core and the registry share the registry's cache: both come from ${value(mode, 'registryDatabaseIndex')}, so an override changed one of them`));
    } else out.push(finding('redis', 'db', 'ok', `${reg.db ?? 0}${coreReg.db !== undefined ? ", as core's _REDIS_URL_REG" : ''}`));
    if (reg.enableTls !== undefined && reg.enableTls !== coreReg.tls) {
      out.push(finding('redis', 'TLS', 'fail', `enableTLS ${reg.enableTls}, but the URLs ${coreReg.tls ? 'use TLS (rediss)' : 'do not use TLS'}`, 'one Redis is reached one way: redis.external.tlsOptions.enable sets both'));
    } else out.push(finding('redis', 'TLS', 'ok', reg.enableTls ? 'enabled, as the URLs' : 'off, as the URLs'));
    const urlPassword = coreReg.password;
    const source = fromSecret ? 'REGISTRY_REDIS_PASSWORD' : 'config.yml password';
    if (reg.password === '' && (urlPassword !== undefined || coreReg.emptyPassword)) {
      out.push(finding('redis', 'password', 'fail', `empty (${source}), ${urlPassword !== undefined ? 'while the URLs carry one' : 'as the URLs\' ":@"'}`, LOOKUP_HINT));
    } else if (urlPassword !== undefined && reg.password !== urlPassword) {
      const plus = urlPassword.replaceAll('+', ' ') === reg.password ? ': it has a space where the URLs have "+", which is what the chart\'s urlquery makes of a space' : '';
      out.push(finding('redis', 'password', 'fail', `${source} differs from the password in core's _REDIS_URL_REG (neither shown)${plus}`, `one Redis needs one password${plus ? ', without spaces' : ''}: ${value(mode, 'password')}`));
    } else {
      out.push(finding('redis', 'password', 'ok', reg.password === '' ? 'none, as the URLs' : `the URLs' (${describePassword(reg.password)}), from ${source}`));
    }
  }
  return out;
}
