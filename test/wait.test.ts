/** The waiter, with scripted checks: retries, backoff, timeouts, deadline, --once, cancellation, and its log lines. */
import { describe, expect, it } from 'vitest';
import { NotReady } from '../src/basics/errors.ts';
import type { Logger } from '../src/engine/log.ts';
import { waitAll, type WaitOptions } from '../src/engine/waiter.ts';
import { recorder, scripted } from './helpers/scripted.ts';

const refused = new NotReady('connect', 'ECONNREFUSED', 'connection refused');
const loading = new NotReady('response', 'LOADING', 'loading');

function options(log: Logger, over: Partial<WaitOptions> = {}): WaitOptions {
  return {
    deadlineMs: 10_000,
    attemptTimeoutMs: 5000,
    backoff: { initialMs: 1, maxMs: 4, factor: 2 },
    once: false,
    signal: new AbortController().signal,
    log,
    random: () => 0,
    ...over,
  };
}

describe('waitAll', () => {
  it('returns ready when every check is ready, logging ready with attempts and address, then done', async () => {
    const log = recorder();
    const a = scripted('a', [refused, refused, 'ready']);
    const b = scripted('b', ['ready']);
    expect(await waitAll([a, b], options(log))).toEqual({ kind: 'ready' });
    expect(a.attempts).toBe(3);
    expect(b.attempts).toBe(1);
    expect(log.events('ready').map((l) => l.fields)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ target: 'a', attempts: 3, address: '127.0.0.1:1' }),
        expect.objectContaining({ target: 'b', attempts: 1, address: '127.0.0.1:1' }),
      ]),
    );
    expect(log.lines.at(-1)?.event).toBe('done');
  });

  it('logs not_ready at info when the stage or code changes, and repeats at debug', async () => {
    const log = recorder();
    await waitAll([scripted('a', [refused, refused, refused, loading, loading, 'ready'])], options(log));
    const notReady = log.events('not_ready');
    expect(notReady.map((l) => [l.level, l.fields.code])).toEqual([
      ['info', 'ECONNREFUSED'],
      ['debug', 'ECONNREFUSED'],
      ['debug', 'ECONNREFUSED'],
      ['info', 'LOADING'],
      ['debug', 'LOADING'],
    ]);
    expect(notReady[0]?.fields).toMatchObject({ target: 'a', attempt: 1, stage: 'connect', reason: 'connection refused' });
    expect(typeof notReady[0]?.fields.elapsed_ms).toBe('number');
  });

  it('waits the jittered backoff between attempts and reports it as retry_in_ms', async () => {
    const log = recorder();
    await waitAll(
      [scripted('a', [refused, refused, refused, refused, refused, 'ready'])],
      options(log, { backoff: { initialMs: 10, maxMs: 40, factor: 2 }, random: () => 0 }),
    );
    expect(log.events('not_ready').map((l) => l.fields.retry_in_ms)).toEqual([10, 20, 40, 40, 40]);

    const jittered = recorder();
    await waitAll(
      [scripted('a', [refused, refused, refused, 'ready'])],
      options(jittered, { backoff: { initialMs: 40, maxMs: 40, factor: 2 }, random: () => 0.999 }),
    );
    // At the cap, the jitter still applies: 40 × (1 − 0.5 × 0.999) ≈ 20.
    expect(jittered.events('not_ready').map((l) => l.fields.retry_in_ms)).toEqual([20, 20, 20]);
  });

  it('ends an attempt at the attempt timeout, naming the stage it hung in', async () => {
    const log = recorder();
    const check = scripted('a', [{ hangAt: 'tls' }, 'ready']);
    expect(await waitAll([check], options(log, { attemptTimeoutMs: 50 }))).toEqual({ kind: 'ready' });
    expect(log.events('not_ready')[0]?.fields).toMatchObject({ stage: 'timeout', code: 'TLS_TIMEOUT' });
    expect(String(log.events('not_ready')[0]?.fields.reason)).toContain('TLS handshake');
    expect(check.open).toBe(0);
  });

  it('stops at the deadline, aborting what is in flight, and lists each pending target with its last failure', async () => {
    const log = recorder();
    const stuck = scripted('stuck', [refused, { hangAt: 'response' }]);
    const down = scripted('down', [loading]);
    const started = performance.now();
    const outcome = await waitAll([stuck, down, scripted('up', ['ready'])], options(log, { deadlineMs: 300, backoff: { initialMs: 5, maxMs: 5, factor: 1 } }));
    expect(outcome).toMatchObject({ kind: 'deadline', head: 'gave up after the 300ms deadline' });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(stuck.open + down.open).toBe(0);
    const line = log.events('deadline')[0];
    // The outcome carries what the line lists, for the termination message.
    expect(outcome.kind === 'deadline' && outcome.pending).toEqual(line?.fields.pending);
    expect(line?.level).toBe('error');
    expect(line?.fields.pending).toEqual([
      { target: 'stuck', attempts: 2, stage: 'connect', code: 'ECONNREFUSED', reason: 'connection refused' },
      expect.objectContaining({ target: 'down', stage: 'response', code: 'LOADING', reason: 'loading' }),
    ]);
  });

  it('interrupts a long backoff sleep at the deadline', async () => {
    const log = recorder();
    const started = performance.now();
    const outcome = await waitAll([scripted('a', [refused])], options(log, { deadlineMs: 200, backoff: { initialMs: 60_000, maxMs: 60_000, factor: 1 } }));
    expect(outcome.kind).toBe('deadline');
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('makes one attempt per target with --once, and says which were not ready', async () => {
    const log = recorder();
    const a = scripted('a', [refused, 'ready']);
    const b = scripted('b', ['ready']);
    expect(await waitAll([a, b], options(log, { once: true }))).toEqual({
      kind: 'not_ready',
      head: 'not ready after one attempt',
      pending: [expect.objectContaining({ target: 'a', code: 'ECONNREFUSED' })],
    });
    expect(a.attempts).toBe(1);
    expect(log.events('not_ready')[0]?.fields.retry_in_ms).toBeNull();
    expect(log.events('failed')[0]?.fields.pending).toEqual([expect.objectContaining({ target: 'a', code: 'ECONNREFUSED' })]);
    expect(await waitAll([scripted('c', ['ready'])], options(recorder(), { once: true }))).toEqual({ kind: 'ready' });
  });

  it('returns cancelled with the reason when its signal aborts, leaving nothing open', async () => {
    const log = recorder();
    const controller = new AbortController();
    const check = scripted('a', [{ hangAt: 'connect' }]);
    setTimeout(() => controller.abort({ signal: 'SIGTERM' }), 50);
    const outcome = await waitAll([check], options(log, { signal: controller.signal }));
    expect(outcome).toMatchObject({ kind: 'cancelled', reason: { signal: 'SIGTERM' }, head: expect.stringMatching(/^stopped by SIGTERM after /) });
    expect(check.open).toBe(0);
    expect(log.events('cancelled')[0]?.fields).toMatchObject({ signal: 'SIGTERM' });
  });

  it('logs waiting on the heartbeat with pending targets, elapsed and remaining time', async () => {
    const log = recorder();
    await waitAll([scripted('a', [refused])], options(log, { deadlineMs: 250, heartbeatMs: 60 }));
    const waiting = log.events('waiting');
    expect(waiting.length).toBeGreaterThanOrEqual(2);
    expect(waiting[0]?.fields).toMatchObject({ pending: [expect.objectContaining({ target: 'a', code: 'ECONNREFUSED' })] });
    expect(waiting[0]?.fields.remaining_ms).toBeGreaterThan(0);
  });

  it('reports remaining_ms as null when waiting forever', async () => {
    const log = recorder();
    const controller = new AbortController();
    setTimeout(() => controller.abort({ signal: 'SIGINT' }), 150);
    await waitAll([scripted('a', [refused])], options(log, { deadlineMs: 0, heartbeatMs: 40, signal: controller.signal }));
    expect(log.events('waiting')[0]?.fields.remaining_ms).toBeNull();
  });

  it('treats an error of its own code (a TypeError) as a bug: stops and rethrows it', async () => {
    const bug = new TypeError('x is not a function');
    const other = scripted('b', [{ hangAt: 'connect' }]);
    await expect(waitAll([scripted('a', [bug]), other], options(recorder()))).rejects.toBe(bug);
    expect(other.open).toBe(0);
  });

  it('retries an unexpected library error as not ready, with code UNKNOWN', async () => {
    const log = recorder();
    await waitAll([scripted('a', [new Error('something odd\nsecond line'), 'ready'])], options(log));
    expect(log.events('not_ready')[0]?.fields).toMatchObject({ code: 'UNKNOWN', stage: 'connect' });
    expect(String(log.events('not_ready')[0]?.fields.reason)).not.toContain('second line');
  });
});
