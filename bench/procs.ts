/**
 * Every process the bench starts goes through here. Each is the leader of its own process group, so that a
 * stop (by its PID, as the group -PID) also reaches what it started itself: wait-for-it's `sleep`, GNU
 * time's command. Temporary directories are registered too, and everything is released by stopAll().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redact } from './env.ts';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** performance.now() when the bench saw the exit. */
  readonly at: number;
}

export interface Proc {
  readonly pid: number;
  /** performance.now() just before spawn(). */
  readonly startedAt: number;
  readonly exited: Promise<Exit>;
  /** The exit, once seen. */
  exit(): Exit | undefined;
  /** The last 16 KiB of stdout and stderr, redacted. */
  output(): string;
  /** All of stdout (only with keepStdout). */
  stdout(): string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** The working directory (the bench's own by default). */
  readonly cwd?: string;
  readonly keepStdout?: boolean;
  /** Called for each complete stdout line, with performance.now() at its arrival. */
  readonly onStdoutLine?: (line: string, at: number) => void;
  /** The Debian package to name when the binary is missing. */
  readonly pkg?: string;
}

const TAIL = 16 * 1024;
/** Groups whose leader has not exited yet, by PID. */
const live = new Map<number, Proc>();
/** Every group started, for the final check that none is left. */
const groups = new Set<number>();
const dirs = new Set<string>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group
  }
}

export async function start(command: string, args: readonly string[], o: SpawnOptions = {}): Promise<Proc> {
  const startedAt = performance.now();
  const child: ChildProcess = spawn(command, args, { env: o.env, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let tail = '';
  let out = '';
  let partial = '';
  const keep = (s: string) => {
    tail = (tail + s).slice(-TAIL);
  };
  child.stdout?.on('data', (d: Buffer) => {
    const at = performance.now();
    const s = d.toString();
    keep(s);
    if (o.keepStdout) out += s;
    if (o.onStdoutLine) {
      const lines = (partial + s).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) o.onStdoutLine(line, at);
    }
  });
  child.stderr?.on('data', (d: Buffer) => keep(d.toString()));

  let seen: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      seen = { code, signal, at: performance.now() };
      live.delete(child.pid as number);
      // Whatever the leader left running in its group (it is ours) goes with it.
      killGroup(child.pid as number, 'SIGKILL');
      resolve(seen);
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err: NodeJS.ErrnoException) => {
      const name = command.split('/').pop();
      reject(
        err.code === 'ENOENT'
          ? new Error(`${name} is not installed${o.pkg ? `: install the Debian package ${o.pkg}` : ''}`)
          : new Error(`${name} could not start: ${err.message}`),
      );
    });
  });
  const pid = child.pid as number;
  const proc: Proc = {
    pid,
    startedAt,
    exited,
    exit: () => seen,
    output: () => redact(tail),
    stdout: () => out,
    stop: async () => {
      if (seen) return;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
  groups.add(pid);
  if (!seen) live.set(pid, proc);
  return proc;
}

/** A temporary directory, removed by stopAll(). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Stops every process still running and removes the temporary directories. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live.values()].map((p) => p.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** Last resort on process exit: synchronous, SIGKILL to every group still running. */
export function killAllNow(): void {
  for (const pid of live.keys()) killGroup(pid, 'SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

/** Processes still alive in any group the bench started, found in /proc (read only). */
export function leftovers(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 5 is the process group; fields are counted after the command name's closing parenthesis.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (groups.has(Number(fields[2]))) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Sends SIGKILL to the groups of leftover processes (they are the bench's own). */
export function killLeftovers(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (groups.has(pgid)) killGroup(pgid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}
