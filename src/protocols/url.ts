/**
 * A strict parser for URLs with an authority: `scheme://[user[:password]@]host[:port][,host[:port]...][/path][?query]`.
 * Hand-written because Node's URL refuses the multi-host sentinel form and is lenient where Harbor (Go) is not.
 */
import { builtin } from '../basics/builtin.ts';
import { ConfigError } from '../basics/errors.ts';

export interface HostPort {
  readonly host: string;
  readonly port: number | undefined;
}

export interface UserInfo {
  readonly user: string;
  readonly password: string | undefined;
  /** The spans of the raw URL that must not be shown: [start, end) of the password, or of the whole user info. */
  readonly hide: readonly [number, number];
  /** The raw (still percent-encoded) text of what is hidden. */
  readonly rawHidden: string;
}

export interface ParsedUrl {
  readonly raw: string;
  readonly scheme: string;
  readonly userinfo: UserInfo | undefined;
  readonly hosts: readonly HostPort[];
  /** The raw path, '' or starting with '/'. */
  readonly path: string;
  /** Decoded query parameters in order; a repeated name appears more than once. */
  readonly query: ReadonlyArray<readonly [string, string]>;
}

/** Query parameters whose values are hidden when a URL is echoed in an error: `?password=...` is a password. */
const SECRET_PARAM = /pass|pwd|secret|token|auth|cred/i;

/**
 * Hides what may be a password in a URL that could not be parsed, for echoing it in an error: its password
 * cannot be located precisely then, so all of the user info goes — everything between `://` and the last `@`,
 * or, in a string without `://` (a mistyped `redis:/:pw@h`), everything between the first `:` and the last `@`.
 * A bare `user@host` is left alone. Values of query parameters named like a secret (`password=...`) go too.
 */
export function redactRaw(raw: string): string {
  const scheme = raw.indexOf('://');
  const colon = raw.indexOf(':');
  const at = raw.lastIndexOf('@');
  let out = raw;
  if (scheme >= 0 && at > scheme) out = `${raw.slice(0, scheme + 3)}***${raw.slice(at)}`;
  else if (scheme < 0 && colon >= 0 && at > colon) out = `${raw.slice(0, colon + 1)}***${raw.slice(at)}`;
  return redactQuery(out).text;
}

/**
 * `text` with the values of query parameters named like a secret (`?token=...`, `&password=...`) replaced by
 * `***`, and those values, as written and decoded, for the scrubber (redact.ts, which leaves out those too
 * short to search for, and config/options.ts warns of them).
 */
export function redactQuery(text: string): { text: string; secrets: string[] } {
  const secrets: string[] = [];
  const redacted = text.replace(/([?&;])([^=&;#]*)=([^&;#]*)/g, (whole, sep: string, name: string, value: string) => {
    if (!SECRET_PARAM.test(name) && !SECRET_PARAM.test(decodeOr(name))) return whole;
    secrets.push(value, decodeOr(value));
    return `${sep}${name}=***`;
  });
  return { text: redacted, secrets: [...new Set(secrets)].filter((s) => s !== '') };
}

/** The raw URL with its hidden span replaced by `***`. */
export function redactParsed(url: ParsedUrl): string {
  if (!url.userinfo) return url.raw;
  const [from, to] = url.userinfo.hide;
  return `${url.raw.slice(0, from)}***${url.raw.slice(to)}`;
}

/** `text` percent-decoded, or as it is when it cannot be. */
function decodeOr(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

export function decode(text: string, what: string, input: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ConfigError(input, `the ${what} has a malformed percent-escape`);
  }
}

const HOST_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/**
 * Why `host` (as written, without brackets) is not a host name or IP address; undefined when it is one.
 * Stricter than Go's URL parser, which lets a mistake through to a DNS lookup that fails on every attempt:
 * a character pasted from a document (U+2010 for "-"), an empty or over-long label, `10.0.0.300`.
 */
export function hostProblem(host: string): string | undefined {
  // A URL given where a host belongs (POSTGRESQL_HOST=postgres://user:pw@db): its user info is not shown.
  if (host.includes('@')) return `"${redactRaw(host)}" is not a host name or address (a URL, or user info, where a host belongs?)`;
  const odd = /[^\x21-\x7e]/u.exec(host)?.[0];
  if (odd !== undefined) {
    const code = `U+${(odd.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    return `"${host}" is not a host name or address: it holds ${code}, which cannot be in a host name (white space, a control character, or one pasted from a document?)`;
  }
  if (!HOST_NAME.test(host)) return `"${host}" is not a host name or address`;
  if (host.length > 253) return `"${host.slice(0, 40)}…" is not a host name: longer than 253 characters`;
  const labels = host.split('.');
  if (labels.some((l) => l === '' || l.length > 63 || l.startsWith('-') || l.endsWith('-'))) {
    return `"${host}" is not a host name or address: each dot-separated part must be 1 to 63 characters, not starting or ending with "-"`;
  }
  if (/^[\d.]+$/.test(host) && !builtin('node:net').isIPv4(host)) return `"${host}" is not an IPv4 address (four numbers 0-255, as in 10.0.0.5)`;
  return undefined;
}

function parseHost(text: string, input: string): HostPort {
  let host: string;
  let rest: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new ConfigError(input, `host "${text}" has no closing "]"`);
    host = text.slice(1, close);
    rest = text.slice(close + 1);
    // Digits, colons and dots only (no zone), and a real address: `[::::1]` is not one.
    if (!/^[0-9A-Fa-f:.]+$/.test(host) || !builtin('node:net').isIPv6(host)) {
      throw new ConfigError(input, `"${host}" is not an IPv6 address`);
    }
  } else {
    const colon = text.lastIndexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    rest = colon < 0 ? '' : text.slice(colon);
    if (host === '') throw new ConfigError(input, 'a host is missing');
    const problem = hostProblem(host);
    if (problem) throw new ConfigError(input, problem);
  }
  if (rest === '') return { host, port: undefined };
  const port = rest.slice(1);
  if (!rest.startsWith(':') || !/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new ConfigError(input, `"${rest.startsWith(':') ? port : rest}" is not a port (1-65535)`);
  }
  return { host, port: Number(port) };
}

/**
 * A control character anywhere in a URL (a line break pasted into a Secret, a stray tab): Go's url.Parse, and
 * so Harbor, refuses it ("net/url: invalid control character in URL"). Undefined when there is none.
 */
export function controlProblem(raw: string): string | undefined {
  const control = /[\u0000-\u001f\u007f]/.exec(raw)?.[0];
  if (control === undefined) return undefined;
  const code = `U+${(control.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  return `holds ${code}, a control character (a line break or tab pasted in?): Harbor refuses it too ("net/url: invalid control character in URL")`;
}

/** Parses `raw`; every problem is a ConfigError naming `input` (which the caller has already redacted). */
export function parseUrl(raw: string, input: string): ParsedUrl {
  const control = controlProblem(raw);
  if (control) throw new ConfigError(input, control);
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(raw);
  if (!m) throw new ConfigError(input, 'not a URL (expected scheme://host...)');
  const scheme = (m[1] as string).toLowerCase();
  const afterScheme = raw.length - (m[2] as string).length;
  const rest = m[2] as string;

  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd < 0 ? '' : rest.slice(authorityEnd);
  if (tail.includes('@')) {
    throw new ConfigError(
      input,
      'an "@" follows a "/", "?" or "#": percent-encode those characters in the password (%2F, %3F, %23)',
    );
  }

  let userinfo: UserInfo | undefined;
  let hostText = authority;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const info = authority.slice(0, at);
    hostText = authority.slice(at + 1);
    const colon = info.indexOf(':');
    const rawUser = colon < 0 ? info : info.slice(0, colon);
    const user = decode(rawUser, 'user name', input);
    if (colon < 0) {
      // A lone user name may well be a password written without its colon: hide it all.
      userinfo = { user, password: undefined, hide: [afterScheme, afterScheme + at], rawHidden: info };
    } else {
      const rawPassword = info.slice(colon + 1);
      const start = afterScheme + colon + 1;
      userinfo = {
        user,
        password: decode(rawPassword, 'password', input),
        hide: [start, afterScheme + at],
        rawHidden: rawPassword,
      };
    }
  }

  if (hostText === '') throw new ConfigError(input, 'a host is missing');
  const hosts = hostText.split(',').map((h) => parseHost(h, input));

  if (tail.includes('#')) throw new ConfigError(input, 'a fragment ("#...") has no meaning here');
  const q = tail.indexOf('?');
  const path = q < 0 ? tail : tail.slice(0, q);
  const query: Array<[string, string]> = [];
  if (q >= 0) {
    for (const pair of tail.slice(q + 1).split('&')) {
      if (pair === '') continue;
      if (pair.includes(';')) throw new ConfigError(input, `query "${pair}" has a ";": separate parameters with "&"`);
      const eq = pair.indexOf('=');
      const name = decode((eq < 0 ? pair : pair.slice(0, eq)).replaceAll('+', ' '), 'query', input);
      const value = decode((eq < 0 ? '' : pair.slice(eq + 1)).replaceAll('+', ' '), 'query', input);
      query.push([name, value]);
    }
  }
  return { raw, scheme, userinfo, hosts, path, query };
}

/** The secret spellings a user info carries: the password (or a lone user name), decoded and raw. */
export function userinfoSecrets(info: UserInfo | undefined): string[] {
  if (!info) return [];
  const hidden = info.password ?? info.user;
  return [...new Set([hidden, info.rawHidden])].filter((s) => s !== '');
}
