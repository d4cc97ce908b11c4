/**
 * `harbor-wait diagnose`: one pass over every target (engine/diagnosis.ts), each step bounded by the attempt
 * timeout; then this pod's own settings against what Harbor needs at start-up; then one report (pretty, or one
 * JSON line) and the exit code: 0, or 1 when a check failed (unless --exit-zero), or the signal's.
 */
import type { Config } from '../config/options.ts';
import { backoffDelay, JITTER } from '../basics/backoff.ts';
import { formatDuration } from '../basics/duration.ts';
import { ExitCode } from '../basics/exit-codes.ts';
import { signalName } from '../engine/log-events.ts';
import type { DiagnoseContext } from '../protocols/types.ts';
import { VERSION } from '../basics/version.ts';
import { renderJson, renderPretty, type Group } from '../engine/diagnosis-render.ts';
import type { Finding, TargetReport } from '../net/report.ts';
import { diagnoseAll } from '../engine/diagnosis.ts';
import { lookupFrom, systemResolver } from '../net/resolver.ts';
import { cancelledCode, type Io } from './io.ts';

/** Core waits this long for its database's TCP port before it gives up (src/common/dao/pgsql.go). */
const CORE_DATABASE_WAIT_MS = 60_000;

/** The delays after the first failed attempts, before jitter, as the waiter would sleep them. */
function schedule(config: Config): string {
  const delays = [1, 2, 3, 4, 5, 6].map((n) => formatDuration(backoffDelay(config.backoff, n, () => 0)));
  return `${delays.join(', ')}, ... (each cut by up to ${Math.round(JITTER * 100)}% of jitter)`;
}

/** This pod's own settings, against what Harbor needs at start-up and what the targets showed. */
function settingsFindings(config: Config, reports: readonly TargetReport[]): Finding[] {
  const out: Finding[] = [];
  const deadline = config.deadlineMs;
  const deadlineText = deadline > 0 ? formatDuration(deadline) : 'none (waits forever)';
  const problems: string[] = [];
  const hasDatabase = config.targets.some((t) => /^postgres(ql)?:/.test(t.label));
  if (deadline > 0 && deadline < CORE_DATABASE_WAIT_MS && (hasDatabase || config.preset === 'core')) {
    problems.push(`shorter than the ${formatDuration(CORE_DATABASE_WAIT_MS)} core itself waits for its database`);
  }
  for (const r of reports) {
    const eta = r.facts.loadingEtaSeconds;
    if (eta !== undefined && deadline > 0 && eta * 1000 > deadline) {
      problems.push(`shorter than the ${formatDuration(eta * 1000)} ${r.target} still needs to load its dataset`);
    }
  }
  if (problems.length > 0) {
    out.push({ layer: 'settings', name: 'deadline', status: 'warn', value: `${deadlineText}: ${problems.join('; ')}`, hint: 'raise --deadline / WAIT_DEADLINE, or the pod fails before its dependencies can be ready' });
  } else out.push({ layer: 'settings', name: 'deadline', status: 'ok', value: deadlineText });
  const attempt = formatDuration(config.attemptTimeoutMs);
  if (deadline > 0 && config.attemptTimeoutMs >= deadline) {
    out.push({ layer: 'settings', name: 'attempt timeout', status: 'warn', value: `${attempt}, not shorter than the deadline`, hint: 'an attempt timeout as long as the deadline leaves one attempt: make it a few seconds' });
  } else out.push({ layer: 'settings', name: 'attempt timeout', status: 'ok', value: attempt });
  out.push({ layer: 'settings', name: 'backoff', status: 'ok', value: schedule(config) });
  for (const warning of config.warnings) {
    out.push({ layer: 'settings', name: 'configuration', status: 'warn', value: warning, hint: 'the run goes on as configured; change it if that is not meant' });
  }
  return out;
}

/** The exit code, and for any exit but 0 the termination message: each failed check on a line. */
export async function runDiagnose(config: Config, io: Io): Promise<{ code: ExitCode; text?: string }> {
  const resolver = io.resolver ?? systemResolver();
  const ctx: DiagnoseContext = {
    tls: config.tls,
    expectStatus: config.expectStatus,
    lookup: lookupFrom(resolver),
    userAgent: `harbor-wait/${VERSION}`,
    resolver,
    stepTimeoutMs: config.attemptTimeoutMs,
    signal: io.signal,
  };
  const reports = await diagnoseAll(config.targets, ctx);
  const groups: Group[] = config.targets.map((t, i) => ({ target: t.label, from: t.from, findings: (reports[i] as TargetReport).findings }));
  groups.push({ target: "this pod's settings", from: config.preset ? `preset ${config.preset}` : 'options', findings: settingsFindings(config, reports) });
  const stopped = io.signal.aborted ? signalName(io.signal.reason) : undefined;
  const report = config.logFormat === 'json'
    ? renderJson(groups, config.logLevel === 'debug', stopped)
    : renderPretty(groups, { version: VERSION, level: config.logLevel, stepTimeoutMs: config.attemptTimeoutMs, stopped });
  io.stdout(report);
  const failures = groups.flatMap((g) => g.findings.filter((f) => f.status === 'fail').map((f) => `${g.target}: ${f.layer} ${f.name}: ${f.value}`));
  const found = `found ${failures.length} failed check${failures.length === 1 ? '' : 's'}${failures.length > 0 ? ':' : ''}`;
  const text = `harbor-wait: diagnose ${stopped ? `stopped by ${stopped} before the pass ended; ` : ''}${found}\n${failures.map((l) => `${l}\n`).join('')}`;
  if (stopped) return { code: cancelledCode(io.signal.reason), text };
  return failures.length > 0 && !config.exitZero ? { code: ExitCode.Failure, text } : { code: ExitCode.Ready };
}
