/**
 * Real PostgreSQL servers (Debian's postgresql package) on loopback, on free ports, each with its unix socket in
 * its own data directory, stopped by PID. initdb runs once per test process into a template that each server
 * copies; a standby is made with pg_basebackup from its primary instead. initdb, postgres and pg_basebackup
 * refuse to run as root, so as root they run as the postgres system user (setpriv, which execs: the PID we hold
 * is the postmaster's own).
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, copyFileSync, existsSync, readdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, startProcess, tempDir, waitForPort, type Started } from './processes.ts';

const run = promisify(execFile);

export interface PgServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Data directory, also holds the unix socket. */
  readonly dir: string;
  readonly pid: number;
  /** Runs SQL through psql over the unix socket as superuser `postgres` (trust); returns stdout trimmed (psql -X -A -t -q -v ON_ERROR_STOP=1). Rejects with psql's stderr on error. */
  sql(query: string, database?: string): Promise<string>;
  /** Output the server wrote so far. */
  output(): string;
  /** Stops by PID (SIGINT = fast shutdown, SIGKILL after 5 s), waits for exit. Idempotent. */
  stop(): Promise<void>;
}

export interface PgOptions {
  /** Use this port (e.g. to start a server late on a port handed out earlier). */
  readonly port?: number;
  /** Full pg_hba.conf contents; default: DEFAULT_HBA. */
  readonly hba?: string;
  /** Extra server settings, passed as -c name=value (e.g. { max_connections: '3', hot_standby: 'off' }). */
  readonly settings?: Readonly<Record<string, string>>;
  /** Serve TLS with these files (ssl=on, ssl_cert_file, ssl_key_file). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Make this server a streaming standby of `primary` (pg_basebackup -R over the primary's unix socket), instead of copying the template. */
  readonly standbyOf?: PgServer;
  /**
   * Start on this data directory, of a server of ours that was stopped (its `dir`): its roles and databases as
   * they were, instead of a fresh copy of the template. For a server that must accept logins the moment it starts.
   */
  readonly dir?: string;
  /** Do not wait for it to accept queries (a standby with hot_standby=off never does): resolve once the port accepts TCP connections. */
  readonly noWait?: boolean;
}

export const DEFAULT_HBA = [
  'local all all trust',
  'local replication all trust',
  'host all all 127.0.0.1/32 scram-sha-256',
  'host replication all 127.0.0.1/32 scram-sha-256',
  '',
].join('\n');

/** The superuser `postgres`'s password (for TCP logins as postgres, e.g. through scram-sha-256). */
export const SUPERUSER_PASSWORD = 'postgres';

const INSTALL = 'install the Debian package postgresql (sudo apt-get install -y postgresql, or run: bash scripts/setup.sh)';
const READY_MS = 30_000;
const STOP_KILL_MS = 5_000;

function missingPostgres(what: string): Error {
  return new Error(`${what}: ${INSTALL}`);
}

let bin: string | undefined;

/** The bin directory of the newest installed PostgreSQL, or throws the install message. */
export function postgresBin(): string {
  if (bin !== undefined) return bin;
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    // no PostgreSQL at all
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = join(root, v, 'bin');
    if (['initdb', 'postgres', 'pg_basebackup', 'psql'].every((b) => existsSync(join(dir, b)))) return (bin = dir);
  }
  throw missingPostgres(`PostgreSQL server binaries (initdb, postgres, pg_basebackup, psql) are not installed under ${root}/<version>/bin`);
}

interface ServerUser {
  readonly uid: number;
  readonly gid: number;
}

let serverUser: ServerUser | null | undefined;

/** As root, the postgres system user the server binaries run as; otherwise null (they run as we do). */
function asUser(): ServerUser | null {
  if (serverUser !== undefined) return serverUser;
  if (process.getuid?.() !== 0) return (serverUser = null);
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const fields = line?.split(':');
  if (!fields || fields.length < 4) throw missingPostgres('running as root, and there is no postgres system user to run PostgreSQL as (the Debian package creates it)');
  return (serverUser = { uid: Number(fields[2]), gid: Number(fields[3]) });
}

/** Gives a path we created to the server's user (as root), so that the server can use it. */
function own(path: string): void {
  const u = asUser();
  if (u) chownSync(path, u.uid, u.gid);
}

/** The command line that runs `binary args` as the server's user. */
function asServer(binary: string, args: readonly string[]): [string, string[]] {
  if (!asUser()) return [binary, [...args]];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', binary, ...args]];
}

/** Environment without the caller's PG* variables, so that nothing but our arguments chooses the server. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  return { ...env, LC_ALL: 'C', LANG: 'C' };
}

/** Runs a PostgreSQL tool as the server's user; rejects with its output. */
async function runTool(name: string, args: readonly string[], cwd: string): Promise<void> {
  const [cmd, argv] = asServer(join(postgresBin(), name), args);
  try {
    await run(cmd, argv, { cwd, env: cleanEnv(), timeout: 60_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      throw cmd === 'setpriv'
        ? new Error('setpriv is not installed: install the Debian package util-linux (sudo apt-get install -y util-linux)')
        : missingPostgres(`${name} is not installed`);
    }
    throw new Error(`${name} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

const SHM = '/dev/shm';
let useShm: boolean | undefined;

/**
 * A temporary directory for a data directory, removed by stopAll(). Creating PostgreSQL's ~1000 files is slow on
 * some disks (0.5 ms an openat on this machine's ext4: 0.4-0.9 s per copy of the template, against 0.05 s on
 * tmpfs), so it is made in /dev/shm when that is a writable tmpfs with room to spare (a container's default
 * 64 MB /dev/shm is not).
 */
function dataDir(prefix: string): string {
  if (useShm === undefined) {
    try {
      accessSync(SHM, constants.W_OK);
      const fs = statfsSync(SHM);
      useShm = fs.bavail * fs.bsize > 2 ** 30;
    } catch {
      useShm = false;
    }
  }
  return useShm ? tempDir(prefix, SHM) : tempDir(prefix);
}

let template: Promise<string> | undefined;
let templateDir: string | undefined;

/** A freshly initdb'ed data directory, made once per test process (again if stopAll removed it). */
function templateData(): Promise<string> {
  if (template && templateDir && !existsSync(templateDir)) template = undefined;
  template ??= (async () => {
    const top = dataDir('harbor-wait-pgtemplate-');
    own(top);
    const data = join(top, 'data');
    const pwfile = join(top, 'pw');
    writeFileSync(pwfile, `${SUPERUSER_PASSWORD}\n`);
    own(pwfile);
    templateDir = data;
    await runTool(
      'initdb',
      ['-D', data, '-U', 'postgres', '-A', 'trust', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      top,
    );
    return data;
  })();
  template.catch(() => (template = undefined));
  return template;
}

/** Runs SQL through psql over the unix socket in `dir`. */
function psql(dir: string, port: number, query: string, database: string): Promise<string> {
  const args = ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', 'postgres', '-d', database, '-f', '-'];
  return new Promise((resolve, reject) => {
    const child = spawn(join(postgresBin(), 'psql'), args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...cleanEnv(), PGCONNECT_TIMEOUT: '5' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout.trim());
      else reject(new Error(`psql failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
    child.stdin.on('error', () => {}); // psql may exit before reading everything
    child.stdin.end(query.endsWith(';') || query.endsWith('\n') ? `${query}\n` : `${query};\n`);
  });
}

/** Sends SIGINT (fast shutdown) to our postmaster, SIGKILL after 5 s, and waits until it exited. */
async function stopPostgres(proc: Started, signal: NodeJS.Signals): Promise<void> {
  const { child } = proc;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_KILL_MS);
    await exited;
    clearTimeout(timer);
  }
  await proc.stop(); // only takes it off the list stopAll() stops: it has exited
}

async function waitReady(proc: Started, dir: string, port: number): Promise<void> {
  const until = Date.now() + READY_MS;
  const socket = join(dir, `.s.PGSQL.${port}`);
  let last = '';
  for (;;) {
    const { child } = proc;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`postgres exited (${child.signalCode ?? `exit ${child.exitCode}`}) before accepting queries`);
    if (existsSync(socket)) {
      try {
        if ((await psql(dir, port, 'select 1', 'postgres')) === '1') return;
      } catch (err) {
        last = (err as Error).message;
      }
    }
    if (Date.now() > until) throw new Error(`postgres did not accept queries on ${socket} within ${READY_MS} ms${last ? ` (last: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startPostgres(o: PgOptions = {}): Promise<PgServer> {
  const bindir = postgresBin();
  const dir = o.dir ?? dataDir(o.standbyOf ? 'harbor-wait-pgstandby-' : 'harbor-wait-pg-');
  own(dir);
  if (o.dir) {
    if (o.standbyOf) throw new Error('startPostgres: dir and standbyOf exclude each other');
    if (!existsSync(join(dir, 'PG_VERSION'))) throw new Error(`startPostgres: ${dir} is not a data directory`);
    if (existsSync(join(dir, 'postmaster.pid'))) throw new Error(`startPostgres: the server on ${dir} has not stopped`);
  } else if (o.standbyOf) {
    const p = o.standbyOf;
    await runTool('pg_basebackup', ['-h', p.dir, '-p', String(p.port), '-U', 'postgres', '-D', dir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'], dir);
  } else {
    await run('cp', ['-a', `${await templateData()}/.`, dir]);
  }
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, 'pg_hba.conf'), o.hba ?? DEFAULT_HBA);
  own(join(dir, 'pg_hba.conf'));
  const tls: string[] = [];
  if (o.tls) {
    // The key must belong to the server's user with mode 0600; the cert must be readable by it: copy both.
    const cert = join(dir, 'harbor-wait-server.crt');
    const key = join(dir, 'harbor-wait-server.key');
    copyFileSync(o.tls.certFile, cert);
    copyFileSync(o.tls.keyFile, key);
    chmodSync(cert, 0o644);
    chmodSync(key, 0o600);
    own(cert);
    own(key);
    tls.push('ssl=on', `ssl_cert_file=${cert}`, `ssl_key_file=${key}`);
  }

  for (let attempt = 1; ; attempt++) {
    const port = o.port ?? (await freePort());
    const settings = [
      `port=${port}`,
      'listen_addresses=127.0.0.1',
      `unix_socket_directories=${dir}`,
      'fsync=off',
      'synchronous_commit=off',
      'full_page_writes=off',
      'logging_collector=off',
      'log_destination=stderr',
      'huge_pages=off',
      ...tls,
      ...Object.entries(o.settings ?? {}).map(([k, v]) => `${k}=${v}`),
    ];
    const [cmd, argv] = asServer(join(bindir, 'postgres'), ['-D', dir, ...settings.flatMap((s) => ['-c', s])]);
    const proc = await startProcess(cmd, argv, dir);
    const { child } = proc;
    // stopAll() stops children with SIGTERM, which is postgres' smart shutdown (it waits for clients to leave):
    // make that a fast shutdown (SIGINT) too.
    const kill = child.kill.bind(child);
    child.kill = (sig?: NodeJS.Signals | number) => kill(sig === undefined || sig === 'SIGTERM' ? 'SIGINT' : sig);
    try {
      if (o.noWait) await waitForPort(port, READY_MS, child);
      else await waitReady(proc, dir, port);
    } catch (err) {
      await stopPostgres(proc, 'SIGKILL');
      if (attempt < 3 && o.port === undefined && /in use|could not bind|could not create any TCP\/IP sockets/i.test(proc.output())) continue;
      throw new Error(`postgres did not start: ${(err as Error).message}\n${proc.output()}`);
    }
    let stopping: Promise<void> | undefined;
    return {
      host: '127.0.0.1',
      port,
      dir,
      pid: child.pid!,
      sql: (query, database = 'postgres') => psql(dir, port, query, database),
      output: () => proc.output(),
      stop: () => (stopping ??= stopPostgres(proc, 'SIGINT')),
    };
  }
}

/** Connections held open on a server (as superuser `postgres`, over its unix socket), to fill its slots or hold a lock. */
export interface HeldConnections {
  /** Runs SQL on the i-th connection (e.g. SELECT pg_advisory_lock(1)); resolves with its first row. */
  query(sql: string, i?: number): Promise<Record<string, unknown>>;
  /** Ends every connection (Terminate) and waits until the server's backends for them have exited. Idempotent. */
  release(): Promise<void>;
}

/** Opens `n` connections to `database` and keeps them open until release(); on failure closes those it opened. */
export async function holdConnections(server: PgServer, n: number, database = 'postgres'): Promise<HeldConnections> {
  const { default: Client } = await import('pg/lib/client.js');
  const clients: Array<InstanceType<typeof Client>> = [];
  const pids: number[] = [];
  let released: Promise<void> | undefined;
  // A slot is free again only when its backend has exited, a moment after the client has gone: wait for that.
  const gone = async () => {
    for (let i = 0; pids.length > 0; i++) {
      if ((await server.sql(`select count(*) from pg_stat_activity where pid in (${pids.join(',')})`)) === '0') return;
      if (i > 400) throw new Error(`holdConnections: backends ${pids.join(', ')} did not exit`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const release = () => (released ??= Promise.all(clients.map((c) => c.end().catch(() => {}))).then(gone));
  try {
    for (let i = 0; i < n; i++) {
      const c = new Client({ host: server.dir, port: server.port, user: 'postgres', database } as never);
      c.on('error', () => {});
      clients.push(c);
      await c.connect();
      pids.push(Number((await c.query('select pg_backend_pid() as pid')).rows[0]?.pid));
    }
  } catch (err) {
    await release();
    throw err;
  }
  return {
    async query(sql, i = 0) {
      const c = clients[i];
      if (!c) throw new Error(`holdConnections: no connection #${i}`);
      return (await c.query(sql)).rows[0] ?? {};
    },
    release,
  };
}
