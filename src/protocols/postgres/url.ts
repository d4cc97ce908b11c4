/**
 * PostgreSQL targets: libpq's URI form, `postgres://[user[:password]@]host[:port][/database][?param=value&...]`
 * (also `postgresql://`), and the same settings built from Harbor core's environment by the core preset
 * (config/core-database.ts). Only the parameters that change what core's login meets are accepted; each is applied as pgx,
 * core's driver, applies it (shared/harbor-facts.md §4). Anything else is a configuration error naming it.
 */
import { ConfigError } from '../../basics/errors.ts';
import { checkKeyPair, readPem } from '../../basics/files.ts';
import { decode, parseUrl, redactParsed, redactRaw, userinfoSecrets } from '../url.ts';

export const POSTGRES_SCHEMES = ['postgres', 'postgresql'] as const;

/** libpq's sslmode values; pgx refuses any other ("sslmode is invalid"). */
export const SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSLMODES)[number];

/** libpq's target_session_attrs values. */
export const SESSION_ATTRS = ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'] as const;
export type SessionAttrs = (typeof SESSION_ATTRS)[number];

export interface PemFile {
  readonly pem: string;
  readonly path: string;
}

export interface PostgresSpec {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Undefined when the URL gives none: a server that asks for one is then not ready (auth). */
  readonly password: string | undefined;
  readonly database: string;
  readonly sslmode: SslMode;
  /** `sslrootcert`: the only CAs trusted for this target (as pgx); `system` means the system's list. */
  readonly rootCert: PemFile | 'system' | undefined;
  readonly clientCert: { readonly cert: PemFile; readonly key: PemFile } | undefined;
  /** `connect_timeout` in ms; 0 when not given (no limit but the attempt timeout). */
  readonly connectTimeoutMs: number;
  readonly applicationName: string;
  readonly targetSessionAttrs: SessionAttrs;
}

/** What a PostgreSQL target is made from, wherever it is written: a URL or core's variables. */
export interface PostgresParts {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string | undefined;
  readonly database: string;
  /** Parameters as libpq names them, each with the input that gave it (for errors). */
  readonly params: ReadonlyArray<{ readonly name: string; readonly value: string; readonly input: string }>;
  /** sslmode when no parameter gives it: libpq's `prefer` for a URL, `disable` for core (Harbor's default). */
  readonly defaultSslmode: SslMode;
}

export const DEFAULT_APPLICATION_NAME = 'harbor-wait';

const PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'connect_timeout', 'application_name', 'target_session_attrs'];

/** Why a parameter is refused, as the start of a sentence; the accepted ones follow it. */
function paramHint(name: string): string {
  const lower = name.toLowerCase();
  if (['password', 'user', 'dbname', 'host', 'port', 'hostaddr'].includes(lower)) {
    return `give ${lower === 'dbname' ? 'the database as the path' : lower === 'password' || lower === 'user' ? 'the user and password in the user info, percent-encoded' : 'the host and port before the path'}, as in postgres://user:password@host:5432/registry; `;
  }
  if (['ssl', 'tls', 'ssl_mode', 'use_ssl'].includes(lower)) return 'did you mean sslmode? ';
  const near = PARAMS.find((p) => p.replaceAll('_', '') === lower.replaceAll(/[_-]/g, ''));
  return near ? `did you mean ${near}? ` : '';
}

/** The check's settings from `parts`; every problem is a ConfigError naming the input that gave it. */
export function postgresSpec(parts: PostgresParts): PostgresSpec {
  const given = new Map<string, { value: string; input: string }>();
  for (const p of parts.params) {
    if (!PARAMS.includes(p.name)) {
      throw new ConfigError(p.input, `parameter "${p.name}" is not one harbor-wait applies (${paramHint(p.name)}accepted: ${PARAMS.join(', ')})`);
    }
    if (given.has(p.name)) throw new ConfigError(p.input, `parameter ${p.name} is given twice`);
    given.set(p.name, { value: p.value, input: p.input });
  }

  const mode = given.get('sslmode');
  const sslmode = (mode?.value ?? parts.defaultSslmode) as SslMode;
  if (mode && !(SSLMODES as readonly string[]).includes(mode.value)) {
    throw new ConfigError(mode.input, `sslmode "${redactRaw(mode.value)}" is invalid (core's driver refuses it too: "sslmode is invalid"); use one of ${SSLMODES.join(', ')}`);
  }

  const attrs = given.get('target_session_attrs');
  if (attrs && !(SESSION_ATTRS as readonly string[]).includes(attrs.value)) {
    throw new ConfigError(attrs.input, `target_session_attrs "${redactRaw(attrs.value)}" is not one of ${SESSION_ATTRS.join(', ')}`);
  }

  const timeout = given.get('connect_timeout');
  if (timeout && !/^\d{1,7}$/.test(timeout.value.trim())) {
    throw new ConfigError(timeout.input, `connect_timeout "${redactRaw(timeout.value)}" is not a whole number of seconds`);
  }

  const root = given.get('sslrootcert');
  const rootCert =
    root === undefined ? undefined : root.value === 'system' ? 'system' : readPem({ text: root.value, input: root.input }, 'certificate');
  const cert = given.get('sslcert');
  const key = given.get('sslkey');
  if (!cert !== !key) {
    throw new ConfigError((cert ?? key)?.input ?? 'sslcert', 'a client certificate needs both sslcert and sslkey');
  }
  let clientCert: { cert: PemFile; key: PemFile } | undefined;
  if (cert && key) {
    clientCert = {
      cert: readPem({ text: cert.value, input: cert.input }, 'certificate') as PemFile,
      key: readPem({ text: key.value, input: key.input }, 'private key') as PemFile,
    };
    // As for --cert-file and --key-file: a key of another certificate fails every handshake, so it fails here.
    checkKeyPair(clientCert.cert, clientCert.key, key.input);
  }

  return {
    host: parts.host,
    port: parts.port,
    user: parts.user,
    password: parts.password,
    database: parts.database,
    sslmode,
    rootCert,
    clientCert,
    connectTimeoutMs: timeout ? Number(timeout.value.trim()) * 1000 : 0,
    applicationName: given.get('application_name')?.value || DEFAULT_APPLICATION_NAME,
    // Not libpq's default (any): core writes as soon as it has migrated, so a read-only server is not ready for it.
    targetSessionAttrs: (attrs?.value ?? 'read-write') as SessionAttrs,
  };
}

/**
 * What the target's own settings ask to verify, in words (`sslmode=verify-full`), or undefined when they ask
 * for no verification: require checks nothing (verify-ca when sslrootcert is given), verify-ca checks the
 * chain, verify-full the chain and the host name.
 */
export function ownVerification(spec: PostgresSpec): string | undefined {
  if (spec.sslmode === 'verify-ca' || spec.sslmode === 'verify-full') return `sslmode=${spec.sslmode}`;
  if (spec.sslmode === 'require' && spec.rootCert !== undefined) return 'sslmode=require with sslrootcert';
  return undefined;
}

/** Parses a postgres:// URL. `input` names it in errors and must already be redacted. */
export function parsePostgresUrl(raw: string, input: string): { spec: PostgresSpec; label: string; secrets: string[] } {
  const url = parseUrl(raw, input);
  if (!(POSTGRES_SCHEMES as readonly string[]).includes(url.scheme)) {
    throw new ConfigError(input, `"${url.scheme}" is not a PostgreSQL scheme`);
  }
  const host = url.hosts[0];
  if (url.hosts.length !== 1 || !host) {
    throw new ConfigError(input, 'takes one host: core connects to one (POSTGRESQL_HOST)');
  }
  const user = url.userinfo?.user ?? '';
  if (user === '') {
    throw new ConfigError(input, `needs a user name, as in ${url.scheme}://postgres:PASSWORD@${host.host}:5432/registry (core logs in as POSTGRESQL_USERNAME)`);
  }
  const segments = url.path.split('/').slice(1);
  if (segments.length > 1) throw new ConfigError(input, `the path "${url.path}" must be empty or /<database>`);
  const database = segments[0] ? decode(segments[0], 'database name', input) : user;

  const spec = postgresSpec({
    host: host.host,
    port: host.port ?? 5432,
    user,
    password: url.userinfo?.password,
    database,
    params: url.query.map(([name, value]) => ({ name, value, input: `${input} ${name}` })),
    defaultSslmode: 'prefer',
  });
  // A lone user name is a user name here (libpq reads the password from elsewhere): it stays in the label.
  const hasPassword = url.userinfo?.password !== undefined;
  return { spec, label: hasPassword ? redactParsed(url) : raw, secrets: hasPassword ? userinfoSecrets(url.userinfo) : [] };
}
