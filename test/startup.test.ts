/**
 * What a run loads, as a guard for start-up time (measured by `npm run bench`, not here): each library that
 * is loaded on demand (ioredis, undici, pg, prom-client, pino-pretty, yaml) is loaded by exactly the runs that
 * need it, and none of Node's TLS or HTTP modules is loaded by a run that does not. A static import slipped
 * in anywhere would break this. The libraries say when they are loaded on a diagnostics channel
 * (src/basics/libraries.ts); Node's own module list says which built-ins were.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { LIBRARY_CHANNEL } from '../src/basics/libraries.ts';
import { makeCerts } from './helpers/certs.ts';
import { startCli } from './helpers/cli.ts';
import { startHttp } from './helpers/core.ts';
import { startPostgres } from './helpers/postgres.ts';
import { freePort, tempDir } from './helpers/processes.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';

const dir = tempDir('harbor-wait-startup-');
const observer = join(dir, 'observer.cjs');
// Preloaded into the process under test: at exit it writes the built-in modules loaded and the libraries announced.
writeFileSync(
  observer,
  `const libraries = [];
require('node:diagnostics_channel').subscribe(${JSON.stringify(LIBRARY_CHANNEL)}, (m) => libraries.push(m.library));
process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_OUT, JSON.stringify({
  builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)),
  libraries,
})));\n`,
);

interface Loaded {
  readonly builtins: string[];
  readonly libraries: string[];
}

/** Runs the entry with the observer; a run that does not end by itself is stopped with SIGTERM after `stopAfter`. */
async function loadedBy(args: readonly string[], env: Record<string, string> = {}, stopAfter?: string): Promise<Loaded & { code: number | null }> {
  const out = join(dir, `loaded-${Math.random().toString(36).slice(2)}.json`);
  const running = startCli(args, { ...env, NODE_OPTIONS: `--require ${observer}`, LOADED_OUT: out });
  if (stopAfter) {
    await running.waitForEvent(stopAfter);
    running.child.kill('SIGTERM');
  }
  const r = await running.result;
  const loaded = JSON.parse(readFileSync(out, 'utf8')) as Loaded;
  return { code: r.code, builtins: loaded.builtins, libraries: [...loaded.libraries].sort() };
}

/** Node's modules that cost start-up time and that plain redis:// and http:// targets do not need. */
const HEAVY = ['tls', '_tls_wrap', 'http', 'https', '_http_client', 'http2', 'zlib', 'crypto', 'worker_threads'];

describe('what a run loads', () => {
  let redis: RedisServer;
  let web: Awaited<ReturnType<typeof startHttp>>;
  beforeAll(async () => {
    [redis, web] = await Promise.all([startRedis(), startHttp((_, res) => res.end('ok'))]);
  });
  afterAll(async () => {
    await Promise.all([redis.stop(), web.close()]);
  });

  it('plain redis:// and http:// targets: ioredis and undici, and none of TLS, HTTP, zlib or crypto', async () => {
    const r = await loadedBy([`redis://127.0.0.1:${redis.port}`, `${web.url}/`]);
    expect(r.code).toBe(ExitCode.Ready);
    expect(r.libraries).toEqual(['ioredis', 'undici']);
    expect(r.builtins).toContain('net');
    expect(r.builtins).toContain('vm'); // the entry, compiling the program with the code cache
    expect(r.builtins.filter((m) => HEAVY.includes(m))).toEqual([]);
  });

  it('a Redis target alone loads ioredis and not undici; an HTTP target alone the reverse; tcp:// neither', async () => {
    const closed = await freePort();
    const [onlyRedis, onlyHttp, onlyTcp] = await Promise.all([
      loadedBy([`redis://127.0.0.1:${redis.port}`]),
      loadedBy([`${web.url}/`]),
      loadedBy(['--once', `tcp://127.0.0.1:${closed}`]),
    ]);
    expect(onlyRedis.libraries).toEqual(['ioredis']);
    expect(onlyHttp.libraries).toEqual(['undici']);
    expect(onlyTcp.libraries).toEqual([]);
    for (const r of [onlyRedis, onlyHttp, onlyTcp]) expect(r.builtins.filter((m) => HEAVY.includes(m))).toEqual([]);
  });

  it('a postgres:// target loads pg (and node:crypto, for SCRAM), and nothing else; sslmode=disable loads no TLS', async () => {
    const server = await startPostgres();
    // CREATE on public: without it (PostgreSQL 15, a database harbor does not own) core could not migrate, so not ready.
    await server.sql("CREATE ROLE harbor LOGIN PASSWORD 'startup-pw'; GRANT CREATE ON SCHEMA public TO harbor");
    const [plain, tls] = await Promise.all([
      loadedBy([`postgres://harbor:startup-pw@127.0.0.1:${server.port}/postgres?sslmode=disable`]),
      loadedBy(['--once', `postgres://harbor:startup-pw@127.0.0.1:${server.port}/postgres?sslmode=require`]),
    ]);
    expect(plain.code).toBe(ExitCode.Ready);
    expect(plain.libraries).toEqual(['pg']);
    expect(plain.builtins).toContain('crypto');
    expect(plain.builtins.filter((m) => HEAVY.includes(m) && m !== 'crypto')).toEqual([]);
    // require asks for TLS: the server refuses it (no ssl), but node:tls was needed for the options.
    expect(tls.code).toBe(ExitCode.Failure);
    expect(tls.builtins).toContain('tls');
    expect(tls.libraries).toEqual(['pg']);
    // A Redis run does not load pg.
    expect((await loadedBy([`redis://127.0.0.1:${redis.port}`])).libraries).toEqual(['ioredis']);
  });

  it('--version loads no library and not even node:net', async () => {
    const r = await loadedBy(['--version']);
    expect(r.code).toBe(ExitCode.Ready);
    expect(r.libraries).toEqual([]);
    expect(r.builtins).not.toContain('net');
    expect(r.builtins.filter((m) => HEAVY.includes(m))).toEqual([]);
  });

  it('an https:// target loads TLS, and still not Node\'s HTTP client', async () => {
    const certs = await makeCerts();
    const r = await loadedBy(['--once', '--ca-file', certs.caCert, `https://127.0.0.1:${web.port}/`]);
    expect(r.code).toBe(ExitCode.Failure); // a plain port: the handshake fails
    expect(r.builtins).toContain('tls');
    expect(r.builtins).not.toContain('_http_client');
    expect(r.libraries).toEqual(['undici']);
  });

  it('--log-format pretty loads pino-pretty; JSON, the default, does not', async () => {
    const r = await loadedBy(['--log-format', 'pretty', `redis://127.0.0.1:${redis.port}`]);
    expect(r.code).toBe(ExitCode.Ready);
    expect(r.libraries).toEqual(['ioredis', 'pino-pretty']);
  });

  it('--serve loads prom-client (and node:http for its own server)', async () => {
    const r = await loadedBy(['--serve', '127.0.0.1:0', `redis://127.0.0.1:${redis.port}`], {}, 'readiness');
    expect(r.code).toBe(ExitCode.Sigterm);
    expect(r.libraries).toEqual(['ioredis', 'prom-client']);
    expect(r.builtins).toContain('http');
  });

  it('the jobservice preset reading config.yml loads yaml', async () => {
    const config = join(dir, 'config.yml');
    writeFileSync(config, `worker_pool:\n  redis_pool:\n    redis_url: redis://127.0.0.1:${redis.port}/1\n`);
    const r = await loadedBy(['--preset', 'jobservice', '--jobservice-config', config, '--once'], { CORE_URL: web.url, JOBSERVICE_SECRET: 'sixteen-chars-xx' });
    expect(r.libraries).toEqual(['ioredis', 'undici', 'yaml']);
  });
});
