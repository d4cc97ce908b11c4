/** diagnose for tcp:// targets: the URL, DNS and a TCP connection to each address. */
import { hostPort } from '../../net/dial.ts';
import { Report, type TargetReport } from '../../net/report.ts';
import { diagnoseDns } from '../../net/dns-findings.ts';
import { diagnoseTcp } from '../../net/tcp-findings.ts';
import type { DiagnoseContext } from '../types.ts';

export async function diagnoseTcpTarget(label: string, host: string, port: number, ctx: DiagnoseContext): Promise<TargetReport> {
  const r = new Report(label, ctx);
  r.ok('url', 'url', `tcp, ${hostPort(host, port)}: only a TCP connection is checked`);
  const addresses = await diagnoseDns(r, host);
  if (addresses) await diagnoseTcp(r, addresses, port);
  else r.skip('tcp', 'connect', hostPort(host, port), r.blocked('dns') ?? '');
  return r.result();
}
