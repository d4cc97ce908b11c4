/**
 * The sidecar's /metrics, kept by prom-client on a registry of harbor-wait's own: nothing goes to prom-client's
 * global registry, and no default Node metrics are collected. Names follow Prometheus's conventions: base
 * units (seconds), `_total` for counters.
 *
 * Loaded in sidecar mode only: monitor.ts and sidecar-server.ts import it, and commands/wait.ts imports those two dynamically with
 * --serve. It imports prom-client's files one by one, not its index: the index also loads the Pushgateway
 * (node:http, https, zlib), the default metrics (@opentelemetry/api, perf_hooks, v8) and the Summary (tdigest),
 * 25-60 ms of require on Node 24, against 2-5 ms for the four files used here. Their types: prom-client-deep.d.ts.
 */
import { knownCode } from '../protocols/codes.ts';
import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';
import Histogram from 'prom-client/lib/histogram.js';
import Registry from 'prom-client/lib/registry.js';
import { loaded } from '../basics/libraries.ts';

loaded('prom-client');

/** Upper bounds, in seconds, of the probe latency buckets: from a loopback PING to an attempt timeout. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** What the gauges read of one target at each scrape. */
export interface TargetGauges {
  /** The redacted label. */
  readonly target: string;
  /** Passed its latest check. */
  readonly up: boolean;
  /** Epoch milliseconds of the last change of state. */
  readonly changedAt: number;
}

export interface Metrics {
  /** The Content-Type of render's text: the text format 0.0.4. */
  readonly contentType: string;
  /** One finished attempt of `target`: counted, its duration observed, and its code counted when it failed. */
  attempt(target: string, seconds: number, failure: string | null): void;
  /** The exposition, its gauges read from the targets as they are `now` (epoch milliseconds). */
  render(o: { version: string; now: number }): Promise<string>;
}

/** The metrics of `targets` (the same objects, read at every render), each with its series from the start. */
export function createMetrics(targets: readonly TargetGauges[]): Metrics {
  // The default content type is the text format 0.0.4, what Prometheus has always read.
  const registry = new Registry();
  const registers = [registry];
  // Registered in this order, and written in it.
  const info = new Gauge({ name: 'harbor_wait_info', help: 'Always 1; the version as a label.', labelNames: ['version'], registers });
  const ready = new Gauge({
    name: 'harbor_wait_ready',
    help: '1 when every target passed its latest check (/readyz answers 200), else 0.',
    registers,
  });
  const up = new Gauge({ name: 'harbor_wait_up', help: '1 when the target passed its latest check, else 0.', labelNames: ['target'], registers });
  const attempts = new Counter({ name: 'harbor_wait_attempts_total', help: 'Attempts made to check the target.', labelNames: ['target'], registers });
  const failures = new Counter({
    name: 'harbor_wait_failures_total',
    help: 'Failed attempts, by the code of the failure (ECONNREFUSED, LOADING, HTTP_401, ...).',
    labelNames: ['target', 'code'],
    registers,
  });
  const latency = new Histogram({
    name: 'harbor_wait_probe_duration_seconds',
    help: 'Duration of each attempt, failed or not.',
    labelNames: ['target'],
    // A copy: prom-client freezes the array it is given.
    buckets: [...LATENCY_BUCKETS],
    registers,
  });
  const age = new Gauge({
    name: 'harbor_wait_state_age_seconds',
    help: 'Seconds since the target last changed state (pending, ready, not ready).',
    labelNames: ['target'],
    registers,
  });

  // Every target's series exist before its first attempt, at 0, in the order of the targets.
  for (const { target } of targets) {
    attempts.inc({ target }, 0);
    latency.zero({ target });
  }

  return {
    contentType: registry.contentType,
    attempt(target, seconds, failure) {
      attempts.inc({ target });
      latency.observe({ target }, seconds);
      // Only documented codes: whatever a peer sends, the number of series stays bounded.
      if (failure !== null) failures.inc({ target, code: knownCode(failure) });
    },
    async render({ version, now }) {
      // The gauges are set from the targets as they are now, right before prom-client writes every family.
      info.reset();
      info.set({ version }, 1);
      ready.set(targets.every((t) => t.up) ? 1 : 0);
      for (const t of targets) {
        up.set({ target: t.target }, t.up ? 1 : 0);
        age.set({ target: t.target }, Math.max(0, (now - t.changedAt) / 1000));
      }
      return registry.metrics();
    },
  };
}
