/**
 * HTTP as the registry knows it: http:// and https:// URLs, and Harbor core's configuration API (from
 * `--harbor-core`), parsed by url.ts; the check (check.ts) and the diagnosis (diagnosis.ts), with undici behind
 * them, are loaded only when first used.
 */
import { identity, inputName, makeTarget } from '../make-target.ts';
import type { Protocol, Target } from '../types.ts';
import { parseHarborCore, parseHttpUrl } from './url.ts';

export const httpProtocol: Protocol = {
  schemes: ['http', 'https'],
  target(raw, from) {
    const { spec, label, secrets } = parseHttpUrl(raw, inputName(raw, from));
    return makeTarget(
      { label, from, secrets, identity: identity('http', spec) },
      {
        check: async (name, ctx) => (await import('./check.ts')).createHttpCheck(name, spec, ctx),
        diagnose: async (name, ctx) => (await import('./diagnosis.ts')).diagnoseHttp(name, spec, ctx, false),
      },
    );
  },
};

/** Harbor core's configuration API as a target, from `--harbor-core` / `WAIT_HARBOR_CORE`. */
export function harborCoreTarget(raw: string, from: string, secret: string): Target {
  const { spec, label, secrets } = parseHarborCore(raw, inputName(raw, from), secret);
  return makeTarget(
    { label, from, secrets, identity: identity('harbor-core', spec) },
    {
      check: async (name, ctx) => (await import('./check.ts')).createHttpCheck(name, spec, ctx),
      diagnose: async (name, ctx) => (await import('./diagnosis.ts')).diagnoseHttp(name, spec, ctx, true),
    },
  );
}
