/**
 * lint's report lines: the same shape as diagnose's findings (engine/diagnosis-render.ts prints both), with
 * lint's own layers, in the order the report shows them.
 */
import type { Line } from '../engine/diagnosis-render.ts';
import type { Status } from '../net/report.ts';

export type { Line };

/** The layers of a lint report. Public: the `layer` field of its JSON. */
export const LINT_LAYERS = ['pod', 'secrets', 'redis', 'database'] as const;
export type LintLayer = (typeof LINT_LAYERS)[number];

/** One line; `hint` says what to change (for warn and fail) or why a check did not run (skip). */
export function finding(layer: LintLayer, name: string, status: Status, value: string, hint?: string): Line {
  return { layer, name, status, value, ...(hint !== undefined && status !== 'ok' ? { hint } : {}) };
}
