/**
 * Every code a PostgreSQL target can print of its own, as one closed list: the condition names of PostgreSQL's
 * SQLSTATEs (sqlstates.ts), upper-cased, which also name each class (`08000` CONNECTION_EXCEPTION), and one fixed
 * code for a SQLSTATE outside that table, whatever the server sends. (The codes check.ts composes itself are
 * in src/protocols/codes.ts, the one list.)
 * A server's own code never becomes a code: it stays in the `sqlstate` field, which holds five characters
 * [0-9A-Z] or nothing. No library is imported here, so protocols/codes.ts can build its list from this module without
 * loading pg.
 */
import { SQLSTATES } from './sqlstates.ts';

/** The code of a SQLSTATE that is not in the table, nor of a class in it (or not a SQLSTATE at all). */
export const SQLSTATE_UNKNOWN = 'SQLSTATE_UNKNOWN';

/** A SQLSTATE as the protocol defines it: five digits or upper-case letters. */
export const SQLSTATE_PATTERN = /^[0-9A-Z]{5}$/;

let conditionNames: Map<string, string> | undefined;

function table(): Map<string, string> {
  conditionNames ??= new Map(
    SQLSTATES.trim()
      .split('\n')
      .map((line) => [line.slice(0, 5), line.slice(6).toUpperCase()]),
  );
  return conditionNames;
}

/**
 * The code for a SQLSTATE: its condition name, upper-cased (`INVALID_PASSWORD`); its class's for a code newer
 * than the table (`08P99` → CONNECTION_EXCEPTION); SQLSTATE_UNKNOWN for anything else, so that a peer cannot
 * make up codes.
 */
export function conditionName(sqlstate: string): string {
  if (!SQLSTATE_PATTERN.test(sqlstate)) return SQLSTATE_UNKNOWN;
  const names = table();
  return names.get(sqlstate) ?? names.get(`${sqlstate.slice(0, 2)}000`) ?? SQLSTATE_UNKNOWN;
}

/** Every code conditionName can return: the condition names of the table (each once) and SQLSTATE_UNKNOWN. */
export function sqlstateCodes(): string[] {
  return [...new Set([...table().values(), SQLSTATE_UNKNOWN])];
}
