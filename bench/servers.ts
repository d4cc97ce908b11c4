/** The dependencies the bench waits for: a real redis-server, a tiny HTTP server, a silent TCP server; all on 127.0.0.1. */
import net from 'node:net';
import { join } from 'node:path';
import { BENCH_DIR, cleanEnv, NODE } from './env.ts';
import { start, tempDir, type Proc } from './procs.ts';

// A port that was free a moment ago on 127.0.0.1: the same helper the tests use.
import { freePort } from '../test/helpers/processes.ts';

export { freePort };

/**
 * A free port for a dependency that is down: an odd one. Linux hands out odd ports to listen(0) and prefers
 * even ones for the source port of connect(), so a waiter's connect to the closed port cannot pick that same
 * port as its own source and connect to itself (a TCP self-connect would look like "up").
 */
export async function freeOddPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await freePort();
    if (port % 2 === 1) return port;
  }
  throw new Error('no odd free port on 127.0.0.1 after 50 tries');
}

export interface RedisServer {
  readonly port: number;
  /** performance.now() when the bench read "Ready to accept connections". */
  readonly readyAt: number;
  readonly proc: Proc;
  stop(): Promise<void>;
}

/** Runs a command as given, or inside a network namespace (see netns.ts). */
export type Wrap = (command: string, args: readonly string[]) => { command: string; args: string[] };
const asIs: Wrap = (command, args) => ({ command, args: [...args] });

/** Starts redis-server on 127.0.0.1:port (logging to stdout) and resolves when it says it is ready. */
export async function startRedis(redisServer: string, port: number, wrap: Wrap = asIs): Promise<RedisServer> {
  const dir = tempDir('harbor-wait-bench-redis-');
  let onReady: (at: number) => void = () => {};
  const ready = new Promise<number>((resolve) => (onReady = resolve));
  const line = wrap(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--daemonize', 'no', '--logfile', '']);
  const proc = await start(
    line.command,
    line.args,
    {
      env: cleanEnv(),
      pkg: 'redis-server',
      onStdoutLine: (line, at) => {
        if (/Ready to accept connections/.test(line)) onReady(at);
      },
    },
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    const readyAt = await Promise.race([
      ready,
      proc.exited.then((e) => Promise.reject(new Error(`redis-server exited (${e.code ?? e.signal}) before it was ready`))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('redis-server not ready after 10 s')), 10_000))),
    ]);
    return { port, readyAt, proc, stop: () => proc.stop() };
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message} on port ${port}:\n${proc.output()}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts redis-server on a fresh free port, trying another port if the one found was taken meanwhile. */
export async function startRedisOnFreePort(redisServer: string): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await startRedis(redisServer, port);
    } catch (err) {
      if (attempt >= 3 || !/in use/i.test((err as Error).message)) throw err;
    }
  }
}

export interface Served {
  readonly port: number;
  readonly proc: Proc;
  stop(): Promise<void>;
}

/**
 * A server of bench/serve.ts in its own process (so the bench's event loop only times): `http` answers 200
 * to everything; `silent` accepts connections and never answers.
 */
export async function startServer(kind: 'http' | 'silent'): Promise<Served> {
  let onPort: (port: number) => void = () => {};
  const listening = new Promise<number>((resolve) => (onPort = resolve));
  const proc = await start(NODE, [join(BENCH_DIR, 'serve.ts'), kind], {
    env: cleanEnv(),
    onStdoutLine: (line) => {
      const m = /^port (\d+)$/.exec(line);
      if (m) onPort(Number(m[1]));
    },
  });
  const port = await Promise.race([
    listening,
    proc.exited.then((e) => Promise.reject(new Error(`the ${kind} server exited (${e.code ?? e.signal}):\n${proc.output()}`))),
  ]);
  return { port, proc, stop: () => proc.stop() };
}
