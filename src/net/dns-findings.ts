/**
 * The DNS layer of a diagnosis: the system resolver next to DNS itself, each name of the search list, and the
 * managed endpoint forms (ElastiCache's) whose use a Harbor component gets wrong. Adds its findings to the
 * Report and returns the addresses, or undefined when the name does not resolve.
 */
import { abortable } from '../basics/abort.ts';
import { isIpLiteral } from './dial.ts';
import { ms, type Report } from './report.ts';

interface ResolvConf {
  readonly search: readonly string[];
  readonly ndots: number;
  readonly nameservers: readonly string[];
}

/** resolv.conf as glibc reads it: the last `search` (or `domain`) line wins, ndots defaults to 1. */
export function parseResolvConf(text: string): ResolvConf {
  let search: string[] = [];
  let ndots = 1;
  const nameservers: string[] = [];
  for (const line of text.split('\n')) {
    const [key, ...words] = line.replace(/[#;].*/, '').trim().split(/\s+/);
    if (key === 'search' || key === 'domain') search = words;
    else if (key === 'nameserver' && words[0]) nameservers.push(words[0]);
    else if (key === 'options') {
      for (const w of words) {
        const n = /^ndots:(\d+)$/.exec(w)?.[1];
        if (n !== undefined) ndots = Math.min(15, Number(n));
      }
    }
  }
  return { search, ndots, nameservers };
}

/** The names getaddrinfo tries for `host`, in order: with fewer dots than ndots, each search suffix first. */
export function candidates(host: string, conf: ResolvConf): string[] {
  if (host.endsWith('.')) return [host.slice(0, -1)];
  const suffixed = conf.search.map((s) => `${host}.${s.replace(/\.$/, '')}`);
  const dots = host.split('.').length - 1;
  return dots >= conf.ndots ? [host, ...suffixed] : [...suffixed, host];
}

const ELASTICACHE = /\.cache\.amazonaws\.com(\.cn)?\.?$/i;

/** Which ElastiCache endpoint a name is, from its form; undefined for any other name. */
export function elastiCacheForm(host: string): 'primary-tls' | 'configuration' | 'reader' | 'node' | 'primary' | undefined {
  if (!ELASTICACHE.test(host)) return undefined;
  const first = host.split('.', 1)[0]?.toLowerCase() ?? '';
  if (first === 'master') return 'primary-tls';
  if (first === 'clustercfg') return 'configuration';
  if (first === 'replica' || first.endsWith('-ro')) return 'reader';
  if (/-\d{3,4}$/.test(first)) return 'node';
  return 'primary';
}

/** Checks a name's ElastiCache form against how the URL uses it (Redis only). */
function managedEndpoint(r: Report, host: string, tlsUsed: boolean): void {
  const form = elastiCacheForm(host);
  if (form === undefined) return;
  const name = 'managed endpoint';
  const plain = tlsUsed ? '' : ' over plain redis://';
  switch (form) {
    case 'primary-tls':
      if (tlsUsed) r.ok('dns', name, 'ElastiCache primary endpoint (master.: in-transit encryption), over rediss://');
      else r.fail('dns', name, `ElastiCache primary endpoint with in-transit encryption (master.)${plain}`, 'this endpoint speaks TLS only; plain redis:// hangs until a timeout (goharbor/harbor#20823): use rediss://');
      return;
    case 'configuration':
      r.fail('dns', name, `ElastiCache configuration endpoint (clustercfg.: cluster mode)${plain}`, `Harbor does not speak Redis Cluster: use a cluster-mode-disabled replication group's primary endpoint${tlsUsed ? '' : ', over rediss:// if in-transit encryption is on'}`);
      return;
    case 'reader':
      r.fail('dns', name, 'ElastiCache reader endpoint', 'Harbor writes to Redis (sessions, cache, job queues): a reader endpoint answers writes with -READONLY; use the primary endpoint');
      return;
    case 'node':
      r.warn('dns', name, 'ElastiCache node endpoint', 'a node endpoint stays on that node: after a failover it is a replica and writes fail with -READONLY; use the primary endpoint, which follows the primary');
      return;
    default:
      r.ok('dns', name, `ElastiCache primary endpoint${plain}`);
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'ERROR';
}

/** DNS's own answer for the first candidate that has one: the name, its CNAME chain, and its A / AAAA records. */
async function askDns(r: Report, names: readonly string[]) {
  const { resolver } = r.ctx;
  let lastError: string | undefined;
  for (const name of names) {
    const step = await r.step(async (signal) => {
      const [v4, v6] = await Promise.all([
        abortable(resolver.resolve4(name), signal).catch((err: unknown) => err),
        abortable(resolver.resolve6(name), signal).catch((err: unknown) => err),
      ]);
      return { v4, v6 };
    }, 'dns');
    if (!step.ok) return { error: step.error.code };
    const { v4, v6 } = step.value;
    const records = [...(Array.isArray(v4) ? v4 : []), ...(Array.isArray(v6) ? v6 : [])] as Array<{ address: string; ttl: number }>;
    if (records.length === 0) {
      const codes = [v4, v6].map(codeOf);
      // No such name (or no records of either type): the next candidate. Anything else: DNS could not be asked.
      const missing = codes.every((c) => c === 'ENOTFOUND' || c === 'ENODATA');
      if (!missing) return { error: codes.find((c) => c !== 'ENOTFOUND' && c !== 'ENODATA') as string };
      lastError = 'ENOTFOUND';
      continue;
    }
    const chain: string[] = [];
    let current = name;
    for (let i = 0; i < 8; i++) {
      const next = await r.step((signal) => abortable(resolver.resolveCname(current), signal), 'dns');
      const target = next.ok ? next.value[0] : undefined;
      if (target === undefined || chain.includes(target)) break;
      chain.push(target);
      current = target;
    }
    return { name, chain, records };
  }
  return { error: lastError ?? 'ENOTFOUND' };
}

/**
 * The DNS layer: the system resolver's addresses (what clients connect to), DNS's own records and CNAME chain,
 * resolv.conf's search list and ndots, and whether they agree. Returns the addresses, or undefined when the
 * name does not resolve (and blocks `dns`). `managed` checks an ElastiCache name against the URL's use of TLS.
 */
export async function diagnoseDns(r: Report, host: string, managed?: { tls: boolean }): Promise<string[] | undefined> {
  if (isIpLiteral(host)) {
    r.skip('dns', 'lookup', host, 'an IP address: nothing to resolve');
    return [host];
  }
  const confText = await r.ctx.resolver.resolvConf();
  const conf = parseResolvConf(confText ?? '');
  const tried = candidates(host, conf);
  if (confText === undefined) r.skip('dns', 'resolv.conf', 'not readable', 'the search list and ndots are unknown');
  else {
    const search = conf.search.length > 0 ? conf.search.join(' ') : '(none)';
    const value = `search ${search}; ndots ${conf.ndots}; nameserver ${conf.nameservers.join(', ') || '(none)'}`;
    const dots = host.split('.').length - 1;
    if (!host.endsWith('.') && dots > 0 && dots < conf.ndots && conf.search.length > 0) {
      r.warn('dns', 'resolv.conf', value, `"${host}" has fewer than ${conf.ndots} dots, so each search suffix is tried first (${conf.search.length} extra queries per lookup): end an external name with a dot ("${host}.") or lower ndots in the pod's dnsConfig`);
    } else r.ok('dns', 'resolv.conf', value);
  }

  const looked = await r.step((signal) => abortable(r.ctx.resolver.lookupAll(host), signal), 'dns');
  const addresses = looked.ok ? looked.value.map((a) => a.address) : [];
  if (!looked.ok || addresses.length === 0) {
    const code = looked.ok ? 'ENOTFOUND' : looked.error.code;
    const names = tried.slice(0, 4).join(', ') + (tried.length > 4 ? ', ...' : '');
    r.fail('dns', 'system resolver', `${host}: ${code}`, `the name does not resolve (tried ${names}): check the Service's name and namespace, or that the cluster DNS is up`, looked.ms);
  } else {
    r.ok('dns', 'system resolver', `${host}: ${addresses.join(', ')}`, looked.ms);
  }

  if (/^localhost\.?$|\.localhost\.?$/i.test(host)) {
    r.skip('dns', 'dns records', host, 'a localhost name is answered on the machine (RFC 6761), never by DNS');
    if (addresses.length === 0) r.block('dns', `${host} does not resolve`);
    return addresses.length > 0 ? addresses : undefined;
  }
  const answer = await askDns(r, tried);
  if ('error' in answer) {
    const status = answer.error === 'ENOTFOUND' ? `no A or AAAA record for ${tried.join(', ')}` : `could not ask DNS (${answer.error})`;
    if (addresses.length > 0) {
      r.warn('dns', 'dns records', status, 'the system resolver answers from elsewhere (/etc/hosts, a local cache, or a search suffix DNS does not know): check that the answer is meant');
    } else {
      r.fail('dns', 'dns records', status, 'DNS has no address for this name either');
    }
  } else {
    const chain = answer.chain.length > 0 ? ` CNAME ${answer.chain.join(' -> ')};` : '';
    const records = answer.records.map((rec) => `${rec.address} (ttl ${rec.ttl} s)`).join(', ');
    const dnsSet = new Set(answer.records.map((rec) => rec.address));
    const sysSet = new Set(addresses);
    const agree = addresses.length === 0 || (dnsSet.size === sysSet.size && [...sysSet].every((a) => dnsSet.has(a)));
    const value = `${answer.name}:${chain} ${records}`;
    if (agree) r.ok('dns', 'dns records', value);
    else {
      r.warn('dns', 'dns records', value, `the system resolver says ${addresses.join(', ')}, DNS says ${[...dnsSet].join(', ')}: /etc/hosts (hostAliases), a stale cache or a changed record; clients connect to what the system resolver says`);
    }
  }
  // The form of the name in the URL, or else of the managed name its CNAME chain leads to.
  if (managed) {
    const named = [host, ...('error' in answer ? [] : answer.chain)].find((n) => elastiCacheForm(n) !== undefined);
    if (named) managedEndpoint(r, named, managed.tls);
  }

  if (addresses.length === 0) {
    r.block('dns', `${host} does not resolve`);
    return undefined;
  }
  return addresses;
}
