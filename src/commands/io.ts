/**
 * What one run of harbor-wait is given from outside, in one object: argv, env, standard input, the two output
 * streams, the signal that SIGTERM / SIGINT abort, and the injectable name lookups and randomness that keep
 * tests on loopback and repeatable. Only main.ts builds it from `process`; tests build their own.
 */
import { ExitCode } from '../basics/exit-codes.ts';
import type { Lookup } from '../net/dial.ts';
import type { Resolver } from '../net/resolver.ts';

export interface Io {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes to standard output / error; each call is one or more whole lines. */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Standard input, opened when a command reads it (`lint -`). */
  readonly stdin?: () => AsyncIterable<Uint8Array>;
  /** Aborted on SIGTERM or SIGINT, with a Shutdown as its reason. */
  readonly signal: AbortSignal;
  /** Name resolution; tests inject one so that no DNS query leaves the machine. */
  readonly lookup?: Lookup;
  /** Every lookup `diagnose` makes (the system resolver and DNS itself); tests inject one, as for `lookup`. */
  readonly resolver?: Resolver;
  /** The jitter's random source, for tests. */
  readonly random?: () => number;
  /** How often `waiting` is logged; 10 s unless a test says otherwise. */
  readonly heartbeatMs?: number;
}

/** The reason a run is cancelled: the signal that stopped it. */
export class Shutdown {
  readonly signal: 'SIGTERM' | 'SIGINT';
  constructor(signal: 'SIGTERM' | 'SIGINT') {
    this.signal = signal;
  }
}

/** The exit code of a run the signal ended: 130 for SIGINT, 143 for SIGTERM. */
export function cancelledCode(reason: unknown): ExitCode {
  return reason instanceof Shutdown && reason.signal === 'SIGINT' ? ExitCode.Sigint : ExitCode.Sigterm;
}
