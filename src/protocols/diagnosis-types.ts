/**
 * The shapes of `harbor-wait diagnose`: a finding is one line of the report (layer, name, status, value, hint);
 * a target's findings are gathered by a Report, which also times each step and knows which layers failed, so
 * that a check whose prerequisite failed is `skip`, saying which.
 */
import type { CheckContext } from './types.ts';

export type Status = 'ok' | 'warn' | 'fail' | 'skip';

/** The layers, in the order the report shows them. Public: the `layer` field of the JSON. */
export const LAYERS = ['url', 'dns', 'tcp', 'tls', 'auth', 'server', 'limits', 'settings'] as const;
export type Layer = (typeof LAYERS)[number];

/** One check's result. `hint` (what to do) is given for warn and fail, and for a skip says which prerequisite failed. */
export interface Finding {
  readonly layer: Layer;
  readonly name: string;
  readonly status: Status;
  /** What was measured or read, for a person: `3 ms`, `7.2.4 (valkey 8.0.1)`, `91% of 1 MiB (noeviction)`. */
  readonly value: string;
  readonly hint?: string;
  /** How long the check took (shown with --log-level debug). */
  readonly ms?: number;
}

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

/** What a target's diagnosis needs besides a check's context. */
export interface DiagnoseContext extends CheckContext {
  readonly resolver: Resolver;
  /** Bounds each step (one connect, one handshake, one command). */
  readonly stepTimeoutMs: number;
  /** The run's signal: aborted on SIGTERM / SIGINT. */
  readonly signal: AbortSignal;
}

/** What one target's diagnosis tells the pod-settings checks (a Redis loading, with its ETA). */
export interface Facts {
  loadingEtaSeconds?: number;
}

export interface TargetReport {
  readonly target: string;
  readonly findings: readonly Finding[];
  readonly facts: Facts;
}
