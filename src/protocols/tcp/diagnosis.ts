/** diagnose for tcp:// targets: the URL, DNS and a TCP connection to each address. */
import { hostPort } from '../../net/dial.ts';
import { diagnoseDns, diagnoseTcp } from '../../net/layer-findings.ts';
import { Report } from '../../net/report.ts';
import type { DiagnoseContext, TargetReport } from '../diagnosis-types.ts';

export async function diagnoseTcpTarget(label: string, host: string, port: number, ctx: DiagnoseContext): Promise<TargetReport> {
  const r = new Report(label, ctx);
  r.ok('url', 'url', `tcp, ${hostPort(host, port)}: only a TCP connection is checked`);
  const addresses = await diagnoseDns(r, host);
  if (addresses) await diagnoseTcp(r, addresses, port);
  else r.skip('tcp', 'connect', hostPort(host, port), r.blocked('dns') ?? '');
  return r.result();
}
