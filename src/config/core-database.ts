/**
 * Harbor core's PostgreSQL, found as core finds it (shared/harbor-facts.md §4): DATABASE_TYPE and the
 * POSTGRESQL_* variables with core's own defaults, and the libpq PG* variables that reach pgx because core's
 * connection string does not set them. Core builds that string without quoting, so a value it would break is
 * refused here, where core itself would fail later, or log in with something else.
 */
import { builtin } from '../basics/builtin.ts';
import { ConfigError } from '../basics/errors.ts';
import { postgresTarget, type Target } from '../protocols/registry.ts';
import { postgresSpec, type SslMode } from '../protocols/postgres/url.ts';
import { hostProblem, redactRaw } from '../protocols/url.ts';
import type { Finding } from '../net/report.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Core's defaults for the variables it reads (metadatalist.go). The password's (root123) is never used here. */
const CORE_DEFAULTS = {
  POSTGRESQL_PORT: '5432',
  POSTGRESQL_USERNAME: 'postgres',
  POSTGRESQL_DATABASE: 'registry',
  POSTGRESQL_SSLMODE: 'disable',
} as const;

/** The libpq variables pgx reads for what core's string leaves out, and the parameter each one sets. */
const PG_VARIABLES: Record<string, string> = {
  PGCONNECT_TIMEOUT: 'connect_timeout',
  PGSSLROOTCERT: 'sslrootcert',
  PGSSLCERT: 'sslcert',
  PGSSLKEY: 'sslkey',
  PGTARGETSESSIONATTRS: 'target_session_attrs',
  PGAPPNAME: 'application_name',
};

export interface CoreDatabase {
  readonly target: Target;
  /** The variables that were unset, with the default core uses for each: for the start line. */
  readonly defaults: Readonly<Record<string, string>>;
  /** For diagnose: the `core connection string` finding its url layer shows (none otherwise). */
  readonly urlFindings: readonly Finding[];
}

/**
 * Why core's unquoted `key=value` string would not carry `value` as it is, or undefined: pgx ends a value at
 * white space, reads one that starts with ' as quoted, turns \\ and \' into \ and ', and refuses a trailing \.
 */
export function unquotedProblem(value: string): string | undefined {
  if (/\s/.test(value)) return 'holds white space';
  if (value.startsWith("'")) return "begins with '";
  if (value.endsWith('\\')) return 'ends with \\';
  if (/\\[\\']/.test(value)) return "holds \\\\ or \\' (core's parser turns them into \\ and ')";
  return undefined;
}

/** The keyword of core's connection string each variable goes into. */
const KEYWORDS = { POSTGRESQL_PASSWORD: 'password', POSTGRESQL_USERNAME: 'user', POSTGRESQL_DATABASE: 'dbname' } as const;

function unquotedError(name: keyof typeof KEYWORDS, problem: string, secret: boolean): ConfigError {
  const shown = secret ? ' (not shown)' : '';
  return new ConfigError(
    name,
    `${problem}${shown}: core puts it into its connection string unquoted ("... ${KEYWORDS[name]}=<value> ..."), which would break or change it, so core could not log in; choose one without white space, a leading ' or backslashes`,
  );
}

/** The name of diagnose's finding on core's connection string (the url layer). */
export const CONNECTION_STRING_CHECK = 'core connection string';

/**
 * diagnose's word on core's unquoted connection string: fail naming each variable it would break (never the
 * password, only what is wrong with it), or ok saying that the values go through as they are.
 */
function connectionStringFinding(problems: ReadonlyArray<readonly [keyof typeof KEYWORDS, string]>, passwordLength: number): Finding {
  if (problems.length === 0) {
    return {
      layer: 'url',
      name: CONNECTION_STRING_CHECK,
      status: 'ok',
      value: `user, dbname and password (${passwordLength} characters, not shown) go into core's unquoted "key=value" string as they are`,
    };
  }
  const names = problems.map(([name]) => name);
  return {
    layer: 'url',
    name: CONNECTION_STRING_CHECK,
    status: 'fail',
    value: problems.map(([name, problem]) => `${name} ${problem}`).join('; '),
    hint: `core puts ${names.join(', ')} into its connection string unquoted ("... ${names.map((n) => `${KEYWORDS[n]}=<value>`).join(' ')} ..."), which would break or change ${names.length > 1 ? 'them' : 'it'}, so core could not log in (even where the login below, which sends the value as it is, succeeds); choose values without white space, a leading ' or backslashes`,
  };
}

/**
 * Core's database as a target; undefined (with a warning) when POSTGRESQL_HOST is unset. With `diagnose`, a
 * user name, database name or password that core's unquoted string would break is not a configuration error
 * but a failed `core connection string` finding of the target (an ok one when nothing is wrong).
 */
export function coreDatabase(env: Env, warnings: string[], diagnose = false): CoreDatabase | undefined {
  const value = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  // Not trimmed: core compares it as it is ("" or "postgresql").
  const type = env.DATABASE_TYPE;
  if (type !== undefined && type !== '' && type !== 'postgresql') {
    throw new ConfigError('DATABASE_TYPE', `"${redactRaw(type)}" is not postgresql: core would fail with "invalid database: ${redactRaw(type)}"`);
  }
  const host = value('POSTGRESQL_HOST');
  if (host === undefined) {
    warnings.push('PostgreSQL is not configured (POSTGRESQL_HOST is unset): waiting for Redis only; give the wait container the ConfigMap <fullname>-core to wait for the database too');
    return undefined;
  }
  // An IPv6 address is a host core connects to; node:net's isIPv6 only when it can be one (its pattern costs start-up).
  const hostError = host.includes(':') && builtin('node:net').isIPv6(host) ? undefined : hostProblem(host);
  if (hostError) throw new ConfigError('POSTGRESQL_HOST', hostError);

  const defaults: Record<string, string> = {};
  const pick = (name: keyof typeof CORE_DEFAULTS): string => {
    const v = value(name);
    if (v !== undefined) return v;
    defaults[name] = CORE_DEFAULTS[name];
    return CORE_DEFAULTS[name];
  };
  const portText = pick('POSTGRESQL_PORT');
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new ConfigError('POSTGRESQL_PORT', `"${redactRaw(portText)}" is not a port (1-65535); core would ignore it and connect to 5432`);
  }
  const user = pick('POSTGRESQL_USERNAME');
  const database = pick('POSTGRESQL_DATABASE');
  const problems: Array<readonly [keyof typeof KEYWORDS, string]> = [];
  for (const [name, v] of [['POSTGRESQL_USERNAME', user], ['POSTGRESQL_DATABASE', database]] as const) {
    const problem = unquotedProblem(v);
    if (problem && !diagnose) throw unquotedError(name, `"${redactRaw(v)}" ${problem}`, false);
    if (problem) problems.push([name, `${JSON.stringify(redactRaw(v))} ${problem}`]);
  }
  const sslmode = pick('POSTGRESQL_SSLMODE');

  // Not trimmed: a password is what it is, and white space in it is one of the problems below.
  const password = env.POSTGRESQL_PASSWORD;
  if (password === undefined || password === '') {
    throw new ConfigError(
      'POSTGRESQL_PASSWORD',
      `is ${password === undefined ? 'unset' : 'empty'}: core would log in with its built-in default password, without a word. Give the wait container Secret <fullname>-core, key POSTGRESQL_PASSWORD, by secretKeyRef (with database.external.existingSecret: that Secret, key password); see helm-snippet/`,
    );
  }
  const problem = unquotedProblem(password);
  if (problem && !diagnose) throw unquotedError('POSTGRESQL_PASSWORD', problem, true);
  if (problem) {
    // Where the white space is says where it came from; that is all it says about the password.
    const where = /^\s|\s$/.test(password) ? ' at an end (a Secret made with echo without -n, or from a file with a final newline?)' : '';
    problems.push(['POSTGRESQL_PASSWORD', `${problem}${problem === 'holds white space' ? where : ''} (not shown)`]);
  }

  const params = [{ name: 'sslmode', value: sslmode, input: 'POSTGRESQL_SSLMODE' }];
  for (const [variable, name] of Object.entries(PG_VARIABLES)) {
    const v = value(variable);
    if (v !== undefined) params.push({ name, value: v, input: variable });
  }
  if (value('PGSERVICE')) warnings.push('PGSERVICE is set: core\'s driver may read more settings from that service file, but harbor-wait does not');

  const port = Number(portText);
  const spec = postgresSpec({ host, port, user, password, database, params, defaultSslmode: sslmode as SslMode });
  // toWellFormed: encodeURIComponent throws on a lone surrogate, which only an in-process env can hold.
  const label = `postgres://${encodeURIComponent(user.toWellFormed())}:***@${host.includes(':') ? `[${host}]` : host}:${port}/${encodeURIComponent(database.toWellFormed())}?sslmode=${spec.sslmode}`;
  const secrets = [...new Set([password, encodeURIComponent(password.toWellFormed())])];
  const urlFindings = diagnose ? [connectionStringFinding(problems, [...password].length)] : [];
  const target = postgresTarget(spec, label, 'POSTGRESQL_*', secrets, urlFindings);
  return { target: Object.keys(defaults).length > 0 ? { ...target, defaults } : target, defaults, urlFindings };
}
