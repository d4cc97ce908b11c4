/**
 * The report as it prints, for `diagnose` and `lint` alike: pretty (grouped by target or component, then by
 * layer, status first, the hint under each warning, failure and skip, consecutive skips with the same cause on
 * one line, a closing summary) or one JSON line for scripts, every check in it. Plain ASCII, so it reads the
 * same in `kubectl logs` and a terminal.
 */
import { CUT_SHORT, ms, LAYERS, type Status } from '../net/report.ts';
import type { LogLevel } from './log.ts';

/** One line of a report: diagnose's Finding, or lint's (whose layers are its own). */
export interface Line {
  readonly layer: string;
  readonly name: string;
  readonly status: Status;
  readonly value: string;
  readonly hint?: string;
  readonly ms?: number;
}

export interface Group {
  /** What the group is about: a target (diagnose), a component (lint). */
  readonly target: string;
  /** Where it came from (`argument`, `WAIT_TARGETS`, `Deployment harbor-core`, ...). */
  readonly from: string;
  readonly findings: readonly Line[];
}

/** A group's findings in layer order; within a layer, in the order the checks ran. */
function ordered(findings: readonly Line[], layers: readonly string[]): Line[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => layers.indexOf(a.f.layer) - layers.indexOf(b.f.layer) || a.i - b.i)
    .map(({ f }) => f);
}

/** How a command names its groups in the JSON (`targets` / `target`), and the order of its layers. */
export interface Shape {
  readonly list: string;
  readonly item: string;
  readonly layers: readonly string[];
}

const DIAGNOSE_SHAPE: Shape = { list: 'targets', item: 'target', layers: LAYERS };

/**
 * `{ok, targets: [{target, from, checks: [{layer, name, status, value, hint}]}]}` on one line (lint names them
 * `components` / `component`); a pass a signal stopped says so in `stopped` (the signal's name) and is never
 * `ok`: not everything was checked.
 */
export function renderJson(groups: readonly Group[], withTimes: boolean, stopped?: string, shape: Shape = DIAGNOSE_SHAPE): string {
  const ok = !stopped && !groups.some((g) => g.findings.some((f) => f.status === 'fail'));
  const targets = groups.map((g) => ({
    [shape.item]: g.target,
    from: g.from,
    checks: ordered(g.findings, shape.layers).map((f) => ({
      layer: f.layer,
      name: f.name,
      status: f.status,
      value: f.value,
      ...(f.hint !== undefined ? { hint: f.hint } : {}),
      ...(withTimes && f.ms !== undefined ? { ms: Math.round(f.ms * 10) / 10 } : {}),
    })),
  }));
  return `${JSON.stringify({ ok, ...(stopped ? { stopped } : {}), [shape.list]: targets })}\n`;
}

const MARK: Record<Status, string> = { ok: '[ok]  ', warn: '[warn]', fail: '[FAIL]', skip: '[skip]' };

/** Which statuses a log level shows: warn hides what is fine, error shows failures only. */
function shown(level: LogLevel, status: Status): boolean {
  if (level === 'error') return status === 'fail';
  if (level === 'warn') return status === 'fail' || status === 'warn';
  return true;
}

/** A skip that may share a line: one with a cause, and not the mark of what a signal cut short. */
function joinable(f: Line): boolean {
  return f.status === 'skip' && f.hint !== undefined && f.name !== CUT_SHORT;
}

/** Skips with one cause on one line, their names by layer: `[skip] server   version, role; limits memory - cause`. */
function collapsed(run: readonly Line[]): string {
  const names = run.map((f, i) => (i === 0 ? f.name : f.layer === run[i - 1]?.layer ? `, ${f.name}` : `; ${f.layer} ${f.name}`)).join('');
  const first = run[0] as Line;
  return `  ${MARK.skip} ${first.layer.padEnd(8)} ${names} - ${first.hint}`;
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export interface PrettyOptions {
  readonly version: string;
  readonly level: LogLevel;
  readonly stepTimeoutMs: number;
  readonly stopped?: string | undefined;
}

export function renderPretty(groups: readonly Group[], o: PrettyOptions): string {
  const title = `harbor-wait ${o.version} diagnose: ${count(groups.length - 1, 'target')}, one pass, each step within ${ms(o.stepTimeoutMs)}`;
  return renderReport(groups, { title, command: 'diagnose', level: o.level, stopped: o.stopped, layers: LAYERS });
}

export interface ReportOptions {
  /** The first line. */
  readonly title: string;
  /** The command's name, which opens the summary line. */
  readonly command: string;
  readonly level: LogLevel;
  readonly stopped?: string | undefined;
  readonly layers: readonly string[];
}

/** The pretty report of any command: the title, each group with its lines, the summary. */
export function renderReport(groups: readonly Group[], o: ReportOptions): string {
  const lines: string[] = [o.title];
  const totals: Record<Status, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  let troubled = 0;
  for (const g of groups) {
    const findings = ordered(g.findings, o.layers);
    for (const f of findings) totals[f.status]++;
    const worst = findings.some((f) => f.status === 'fail') ? 'FAIL' : findings.some((f) => f.status === 'warn') ? 'warn' : 'ok';
    if (worst !== 'ok') troubled++;
    const cut = o.stopped !== undefined && findings.some((f) => f.name === CUT_SHORT) ? `, cut short by ${o.stopped}` : '';
    lines.push('', `${g.target}  (${g.from}) - ${worst === 'FAIL' ? 'FAILED' : worst === 'warn' ? 'warnings' : 'ok'}${cut}`);
    const width = Math.min(40, Math.max(...findings.map((f) => f.name.length), 4));
    // What a signal cut short shows at every level: without it the report would read as complete.
    const visible = findings.filter((f) => shown(o.level, f.status) || f.name === CUT_SHORT);
    for (let i = 0; i < visible.length; i++) {
      const f = visible[i] as Line;
      let end = i + 1;
      while (joinable(f) && end < visible.length && joinable(visible[end] as Line) && visible[end]?.hint === f.hint) end++;
      if (end - i > 1) {
        lines.push(collapsed(visible.slice(i, end)));
        i = end - 1;
        continue;
      }
      const time = o.level === 'debug' && f.ms !== undefined ? `  (${ms(f.ms)})` : '';
      lines.push(`  ${MARK[f.status]} ${f.layer.padEnd(8)} ${f.name.padEnd(width)}  ${f.value}${time}`);
      if (f.hint !== undefined && f.status !== 'ok') {
        lines.push(`${' '.repeat(18)}${f.status === 'skip' ? 'skipped' : 'hint'}: ${f.hint}`);
      }
    }
  }
  const summary = totals.fail > 0
    ? `found problems in ${troubled} of ${groups.length} groups: ${count(totals.fail, 'failure')}, ${count(totals.warn, 'warning')}`
    : totals.warn > 0
      ? `no failures, ${count(totals.warn, 'warning')} in ${troubled} of ${groups.length} groups; warnings can be ignored if Harbor works`
      : `no problems found${o.stopped ? ' in what ran' : ''}`;
  const cut = o.stopped ? `stopped by ${o.stopped} before the pass ended (what was running is marked cut short); ` : '';
  lines.push('', `${o.command}: ${cut}${summary} (${totals.ok} ok, ${totals.skip} skipped)`);
  return `${lines.join('\n')}\n`;
}
