/**
 * The registry of protocols: scheme → the protocol's folder. Parsing is synchronous and light, and needs no
 * library. Each protocol's check and diagnosis (and the library it speaks through: ioredis for Redis, undici
 * for HTTP, pg for PostgreSQL) are imported only when first used, so a run loads only what its targets need.
 * A new protocol is one folder beside redis/ (url.ts, target.ts, check.ts, diagnosis.ts) and one line here.
 * The layers above know protocols through this file, types.ts and codes.ts only.
 */
import { ConfigError } from '../basics/errors.ts';
import { httpProtocol } from './http/target.ts';
import { inputName } from './make-target.ts';
import { postgresProtocol } from './postgres/target.ts';
import { redisProtocol } from './redis/target.ts';
import { tcpProtocol } from './tcp/target.ts';
import type { Protocol, Target } from './types.ts';

export type { Target } from './types.ts';
export { harborCoreTarget } from './http/target.ts';
export { postgresTarget } from './postgres/target.ts';

const PROTOCOLS: readonly Protocol[] = [redisProtocol, postgresProtocol, httpProtocol, tcpProtocol];
const SCHEMES = PROTOCOLS.flatMap((p) => p.schemes);

/** Parses one target URL; `from` says where it came from (`argument`, `WAIT_TARGETS`). */
export function parseTarget(raw: string, from: string): Target {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new ConfigError(inputName(raw, from), `not a target URL; use one of ${SCHEMES.map((s) => `${s}://`).join(', ')}`);
  }
  const protocol = PROTOCOLS.find((p) => p.schemes.includes(scheme));
  if (protocol) return protocol.target(raw, from);
  throw new ConfigError(
    inputName(raw, from),
    `scheme "${scheme}" is not supported; use one of ${SCHEMES.map((s) => `${s}://`).join(', ')}`,
  );
}
