/**
 * Output never holds the process (src/output.ts, src/main.ts): with standard output a pipe nobody reads — a
 * Node child_process pipe (a socketpair), and a FIFO as a container runtime hands it over — the deadline and
 * SIGTERM act on time, the exit code and the termination message are right, and what did get written is
 * whole JSON lines. Through the built entry file; the queue itself in-process against a scripted reader.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { createOutput, type TryWrite } from '../src/basics/output.ts';
import { BUNDLE } from './helpers/cli.ts';
import { freePort, tempDir } from './helpers/processes.ts';

const dir = tempDir('harbor-wait-output-');
let n = 0;

/** An empty file standing in for the kubelet's /dev/termination-log. */
function terminationLog(): string {
  const path = join(dir, `termination-log-${++n}`);
  writeFileSync(path, '');
  return path;
}

/**
 * A run that writes far more than a pipe holds (64 KiB) within its first second: 200 refused targets, every
 * attempt logged at debug, 5 ms between attempts. Before output.ts, its first blocked write stopped the
 * event loop, and with it the deadline's timer and the signal handlers, until someone read the pipe.
 */
async function noisyArgs(): Promise<string[]> {
  const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
  return ['--log-level', 'debug', '--backoff-initial', '5ms', '--backoff-max', '5ms', '--attempt-timeout', '1s', ...ports.map((p) => `tcp://127.0.0.1:${p}`)];
}

interface Unread {
  readonly child: ChildProcess;
  /** Resolves at exit with the code, the time from spawn, stderr, and everything stdout held (read only after the exit). */
  readonly done: Promise<{ code: number | null; ms: number; stderr: string; stdout: string }>;
}

/** Kills a run that did not exit within `ms`: the failure then says so instead of hanging the test file. */
function guard(child: ChildProcess, ms = 20_000): () => void {
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return () => clearTimeout(timer);
}

/** The built entry with stdout a Node pipe (a socketpair) that is never read until the process has exited. */
function spawnUnreadPipe(args: readonly string[]): Unread {
  const started = performance.now();
  const child = spawn(process.execPath, [BUNDLE, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pause();
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const unguard = guard(child);
  const done = new Promise<{ code: number | null; ms: number; stderr: string; stdout: string }>((resolve) => {
    child.once('exit', (code) => {
      const ms = performance.now() - started;
      unguard();
      // Only now read what the pipe held.
      let stdout = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stdout!.resume();
      child.once('close', () => resolve({ code, ms, stderr, stdout }));
    });
  });
  return { child, done };
}

/** The built entry with stdout a FIFO, as containerd and CRI-O give a container: open for reading, never read until the exit. */
function spawnUnreadFifo(args: readonly string[]): Unread {
  const fifo = join(dir, `stdout-${++n}.fifo`);
  execFileSync('mkfifo', [fifo]);
  // The reader's end first (non-blocking, so that opening does not wait for a writer), then the writer's.
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  const started = performance.now();
  const child = spawn(process.execPath, [BUNDLE, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', writer, 'pipe'] });
  closeSync(writer);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const unguard = guard(child);
  const done = new Promise<{ code: number | null; ms: number; stderr: string; stdout: string }>((resolve) => {
    child.once('close', (code) => {
      const ms = performance.now() - started;
      unguard();
      const chunks: Buffer[] = [];
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        let got: number;
        try {
          got = readSync(reader, buffer);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
          throw err;
        }
        if (got === 0) break;
        chunks.push(Buffer.from(buffer.subarray(0, got)));
      }
      closeSync(reader);
      resolve({ code, ms, stderr, stdout: Buffer.concat(chunks).toString() });
    });
  });
  return { child, done };
}

/**
 * Whole lines only: every line that ends in a newline is one JSON object. Only the very end may be a line
 * begun and not finished (the reader never came back for it), with nothing after it.
 */
function expectWholeLines(stdout: string): Array<Record<string, unknown>> {
  const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1).split('\n').slice(0, -1);
  expect(complete.length, 'complete lines').toBeGreaterThan(0);
  return complete.map((line) => {
    expect(() => JSON.parse(line), line.slice(0, 200)).not.toThrow();
    return JSON.parse(line) as Record<string, unknown>;
  });
}

describe('a log pipe nobody reads, through the entry file', () => {
  for (const [kind, start] of [['a Node pipe (socketpair)', spawnUnreadPipe], ['a FIFO, as a container runtime gives it', spawnUnreadFifo]] as const) {
    it(`the 2 s deadline exits 124 on time with stdout ${kind}; the termination message is right`, async () => {
      const path = terminationLog();
      const run = start(['--deadline', '2s', '--termination-log', path, ...(await noisyArgs())]);
      const r = await run.done;
      expect(r.code, r.stderr).toBe(ExitCode.Deadline);
      // The deadline, a drain that gives up 200 ms after the reader stops taking anything, and start-up: well under 5 s.
      expect(r.ms).toBeLessThan(5000);
      const text = readFileSync(path, 'utf8');
      expect(text).toMatch(/^harbor-wait: gave up after the 2s deadline; not ready:\ntcp:\/\/127\.0\.0\.1:\d+ \(connect, ECONNREFUSED\): connection to 127\.0\.0\.1:\d+ refused: nothing listens there yet\n/);
      const lines = expectWholeLines(r.stdout);
      expect(lines[0]).toMatchObject({ event: 'start' });
      // The pipe was full: far more was logged than it holds, so lines were dropped, and said so on stderr.
      expect(r.stderr).toMatch(/^harbor-wait: \d+ log lines were dropped: standard output was not read\n$/);
    });
  }

  for (const [kind, start] of [['a Node pipe (socketpair)', spawnUnreadPipe], ['a FIFO', spawnUnreadFifo]] as const) {
    it(`one SIGTERM exits 143 at once with stdout ${kind}; the termination message names the signal`, async () => {
      const path = terminationLog();
      const run = start(['--deadline', '0', '--termination-log', path, ...(await noisyArgs())]);
      // Long enough for the first attempts of 200 targets to overfill the pipe.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const signalled = performance.now();
      run.child.kill('SIGTERM');
      const r = await run.done;
      expect(r.code, r.stderr).toBe(ExitCode.Sigterm);
      expect(performance.now() - signalled).toBeLessThan(3000);
      expect(readFileSync(path, 'utf8')).toMatch(/^harbor-wait: stopped by SIGTERM after [\d.]+m?s; not ready:\ntcp:\/\/127\.0\.0\.1:\d+ \(connect, ECONNREFUSED\)/);
      expectWholeLines(r.stdout);
    });
  }
});

/** A reader that takes at most `room` bytes until told to take more; `closed` makes every write fail with EPIPE. */
function scriptedReader(room: number) {
  const state = { room, taken: Buffer.alloc(0), closed: false };
  const tryWrite: TryWrite = (buffer, offset) => {
    if (state.closed) throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    const n = Math.min(state.room, buffer.length - offset);
    state.room -= n;
    state.taken = Buffer.concat([state.taken, buffer.subarray(offset, offset + n)]);
    return n;
  };
  return { state, tryWrite, text: () => state.taken.toString() };
}

describe('the queue (in-process, a scripted reader)', () => {
  it('writes through while the reader keeps up', () => {
    const reader = scriptedReader(Infinity);
    const out = createOutput(reader.tryWrite);
    out.write('{"a":1}\n');
    out.write('{"b":2}\n');
    expect(reader.text()).toBe('{"a":1}\n{"b":2}\n');
    expect(out.dropped).toBe(0);
  });

  it('finishes a line the reader took part of before the next one, once it takes more', async () => {
    const reader = scriptedReader(5);
    const out = createOutput(reader.tryWrite, { retryMs: 5 });
    out.write('{"first":1}\n');
    out.write('{"second":2}\n');
    expect(reader.text()).toBe('{"fir');
    reader.state.room = Infinity;
    await out.drain();
    expect(reader.text()).toBe('{"first":1}\n{"second":2}\n');
  });

  it('when full, drops the oldest whole lines that have not begun, never the one begun', () => {
    const reader = scriptedReader(3);
    const out = createOutput(reader.tryWrite, { maxQueuedBytes: 32 });
    out.write('{"n":1}\n'); // begun: 3 bytes taken
    for (let i = 2; i <= 6; i++) out.write(`{"n":${i}}\n`);
    expect(out.dropped).toBe(2); // 2 and 3 made room for 5 and 6
    reader.state.room = Infinity;
    out.flush();
    expect(reader.text()).toBe('{"n":1}\n{"n":4}\n{"n":5}\n{"n":6}\n');
    // A line larger than the whole queue is dropped itself.
    out.write(`${'x'.repeat(40)}\n`);
    expect(out.dropped).toBe(3);
  });

  it('stops writing once the reader has gone away (EPIPE), and does not count that as dropped', () => {
    const reader = scriptedReader(Infinity);
    const out = createOutput(reader.tryWrite);
    out.write('{"a":1}\n');
    reader.state.closed = true;
    out.write('{"b":2}\n');
    out.write('{"c":3}\n');
    expect(reader.text()).toBe('{"a":1}\n');
    expect(out.dropped).toBe(0);
  });

  it('at exit, drains while the reader takes, and gives up soon after it stops taking', async () => {
    const reader = scriptedReader(0);
    const out = createOutput(reader.tryWrite, { retryMs: 5 });
    out.write('{"a":1}\n');
    const started = performance.now();
    await out.drain(100, 10_000);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(out.dropped).toBe(1);
  });
});
