/**
 * One target's findings, gathered in the order the checks ran (the report sorts them by layer), and the one
 * way a diagnosis runs a step: bounded by the step timeout and the run's signal, timed, and turned into
 * NotReady (stage, code, reason) when it fails, exactly as the waiter would name the failure.
 */
import { timeoutController } from '../abort.ts';
import { stageTimeout } from '../attempt.ts';
import { monotonicMs } from '../builtin.ts';
import { formatDuration } from '../duration.ts';
import { classify, isBug, NotReady } from '../errors.ts';
import type { Progress } from '../targets/types.ts';
import type { DiagnoseContext, Facts, Finding, Layer, TargetReport } from './types.ts';

const STEP_TIMEOUT = Symbol('step timeout');

export type StepResult<T> =
  | { readonly ok: true; readonly value: T; readonly ms: number }
  | { readonly ok: false; readonly error: NotReady; readonly ms: number };

/** A duration for a report line: `0.4 ms`, `12 ms`, `1.5 s`. */
export function ms(value: number): string {
  if (value < 10) return `${value.toFixed(1)} ms`;
  if (value < 1000) return `${Math.round(value)} ms`;
  return `${(value / 1000).toFixed(1)} s`;
}

export class Report {
  readonly target: string;
  readonly ctx: DiagnoseContext;
  readonly findings: Finding[] = [];
  readonly facts: Facts = {};
  /** What failed so far that later checks depend on, by key (`tcp`, `tls`, `login`, ...): the reason they skip. */
  private readonly blockers = new Map<string, string>();

  constructor(target: string, ctx: DiagnoseContext) {
    this.target = target;
    this.ctx = ctx;
  }

  add(finding: Finding): Finding {
    this.findings.push(finding);
    return finding;
  }

  ok(layer: Layer, name: string, value: string, ms?: number): Finding {
    return this.add({ layer, name, status: 'ok', value, ...(ms !== undefined ? { ms } : {}) });
  }

  warn(layer: Layer, name: string, value: string, hint: string, ms?: number): Finding {
    return this.add({ layer, name, status: 'warn', value, hint, ...(ms !== undefined ? { ms } : {}) });
  }

  fail(layer: Layer, name: string, value: string, hint: string, ms?: number): Finding {
    return this.add({ layer, name, status: 'fail', value, hint, ...(ms !== undefined ? { ms } : {}) });
  }

  /** A check that did not run: `value` says what it would have read, `because` why not (a failed prerequisite, a refused command). */
  skip(layer: Layer, name: string, value: string, because: string): Finding {
    return this.add({ layer, name, status: 'skip', value, hint: because });
  }

  /** Marks `key` as failed, so that checks needing it skip with `why`. */
  block(key: string, why: string): void {
    if (!this.blockers.has(key)) this.blockers.set(key, why);
  }

  /** Why checks needing any of `keys` cannot run, or undefined when all are fine. */
  blocked(...keys: string[]): string | undefined {
    for (const key of keys) {
      const why = this.blockers.get(key);
      if (why !== undefined) return why;
    }
    return undefined;
  }

  /**
   * Runs one step bounded by the step timeout: the value, or the failure as NotReady (a timeout names the
   * stage it cut short). Rejects only when the run itself is cancelled (with its reason) or on a bug.
   */
  async step<T>(fn: (signal: AbortSignal, progress: Progress) => Promise<T>, stage: Progress['stage'] = 'response'): Promise<StepResult<T>> {
    const progress: Progress = { stage };
    const timeout = timeoutController(this.ctx.stepTimeoutMs, () => STEP_TIMEOUT);
    const signal = AbortSignal.any([this.ctx.signal, timeout.signal]);
    const started = monotonicMs();
    try {
      const value = await fn(signal, progress);
      return { ok: true, value, ms: monotonicMs() - started };
    } catch (err) {
      const took = monotonicMs() - started;
      if (this.ctx.signal.aborted) throw this.ctx.signal.reason;
      if (timeout.signal.aborted) {
        return { ok: false, error: stageTimeout(progress.stage, `the ${formatDuration(this.ctx.stepTimeoutMs)} step timeout (--attempt-timeout)`), ms: took };
      }
      if (isBug(err)) throw err;
      return { ok: false, error: classify(err, progress.stage, this.target), ms: took };
    } finally {
      timeout.clear();
    }
  }

  result(): TargetReport {
    return { target: this.target, findings: this.findings, facts: this.facts };
  }
}
