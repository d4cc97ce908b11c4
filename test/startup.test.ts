/**
 * What a run loads, as a guard for start-up time (measured by `npm run bench`, not here): a run with plain
 * targets must not load Node's TLS, HTTP client or internal undici, nor the YAML parser's file, and each of
 * those must load when a target or preset needs it. A static import slipped in anywhere would break this.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.ts';
import { makeCerts } from './helpers/certs.ts';
import { runCli } from './helpers/cli.ts';
import { startHttp } from './helpers/core.ts';
import { tempDir } from './helpers/processes.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';

const dir = tempDir('harbor-wait-startup-');
const observer = join(dir, 'observer.cjs');
// Preloaded into the process under test: at exit it writes the built-in modules loaded and the files required.
writeFileSync(
  observer,
  `process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_OUT, JSON.stringify({
    builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)),
    files: Object.keys(require.cache),
  })));\n`,
);

interface Loaded {
  readonly builtins: string[];
  readonly files: string[];
}

async function loadedBy(args: readonly string[], env: Record<string, string> = {}): Promise<Loaded & { code: number | null }> {
  const out = join(dir, `loaded-${Math.random().toString(36).slice(2)}.json`);
  const r = await runCli(args, { ...env, NODE_OPTIONS: `--require ${observer}`, LOADED_OUT: out });
  return { code: r.code, ...(JSON.parse(readFileSync(out, 'utf8')) as Loaded) };
}

/** Modules that cost start-up time and that plain redis:// and http:// targets do not need. */
const HEAVY = ['tls', '_tls_wrap', 'http', 'https', '_http_client', 'perf_hooks', 'internal/deps/undici/undici', 'zlib'];

describe('what a run loads', () => {
  let redis: RedisServer;
  let web: Awaited<ReturnType<typeof startHttp>>;
  beforeAll(async () => {
    [redis, web] = await Promise.all([startRedis(), startHttp((_, res) => res.end('ok'))]);
  });
  afterAll(async () => {
    await Promise.all([redis.stop(), web.close()]);
  });

  it('plain redis:// and http:// targets: node:net, and none of TLS, the HTTP client, undici or the YAML file', async () => {
    const r = await loadedBy([`redis://127.0.0.1:${redis.port}`, `${web.url}/`]);
    expect(r.code).toBe(ExitCode.Ready);
    expect(r.builtins).toContain('net');
    expect(r.builtins).toContain('vm'); // the launcher, compiling with the code cache
    expect(r.builtins.filter((m) => HEAVY.includes(m))).toEqual([]);
    expect(r.files.filter((f) => f.endsWith('harbor-wait-yaml.cjs'))).toEqual([]);
  });

  it('--version loads not even node:net', async () => {
    const r = await loadedBy(['--version']);
    expect(r.code).toBe(ExitCode.Ready);
    expect(r.builtins).not.toContain('net');
    expect(r.builtins.filter((m) => HEAVY.includes(m))).toEqual([]);
  });

  it('an https:// target loads TLS, and still not the HTTP client', async () => {
    const certs = await makeCerts();
    const r = await loadedBy(['--once', '--ca-file', certs.caCert, `https://127.0.0.1:${web.port}/`]);
    expect(r.code).toBe(ExitCode.Failure); // a plain port: the handshake fails
    expect(r.builtins).toContain('tls');
    expect(r.builtins).not.toContain('_http_client');
  });

  it('the jobservice preset reading config.yml loads the YAML file, from beside the program', async () => {
    const config = join(dir, 'config.yml');
    writeFileSync(config, `worker_pool:\n  redis_pool:\n    redis_url: redis://127.0.0.1:${redis.port}/1\n`);
    const r = await loadedBy(['--preset', 'jobservice', '--jobservice-config', config, '--once'], { CORE_URL: web.url, JOBSERVICE_SECRET: 'sixteen-chars-xx' });
    expect(r.files.filter((f) => f.endsWith('harbor-wait-yaml.cjs'))).toHaveLength(1);
  });

});
