/**
 * Prometheus text exposition format 0.0.4, written by hand: a histogram and a few counters do not need a
 * client library. Names follow Prometheus's conventions: base units (seconds), `_total` for counters.
 */

/** Upper bounds, in seconds, of the probe latency buckets: from a loopback PING to an attempt timeout. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export class Histogram {
  /** counts[i]: observations ≤ LATENCY_BUCKETS[i], not cumulated. */
  readonly counts: number[] = LATENCY_BUCKETS.map(() => 0);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    const i = LATENCY_BUCKETS.findIndex((le) => seconds <= le);
    if (i >= 0) this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/** What /metrics reports for one target. */
export interface TargetMetrics {
  readonly target: string;
  readonly up: boolean;
  readonly attempts: number;
  /** Failed attempts by code. */
  readonly failures: ReadonlyMap<string, number>;
  readonly latency: Histogram;
  /** Epoch milliseconds of the last change of state. */
  readonly changedAt: number;
}

/** A label value, escaped as the text format requires. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Numbers as Prometheus reads them: no exponent surprises for counts, +Inf spelled out. */
function num(n: number): string {
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1e6) / 1e6);
}

export function renderMetrics(targets: readonly TargetMetrics[], o: { version: string; now: number }): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string, rows: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...rows);
  };
  const t = (m: TargetMetrics) => `target="${label(m.target)}"`;

  family('harbor_wait_info', 'gauge', 'Always 1; the version as a label.', [`harbor_wait_info{version="${label(o.version)}"} 1`]);
  family('harbor_wait_ready', 'gauge', '1 when every target passed its latest check (/readyz answers 200), else 0.', [
    `harbor_wait_ready ${targets.every((m) => m.up) ? 1 : 0}`,
  ]);
  family('harbor_wait_up', 'gauge', '1 when the target passed its latest check, else 0.', targets.map((m) => `harbor_wait_up{${t(m)}} ${m.up ? 1 : 0}`));
  family('harbor_wait_attempts_total', 'counter', 'Attempts made to check the target.', targets.map((m) => `harbor_wait_attempts_total{${t(m)}} ${m.attempts}`));
  family(
    'harbor_wait_failures_total',
    'counter',
    'Failed attempts, by the code of the failure (ECONNREFUSED, LOADING, HTTP_401, ...).',
    targets.flatMap((m) => [...m.failures].sort(([a], [b]) => a.localeCompare(b)).map(([code, n]) => `harbor_wait_failures_total{${t(m)},code="${label(code)}"} ${n}`)),
  );
  family(
    'harbor_wait_probe_duration_seconds',
    'histogram',
    'Duration of each attempt, failed or not.',
    targets.flatMap((m) => {
      let cumulative = 0;
      const rows = LATENCY_BUCKETS.map((le, i) => {
        cumulative += m.latency.counts[i] ?? 0;
        return `harbor_wait_probe_duration_seconds_bucket{${t(m)},le="${num(le)}"} ${cumulative}`;
      });
      return [
        ...rows,
        `harbor_wait_probe_duration_seconds_bucket{${t(m)},le="+Inf"} ${m.latency.count}`,
        `harbor_wait_probe_duration_seconds_sum{${t(m)}} ${num(m.latency.sum)}`,
        `harbor_wait_probe_duration_seconds_count{${t(m)}} ${m.latency.count}`,
      ];
    }),
  );
  family(
    'harbor_wait_state_age_seconds',
    'gauge',
    'Seconds since the target last changed state (pending, ready, not ready).',
    targets.map((m) => `harbor_wait_state_age_seconds{${t(m)}} ${num(Math.max(0, (o.now - m.changedAt) / 1000))}`),
  );
  return `${out.join('\n')}\n`;
}
