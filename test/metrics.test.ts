/** The sidecar's metrics, prom-client's real text read back with the strict reader; and the --serve address parser. */
import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../src/net/listen-address.ts';
import { createMetrics, LATENCY_BUCKETS, type TargetGauges } from '../src/engine/metrics.ts';
import { family, parsePrometheus, type Family } from './helpers/prometheus.ts';

interface Target extends TargetGauges {
  up: boolean;
  changedAt: number;
}

function target(name: string, over: Partial<Target> = {}): Target {
  return { target: name, up: true, changedAt: 0, ...over };
}

const REDIS = 'redis://:***@h:6379/0';
const CORE = 'http://core/api/v2.0/internalconfig';

/** [target, value] of each sample named `name` (the family's name unless given). */
function byTarget(f: Family, name = f.name): Array<[string | undefined, number]> {
  return f.samples.filter((s) => s.name === name).map((s) => [s.labels.target, s.value]);
}

describe('createMetrics', () => {
  it('writes every family with its type and help, in order, on a registry of its own', async () => {
    const m = createMetrics([target(REDIS), target(CORE)]);
    const text = await m.render({ version: '1.2.3', now: 0 });
    expect(m.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = [...parsePrometheus(text).values()].map((f) => [f.name, f.type, f.help]);
    expect(families).toEqual([
      ['harbor_wait_info', 'gauge', 'Always 1; the version as a label.'],
      ['harbor_wait_ready', 'gauge', '1 when every target passed its latest check (/readyz answers 200), else 0.'],
      ['harbor_wait_up', 'gauge', '1 when the target passed its latest check, else 0.'],
      ['harbor_wait_attempts_total', 'counter', 'Attempts made to check the target.'],
      ['harbor_wait_failures_total', 'counter', 'Failed attempts, by the code of the failure (ECONNREFUSED, LOADING, HTTP_401, ...).'],
      ['harbor_wait_probe_duration_seconds', 'histogram', 'Duration of each attempt, failed or not.'],
      ['harbor_wait_state_age_seconds', 'gauge', 'Seconds since the target last changed state (pending, ready, not ready).'],
    ]);
    expect(family(text, 'harbor_wait_info').samples).toEqual([{ name: 'harbor_wait_info', labels: { version: '1.2.3' }, value: 1 }]);
    // Nothing on prom-client's global registry, where default Node metrics would go; a second set does not clash.
    expect(globalRegistry.getMetricsAsArray()).toEqual([]);
    await expect(createMetrics([target(REDIS)]).render({ version: '1', now: 0 })).resolves.toContain('harbor_wait_up');
  });

  it('has every target\'s series before its first attempt: attempts and histogram at 0, no failures', async () => {
    const text = await createMetrics([target(REDIS), target(CORE)]).render({ version: '1', now: 0 });
    expect(byTarget(family(text, 'harbor_wait_attempts_total'))).toEqual([
      [REDIS, 0],
      [CORE, 0],
    ]);
    const h = family(text, 'harbor_wait_probe_duration_seconds');
    expect(byTarget(h, 'harbor_wait_probe_duration_seconds_count')).toEqual([
      [REDIS, 0],
      [CORE, 0],
    ]);
    expect(h.samples.filter((s) => s.name.endsWith('_bucket'))).toHaveLength(2 * (LATENCY_BUCKETS.length + 1));
    expect(family(text, 'harbor_wait_failures_total').samples).toEqual([]);
  });

  it('escapes backslashes, quotes and newlines in label values, in every family', async () => {
    const odd = 'http://h/a"b\\c\nd';
    const m = createMetrics([target(odd)]);
    m.attempt(odd, 0.01, 'HTTP_500');
    const text = await m.render({ version: '1', now: 0 });
    expect(text).toContain('harbor_wait_up{target="http://h/a\\"b\\\\c\\nd"} 1');
    const families = [...parsePrometheus(text).values()].filter((f) => f.name !== 'harbor_wait_info' && f.name !== 'harbor_wait_ready');
    expect(families).toHaveLength(5);
    for (const f of families) {
      expect(f.samples.length, f.name).toBeGreaterThan(0);
      for (const s of f.samples) expect(s.labels.target, s.name).toBe(odd);
    }
  });

  it('writes a cumulative histogram with the latency buckets, whose +Inf bucket and count are every observation', async () => {
    const m = createMetrics([target(REDIS), target(CORE)]);
    // 0.005 is on a bound: a bucket counts what is less than or equal to it.
    for (const s of [0.001, 0.005, 0.02, 0.02, 0.7, 30]) m.attempt(REDIS, s, null);
    m.attempt(CORE, 0.3, null);
    const h = family(await m.render({ version: '1', now: 0 }), 'harbor_wait_probe_duration_seconds');
    const buckets = h.samples.filter((s) => s.name === 'harbor_wait_probe_duration_seconds_bucket' && s.labels.target === REDIS);
    expect(buckets.map((b) => b.labels.le)).toEqual([...LATENCY_BUCKETS.map(String), '+Inf']);
    expect(buckets.map((b) => b.value)).toEqual([2, 2, 4, 4, 4, 4, 4, 5, 5, 5, 5, 6]);
    expect(byTarget(h, 'harbor_wait_probe_duration_seconds_count')).toEqual([
      [REDIS, 6],
      [CORE, 1],
    ]);
    const sum = byTarget(h, 'harbor_wait_probe_duration_seconds_sum');
    expect(sum[0]?.[1]).toBeCloseTo(30.746, 9);
    expect(sum[1]).toEqual([CORE, 0.3]);
    const core = h.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.target === CORE).map((b) => b.value);
    expect(core).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  });

  it('counts attempts, and failures by target and code', async () => {
    const m = createMetrics([target(REDIS), target(CORE)]);
    for (const code of ['LOADING', 'LOADING', 'ECONNREFUSED', 'LOADING', 'ECONNREFUSED', null]) m.attempt(REDIS, 0.001, code);
    m.attempt(CORE, 0.001, 'HTTP_500');
    const text = await m.render({ version: '1', now: 0 });
    expect(byTarget(family(text, 'harbor_wait_attempts_total'))).toEqual([
      [REDIS, 6],
      [CORE, 1],
    ]);
    // In the order each was first seen (prom-client's); a scraper does not care.
    const failures = family(text, 'harbor_wait_failures_total').samples.map((s) => [s.labels.target, s.labels.code, s.value]);
    expect(failures).toEqual([
      [REDIS, 'LOADING', 3],
      [REDIS, 'ECONNREFUSED', 2],
      [CORE, 'HTTP_500', 1],
    ]);
    expect(family(text, 'harbor_wait_failures_total').samples.every((s) => Object.keys(s.labels).join() === 'target,code')).toBe(true);
  });

  it('reads readiness and the age of the last change from the targets at each render', async () => {
    const redis = target(REDIS, { up: false, changedAt: 1_000 });
    const core = target(CORE, { up: true, changedAt: 0 });
    const m = createMetrics([redis, core]);
    let text = await m.render({ version: '1', now: 3_500 });
    expect(family(text, 'harbor_wait_ready').samples).toEqual([{ name: 'harbor_wait_ready', labels: {}, value: 0 }]);
    expect(byTarget(family(text, 'harbor_wait_up'))).toEqual([
      [REDIS, 0],
      [CORE, 1],
    ]);
    expect(byTarget(family(text, 'harbor_wait_state_age_seconds'))).toEqual([
      [REDIS, 2.5],
      [CORE, 3.5],
    ]);

    Object.assign(redis, { up: true, changedAt: 4_000 });
    text = await m.render({ version: '1', now: 3_900 });
    expect(family(text, 'harbor_wait_ready').samples[0]?.value).toBe(1);
    expect(byTarget(family(text, 'harbor_wait_up'))).toEqual([
      [REDIS, 1],
      [CORE, 1],
    ]);
    // A clock stepped back gives 0, never a negative age.
    expect(byTarget(family(text, 'harbor_wait_state_age_seconds'))).toEqual([
      [REDIS, 0],
      [CORE, 3.9],
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
