/**
 * diagnose for http(s) targets and Harbor core: the URL, DNS, TCP, TLS (for https; for http, whether the
 * port speaks TLS after all), then the server. A plain target gets one GET judged by its status, exactly as
 * the waiter judges it. Harbor core gets three: `/api/v2.0/ping` (is core up), `/api/v2.0/health` (what core
 * says of its components; only their names, statuses and scrubbed error lines are shown), and the config API
 * with the jobservice secret, as jobservice calls it (its body holds secrets: it is never read).
 *
 * Every request is one GET through an undici Client over dial() (check.ts), bounded by the step
 * timeout, never retried, its client destroyed on every path.
 */
import type { Dispatcher } from 'undici';
import type Client from 'undici/lib/dispatcher/client.js';
import { abortable } from '../../basics/abort.ts';
import { hostPort, tlsOptions, type DialOptions } from '../../net/dial.ts';
import { isBug, NotReady, type Progress } from '../../basics/errors.ts';
import { dialingClient, requestStatus, responseError, type Connection } from './check.ts';
import { CORE_CONFIG_PATH, type HttpSpec } from './url.ts';
import { redactQuery } from '../url.ts';
import { opensslWords } from '../../net/tls-errors.ts';
import { scrubText } from '../../basics/redact.ts';
import { ms, Report, type TargetReport } from '../../net/report.ts';
import { diagnoseDns } from '../../net/dns-findings.ts';
import { diagnoseTcp } from '../../net/tcp-findings.ts';
import { diagnoseTls, plainOnTls } from '../../net/tls-findings.ts';
import type { DiagnoseContext, DiagnosisReport } from '../types.ts';

const PING_PATH = '/api/v2.0/ping';
const HEALTH_PATH = '/api/v2.0/health';
/** The most of core's health body that is read. */
export const MAX_HEALTH_BYTES = 64 * 1024;
/** The most of the ping body that is read: "Pong", or a proxy's "no healthy upstream". */
const MAX_PING_BYTES = 256;
/** A component's error, as shown: one line of at most this many characters. */
const MAX_ERROR_CHARS = 200;
/** At most this many components get a finding of their own (Harbor has about ten). */
const MAX_COMPONENTS = 32;
/** Components without which Harbor cannot work: unhealthy is a failure; for the others a warning. */
const VITAL = new Set(['core', 'database', 'redis']);

/** What each of core's checks asks for (a plain target's `status` asks for its own path). */
const PATHS: Record<string, string> = { 'core ping': PING_PATH, 'core health': HEALTH_PATH, 'config api': CORE_CONFIG_PATH };

/** Where requests go, and how: everything but the path and the headers. */
interface Endpoint {
  readonly origin: string;
  readonly host: string;
  readonly port: number;
  readonly peer: string;
  readonly https: boolean;
  readonly tls: DialOptions['tls'];
  readonly hostHeader: string;
}

interface Answer {
  readonly status: number;
  /** The body, at most the limit asked for; empty when none was wanted. */
  readonly body: Buffer;
  /** The body went on past the limit (and was not read further). */
  readonly truncated: boolean;
}

/** Sends the GET and resolves with the final status and at most `maxBytes` of the body. */
function requestBody(client: Client, path: string, headers: Record<string, string>, maxBytes: number): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    let settled = false;
    let status = 0;
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (truncated: boolean) => {
      if (settled) return;
      settled = true;
      resolve({ status, body: Buffer.concat(chunks).subarray(0, maxBytes), truncated });
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {},
      onResponseStart(_controller, statusCode) {
        if (statusCode < 200) return; // never: dialingClient's connection drops interim heads before undici reads them
        status = statusCode;
      },
      onResponseData(controller, chunk) {
        if (settled) return;
        chunks.push(chunk);
        size += chunk.length;
        if (size > maxBytes) {
          settle(true);
          controller.abort(new Error('the body is longer than diagnose reads'));
        }
      },
      onResponseEnd() {
        settle(false);
      },
      onResponseError(_controller, error) {
        if (!settled) reject(error);
        settled = true;
      },
    };
    client.dispatch({ method: 'GET', path, headers, reset: true, headersTimeout: 0, bodyTimeout: 0 }, handler);
  });
}

/**
 * One GET of `path` as one step: the status (and, with `maxBody`, that much of the body), or the failure as
 * the waiter would name it. The client is destroyed whatever happens.
 */
async function get(r: DiagnosisReport, ep: Endpoint, path: string, extra: Readonly<Record<string, string>>, maxBody: number) {
  const headers = { host: ep.hostHeader, 'user-agent': r.ctx.userAgent, ...extra };
  return r.step(async (signal: AbortSignal, progress: Progress) => {
    progress.stage = 'connect';
    const opened = dialingClient(ep.origin, { host: ep.host, port: ep.port, tls: ep.tls, lookup: r.ctx.lookup, signal, progress });
    const connection: Connection = opened.connection;
    try {
      if (maxBody === 0) {
        const status = await abortable(requestStatus(opened.client, path, headers), signal);
        return { status, body: Buffer.alloc(0), truncated: false } satisfies Answer;
      }
      return await abortable(requestBody(opened.client, path, headers, maxBody), signal);
    } catch (err) {
      if (signal.aborted || isBug(err)) throw err;
      throw responseError(err, connection.wire, ep.peer, ep.https);
    } finally {
      opened.client.destroy().catch(() => {});
    }
  }, 'connect');
}

/** A request that got no HTTP answer, for a value: its code and how long it took (the reason goes in the hint). */
function noAnswer(err: NotReady, took: number): string {
  return `no answer: ${err.code} after ${ms(took)}`;
}

/** True for a failure a plain client meets at a TLS port: no answer, the connection closed, or bytes that are not HTTP. */
function noHttpAnswer(err: NotReady): boolean {
  return err.stage === 'timeout' || err.code === 'CONNECTION_CLOSED' || err.code === 'ECONNRESET' || err.code === 'NOT_HTTP';
}

/** For plain http only: a request that got no HTTP answer may have met a TLS port; says so when it did. */
async function checkPlainOnTls(r: DiagnosisReport, ep: Endpoint, err: NotReady): Promise<void> {
  if (!ep.https && noHttpAnswer(err)) await plainOnTls(r, ep.host, ep.port, 'https://');
}

/** Text from a server, made safe for one report line: one line, no credentials, at most `max` characters. */
export function scrubLine(text: string, max = MAX_ERROR_CHARS): string {
  // Every known secret in every spelling first (redact.ts), then what looks like a credential of any other.
  let line = (scrubText(text).split(/\r?\n/, 1)[0] ?? '').replace(/[^\x20-\x7e]/g, '?').trim();
  line = line
    // user info in a URL: redis://:password@host, postgres://user:password@host
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@')
    // libpq key=value strings and the like: password=..., token=..., secret: ...
    .replace(/\b(password|passwd|pwd|secret|token)(\s*=\s*)("[^"]*"|'[^']*'|[^\s,;&)]+)/gi, '$1$2***')
    .replace(/\b(password|passwd|secret)(:\s*)("[^"]*"|'[^']*'|[^\s,;&)]+)/gi, '$1$2***')
    // an Authorization header's value
    .replace(/\b(Harbor-Secret|Basic|Bearer)\s+[^\s,;]+/g, '$1 ***');
  line = redactQuery(line).text;
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/** A component name as Harbor writes it (`redis`, `registryctl`), or undefined for anything else. */
function plainWord(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/.test(value) ? value : undefined;
}

interface Component {
  readonly name: string;
  readonly status: string;
  readonly error: string | undefined;
}

/** core's health body as Harbor writes it, or undefined when it is something else. */
function parseHealth(body: Buffer): { status: string; components: Component[] } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const { status, components } = json as { status?: unknown; components?: unknown };
  const overall = plainWord(status);
  if (overall === undefined || !Array.isArray(components)) return undefined;
  const out: Component[] = [];
  for (const c of components as unknown[]) {
    if (typeof c !== 'object' || c === null) return undefined;
    const { name, status: s, error } = c as { name?: unknown; status?: unknown; error?: unknown };
    const n = plainWord(name);
    const st = plainWord(s);
    if (n === undefined || st === undefined) return undefined;
    out.push({ name: n, status: st, error: typeof error === 'string' && error.trim() !== '' ? error : undefined });
  }
  return { status: overall, components: out };
}

/** What to do about an unhealthy component, by name. */
function componentHint(name: string): string {
  switch (name) {
    case 'redis':
      return "core cannot use Redis: check _REDIS_URL_CORE (diagnose the same URL as a target), and that Redis is up and not loading";
    case 'database':
      return "core cannot use its database: check POSTGRESQL_HOST / _PORT / _USERNAME / _PASSWORD / _DATABASE / _SSLMODE (diagnose with --preset core), and that PostgreSQL is up";
    case 'core':
      return "core reports itself unhealthy: read core's logs";
    case 'jobservice':
      return "expected while jobservice's pod is still starting (its init container waits for core); replication, scans and garbage collection do not run until it is up";
    case 'registry':
    case 'registryctl':
      return `pushes and pulls need the ${name}: check its pod and logs`;
    default:
      return `${name} is unhealthy: check its pod and logs (Harbor works without it, with less)`;
  }
}

/** The URL layer, as the user wrote the target (redacted): what diagnose will call and with what. */
function urlFinding(r: DiagnosisReport, spec: HttpSpec, core: boolean, ep: Endpoint): void {
  const { url } = spec;
  const scheme = url.protocol.slice(0, -1);
  const port = url.port ? ep.port : `${ep.port} (default)`;
  if (core) {
    const given = /^Harbor-Secret \S/.test(spec.headers.authorization ?? '');
    const base = `${url.protocol}//${url.host}`;
    const value = `Harbor core at ${base} (${scheme}, host ${ep.host}, port ${port}); JOBSERVICE_SECRET ${given ? 'given (not shown)' : 'missing'} for ${CORE_CONFIG_PATH}`;
    if (given) r.ok('url', 'url', value);
    else r.fail('url', 'url', value, 'give the jobservice secret in env JOBSERVICE_SECRET or --harbor-secret-file');
    return;
  }
  const path = `${url.pathname}${redactQuery(url.search).text}`;
  const auth = spec.headers.authorization !== undefined ? '; Basic authentication from the URL (not shown)' : '';
  r.ok('url', 'url', `${scheme}, host ${ep.host}, port ${port}, path ${path}${auth}; expecting ${r.ctx.expectStatus.text}`);
}

export async function diagnoseHttp(label: string, spec: HttpSpec, ctx: DiagnoseContext, core: boolean): Promise<TargetReport> {
  const r = new Report(label, ctx);
  const { url } = spec;
  const https = url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : https ? 443 : 80;
  const endpoint = { origin: url.origin, host, port, peer: hostPort(host, port), https, tls: undefined, hostHeader: url.host };
  urlFinding(r, spec, core, endpoint);
  const serverChecks = core ? ['core ping', 'core health', 'config api'] : ['status'];
  const skipServer = (why: string) => {
    for (const name of serverChecks) r.skip(name === 'config api' ? 'auth' : 'server', name, `GET ${PATHS[name] ?? url.pathname}`, why);
  };

  const addresses = await diagnoseDns(r, host);
  if (!addresses) {
    const why = r.blocked('dns') ?? 'the name does not resolve';
    r.skip('tcp', 'connect', endpoint.peer, why);
    if (https) r.skip('tls', 'handshake', endpoint.peer, why);
    skipServer(why);
    return r.result();
  }
  const open = await diagnoseTcp(r, addresses, port);
  if (!open) {
    const why = r.blocked('tcp') ?? 'no TCP connection';
    if (https) r.skip('tls', 'handshake', endpoint.peer, why);
    skipServer(why);
    return r.result();
  }

  let ep: Endpoint = endpoint;
  if (https) {
    let options: Awaited<ReturnType<typeof tlsOptions>>;
    try {
      options = await tlsOptions(ctx.tls);
    } catch (err) {
      const why = 'the TLS settings cannot be used';
      r.fail('tls', 'handshake', `not tried: ${err instanceof Error ? scrubLine(opensslWords(err.message)) : 'bad TLS settings'}`, 'check --ca-file, --cert-file and --key-file (PEM files; the key must match the certificate)');
      skipServer(why);
      return r.result();
    }
    const passes = await diagnoseTls(r, {
      host,
      address: open[0] as string,
      port,
      options,
      verify: 'full',
      ...(ctx.tls.insecureSkipVerify ? { reason: '--insecure-skip-verify' } : {}),
      plainHint: 'http://',
      trustedPem: ctx.tls.ca,
    });
    if (!passes) {
      skipServer(r.blocked('tls') ?? 'TLS failed');
      return r.result();
    }
    ep = { ...endpoint, tls: options };
  }

  if (core) await coreChecks(r, spec, ep);
  else await statusCheck(r, spec, ep);
  return r.result();
}

/** A plain target: one GET, its status judged as the waiter judges it. */
async function statusCheck(r: DiagnosisReport, spec: HttpSpec, ep: Endpoint): Promise<void> {
  const path = spec.url.pathname + spec.url.search;
  const step = await get(r, ep, path, spec.headers, 0);
  if (!step.ok) {
    r.fail('server', 'status', noAnswer(step.error, step.ms), step.error.reason, step.ms);
    await checkPlainOnTls(r, ep, step.error);
    return;
  }
  const { status } = step.value;
  const notReady = spec.judge(status, ep.peer, r.ctx.expectStatus);
  const value = `${status} in ${ms(step.ms)} (expecting ${r.ctx.expectStatus.text})`;
  if (notReady) r.fail('server', 'status', value, `${notReady.reason}; set --expect-status if that status means ready`, step.ms);
  else r.ok('server', 'status', value, step.ms);
}

/** Harbor core: ping, health, and the config API with the secret. */
async function coreChecks(r: DiagnosisReport, spec: HttpSpec, ep: Endpoint): Promise<void> {
  const secret = (spec.headers.authorization ?? '').replace(/^Harbor-Secret /, '');

  // GET /api/v2.0/ping: "Pong" from core whatever its dependencies' state.
  const ping = await get(r, ep, PING_PATH, {}, MAX_PING_BYTES);
  if (!ping.ok) {
    const notUp = ping.error.code === 'ECONNREFUSED' ? "; core does not listen before its start-up (Redis, then the database) is done: read core's logs" : '';
    r.fail('server', 'core ping', noAnswer(ping.error, ping.ms), `${ping.error.reason}${notUp}`, ping.ms);
    await checkPlainOnTls(r, ep, ping.error);
    const why = 'core ping got no HTTP answer';
    r.skip('server', 'core health', `GET ${HEALTH_PATH}`, why);
    r.skip('auth', 'config api', `GET ${CORE_CONFIG_PATH}`, why);
    return;
  }
  const { status, body } = ping.value;
  const text = body.toString('latin1').trim();
  if (status === 200 && text === 'Pong') r.ok('server', 'core ping', `200 Pong in ${ms(ping.ms)}`, ping.ms);
  else if (status === 200) {
    r.fail('server', 'core ping', `200 without "Pong" in ${ms(ping.ms)}`, `something other than Harbor core answers at ${ep.origin}: give core's base URL (CORE_URL)`, ping.ms);
  } else if (status === 502 || status === 503 || status === 504) {
    const upstream = /no healthy upstream/i.test(text) ? ' (no healthy upstream)' : '';
    r.fail('server', 'core ping', `${status}${upstream} in ${ms(ping.ms)}`, `core itself never answers ${status}: a proxy or mesh in front of it has no ready core behind it; core is not up yet (read its logs: Redis and the database come first)`, ping.ms);
  } else if (status === 404) {
    r.fail('server', 'core ping', `404 in ${ms(ping.ms)}`, `no ${PING_PATH} at ${ep.origin}: this is not Harbor core's base URL (CORE_URL, e.g. http://harbor-core:80)`, ping.ms);
  } else {
    r.fail('server', 'core ping', `${status} in ${ms(ping.ms)}`, `Harbor core answers ${PING_PATH} with 200 "Pong": something else answers at ${ep.origin}`, ping.ms);
  }

  await healthCheck(r, ep, secret);

  // The config API exactly as jobservice (and the waiter) calls it: only the status; the body holds secrets.
  const config = await get(r, ep, CORE_CONFIG_PATH, spec.headers, 0);
  if (!config.ok) {
    r.fail('auth', 'config api', noAnswer(config.error, config.ms), config.error.reason, config.ms);
    return;
  }
  const code = config.value.status;
  const took = ms(config.ms);
  if (code === 200) r.ok('auth', 'config api', `200 in ${took}: the secret is accepted`, config.ms);
  else if (code === 401 || code === 403) {
    r.fail('auth', 'config api', `${code} in ${took}: the secret is rejected`, 'core rejected the secret: give the JOBSERVICE_SECRET core has (not CORE_SECRET), from the Secret the chart makes (<fullname>-jobservice, key JOBSERVICE_SECRET, or jobservice.existingSecret)', config.ms);
  } else if (code === 500) {
    r.fail('auth', 'config api', `500 in ${took}: core's internal error`, "core could not read its configuration: its database (or Redis) is not usable yet; see the health findings and core's logs", config.ms);
  } else {
    const reason = spec.judge(code, ep.peer, r.ctx.expectStatus)?.reason ?? `core answered ${code}, expected 200`;
    r.fail('auth', 'config api', `${code} in ${took}`, reason, config.ms);
  }
}

/** GET /api/v2.0/health: one finding for the whole, one per component (name, status, a scrubbed error line). */
async function healthCheck(r: DiagnosisReport, ep: Endpoint, secret: string): Promise<void> {
  const step = await get(r, ep, HEALTH_PATH, {}, MAX_HEALTH_BYTES);
  if (!step.ok) {
    r.fail('server', 'core health', noAnswer(step.error, step.ms), step.error.reason, step.ms);
    return;
  }
  const { status, body, truncated } = step.value;
  const took = ms(step.ms);
  if (status !== 200) {
    const proxy = status === 502 || status === 503 || status === 504;
    const hint = proxy
      ? `core itself never answers ${status}: a proxy or mesh in front of it has no ready core behind it`
      : `Harbor core answers ${HEALTH_PATH} with 200 whatever its state: something else answers there`;
    r.warn('server', 'core health', `${status} in ${took}`, hint, step.ms);
    return;
  }
  const health = truncated ? undefined : parseHealth(body);
  if (!health) {
    const what = truncated ? `a body over ${MAX_HEALTH_BYTES / 1024} KiB` : `a body that is not Harbor's health JSON (${body.length} bytes)`;
    r.warn('server', 'core health', `200 with ${what}, in ${took}`, `expected {"status", "components": [{"name", "status", "error"}]} as Harbor core writes it: is this core's base URL?`, step.ms);
    return;
  }
  const unhealthy = health.components.filter((c) => c.status !== 'healthy');
  const vital = unhealthy.filter((c) => VITAL.has(c.name));
  const summary = `${health.status}, ${health.components.length - unhealthy.length} of ${health.components.length} components healthy${unhealthy.length > 0 ? ` (not: ${unhealthy.map((c) => c.name).join(', ')})` : ''}, in ${took}`;
  if (health.status === 'healthy' && unhealthy.length === 0) r.ok('server', 'core health', summary, step.ms);
  else if (vital.length > 0) r.fail('server', 'core health', summary, `Harbor cannot work without ${vital.map((c) => c.name).join(' and ')}: see the health findings`, step.ms);
  else r.warn('server', 'core health', summary, 'see the health findings', step.ms);

  for (const c of health.components.slice(0, MAX_COMPONENTS)) {
    const name = `health ${c.name}`;
    if (c.status === 'healthy') {
      r.ok('server', name, 'healthy');
      continue;
    }
    const value = `${c.status}${c.error !== undefined ? `: ${scrubLine(c.error)}` : ''}`;
    if (VITAL.has(c.name)) r.fail('server', name, value, componentHint(c.name));
    else r.warn('server', name, value, componentHint(c.name));
  }
}
