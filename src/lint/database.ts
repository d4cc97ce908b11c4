/**
 * lint's PostgreSQL checks: core's settings read as core reads them (config/core-database.ts: DATABASE_TYPE,
 * POSTGRESQL_*, the unquoted connection string, sslmode as pgx takes it), the exporter's HARBOR_DATABASE_*,
 * and the connection budget of the release: each pool's maxOpenConns times its pod's replicas (core's, and
 * jobservice's, which opens the same pool with core's settings), against the server's max_connections.
 */
import { ConfigError } from '../basics/errors.ts';
import { coreDatabase } from '../config/core-database.ts';
import { SSLMODES } from '../protocols/postgres/url.ts';
import { redactRaw } from '../protocols/url.ts';
import { finding, type Line } from './findings.ts';
import type { EnvValue } from './release.ts';

type Env = ReadonlyMap<string, EnvValue>;

/** The value that sets each of core's variables, by the chart's database.type. */
function valueOf(variable: string, external: boolean): string {
  const names: Record<string, string> = {
    POSTGRESQL_HOST: 'database.external.host',
    POSTGRESQL_PORT: 'database.external.port',
    POSTGRESQL_USERNAME: 'database.external.username',
    POSTGRESQL_DATABASE: 'database.external.coreDatabase',
    POSTGRESQL_SSLMODE: 'database.external.sslmode',
    POSTGRESQL_PASSWORD: external ? 'database.external.password (or database.external.existingSecret, key password)' : 'database.internal.password',
    DATABASE_TYPE: 'database.type',
  };
  return names[variable] ?? variable;
}

/** A placeholder for a password the stream does not hold: lets the other settings be read as core reads them. */
const UNKNOWN_PASSWORD = 'placeholder';

/** core's database settings: the connection string, sslmode, and every value core would refuse or misread. */
export function checkCoreDatabase(env: Env, external: boolean): Line[] {
  const plain: Record<string, string | undefined> = {};
  for (const [k, v] of env) plain[k] = v.value;
  const password = env.get('POSTGRESQL_PASSWORD');
  const unknown = password !== undefined && password.value === undefined;
  if (unknown) plain.POSTGRESQL_PASSWORD = UNKNOWN_PASSWORD;
  const out: Line[] = [];
  try {
    const db = coreDatabase(plain, [], true);
    if (!db) return [finding('database', 'POSTGRESQL_HOST', 'fail', 'unset: core would connect to the host "postgresql"', `set ${valueOf('POSTGRESQL_HOST', true)} (or database.type: internal)`)];
    for (const f of db.urlFindings) {
      if (unknown && f.status === 'ok') {
        out.push(finding('database', f.name, 'ok', `user and dbname go into core's unquoted "key=value" string as they are; the password (${password.from}) is outside the stream, not checked`));
      } else out.push(finding('database', f.name, f.status, f.value, f.hint ? `${f.hint} (${valueOf('POSTGRESQL_PASSWORD', external)}, database.external.username, coreDatabase)` : undefined));
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [finding('database', err.input, 'fail', err.message.slice(err.input.length + 2), `set ${valueOf(err.input, external)}`)];
  }
  const sslmode = env.get('POSTGRESQL_SSLMODE')?.value?.trim() || 'disable';
  const words: Record<string, string> = {
    disable: 'no TLS',
    allow: 'plain text, TLS without verification only if refused',
    prefer: 'TLS without verification, else plain text',
    require: 'TLS, the server not verified',
    'verify-ca': 'TLS, the chain verified but not the host name',
    'verify-full': 'TLS, chain and host name verified',
  };
  out.push(finding('database', 'sslmode', 'ok', `${sslmode} (${words[sslmode] ?? 'as pgx takes it'})`));
  if (password?.value !== undefined && password.value !== '' && !unknown) {
    out.push(finding('database', 'POSTGRESQL_PASSWORD', 'ok', `${[...password.value].length} characters, not shown (${password.from})`));
  } else if (unknown) {
    out.push(finding('database', 'POSTGRESQL_PASSWORD', 'skip', `in ${password.from}`, `${password.unresolved ?? 'outside the stream'}: not checked; make sure it exists with a non-empty key before installing`));
  }
  return out;
}

/** The exporter's database settings (HARBOR_DATABASE_*): the password and sslmode it needs at start. */
export function checkExporterDatabase(env: Env, external: boolean): Line[] {
  const out: Line[] = [];
  const password = env.get('HARBOR_DATABASE_PASSWORD');
  if (password === undefined || password.value === '') {
    out.push(finding('database', 'HARBOR_DATABASE_PASSWORD', 'fail', password === undefined ? 'unset' : `empty (${password.from})`, `the exporter exits when it cannot log in: set ${valueOf('POSTGRESQL_PASSWORD', external)}`));
  } else if (password.value === undefined) {
    out.push(finding('database', 'HARBOR_DATABASE_PASSWORD', 'skip', `in ${password.from}`, `${password.unresolved ?? 'outside the stream'}: not checked`));
  } else out.push(finding('database', 'HARBOR_DATABASE_PASSWORD', 'ok', `${[...password.value].length} characters, not shown`));
  const sslmode = env.get('HARBOR_DATABASE_SSLMODE')?.value;
  if (sslmode !== undefined && sslmode !== '' && !(SSLMODES as readonly string[]).includes(sslmode)) {
    out.push(finding('database', 'HARBOR_DATABASE_SSLMODE', 'fail', `"${redactRaw(sslmode)}" is not an sslmode the driver takes (${SSLMODES.join(', ')})`, `set ${valueOf('POSTGRESQL_SSLMODE', external)}`));
  }
  return out;
}

/** One pool of the budget: who opens it, how many pods, and its maxOpenConns (0 or less: no limit). */
export interface Pool {
  readonly who: string;
  readonly replicas: number;
  readonly maxOpen: number | undefined;
}

/** The server's max_connections: given, known from the chart's internal database, or PostgreSQL's default. */
export interface MaxConnections {
  readonly value: number;
  readonly source: 'given' | 'internal' | 'assumed';
}

/** A pool size as core reads it: an integer, else core keeps its default (0, no limit). */
export function poolSize(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  return /^[+-]?\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

export function checkBudget(pools: readonly Pool[], max: MaxConnections): Line {
  const source = {
    given: 'as given by --max-connections',
    internal: "the internal database's: harbor-db sets 1024 unless POSTGRES_MAX_CONNECTIONS says otherwise",
    assumed: "assumed: PostgreSQL's default; give --max-connections N for your server's",
  }[max.source];
  const unlimited = pools.filter((p) => p.maxOpen === undefined || p.maxOpen <= 0);
  const terms = pools.map((p) => `${p.who} ${p.replicas} x ${p.maxOpen === undefined || p.maxOpen <= 0 ? 'unlimited' : p.maxOpen}`).join(' + ');
  const hint = 'lower database.maxOpenConns (per pod; core and jobservice each open a pool of that size, the exporter too), or raise the server\'s max_connections; more replicas (core.replicas, jobservice.replicas) multiply it (goharbor/harbor#16631: "sorry, too many clients already")';
  if (unlimited.length > 0) {
    return finding('database', 'connections', 'fail', `${terms}: ${unlimited.map((p) => p.who).join(', ')} may open any number, against max_connections ${max.value} (${source})`, hint);
  }
  const total = pools.reduce((sum, p) => sum + p.replicas * (p.maxOpen ?? 0), 0);
  const biggest = Math.max(...pools.map((p) => p.maxOpen ?? 0));
  const value = `${terms} = ${total} at most, against max_connections ${max.value} (${source})`;
  if (biggest >= max.value) return finding('database', 'connections', 'fail', `${value}: one pod alone can take every connection`, hint);
  if (total > max.value) return finding('database', 'connections', 'warn', `${value}: together the pods can take every connection`, hint);
  return finding('database', 'connections', 'ok', value);
}
