/** Starting and stopping the test's own server processes, by PID; a missing binary fails with what to install. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();

/** What to install for each binary the tests start. */
const PACKAGES: Record<string, string> = {
  'redis-server': 'redis-server',
  'redis-sentinel': 'redis-sentinel',
  openssl: 'openssl',
};

export function missingBinary(binary: string): Error {
  const pkg = PACKAGES[binary] ?? binary;
  return new Error(`${binary} is not installed: install the Debian package ${pkg} (sudo apt-get install -y ${pkg}, or run: bash scripts/setup.sh)`);
}

/** A fresh temporary directory (in `base`, the system's temporary directory by default), removed when the test file ends. */
export function tempDir(prefix = 'harbor-wait-', base = tmpdir()): string {
  const dir = mkdtempSync(join(base, prefix));
  dirs.add(dir);
  return dir;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; rejects after `ms`. */
export async function waitForPort(port: number, ms = 10_000, child?: ChildProcess): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface Started {
  readonly child: ChildProcess;
  /** Everything the process wrote so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Spawns a server binary; fails with an install hint when the binary is missing. */
export async function startProcess(binary: string, args: readonly string[], cwd?: string): Promise<Started> {
  const child = spawn(binary, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? missingBinary(binary) : err));
  });
  children.add(child);
  return { child, output: () => output, stop: () => stopChild(child) };
}

/** Stops one of our children by its PID: SIGTERM, then SIGKILL after 3 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Stops every process this test file started and removes its directories. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map(stopChild));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}
