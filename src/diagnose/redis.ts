/** diagnose for Redis targets (placeholder: URL, DNS and TCP; the Redis layers come next). */
import type { RedisSpec } from '../targets/redis-url.ts';
import { diagnoseDns, diagnoseTcp } from './net.ts';
import { Report } from './report.ts';
import type { DiagnoseContext, TargetReport } from './types.ts';

export async function diagnoseRedis(label: string, spec: RedisSpec, ctx: DiagnoseContext): Promise<TargetReport> {
  const r = new Report(label, ctx);
  r.ok('url', 'url', label);
  const first = spec.hosts[0] as { host: string; port: number };
  const addresses = await diagnoseDns(r, first.host, { tls: spec.tls });
  if (addresses) await diagnoseTcp(r, addresses, first.port);
  return r.result();
}
