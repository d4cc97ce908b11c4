/** http(s) targets, and Harbor core's configuration API on top of them. Parsing only: no network code here. */
import { ConfigError, NotReady } from '../../basics/errors.ts';
import type { StatusSet } from '../../basics/status-set.ts';
import { controlProblem, hostProblem, redactQuery } from '../url.ts';

/** What an HTTP check needs: where, which headers, and how to judge the status. */
export interface HttpSpec {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** undefined when the status means ready; otherwise why not (`peer` is host:port). */
  judge(status: number, peer: string, expect: StatusSet): NotReady | undefined;
}

/** Core's configuration API (src/common/const.go CoreConfigPath); the old /api/internal/configurations is gone since v2.3. */
export const CORE_CONFIG_PATH = '/api/v2.0/internalconfig';

/**
 * The host as written in `raw` (brackets kept), for checks Node's URL would hide: it strips tabs and newlines,
 * turns `harbor‐core` (a pasted U+2010) into punycode, and reads `10.1` as 10.0.0.1.
 */
function rawHost(raw: string): string {
  const rest = raw.slice(raw.indexOf('://') + 3);
  const authority = rest.slice(0, rest.search(/[/?#\\]|$/));
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1 || undefined);
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

function toUrl(raw: string, input: string): URL {
  // Node's URL would drop a tab or line break silently; Go's (core's, jobservice's) refuses it.
  const control = controlProblem(raw);
  if (control) throw new ConfigError(input, control);
  // As for Redis URLs: an "@" after the authority is a password with an unencoded "/", "?" or "#" in it, which
  // Node would read as host "user", port "" and a path holding the rest of the password.
  const afterScheme = raw.indexOf('://') + 3;
  const authorityEnd = raw.slice(afterScheme).search(/[/?#\\]/);
  if (afterScheme > 2 && authorityEnd >= 0 && raw.slice(afterScheme + authorityEnd).includes('@')) {
    throw new ConfigError(
      input,
      'an "@" follows a "/", "?" or "#": percent-encode those characters in the password (%2F, %3F, %23), and an "@" in the path (%40)',
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(input, 'not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(input, 'must be an http:// or https:// URL');
  }
  const host = rawHost(raw);
  const problem = host.startsWith('[') ? undefined : hostProblem(host);
  if (problem) throw new ConfigError(input, problem);
  if (url.port === '0') throw new ConfigError(input, '"0" is not a port (1-65535)');
  if (url.hash) throw new ConfigError(input, 'a fragment ("#...") has no meaning here');
  return url;
}

/** `scheme://user:***@host/path?query`, the password hidden; a lone user name (maybe a password) hidden too. */
/** The URL as logs show it: no password, and no value of a secret-named query parameter. */
function labelOf(url: URL): string {
  const user = url.password ? `${url.username}:***@` : url.username ? '***@' : '';
  return `${url.protocol}//${user}${url.host}${url.pathname}${redactQuery(url.search).text}`;
}

function judgeGeneric(status: number, peer: string, expect: StatusSet): NotReady | undefined {
  if (expect.has(status)) return undefined;
  const hint = status === 503 ? ' (service unavailable; often a proxy or mesh with no healthy upstream)' : '';
  return new NotReady('response', `HTTP_${status}`, `${peer} answered ${status}, expected ${expect.text}${hint}`);
}

/**
 * Parses an http(s) target. User info in the URL becomes HTTP Basic authentication, its password a secret; so
 * is the value of a query parameter named like one (`?token=...`), which the label hides.
 */
export function parseHttpUrl(raw: string, input: string): { spec: HttpSpec; label: string; secrets: string[] } {
  const url = toUrl(raw, input);
  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  if (url.username || url.password) {
    let user: string;
    let password: string;
    try {
      user = decodeURIComponent(url.username);
      password = decodeURIComponent(url.password);
    } catch {
      throw new ConfigError(input, 'the user info has a malformed percent-escape');
    }
    const basic = Buffer.from(`${user}:${password}`).toString('base64');
    headers.authorization = `Basic ${basic}`;
    secrets.push(basic, ...(password ? [password, url.password] : [user, url.username]));
  }
  secrets.push(...redactQuery(url.search).secrets);
  const label = labelOf(url);
  url.username = '';
  url.password = '';
  return { spec: { url, headers, judge: judgeGeneric }, label, secrets: secrets.filter((s) => s !== '') };
}

function judgeCore(status: number, peer: string): NotReady | undefined {
  switch (status) {
    case 200:
      return undefined;
    case 401:
    case 403:
      return new NotReady(
        'auth',
        `HTTP_${status}`,
        `core at ${peer} rejected the secret (${status}): the JOBSERVICE_SECRET given does not match the one core has`,
      );
    case 404:
      return new NotReady(
        'response',
        'HTTP_404',
        `core at ${peer} has no ${CORE_CONFIG_PATH} (404): is this core's base URL, and core Harbor v2.3 or later?`,
      );
    case 500:
      return new NotReady(
        'response',
        'HTTP_500',
        `core at ${peer} answered 500 (internal error): its database or Redis may not be ready yet`,
      );
    case 502:
    case 503:
    case 504:
      return new NotReady(
        'response',
        `HTTP_${status}`,
        `${peer} answered ${status}: a proxy or mesh in front of core has no healthy core behind it yet`,
      );
    default:
      return new NotReady('response', `HTTP_${status}`, `core at ${peer} answered ${status}, expected 200`);
  }
}

/**
 * Harbor core's configuration API: `GET <base>/api/v2.0/internalconfig` with `Authorization: Harbor-Secret
 * <secret>`, ready on 200 only. `base` is core's base URL such as `http://harbor-core:80`.
 */
export function parseHarborCore(
  raw: string,
  input: string,
  secret: string,
): { spec: HttpSpec; label: string; secrets: string[] } {
  const url = toUrl(raw, input);
  if (url.username || url.password) {
    throw new ConfigError(input, 'give no user info: core is called with the jobservice secret');
  }
  // The path first: the old config path is the mistake worth its own hint, with or without a query.
  if (url.pathname !== '/' && url.pathname !== '') {
    const old = url.pathname.startsWith('/api/internal/configurations')
      ? ' (/api/internal/configurations is gone since Harbor v2.3)'
      : '';
    throw new ConfigError(
      input,
      `give core's base URL, e.g. http://harbor-core:80, without a path: ${CORE_CONFIG_PATH} is added${old}`,
    );
  }
  if (url.search) throw new ConfigError(input, 'give core\'s base URL without a query, e.g. http://harbor-core:80');
  url.pathname = CORE_CONFIG_PATH;
  const header = `Harbor-Secret ${secret}`;
  return {
    spec: { url, headers: { authorization: header }, judge: judgeCore },
    label: url.href,
    secrets: [secret],
  };
}
