/**
 * Redis URLs exactly as Harbor reads them (shared/harbor-facts.md §3): `redis`, `rediss`, `redis+sentinel`,
 * `rediss+sentinel`, percent-encoded `user:password@`, `/db`, the multi-host sentinel form, and only the query
 * parameters Harbor accepts. Anything Harbor would reject is a configuration error here, naming the part.
 */
import { ConfigError } from '../../basics/errors.ts';
import { parseGoDuration } from '../../basics/duration.ts';
import { decode, parseUrl, redactParsed, userinfoSecrets, type HostPort } from '../url.ts';

export interface RedisSpec {
  readonly tls: boolean;
  readonly sentinel: boolean;
  /** The server, or the sentinels in the order to ask them. */
  readonly hosts: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  readonly masterName: string | undefined;
  /** The ACL user to log in as; only with a password. */
  readonly username: string | undefined;
  /** The password to send with AUTH; undefined when the URL gives none, or an empty one. */
  readonly password: string | undefined;
  /**
   * The URL's user info has a password and it is empty (`redis://:@host`, `redis://user:@host`): no AUTH is
   * sent, as Harbor's clients do (go-redis and redigo send AUTH only for a non-empty password).
   */
  readonly emptyPassword: boolean;
  readonly db: number;
  /** `skip_verify=true` (TLS schemes only). */
  readonly skipVerify: boolean;
}

export const REDIS_SCHEMES = ['redis', 'rediss', 'redis+sentinel', 'rediss+sentinel'] as const;

type Kind = 'int' | 'duration' | 'bool' | 'string';

/** Every query parameter Harbor accepts (go-redis ParseURL and src/lib/cache/redis/util.go), by value type. */
const PARAMS: Record<string, Kind> = {
  db: 'int',
  protocol: 'int',
  client_name: 'string',
  max_retries: 'int',
  min_retry_backoff: 'duration',
  max_retry_backoff: 'duration',
  dial_timeout: 'duration',
  read_timeout: 'duration',
  write_timeout: 'duration',
  pool_fifo: 'bool',
  pool_size: 'int',
  pool_timeout: 'duration',
  min_idle_conns: 'int',
  max_idle_conns: 'int',
  max_active_conns: 'int',
  max_concurrent_dials: 'int',
  conn_max_idle_time: 'duration',
  idle_timeout: 'duration',
  idle_timeout_seconds: 'duration',
  conn_max_lifetime: 'duration',
  max_conn_age: 'duration',
  skip_verify: 'bool',
};

function validValue(kind: Kind, value: string): boolean {
  if (value === '' || kind === 'string') return true;
  if (kind === 'int') return /^[+-]?\d+$/.test(value);
  if (kind === 'bool') return ['true', 'false', '1', '0'].includes(value);
  return /^[+-]?\d+$/.test(value) || parseGoDuration(value) !== undefined;
}

const KIND_TEXT: Record<Kind, string> = {
  int: 'an integer',
  duration: 'a duration such as 5s or 500ms, or a number of seconds',
  bool: 'true, false, 1 or 0',
  string: 'text',
};

/** What the operator most likely meant by an unknown query parameter, as a sentence ending in "; "; or "". */
function hintFor(name: string): string {
  const lower = name.toLowerCase();
  if (/sentinel/.test(lower) && /pass|user|auth/.test(lower)) {
    return 'Harbor sends no AUTH to the sentinels (goharbor/harbor#14757): the user info is for the master only; ';
  }
  if (/pass|pwd|auth|user/.test(lower)) {
    return 'put the credentials in the user info, percent-encoded: redis://:<password>@host:6379 or redis://<user>:<password>@host:6379; ';
  }
  if (['ssl', 'tls', 'secure', 'use_ssl', 'use_tls'].includes(lower)) return 'for TLS use the rediss:// scheme; ';
  // Up to one edit per six characters of the known name: db/DB, dial_timout, idle_timeout_second(s).
  const close = (known: string) => editDistance(lower, known) <= Math.max(1, Math.floor(known.length / 6));
  const near = lower.length <= 40 ? Object.keys(PARAMS).find(close) : undefined;
  return near ? `did you mean ${near}? ` : '';
}

/** Levenshtein distance, for "did you mean" (the names are short). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

function parseDb(text: string, input: string): number {
  if (!/^\d+$/.test(text)) throw new ConfigError(input, `"${text}" is not a database number`);
  return Number(text);
}

/**
 * What a URL with an empty password means, for the start-up warning and for the hint when the server then
 * answers NOAUTH.
 */
export const EMPTY_PASSWORD_HINT =
  "a Redis URL with an empty password is what Harbor's chart renders when redis.external.existingSecret is read by Helm's lookup under helm template or a GitOps renderer (Argo CD, Flux), where lookup finds nothing: render it against the cluster (helm install / helm upgrade), or give the password in the values";

/**
 * Parses a Redis URL. `input` names it in errors and warnings and must already be redacted. `warnings` are
 * for the start: an empty password.
 */
export function parseRedisUrl(raw: string, input: string): { spec: RedisSpec; label: string; secrets: string[]; warnings: string[] } {
  const url = parseUrl(raw, input);
  const tls = url.scheme === 'rediss' || url.scheme === 'rediss+sentinel';
  const sentinel = url.scheme.endsWith('+sentinel');
  if (!(REDIS_SCHEMES as readonly string[]).includes(url.scheme)) {
    throw new ConfigError(input, `"${url.scheme}" is not a Redis scheme`);
  }

  const segments = url.path.split('/').filter((s) => s !== '');
  let db = 0;
  let masterName: string | undefined;
  if (sentinel) {
    if (segments.length === 0 || segments.length > 2) {
      throw new ConfigError(
        input,
        `the path must be /<master-name> or /<master-name>/<db>, as in ${url.scheme}://s1:26379,s2:26379/mymaster/0`,
      );
    }
    masterName = decode(segments[0] as string, 'master name', input);
    if (segments[1] !== undefined) db = parseDb(segments[1], input);
  } else {
    if (url.hosts.length > 1) {
      throw new ConfigError(input, `${url.scheme}:// takes one host; several hosts are for ${url.scheme}+sentinel://`);
    }
    if (segments.length > 1) throw new ConfigError(input, `the path "${url.path}" must be empty or /<db>`);
    if (segments[0] !== undefined) db = parseDb(segments[0], input);
  }

  let skipVerify = false;
  for (const [name, value] of url.query) {
    const kind = PARAMS[name];
    if (kind === undefined || (name === 'skip_verify' && !tls)) {
      const why =
        name === 'skip_verify'
          ? 'skip_verify applies to rediss:// only'
          : `${hintFor(name)}accepted: ${Object.keys(PARAMS).join(', ')}`;
      throw new ConfigError(
        input,
        `query parameter "${name}" would make Harbor fail with "redis: unexpected option: ${name}" (${why})`,
      );
    }
    if (!validValue(kind, value)) {
      throw new ConfigError(input, `query parameter ${name}="${value}" must be ${KIND_TEXT[kind]}`);
    }
    if (name === 'db' && value !== '') db = parseDb(value.replace(/^\+/, ''), input);
    if (name === 'skip_verify') skipVerify = value === 'true' || value === '1';
  }

  const hosts = url.hosts.map((h: HostPort) => {
    if (h.port !== undefined) return { host: h.host, port: h.port };
    if (sentinel) {
      throw new ConfigError(input, `sentinel "${h.host}" has no port: write it as ${h.host}:26379, as Harbor needs`);
    }
    return { host: h.host, port: 6379 };
  });

  // go-redis sends AUTH (or HELLO with AUTH) only when the password is not empty, whatever the user name;
  // redigo the same: an empty password means no AUTH, and the user name alone is not used.
  const given = url.userinfo?.password;
  const password = given === '' ? undefined : given;
  const emptyPassword = given === '';
  const warnings: string[] = [];
  if (emptyPassword) {
    const user = url.userinfo?.user ? 'a user name with an empty password (the user name is not used either)' : 'an empty password (":@")';
    warnings.push(
      `${input}: the URL carries ${user}, so no AUTH is sent, as Harbor's clients (go-redis, redigo) do; if the server requires a password, ${EMPTY_PASSWORD_HINT}`,
    );
  }
  return {
    spec: {
      tls,
      sentinel,
      hosts,
      masterName,
      username: password !== undefined && url.userinfo?.user ? url.userinfo.user : undefined,
      password,
      emptyPassword,
      db,
      skipVerify,
    },
    label: redactParsed(url),
    secrets: userinfoSecrets(url.userinfo),
    warnings,
  };
}
