/** Runs single attempts of real checks in-process, with an injected resolver so no DNS query leaves the machine. */
import { NotReady, type Stage, type Progress } from '../../src/basics/errors.ts';
import { parseStatusSet, type StatusSet } from '../../src/basics/status-set.ts';
import { parseTarget } from '../../src/protocols/registry.ts';
import type { CheckContext, Ready } from '../../src/protocols/types.ts';
import type { Target } from '../../src/protocols/types.ts';
import type { Lookup } from '../../src/net/dial.ts';
import type { TlsSettings } from '../../src/net/dial.ts';

/** Resolves the given names to 127.0.0.1; every other name fails as an unknown name would. */
export function loopbackLookup(names: readonly string[] = ['localhost']): Lookup {
  return async (hostname) => {
    if (names.includes(hostname)) return [{ address: '127.0.0.1', family: 4 }];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
  };
}

export function context(over: { tls?: Partial<TlsSettings>; expect?: string; lookup?: Lookup } = {}): CheckContext {
  return {
    tls: { insecureSkipVerify: false, ...over.tls },
    expectStatus: parseStatusSet(over.expect ?? '200-299') as StatusSet,
    lookup: over.lookup ?? loopbackLookup(),
    userAgent: 'harbor-wait-test',
  };
}

/** Ready, not ready, or still going when the time ran out (and at which stage). */
export type Outcome = { ready: Ready } | { notReady: NotReady } | { aborted: Stage };

/** One attempt of `target` (a URL or a parsed Target), aborted after `ms`. */
export async function attemptOnce(target: string | Target, ctx = context(), ms = 5000): Promise<Outcome> {
  const parsed = typeof target === 'string' ? parseTarget(target, 'test') : target;
  const check = await parsed.createCheck(ctx);
  const progress: Progress = { stage: 'connect' };
  const signal = AbortSignal.timeout(ms);
  try {
    return { ready: await check.attempt(signal, progress) };
  } catch (err) {
    if (err instanceof NotReady) return { notReady: err };
    if (signal.aborted && err === signal.reason) return { aborted: progress.stage };
    throw err;
  }
}

/** The NotReady of an outcome, failing the test when it was ready. */
function describe(outcome: Outcome): string {
  if ('ready' in outcome) return `ready at ${outcome.ready.address}`;
  if ('aborted' in outcome) return `aborted during ${outcome.aborted}`;
  return `${outcome.notReady.stage}/${outcome.notReady.code}: ${outcome.notReady.reason}`;
}

export function notReady(outcome: Outcome): NotReady {
  if ('notReady' in outcome) return outcome.notReady;
  throw new Error(`expected not ready, got ${describe(outcome)}`);
}

export function ready(outcome: Outcome): Ready {
  if ('ready' in outcome) return outcome.ready;
  throw new Error(`expected ready, got ${describe(outcome)}`);
}

/** The stage an attempt was in when its time ran out. */
export function abortedAt(outcome: Outcome): Stage {
  if ('aborted' in outcome) return outcome.aborted;
  throw new Error(`expected the attempt to hang until aborted, got ${describe(outcome)}`);
}

/** Polls `fn` until it returns true, for at most `ms` (a generous bound, not a timing assertion). */
export async function eventually(fn: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
