/**
 * The registry of target kinds: scheme → parser. Parsing is synchronous and light, and needs no library.
 * Each protocol module (and the library it speaks through: ioredis for Redis, undici for HTTP, pg for PostgreSQL) is imported
 * only when a check of its kind is created, so a run loads only what its targets need. A new kind is one
 * parser here and one file beside this one.
 */
import { ConfigError } from '../basics/errors.ts';
import { parseHarborCore, parseHttpUrl } from './http/url.ts';
import { ownVerification, parsePostgresUrl, POSTGRES_SCHEMES, type PostgresSpec } from './postgres/url.ts';
import { parseRedisUrl, REDIS_SCHEMES } from './redis/url.ts';
import type { DiagnoseContext, Finding, TargetReport } from './diagnosis-types.ts';
import type { Check, CheckContext, Target } from './types.ts';
import { parseUrl, redactRaw } from './url.ts';

export type { Target } from './types.ts';

const SCHEMES = [...REDIS_SCHEMES, ...POSTGRES_SCHEMES, 'http', 'https', 'tcp'];

/** How a target is named in configuration errors: where it came from, and the URL without user info. */
function inputName(raw: string, from: string): string {
  return `${from} "${redactRaw(raw)}"`;
}

/** What every target is made of but its two operations, which take the label it is shown by. */
type Fields = Omit<Target, 'createCheck' | 'diagnose' | 'named'>;

interface Kind {
  check(label: string, ctx: CheckContext): Promise<Check>;
  diagnose(label: string, ctx: DiagnoseContext): Promise<TargetReport>;
}

/** A target whose label can be changed (config.ts tells apart targets whose labels collide) and its operations follow. */
function makeTarget(fields: Fields, kind: Kind): Target {
  return {
    ...fields,
    createCheck: (ctx) => kind.check(fields.label, ctx),
    diagnose: (ctx) => kind.diagnose(fields.label, ctx),
    named: (label) => makeTarget({ ...fields, label }, kind),
  };
}

/**
 * A target's identity: everything that decides the connection it makes and the credentials it sends, secrets
 * included. Kept in memory only, never shown; two targets are one only when their identities are equal.
 */
function identity(scheme: string, spec: unknown): string {
  return `${scheme} ${JSON.stringify(spec)}`;
}

function redisTarget(raw: string, from: string): Target {
  const { spec, label, secrets, warnings } = parseRedisUrl(raw, inputName(raw, from));
  return makeTarget(
    { label, from, secrets, identity: identity('redis', spec), skipsVerify: spec.skipVerify, ...(warnings.length > 0 ? { warnings } : {}) },
    {
      check: async (name, ctx) => (await import('./redis/check.ts')).createRedisCheck(name, spec, ctx),
      diagnose: async (name, ctx) => (await import('./redis/diagnosis.ts')).diagnoseRedis(name, spec, ctx),
    },
  );
}

function httpTarget(raw: string, from: string): Target {
  const { spec, label, secrets } = parseHttpUrl(raw, inputName(raw, from));
  return makeTarget(
    { label, from, secrets, identity: identity('http', spec) },
    {
      check: async (name, ctx) => (await import('./http/check.ts')).createHttpCheck(name, spec, ctx),
      diagnose: async (name, ctx) => (await import('./http/diagnosis.ts')).diagnoseHttp(name, spec, ctx, false),
    },
  );
}

/** A PostgreSQL target from its settings: a postgres:// URL, or core's variables (presets.ts). */
export function postgresTarget(spec: PostgresSpec, label: string, from: string, secrets: readonly string[], urlFindings: readonly Finding[] = []): Target {
  const verifies = ownVerification(spec);
  return makeTarget(
    { label, from, secrets, identity: identity('postgres', spec), ...(verifies ? { verifiesItself: verifies } : {}) },
    {
      check: async (name, ctx) => (await import('./postgres/check.ts')).createPostgresCheck(name, spec, ctx),
      diagnose: async (name, ctx) => (await import('./postgres/diagnosis.ts')).diagnosePostgres(name, spec, ctx, urlFindings),
    },
  );
}

function tcpTarget(raw: string, from: string): Target {
  const input = inputName(raw, from);
  const url = parseUrl(raw, input);
  const host = url.hosts[0];
  if (url.userinfo) throw new ConfigError(input, 'tcp:// takes no user info');
  if (url.hosts.length !== 1 || !host) throw new ConfigError(input, 'tcp:// takes one host:port');
  if (host.port === undefined) throw new ConfigError(input, 'tcp:// needs a port, as in tcp://harbor-database:5432');
  if ((url.path !== '' && url.path !== '/') || url.query.length > 0) {
    throw new ConfigError(input, 'tcp:// takes no path or query');
  }
  const port = host.port;
  return makeTarget(
    { label: raw, from, secrets: [], identity: identity('tcp', host) },
    {
      check: async (name, ctx) => (await import('./tcp/check.ts')).createTcpCheck(name, host.host, port, ctx),
      diagnose: async (name, ctx) => (await import('./tcp/diagnosis.ts')).diagnoseTcpTarget(name, host.host, port, ctx),
    },
  );
}

/** Parses one target URL; `from` says where it came from (`argument`, `WAIT_TARGETS`). */
export function parseTarget(raw: string, from: string): Target {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new ConfigError(inputName(raw, from), `not a target URL; use one of ${SCHEMES.map((s) => `${s}://`).join(', ')}`);
  }
  if ((REDIS_SCHEMES as readonly string[]).includes(scheme)) return redisTarget(raw, from);
  if (scheme === 'http' || scheme === 'https') return httpTarget(raw, from);
  if ((POSTGRES_SCHEMES as readonly string[]).includes(scheme)) {
    const { spec, label, secrets } = parsePostgresUrl(raw, inputName(raw, from));
    return postgresTarget(spec, label, from, secrets);
  }
  if (scheme === 'tcp') return tcpTarget(raw, from);
  throw new ConfigError(
    inputName(raw, from),
    `scheme "${scheme}" is not supported; use one of ${SCHEMES.map((s) => `${s}://`).join(', ')}`,
  );
}

/** Harbor core's configuration API as a target, from `--harbor-core` / `WAIT_HARBOR_CORE`. */
export function harborCoreTarget(raw: string, from: string, secret: string): Target {
  const { spec, label, secrets } = parseHarborCore(raw, inputName(raw, from), secret);
  return makeTarget(
    { label, from, secrets, identity: identity('harbor-core', spec) },
    {
      check: async (name, ctx) => (await import('./http/check.ts')).createHttpCheck(name, spec, ctx),
      diagnose: async (name, ctx) => (await import('./http/diagnosis.ts')).diagnoseHttp(name, spec, ctx, true),
    },
  );
}
