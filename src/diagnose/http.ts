/** diagnose for http(s) targets and Harbor core (placeholder: URL, DNS and TCP; the HTTP layers come next). */
import type { HttpSpec } from '../targets/http-url.ts';
import { diagnoseDns, diagnoseTcp } from './net.ts';
import { Report } from './report.ts';
import type { DiagnoseContext, TargetReport } from './types.ts';

export async function diagnoseHttp(label: string, spec: HttpSpec, ctx: DiagnoseContext, core: boolean): Promise<TargetReport> {
  const r = new Report(label, ctx);
  r.ok('url', 'url', `${label}${core ? " (Harbor core's configuration API)" : ''}`);
  const { url } = spec;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const addresses = await diagnoseDns(r, host);
  if (addresses) await diagnoseTcp(r, addresses, port);
  return r.result();
}
