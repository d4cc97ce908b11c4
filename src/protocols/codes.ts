/**
 * Every code harbor-wait can print: the `code` of a `not_ready` line, of `/readyz` and of the
 * `harbor_wait_failures_total` series, and of the termination message. One closed list, so that scripts can
 * branch on a code, the docs list each (a test holds their table to this list), and nothing a peer sends
 * can grow the number of /metrics series. A library's or Node's own error code never reaches the output:
 * net/classify.ts maps what it does not know to `UNKNOWN`, and engine/metrics.ts counts any code not listed here as
 * `UNKNOWN` too. Besides the single codes (basics/single-codes.ts), four families: `HTTP_<status>`, `<STAGE>_TIMEOUT`, Redis's own
 * error prefixes and PostgreSQL's condition names. Loaded by the sidecar's metrics and by tests only.
 */
import { CODES } from '../basics/single-codes.ts';
import { sqlstateCodes } from './postgres/sqlstate-names.ts';
import { REDIS_ERROR_CODES } from './redis/replies.ts';

export { CODES } from '../basics/single-codes.ts';


/** The stages a `<STAGE>_TIMEOUT` code names (net/classify.ts's stageTimeout). */
export const TIMEOUT_STAGES = ['dns', 'connect', 'tls', 'auth', 'response'] as const;

export interface Family {
  /** As the README's table writes it. */
  readonly name: string;
  readonly stage: string;
  readonly meaning: string;
  has(code: string): boolean;
}

let conditionNames: Set<string> | undefined;

/** PostgreSQL's condition names, upper-cased (`INVALID_PASSWORD`), from its errcodes.txt (sqlstates.ts). */
export function isConditionName(code: string): boolean {
  conditionNames ??= new Set(sqlstateCodes());
  return conditionNames.has(code);
}

const REDIS_CODES = Object.keys(REDIS_ERROR_CODES);

export const FAMILIES: readonly Family[] = [
  {
    name: 'HTTP_<status>',
    stage: 'auth (401, 403) or response',
    meaning: 'the server answered with a status that was not expected',
    has: (code) => /^HTTP_[1-5]\d\d$/.test(code),
  },
  {
    name: '<STAGE>_TIMEOUT',
    stage: 'timeout',
    meaning: 'the attempt timeout ended an attempt during that stage: DNS_, CONNECT_, TLS_, AUTH_, RESPONSE_TIMEOUT',
    has: (code) => TIMEOUT_STAGES.some((s) => code === `${s.toUpperCase()}_TIMEOUT`),
  },
  {
    name: 'Redis error prefixes',
    stage: 'auth (NOAUTH, WRONGPASS) or response',
    meaning: `the server answered with an error reply of that kind (any other first word is ERR): ${REDIS_CODES.join(', ')}`,
    has: (code) => REDIS_CODES.includes(code),
  },
  {
    name: 'PostgreSQL condition names',
    stage: 'auth (class 28) or response',
    meaning: 'the server answered with that SQLSTATE, by its name in errcodes.txt: 28P01 INVALID_PASSWORD, 53300 TOO_MANY_CONNECTIONS, ...',
    has: isConditionName,
  },
];

/** Whether harbor-wait documents `code`. */
export function isKnownCode(code: string): boolean {
  return Object.hasOwn(CODES, code) || FAMILIES.some((f) => f.has(code));
}

/** `code` when it is documented, else `UNKNOWN`: what /metrics counts, so that no peer can grow its series. */
export function knownCode(code: string): string {
  return isKnownCode(code) ? code : 'UNKNOWN';
}
