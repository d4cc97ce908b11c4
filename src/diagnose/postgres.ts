/** diagnose for PostgreSQL targets (placeholder: URL, DNS and TCP; the PostgreSQL layers come next). */
import type { PostgresSpec } from '../targets/postgres-url.ts';
import type { Finding } from './types.ts';
import { diagnoseDns, diagnoseTcp } from './net.ts';
import { Report } from './report.ts';
import type { DiagnoseContext, TargetReport } from './types.ts';

export async function diagnosePostgres(label: string, spec: PostgresSpec, ctx: DiagnoseContext, urlFindings: readonly Finding[] = []): Promise<TargetReport> {
  const r = new Report(label, ctx);
  r.ok('url', 'url', label);
  for (const f of urlFindings) r.add(f);
  const addresses = await diagnoseDns(r, spec.host);
  if (addresses) await diagnoseTcp(r, addresses, spec.port);
  return r.result();
}
