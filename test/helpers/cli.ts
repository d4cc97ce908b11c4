/** Runs the built entry file as users do (`node harbor-wait.cjs`) and parses its log lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** dist/harbor-wait.cjs as built, with its code cache beside it. */
export const BUILT = fileURLToPath(new URL('../../dist/harbor-wait.cjs', import.meta.url));
/**
 * The entry file copied alone into an empty read-only directory (by global-setup.ts): what every CLI test
 * runs unless it says otherwise, so each scenario proves the file is self-contained.
 */
export const ALONE = fileURLToPath(new URL('../../.vitest-tmp/alone/harbor-wait.cjs', import.meta.url));
export const BUNDLE = ALONE;

export interface LogLine {
  readonly level: string;
  readonly time: string;
  readonly msg: string;
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed, one object per line (JSON format). */
  readonly lines: LogLine[];
  /** Wall time from spawn to exit. */
  readonly ms: number;
  events(event: string): LogLine[];
}

export interface Running {
  readonly child: ChildProcess;
  /** Resolves when the process has printed a line with this event. */
  waitForEvent(event: string, predicate?: (line: LogLine) => boolean): Promise<LogLine>;
  readonly result: Promise<CliResult>;
}

function parse(stdout: string): LogLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** Where and as whom to run: by default the test's own node on the lone copy of the entry, as the test's user. */
export interface CliOptions {
  /** The node binary. */
  readonly node?: string;
  /** The bundle to run. */
  readonly bundle?: string;
  readonly cwd?: string;
  /** Run as this user and group (needs root). */
  readonly uid?: number;
  readonly gid?: number;
  /** What the process reads on standard input (written, then closed); without it, stdin is /dev/null. */
  readonly input?: string | Buffer;
}

/**
 * Watches a spawned harbor-wait (the entry under node, or podman running the image): its output, its log lines
 * as they come, and its end. `what` names it in errors; `spawnError` words a failure to spawn it at all.
 */
export function watchProcess(
  child: ChildProcess,
  what = 'exited',
  spawnError: (err: NodeJS.ErrnoException) => Error = (err) => err,
): Omit<Running, 'child'> {
  const started = performance.now();
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => reject(spawnError(err)));
    // 'close' comes after the exit and after both pipes have ended, so no output is missed.
    child.on('close', (code, signal) => {
      const lines = parse(stdout);
      resolve({ code, signal, stdout, stderr, lines, ms: performance.now() - started, events: (e) => lines.filter((l) => l.event === e) });
    });
  });
  return {
    result,
    waitForEvent(event, predicate = () => true) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = parse(stdout.slice(0, stdout.lastIndexOf('\n') + 1)).find((l) => l.event === event && predicate(l));
          if (hit) resolve(hit);
        };
        waiters.push(check);
        check();
        void result.then(() => {
          check();
          reject(new Error(`${what} without a "${event}" line; stdout:\n${stdout}\nstderr:\n${stderr}`));
        }, reject);
      });
    },
  };
}

/** Starts the bundle with exactly `env` (plus PATH): nothing else leaks in from the test's environment. */
export function startCli(args: readonly string[], env: Record<string, string> = {}, options: CliOptions = {}): Running {
  const child = spawn(options.node ?? process.execPath, [options.bundle ?? BUNDLE, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    cwd: options.cwd,
    uid: options.uid,
    gid: options.gid,
  });
  if (options.input !== undefined && child.stdin) {
    // A process that exits before reading it all closes the pipe: that is its answer, not the test's error.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input);
  }
  return { child, ...watchProcess(child) };
}

export function runCli(args: readonly string[], env: Record<string, string> = {}, options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, env, options).result;
}

/** Every line of stdout is one whole JSON object with level as a word, an ISO time, a msg and an event. */
export function expectWellFormed(r: CliResult): void {
  const lines = r.stdout.split('\n').filter(Boolean);
  expect(lines.length, r.stdout).toBe(r.lines.length);
  for (const l of r.lines) {
    expect(['debug', 'info', 'warn', 'error']).toContain(l.level);
    expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(typeof l.msg).toBe('string');
    expect(typeof l.event).toBe('string');
  }
}
