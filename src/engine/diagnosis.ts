/**
 * The diagnosis runner: one pass over every target, all at once, each through its protocol's diagnosis. Text
 * from servers is scrubbed where it enters a finding. A diagnosis that crashes is reported as a failure of its
 * target and never stops the others; a signal keeps what had finished and marks what was running as cut short.
 */
import { peerText } from '../basics/errors.ts';
import { collect, cutShortFindings, type Finding, type TargetReport } from '../net/report.ts';
import type { DiagnoseContext, Target } from '../protocols/types.ts';
import { signalName } from './log-events.ts';

/**
 * One target's diagnosis. Stopped by a signal, it keeps every check that had finished and marks only the
 * steps that were running as cut short (net/report.ts); a crash is a failure of this target alone.
 */
async function diagnoseTarget(target: Target, ctx: DiagnoseContext): Promise<TargetReport> {
  const { ctx: own, reports } = collect(ctx);
  try {
    return await target.diagnose(own);
  } catch (err) {
    if (ctx.signal.aborted) {
      const findings = reports.flatMap((r) => r.findings);
      const cut = cutShortFindings(reports.flatMap((r) => r.cut), signalName(ctx.signal.reason));
      return { target: target.label, findings: [...findings, ...cut], facts: Object.assign({}, ...reports.map((r) => r.facts)) as TargetReport['facts'] };
    }
    const findings: Finding[] = [{ layer: 'url', name: 'internal error', status: 'fail', value: peerText(err instanceof Error ? err.message : String(err)), hint: 'a bug in harbor-wait, please report it; the other targets were checked' }];
    return { target: target.label, findings, facts: {} };
  }
}

/** Every target's report, in the targets' order. */
export function diagnoseAll(targets: readonly Target[], ctx: DiagnoseContext): Promise<TargetReport[]> {
  return Promise.all(targets.map((t) => diagnoseTarget(t, ctx)));
}
