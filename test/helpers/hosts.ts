/**
 * The built entry with a /etc/hosts of the test's choosing, so that the system resolver (getaddrinfo, which the
 * entry uses and no test can replace) answers a name with the addresses a test needs and no DNS query is
 * sent. The entry runs in a mount namespace of its own (`unshare --mount`, util-linux; needs root, as the
 * tests run here) where a file is bind-mounted over /etc/hosts; the machine's own /etc/hosts is untouched,
 * and the mount goes away with the process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE, watchProcess, type CliResult, type Running } from './cli.ts';
import { tempDir } from './processes.ts';

/** `localhost` as many systems list it: IPv6 first, then IPv4. */
export const DUAL_STACK_LOCALHOST = '::1 localhost\n127.0.0.1 localhost\n';

const INSTALL = 'these tests run the entry in a mount namespace with its own /etc/hosts: they need unshare (Debian package util-linux) and root';

let dir: string | undefined;
let n = 0;

function hostsFile(text: string): string {
  dir ??= tempDir('harbor-wait-hosts-');
  const path = join(dir, `hosts-${++n}`);
  writeFileSync(path, text);
  return path;
}

/** The command that runs `argv` with `hosts` as its /etc/hosts. */
function wrapped(hosts: string, argv: readonly string[]): [string, string[]] {
  return ['unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /etc/hosts && shift && exec "$@"', 'sh', hostsFile(hosts), ...argv]];
}

/**
 * What getaddrinfo answers for `name` inside such a namespace (`getent ahosts`), one address per entry in its
 * order; throws with what to install when the namespace cannot be made.
 */
export function resolvedInside(hosts: string, name: string): string[] {
  const [cmd, args] = wrapped(hosts, ['getent', 'ahosts', name]);
  let out: string;
  try {
    out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw new Error(`${INSTALL} (${e.code === 'ENOENT' ? 'unshare is not installed' : (e.stderr ?? e.message).trim()})`);
  }
  return [...new Set(out.split('\n').filter((l) => l.includes('STREAM')).map((l) => l.split(/\s+/)[0] as string))];
}

/** Starts the entry (the lone copy) with exactly `env` (plus PATH) and `hosts` as its /etc/hosts. */
export function startCliWithHosts(hosts: string, args: readonly string[], env: Record<string, string> = {}): Running {
  const [cmd, argv] = wrapped(hosts, [process.execPath, BUNDLE, ...args]);
  const child = spawn(cmd, argv, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    child,
    ...watchProcess(child, 'exited', (err) => (err.code === 'ENOENT' ? new Error(`${INSTALL} (unshare is not installed)`) : err)),
  };
}

export function runCliWithHosts(hosts: string, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startCliWithHosts(hosts, args, env).result;
}
