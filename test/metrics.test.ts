/** The Prometheus text renderer and the --serve address parser, without a server. */
import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../src/listen.ts';
import { Histogram, LATENCY_BUCKETS, renderMetrics, type TargetMetrics } from '../src/metrics.ts';
import { family, parsePrometheus } from './helpers/prometheus.ts';

function target(over: Partial<TargetMetrics> = {}): TargetMetrics {
  return { target: 'redis://h:6379', up: true, attempts: 0, failures: new Map(), latency: new Histogram(), changedAt: 0, ...over };
}

describe('renderMetrics', () => {
  it('escapes backslashes, quotes and newlines in label values', () => {
    const odd = 'http://h/a"b\\c\nd';
    const text = renderMetrics([target({ target: odd })], { version: '1.0.0', now: 0 });
    expect(text).toContain('target="http://h/a\\"b\\\\c\\nd"');
    expect(family(text, 'harbor_wait_up').samples[0]?.labels.target).toBe(odd);
  });

  it('writes a cumulative histogram whose +Inf bucket and count are every observation', () => {
    const latency = new Histogram();
    for (const s of [0.001, 0.02, 0.02, 0.7, 30]) latency.observe(s);
    const text = renderMetrics([target({ latency, attempts: 5 })], { version: '1', now: 0 });
    const h = family(text, 'harbor_wait_probe_duration_seconds');
    const buckets = h.samples.filter((s) => s.name.endsWith('_bucket'));
    expect(buckets.map((b) => b.labels.le)).toEqual([...LATENCY_BUCKETS.map(String), '+Inf']);
    expect(buckets.map((b) => b.value)).toEqual([1, 1, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5]);
    expect(h.samples.find((s) => s.name.endsWith('_count'))?.value).toBe(5);
    expect(h.samples.find((s) => s.name.endsWith('_sum'))?.value).toBeCloseTo(30.741, 6);
  });

  it('counts failures by code, reports readiness of all targets, and the age of the last change', () => {
    const text = renderMetrics(
      [target({ up: false, failures: new Map([['LOADING', 3], ['ECONNREFUSED', 2]]), changedAt: 1_000 }), target({ target: 'tcp://d:5432' })],
      { version: '1', now: 3_500 },
    );
    expect(family(text, 'harbor_wait_ready').samples[0]?.value).toBe(0);
    expect(family(text, 'harbor_wait_failures_total').samples.map((s) => [s.labels.code, s.value])).toEqual([
      ['ECONNREFUSED', 2],
      ['LOADING', 3],
    ]);
    expect(family(text, 'harbor_wait_state_age_seconds').samples[0]?.value).toBe(2.5);
    expect([...parsePrometheus(text).keys()]).toEqual([
      'harbor_wait_info',
      'harbor_wait_ready',
      'harbor_wait_up',
      'harbor_wait_attempts_total',
      'harbor_wait_failures_total',
      'harbor_wait_probe_duration_seconds',
      'harbor_wait_state_age_seconds',
    ]);
  });
});

describe('parseListenAddress', () => {
  it.each([
    [':8099', { host: undefined, port: 8099 }],
    ['0.0.0.0:8099', { host: '0.0.0.0', port: 8099 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:8099', { host: '::1', port: 8099 }],
    ['localhost:8099', { host: 'localhost', port: 8099 }],
  ])('reads %s', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });

  it.each(['8099', ':', ':65536', 'h:-1', '::1:8099', 'http://h:8099', ':80 80'])('refuses %s', (text) => {
    expect(parseListenAddress(text)).toEqual({ problem: expect.stringContaining(`"${text}" is not a listen address`) });
  });
});
