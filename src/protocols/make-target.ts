/**
 * How a protocol makes its Target from what its URL parser found: the fields every target carries, and its two
 * operations (the check and the diagnosis), each loading the protocol's code only when it is first used.
 */
import type { TargetReport } from '../net/report.ts';
import type { Check, CheckContext, DiagnoseContext, Target } from './types.ts';
import { redactRaw } from './url.ts';

/** How a target is named in configuration errors: where it came from, and the URL without user info. */
export function inputName(raw: string, from: string): string {
  return `${from} "${redactRaw(raw)}"`;
}

/** What every target is made of but its two operations, which take the label it is shown by. */
export type TargetFields = Omit<Target, 'createCheck' | 'diagnose' | 'named'>;

/** A protocol's two operations on one parsed URL; each imports its module on first use. */
export interface Operations {
  check(label: string, ctx: CheckContext): Promise<Check>;
  diagnose(label: string, ctx: DiagnoseContext): Promise<TargetReport>;
}

/** A target whose label can be changed (config/options.ts tells apart targets whose labels collide) and its operations follow. */
export function makeTarget(fields: TargetFields, ops: Operations): Target {
  return {
    ...fields,
    createCheck: (ctx) => ops.check(fields.label, ctx),
    diagnose: (ctx) => ops.diagnose(fields.label, ctx),
    named: (label) => makeTarget({ ...fields, label }, ops),
  };
}

/**
 * A target's identity: everything that decides the connection it makes and the credentials it sends, secrets
 * included. Kept in memory only, never shown; two targets are one only when their identities are equal.
 */
export function identity(scheme: string, spec: unknown): string {
  return `${scheme} ${JSON.stringify(spec)}`;
}
