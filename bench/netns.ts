/**
 * Where figure 2 reads the kernel's TCP counters. /proc/net/snmp counts for a whole network namespace, and
 * this machine's is shared with whatever else runs on it (other engineers' test suites make refused
 * connects too). So when it can (root, util-linux's unshare and nsenter, iproute2's ip), the bench makes a
 * private network namespace held by one `sleep`, brings its loopback up, and runs the waiters and
 * redis-server in it through nsenter (which execs the command: same PID, no extra process). Its counters
 * then count the bench's traffic only. Otherwise it falls back to the shared namespace and says so.
 */
import { readFileSync } from 'node:fs';
import { cleanEnv } from './env.ts';
import { start, type Proc } from './procs.ts';

export type Counters = Record<string, number>;

/** The `Tcp:` counters of a /proc/…/net/snmp file. */
export function readTcp(file = '/proc/net/snmp'): Counters {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('Tcp:'));
  const names = (lines[0] ?? '').trim().split(/\s+/);
  const values = (lines[1] ?? '').trim().split(/\s+/);
  const out: Counters = {};
  names.forEach((n, i) => {
    if (i > 0) out[n] = Number(values[i]);
  });
  return out;
}

export interface CounterSpace {
  /** private: a network namespace of the bench's own; shared: the machine's. */
  readonly kind: 'private' | 'shared';
  /** Why the private namespace could not be made (shared only). */
  readonly why: string | undefined;
  read(): Counters;
  /** The command line that runs `command` inside the namespace. */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  stop(): Promise<void>;
}

function shared(why: string): CounterSpace {
  return { kind: 'shared', why, read: () => readTcp(), wrap: (command, args) => ({ command, args: [...args] }), stop: async () => {} };
}

export async function openCounterSpace(): Promise<CounterSpace> {
  let holder: Proc;
  let onUp: () => void = () => {};
  const up = new Promise<void>((resolve) => (onUp = resolve));
  try {
    holder = await start('unshare', ['--net', 'sh', '-c', 'ip link set lo up && echo up && exec sleep 86400'], {
      env: cleanEnv(),
      onStdoutLine: (line) => {
        if (line === 'up') onUp();
      },
    });
  } catch (err) {
    return shared(`unshare could not start (${(err as Error).message}; Debian package util-linux)`);
  }
  const exited = await Promise.race([up.then(() => false), holder.exited.then(() => true)]);
  if (exited) return shared(`no private network namespace: ${holder.output().trim().split('\n').pop() ?? 'unshare failed'} (needs root, and ip from the Debian package iproute2)`);
  const net = `--net=/proc/${holder.pid}/ns/net`;
  return {
    kind: 'private',
    why: undefined,
    read: () => readTcp(`/proc/${holder.pid}/net/snmp`),
    wrap: (command, args) => ({ command: 'nsenter', args: [net, '--', command, ...args] }),
    stop: () => holder.stop(),
  };
}
