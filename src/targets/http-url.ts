/** http(s) targets, and Harbor core's configuration API on top of them. Parsing only: no network code here. */
import { ConfigError, NotReady } from '../errors.ts';
import type { StatusSet } from '../status.ts';

/** What an HTTP check needs: where, which headers, and how to judge the status. */
export interface HttpSpec {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** undefined when the status means ready; otherwise why not (`peer` is host:port). */
  judge(status: number, peer: string, expect: StatusSet): NotReady | undefined;
}

/** Core's configuration API (src/common/const.go CoreConfigPath); the old /api/internal/configurations is gone since v2.3. */
export const CORE_CONFIG_PATH = '/api/v2.0/internalconfig';

function toUrl(raw: string, input: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(input, 'not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(input, 'must be an http:// or https:// URL');
  }
  if (url.hash) throw new ConfigError(input, 'a fragment ("#...") has no meaning here');
  return url;
}

/** `scheme://user:***@host/path?query`, the password hidden; a lone user name (maybe a password) hidden too. */
function labelOf(url: URL): string {
  const user = url.password ? `${url.username}:***@` : url.username ? '***@' : '';
  return `${url.protocol}//${user}${url.host}${url.pathname}${url.search}`;
}

function judgeGeneric(status: number, peer: string, expect: StatusSet): NotReady | undefined {
  if (expect.has(status)) return undefined;
  const hint = status === 503 ? ' (service unavailable; often a proxy or mesh with no healthy upstream)' : '';
  return new NotReady('response', `HTTP_${status}`, `${peer} answered ${status}, expected ${expect.text}${hint}`);
}

/** Parses an http(s) target. User info in the URL becomes HTTP Basic authentication, its password a secret. */
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
  if (url.search) throw new ConfigError(input, 'give core\'s base URL without a query, e.g. http://harbor-core:80');
  if (url.pathname !== '/' && url.pathname !== '') {
    const old = url.pathname.startsWith('/api/internal/configurations')
      ? ' (/api/internal/configurations is gone since Harbor v2.3)'
      : '';
    throw new ConfigError(
      input,
      `give core's base URL, e.g. http://harbor-core:80, without a path: ${CORE_CONFIG_PATH} is added${old}`,
    );
  }
  url.pathname = CORE_CONFIG_PATH;
  const header = `Harbor-Secret ${secret}`;
  return {
    spec: { url, headers: { authorization: header }, judge: judgeCore },
    label: url.href,
    secrets: [secret],
  };
}
