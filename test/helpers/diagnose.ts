/** Reading `harbor-wait diagnose --log-format json`: its one line, and the checks in it. */
import { expect } from 'vitest';

export interface DiagnoseCheck {
  readonly layer: string;
  readonly name: string;
  readonly status: string;
  readonly value: string;
  readonly hint?: string;
  readonly ms?: number;
}

export interface DiagnoseReport {
  readonly ok: boolean;
  readonly targets: ReadonlyArray<{ readonly target: string; readonly from: string; readonly checks: DiagnoseCheck[] }>;
}

/** Every log level, for the runs that must hold no secret at any of them. */
export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** The report of a JSON run: exactly one line on stdout (`context` is shown when it is not, e.g. stderr). */
export function parseReport(stdout: string, context: string = stdout): DiagnoseReport {
  const lines = stdout.trim().split('\n');
  expect(lines, context).toHaveLength(1);
  return JSON.parse(lines[0] as string) as DiagnoseReport;
}

/** The named check of the first target whose label starts with `target`; fails the test when there is none. */
export function findCheck(report: DiagnoseReport, target: string, name: string): DiagnoseCheck {
  const group = report.targets.find((t) => t.target.startsWith(target));
  if (!group) throw new Error(`no target ${target} in ${report.targets.map((t) => t.target).join(', ')}`);
  const found = group.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check "${name}" for ${target}: ${group.checks.map((c) => c.name).join(', ')}`);
  return found;
}
