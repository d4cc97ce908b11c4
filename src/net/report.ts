/**
 * The shapes of `harbor-wait diagnose` and the one way a diagnosis runs a step. A finding is one line of the
 * report (layer, name, status, value, hint); a Report gathers one target's findings in the order the checks
 * ran (the report sorts them by layer), knows which layers failed, so that a check whose prerequisite failed
 * is `skip` saying which, and runs each step bounded by the step timeout and the run's signal, timed, and
 * turned into NotReady (stage, code, reason) when it fails, exactly as the waiter would name the failure.
 */
import { timeoutController } from '../basics/abort.ts';
import { monotonicMs } from '../basics/builtin.ts';
import { formatDuration } from '../basics/duration.ts';
import { firstLine, isBug, NotReady, type Progress } from '../basics/errors.ts';
import { classify, stageTimeout } from './classify.ts';
import type { Lookup } from './dial.ts';
import type { Resolver } from './resolver.ts';

export type Status = 'ok' | 'warn' | 'fail' | 'skip';

/** The layers, in the order the report shows them. Public: the `layer` field of the JSON. */
export const LAYERS = ['url', 'dns', 'tcp', 'tls', 'auth', 'server', 'limits', 'settings'] as const;
export type Layer = (typeof LAYERS)[number];

/** One check's result. `hint` (what to do) is given for warn and fail, and for a skip says which prerequisite failed. */
export interface Finding {
  readonly layer: Layer;
  readonly name: string;
  readonly status: Status;
  /** What was measured or read, for a person: `3 ms`, `7.2.4 (valkey 8.0.1)`, `91% of 1 MiB (noeviction)`. */
  readonly value: string;
  readonly hint?: string;
  /** How long the check took (shown with --log-level debug). */
  readonly ms?: number;
}

/** What one target's diagnosis tells the pod-settings checks (a Redis loading, with its ETA). */
export interface Facts {
  loadingEtaSeconds?: number;
}

export interface TargetReport {
  readonly target: string;
  readonly findings: readonly Finding[];
  readonly facts: Facts;
}

/** What the shared layers' steps need of a diagnosis's context (protocols/types.ts's DiagnoseContext has it all). */
export interface StepContext {
  /** Every name lookup the DNS layer makes. */
  readonly resolver: Resolver;
  /** How the TCP layer reaches each address. */
  readonly lookup: Lookup;
  /** Bounds each step (one connect, one handshake, one command). */
  readonly stepTimeoutMs: number;
  /** The run's signal: aborted on SIGTERM / SIGINT. */
  readonly signal: AbortSignal;
}

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

/** The Reports opened under each target's own context (see collect), so that a pass a signal stops keeps their findings. */
const opened = new WeakMap<StepContext, Report[]>();

/**
 * A context of one target's own, and the Reports its diagnosis opens under it: what they found so far is
 * there even when the diagnosis never returns (a signal stopped it).
 */
export function collect<C extends StepContext>(ctx: C): { ctx: C; reports: readonly Report[] } {
  const own: C = { ...ctx };
  const reports: Report[] = [];
  opened.set(own, reports);
  return { ctx: own, reports };
}

/** A step the run's signal stopped: where it was, and for how long it had run. */
export interface CutStep {
  readonly stage: Progress['stage'];
  readonly ms: number;
}

/** The name of the finding that marks what a signal cut short. */
export const CUT_SHORT = 'cut short';

/** The layer of the report a stage's step belongs to. */
const STAGE_LAYER: Record<Progress['stage'], Layer> = { dns: 'dns', connect: 'tcp', tls: 'tls', auth: 'auth', response: 'server', timeout: 'server' };
const STAGE_WORDS: Record<Progress['stage'], string> = {
  dns: 'the DNS lookup',
  connect: 'the TCP connect',
  tls: 'the TLS handshake',
  auth: 'the login',
  response: 'the wait for an answer',
  timeout: 'a step',
};

/**
 * What a signal cut short, as skips: one per stage that had a step running (`value` says which and for how
 * long), or one for the target when none had. The checks that had not begun are not listed.
 */
export function cutShortFindings(cut: readonly CutStep[], signal: string): Finding[] {
  const hint = `cut short by ${signal}: run diagnose again to the end`;
  if (cut.length === 0) return [{ layer: 'server', name: CUT_SHORT, status: 'skip', value: 'the checks after these did not run', hint }];
  const stages = [...new Set(cut.map((c) => c.stage))];
  return stages.map((stage) => {
    const steps = cut.filter((c) => c.stage === stage);
    const longest = Math.max(...steps.map((c) => c.ms));
    const count = steps.length > 1 ? ` (${steps.length} steps)` : '';
    return { layer: STAGE_LAYER[stage], name: CUT_SHORT, status: 'skip', value: `stopped during ${STAGE_WORDS[stage]}${count} after ${ms(longest)}`, hint, ms: longest };
  });
}

/** One target's findings; `C` is the context its diagnosis runs in (the protocols' DiagnoseContext). */
export class Report<C extends StepContext = StepContext> {
  readonly target: string;
  readonly ctx: C;
  readonly findings: Finding[] = [];
  readonly facts: Facts = {};
  /** The steps the run's signal stopped (none unless the pass was cut short). */
  readonly cut: CutStep[] = [];
  /** What failed so far that later checks depend on, by key (`tcp`, `tls`, `login`, ...): the reason they skip. */
  private readonly blockers = new Map<string, string>();

  constructor(target: string, ctx: C) {
    this.target = target;
    this.ctx = ctx;
    opened.get(ctx)?.push(this);
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
      if (this.ctx.signal.aborted) {
        this.cut.push({ stage: progress.stage, ms: took });
        throw this.ctx.signal.reason;
      }
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

/** A failure's value for a report line: its code and first words. */
export function failed(err: NotReady): string {
  return `${err.code}${err.sqlstate ? ` (SQLSTATE ${err.sqlstate})` : ''}: ${firstLine(err.reason)}`;
}
