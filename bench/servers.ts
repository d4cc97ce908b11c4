/**
 * The dependencies the bench waits for: a real redis-server, a real PostgreSQL, a tiny HTTP server, a silent
 * TCP server; all on 127.0.0.1.
 */
import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { BENCH_DIR, cleanEnv, NODE } from './env.ts';
import { removeDir, start, tempDir, type Proc } from './procs.ts';

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

/** Starts a server on a fresh free port, trying another (three tries) if the one found was taken meanwhile. */
async function onFreePort<T>(start: (port: number) => Promise<T>, taken: RegExp): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await start(port);
    } catch (err) {
      if (attempt >= 3 || !taken.test((err as Error).message)) throw err;
    }
  }
}

/** Starts redis-server on a fresh free port. */
export function startRedisOnFreePort(redisServer: string): Promise<RedisServer> {
  return onFreePort((port) => startRedis(redisServer, port), /in use/i);
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

export interface PostgresServer {
  readonly port: number;
  /** What harbor-wait is given: a role with a SCRAM-SHA-256 password, over TCP to 127.0.0.1, without TLS. */
  readonly url: string;
  /** The same with the password left out, for the report. */
  readonly display: string;
  readonly proc: Proc;
  /** Fast shutdown (SIGINT) of the postmaster by its PID, SIGKILL to its group after 5 s; removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

const PG_USER = 'harbor';
const PG_PASSWORD = 'bench-pg-password';
const PG_DATABASE = 'registry';
const PG_READY_MS = 30_000;
const PG_TOOL_MS = 60_000;

/** As root, the uid and gid of the postgres system user that initdb and postgres must run as (they refuse root); otherwise null. */
function postgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const fields = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))
    ?.split(':');
  if (!fields || fields.length < 4) throw new Error('running as root, and there is no postgres system user to run PostgreSQL as: install the Debian package postgresql (bench/setup.sh does)');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** The command line that runs `binary args` as the server's user: setpriv execs it, so the PID is the binary's own. */
function asServerUser(binary: string, args: readonly string[]): { command: string; args: string[] } {
  if (!postgresUser()) return { command: binary, args: [...args] };
  return { command: 'setpriv', args: ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', binary, ...args] };
}

const PG_ENV = () => cleanEnv({ LC_ALL: 'C', LANG: 'C' });

/** Runs a PostgreSQL tool to its end; returns its stdout, or throws with its output. */
async function pgTool(binary: string, args: readonly string[], cwd: string): Promise<string> {
  const name = binary.split('/').pop() as string;
  const proc = await start(binary, args, { env: PG_ENV(), cwd, keepStdout: true, pkg: binary === 'setpriv' ? 'util-linux' : 'postgresql' });
  const timer = setTimeout(() => void proc.stop(), PG_TOOL_MS);
  const exit = await proc.exited;
  clearTimeout(timer);
  if (exit.code !== 0) throw new Error(`${name === 'setpriv' ? args[4]?.split('/').pop() : name} failed (exit ${exit.code ?? exit.signal}):\n${proc.output()}`);
  return proc.stdout();
}

/** psql over the unix socket in `socketDir`, as the superuser postgres (trust); each -c in turn, in one session. */
function psql(bin: string, socketDir: string, port: number, database: string, commands: readonly string[]): Promise<string> {
  const args = ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-p', String(port), '-U', 'postgres', '-d', database, ...commands.flatMap((c) => ['-c', c])];
  return pgTool(join(bin, 'psql'), args, socketDir).then((out) => out.trim());
}

/**
 * Debian's PostgreSQL on 127.0.0.1:port, initdb'ed into a temporary directory that also holds its unix socket,
 * with a role `harbor` whose password is stored as SCRAM-SHA-256 and that pg_hba.conf makes log in with SCRAM over
 * TCP, and a database `registry` owned by it that holds golang-migrate's `schema_migrations` with a clean row,
 * as Harbor core leaves its database: so harbor-wait's check runs every query it runs against a migrated core
 * database. As root, initdb and postgres run as the postgres system user (setpriv). Resolves when it is set up.
 */
export async function startPostgres(bin: string, port: number): Promise<PostgresServer> {
  const top = tempDir('harbor-wait-bench-postgres-');
  const user = postgresUser();
  if (user) chownSync(top, user.uid, user.gid);
  const data = join(top, 'data');
  let proc: Proc | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (proc && !proc.exit()) {
        try {
          process.kill(proc.pid, 'SIGINT'); // the postmaster we started: fast shutdown
        } catch {
          // exited meanwhile
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([proc.exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer);
        await proc.stop(); // SIGTERM, then SIGKILL, to its group if it is still there
      }
      removeDir(top);
    })());
  try {
    const initdb = asServerUser(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    await pgTool(initdb.command, initdb.args, top);
    writeFileSync(join(data, 'pg_hba.conf'), ['local all all trust', `host all all 127.0.0.1/32 scram-sha-256`, ''].join('\n'));
    if (user) chownSync(join(data, 'pg_hba.conf'), user.uid, user.gid);
    const settings = [`port=${port}`, 'listen_addresses=127.0.0.1', `unix_socket_directories=${data}`, 'fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'logging_collector=off', 'huge_pages=off'];
    const line = asServerUser(join(bin, 'postgres'), ['-D', data, ...settings.flatMap((x) => ['-c', x])]);
    proc = await start(line.command, line.args, { env: PG_ENV(), cwd: top, pkg: 'postgresql' });
    const until = performance.now() + PG_READY_MS;
    for (;;) {
      if (proc.exit()) throw new Error(`postgres exited (${proc.exit()?.code ?? proc.exit()?.signal}) before it accepted queries`);
      try {
        if ((await psql(bin, data, port, 'postgres', ['SELECT 1'])) === '1') break;
      } catch (err) {
        if (performance.now() > until) throw new Error(`postgres did not accept queries within ${PG_READY_MS} ms: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await psql(bin, data, port, 'postgres', [
      "SET password_encryption = 'scram-sha-256'",
      `CREATE ROLE ${PG_USER} LOGIN PASSWORD '${PG_PASSWORD}'`,
      `CREATE DATABASE ${PG_DATABASE} OWNER ${PG_USER}`,
    ]);
    const stored = await psql(bin, data, port, 'postgres', [`SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = '${PG_USER}'`]);
    if (stored !== 't') throw new Error(`the password of ${PG_USER} is not stored as SCRAM-SHA-256`);
    await psql(bin, data, port, PG_DATABASE, [
      'CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)',
      'INSERT INTO schema_migrations VALUES (150, false)',
      `ALTER TABLE schema_migrations OWNER TO ${PG_USER}`,
    ]);
    const query = 'sslmode=disable';
    return {
      port,
      url: `postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${port}/${PG_DATABASE}?${query}`,
      display: `postgres://${PG_USER}:…@127.0.0.1:Q/${PG_DATABASE}?${query}`,
      proc,
      stop,
    };
  } catch (err) {
    const output = proc?.output() ?? '';
    await stop();
    throw new Error(`PostgreSQL on 127.0.0.1:${port}: ${(err as Error).message}${output ? `\n${output}` : ''}`);
  }
}

/** Starts PostgreSQL on a fresh free port. */
export function startPostgresOnFreePort(bin: string): Promise<PostgresServer> {
  return onFreePort((port) => startPostgres(bin, port), /could not bind|in use|could not create any TCP\/IP sockets/i);
}
