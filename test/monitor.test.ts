/** The sidecar's monitor with scripted checks: states, backoff after failures, interval after success, log lines, stop. */
import { describe, expect, it } from 'vitest';
import { NotReady } from '../src/basics/errors.ts';
import { createMonitor, readinessReport, type MonitorOptions } from '../src/engine/monitor.ts';
import { eventually } from './helpers/checks.ts';
import { family } from './helpers/prometheus.ts';
import { recorder, scripted } from './helpers/scripted.ts';

const refused = new NotReady('connect', 'ECONNREFUSED', 'connection refused');
const loading = new NotReady('response', 'LOADING', 'loading');

function options(over: Partial<MonitorOptions> & Pick<MonitorOptions, 'signal' | 'log'>): MonitorOptions {
  return { attemptTimeoutMs: 5000, backoff: { initialMs: 10, maxMs: 40, factor: 2 }, intervalMs: 1, random: () => 0, ...over };
}

describe('createMonitor', () => {
  it('tracks each target: not ready with its code, then ready; failures counted by code', async () => {
    const stop = new AbortController();
    const log = recorder();
    const a = scripted('a', [refused, loading, loading, 'ready']);
    const m = createMonitor([a], options({ signal: stop.signal, log }));
    expect(readinessReport(m)).toMatchObject({ status: 'not_ready', targets: [{ target: 'a', state: 'pending', attempts: 0 }] });
    const running = m.run();
    await eventually(() => m.ready() && a.attempts >= 6);
    stop.abort();
    await running;
    const s = m.statuses[0]!;
    expect(s).toMatchObject({ state: 'ready', up: true, code: null, stage: null, address: '127.0.0.1:1' });
    expect(s.attempts).toBe(a.attempts);
    // Every attempt counted and timed as it finished, every failure by its code.
    const text = await m.metrics.render({ version: '1', now: Date.now() });
    const sample = (name: string, labels: Record<string, string> = {}) =>
      family(text, name).samples.filter((x) => x.name.startsWith(name) && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    expect(sample('harbor_wait_attempts_total').map((x) => [x.labels.target, x.value])).toEqual([['a', a.attempts]]);
    expect(sample('harbor_wait_failures_total').map((x) => [x.labels.code, x.value])).toEqual([
      ['ECONNREFUSED', 1],
      ['LOADING', 2],
    ]);
    expect(sample('harbor_wait_probe_duration_seconds', { le: '+Inf' }).map((x) => x.value)).toEqual([a.attempts]);
    expect(sample('harbor_wait_up').map((x) => x.value)).toEqual([1]);
    // One ready line however often it stays ready; not_ready at info only when the code changes.
    expect(log.events('ready')).toHaveLength(1);
    expect(log.events('not_ready').map((l) => [l.level, l.fields.code])).toEqual([
      ['info', 'ECONNREFUSED'],
      ['info', 'LOADING'],
      ['debug', 'LOADING'],
    ]);
    expect(log.events('readiness').map((l) => l.fields.ready)).toEqual([true]);
    expect(a.open).toBe(0);
  });

  it('retries a failing target on the backoff schedule, and starts the schedule again after a success', async () => {
    const stop = new AbortController();
    const log = recorder();
    const a = scripted('a', [refused, refused, refused, refused, 'ready', refused, 'ready']);
    const m = createMonitor([a], options({ signal: stop.signal, log }));
    const running = m.run();
    await eventually(() => a.attempts >= 8);
    stop.abort();
    await running;
    // random 0 takes no jitter off: 10, 20, 40, then 40 (the cap), and 10 again after the success.
    expect(log.events('not_ready').map((l) => l.fields.retry_in_ms)).toEqual([10, 20, 40, 40, 10]);
    expect(log.events('readiness').map((l) => l.fields.ready)).toEqual([true, false, true]);
    expect(log.events('readiness')[1]).toMatchObject({ level: 'warn', fields: { not_ready: ['a'] } });
  });

  it('logs waiting while a target is not ready, and says nothing of a ready one', async () => {
    const stop = new AbortController();
    const log = recorder();
    const m = createMonitor([scripted('down', [refused]), scripted('up', ['ready'])], options({ signal: stop.signal, log, heartbeatMs: 10 }));
    const running = m.run();
    await eventually(() => log.events('waiting').length >= 2);
    stop.abort();
    await running;
    for (const l of log.events('waiting')) {
      expect(l.fields).toMatchObject({ pending: [{ target: 'down', code: 'ECONNREFUSED' }], remaining_ms: null });
    }
  });

  it('stops every loop on the signal, mid-attempt, leaving nothing open', async () => {
    const stop = new AbortController();
    const hanging = scripted('hang', [{ hangAt: 'tls' }]);
    const m = createMonitor([hanging, scripted('up', ['ready'])], options({ signal: stop.signal, log: recorder() }));
    const running = m.run();
    await eventually(() => hanging.open === 1);
    stop.abort();
    await running;
    expect(hanging.open).toBe(0);
  });

  it('rejects on a bug, and stops the other loops', async () => {
    const bug = new TypeError('a bug');
    const hanging = scripted('hang', [{ hangAt: 'connect' }]);
    const m = createMonitor([hanging, scripted('buggy', [refused, bug])], options({ signal: new AbortController().signal, log: recorder() }));
    await expect(m.run()).rejects.toBe(bug);
    await eventually(() => hanging.open === 0);
  });
});
