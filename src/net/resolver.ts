/**
 * Every name lookup a diagnosis makes, behind one interface: the system resolver (getaddrinfo, what clients
 * use) and DNS itself (records with their TTLs). A real run gets the system's; tests inject their own, so
 * that no DNS query leaves the machine.
 */
import { builtin } from '../basics/builtin.ts';
import type { Lookup } from './dial.ts';

/** Every name lookup diagnose makes; tests inject one so that no DNS query leaves the machine. */
export interface Resolver {
  /** What clients use (getaddrinfo: /etc/hosts, the search list, ndots): every address, in order. */
  lookupAll(hostname: string): Promise<Array<{ address: string; family: number }>>;
  /** DNS itself, no search list: A and AAAA records with their TTLs, and the CNAME of a name. */
  resolve4(hostname: string): Promise<Array<{ address: string; ttl: number }>>;
  resolve6(hostname: string): Promise<Array<{ address: string; ttl: number }>>;
  resolveCname(hostname: string): Promise<string[]>;
  /** The text of /etc/resolv.conf (undefined when it cannot be read). */
  resolvConf(): Promise<string | undefined>;
}

/** The resolver of a real run: the system's getaddrinfo, and a c-ares resolver for DNS itself. */
export function systemResolver(): Resolver {
  const dns = builtin('node:dns/promises');
  let resolver: InstanceType<typeof dns.Resolver> | undefined;
  const r = () => (resolver ??= new dns.Resolver({ timeout: 2000, tries: 2 }));
  return {
    lookupAll: (hostname) => dns.lookup(hostname, { all: true, order: 'verbatim' }),
    resolve4: (hostname) => r().resolve4(hostname, { ttl: true }),
    resolve6: (hostname) => r().resolve6(hostname, { ttl: true }),
    resolveCname: (hostname) => r().resolveCname(hostname),
    resolvConf: async () => {
      try {
        return builtin('node:fs').readFileSync('/etc/resolv.conf', 'latin1').slice(0, 64 * 1024);
      } catch {
        return undefined;
      }
    },
  };
}

/** The resolver's `lookupAll` as the checks' Lookup: every address, which dial() tries as a check does. */
export function lookupFrom(resolver: Resolver): Lookup {
  return (hostname) => resolver.lookupAll(hostname);
}
