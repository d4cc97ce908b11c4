/**
 * PostgreSQL as the registry knows it: postgres:// and postgresql:// URLs parsed by url.ts, and the same target
 * built from core's own variables (config/core-database.ts); the check (check.ts) and the diagnosis
 * (diagnosis.ts), with pg behind them, are loaded only when first used.
 */
import type { Finding } from '../../net/report.ts';
import { identity, inputName, makeTarget } from '../make-target.ts';
import type { Protocol, Target } from '../types.ts';
import { ownVerification, parsePostgresUrl, POSTGRES_SCHEMES, type PostgresSpec } from './url.ts';

/** A PostgreSQL target from its settings: a postgres:// URL, or core's variables (config/presets.ts). */
export function postgresTarget(spec: PostgresSpec, label: string, from: string, secrets: readonly string[], urlFindings: readonly Finding[] = []): Target {
  const verifies = ownVerification(spec);
  return makeTarget(
    { label, from, secrets, identity: identity('postgres', spec), ...(verifies ? { verifiesItself: verifies } : {}) },
    {
      check: async (name, ctx) => (await import('./check.ts')).createPostgresCheck(name, spec, ctx),
      diagnose: async (name, ctx) => (await import('./diagnosis.ts')).diagnosePostgres(name, spec, ctx, urlFindings),
    },
  );
}

export const postgresProtocol: Protocol = {
  schemes: POSTGRES_SCHEMES,
  target(raw, from) {
    const { spec, label, secrets } = parsePostgresUrl(raw, inputName(raw, from));
    return postgresTarget(spec, label, from, secrets);
  },
};
