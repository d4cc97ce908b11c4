/**
 * Redis as the registry knows it: redis://, rediss:// and the sentinel forms, parsed by url.ts; the check
 * (check.ts) and the diagnosis (diagnosis.ts), with ioredis behind them, are loaded only when first used.
 */
import { identity, inputName, makeTarget } from '../make-target.ts';
import type { Protocol } from '../types.ts';
import { parseRedisUrl, REDIS_SCHEMES } from './url.ts';

export const redisProtocol: Protocol = {
  schemes: REDIS_SCHEMES,
  target(raw, from) {
    const { spec, label, secrets, warnings } = parseRedisUrl(raw, inputName(raw, from));
    return makeTarget(
      { label, from, secrets, identity: identity('redis', spec), skipsVerify: spec.skipVerify, ...(warnings.length > 0 ? { warnings } : {}) },
      {
        check: async (name, ctx) => (await import('./check.ts')).createRedisCheck(name, spec, ctx),
        diagnose: async (name, ctx) => (await import('./diagnosis.ts')).diagnoseRedis(name, spec, ctx),
      },
    );
  },
};
