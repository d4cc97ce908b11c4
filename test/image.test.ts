/**
 * The image's runtime contract, without a container engine: what the runtime stage holds — a node binary and the
 * one bundled file, read-only, in a directory nobody may write — is rebuilt in a temporary directory, and the
 * bundle is run there with that node, as an unprivileged uid (Harbor's runAsUser: 10000 when the tests run as
 * root, and the image's own USER), with no HOME, a TMPDIR that does not exist, and no capabilities, against real
 * servers. It must behave exactly as in test/cli.test.ts, and write nothing.
 */
import { spawn } from 'node:child_process';
import { chmodSync, constants, copyFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.ts';
import { BUNDLE, runCli, startCli, type CliOptions, type CliResult } from './helpers/cli.ts';
import { startFakeCore, type FakeCore } from './helpers/core.ts';
import { layout, readDockerfile } from './helpers/dockerfile.ts';
import { freePort, tempDir } from './helpers/processes.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';

const REDIS_PASSWORD = 'image-redis-PW-mark/1';
const HARBOR_SECRET = 'image-harbor-SECRET-mark';
const DB_PASSWORD = 'image-db-PASSWORD-mark';
const SECRETS = [REDIS_PASSWORD, encodeURIComponent(REDIS_PASSWORD), HARBOR_SECRET, DB_PASSWORD];

/** The image as the Dockerfile describes it: node, the bundle, the USER, the runtime base. */
const IMAGE = layout(readDockerfile());
/** Harbor's chart runs its pods with runAsUser: 10000. Switching user needs root; otherwise run as we are. */
const IS_ROOT = process.getuid?.() === 0;
const HARBOR_USER = IS_ROOT ? { uid: 10000, gid: 10000 } : {};
const IMAGE_USER = IS_ROOT ? { uid: IMAGE.user.uid, gid: IMAGE.user.gid ?? IMAGE.user.uid } : {};

let dir: string;
let secretDir: string;
let secretFile: string;
let redis: RedisServer;
let core: FakeCore;
let redisUrl: string;

/** Exactly what the image's directory holds, by the names the image gives them. */
const LISTING = [basename(IMAGE.bundle), basename(IMAGE.node)].sort();

/** Only PATH (the directory itself) and TMPDIR (a path that does not exist and cannot be made): no HOME. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: dir, TMPDIR: join(dir, 'tmp'), ...extra };
}

function inImage(user: { uid?: number; gid?: number } = HARBOR_USER): CliOptions {
  return { node: join(dir, basename(IMAGE.node)), bundle: join(dir, basename(IMAGE.bundle)), cwd: dir, ...user };
}

function expectNoSecret(r: CliResult): void {
  for (const s of SECRETS) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

interface Probe {
  uid: number;
  gid: number;
  groups: number[];
  home: string | null;
  node: string;
  capEff: string | null;
  write: string;
  tmp: string;
}

/** What a process started like the bundle sees: who it is, its capabilities, and whether it could write. */
const PROBE = `
const fs = require('node:fs'), os = require('node:os');
const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
const status = (() => { try { return fs.readFileSync('/proc/self/status', 'utf8'); } catch { return ''; } })();
console.log(JSON.stringify({
  uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(),
  home: process.env.HOME ?? null, node: process.versions.node,
  capEff: /^CapEff:\\s*(\\w+)/m.exec(status)?.[1] ?? null,
  write: attempt(() => fs.writeFileSync('probe', 'x')),
  tmp: attempt(() => fs.mkdtempSync(os.tmpdir() + '/x')),
}));`;

function probe(user: { uid?: number; gid?: number }): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(dir, basename(IMAGE.node)), ['-e', PROBE], { cwd: dir, env: env(), ...user, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Probe) : reject(new Error(`probe exited ${code}: ${err}`))));
  });
}

beforeAll(async () => {
  // The image's directory: node and the bundle, read-only, in a directory nobody may write.
  dir = tempDir('harbor-wait-image-');
  copyFileSync(process.execPath, join(dir, basename(IMAGE.node)), constants.COPYFILE_FICLONE);
  copyFileSync(BUNDLE, join(dir, basename(IMAGE.bundle)));
  chmodSync(join(dir, basename(IMAGE.node)), 0o555);
  chmodSync(join(dir, basename(IMAGE.bundle)), 0o444);
  chmodSync(dir, 0o555);

  // The jobservice secret as a Secret volume mounts it: a read-only file in a read-only directory.
  secretDir = tempDir('harbor-wait-image-secret-');
  secretFile = join(secretDir, 'JOBSERVICE_SECRET');
  writeFileSync(secretFile, `${HARBOR_SECRET}\n`);
  chmodSync(secretFile, 0o444);
  chmodSync(secretDir, 0o555);

  [redis, core] = await Promise.all([
    startRedis({ args: ['--requirepass', REDIS_PASSWORD] }),
    startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD }),
  ]);
  redisUrl = `redis://:${encodeURIComponent(REDIS_PASSWORD)}@127.0.0.1:${redis.port}/1`;
});

afterAll(async () => {
  await core?.close();
  // Writable again, so that the helpers can remove them when we are not root.
  for (const d of [dir, secretDir]) if (d) chmodSync(d, 0o755);
});

describe('the image layout, rebuilt in a directory', () => {
  it(`runs as Harbor's uid 10000 (or, not as root, as the test's own non-root uid), with no HOME, no capability and nowhere to write`, async () => {
    const p = await probe(HARBOR_USER);
    expect(p.uid).not.toBe(0);
    if (IS_ROOT) expect(p).toMatchObject({ uid: 10000, gid: 10000 });
    expect(p.groups).not.toContain(0);
    expect(p.home).toBeNull();
    if (p.capEff !== null) expect(BigInt(`0x${p.capEff}`)).toBe(0n);
    expect(p.write).toMatch(/^(EACCES|EPERM|EROFS)$/);
    expect(p.tmp).toBe('ENOENT');
  });

  it("runs as the image's own USER too", async () => {
    const p = await probe(IMAGE_USER);
    expect(p.uid).not.toBe(0);
    if (IS_ROOT) expect(p).toMatchObject({ uid: IMAGE.user.uid, gid: IMAGE.user.gid ?? IMAGE.user.uid });
    const r = await runCli(['--version'], env(), inImage(IMAGE_USER));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it("is tested with the Node major the image carries", async () => {
    const { node } = await probe(HARBOR_USER);
    const carried = /nodejs(\d+)/.exec(IMAGE.base)?.[1];
    expect(carried, `cannot read the Node major from ${IMAGE.base}`).toBeDefined();
    expect(node.split('.')[0], `the tests run on Node ${node} but the image carries Node ${carried}: run them with the project's Node (npm test)`).toBe(carried);
  });

  it('--version: prints the package version, exit 0', async () => {
    const { version } = (await import('../package.json', { with: { type: 'json' } })).default as { version: string };
    const r = await runCli(['--version'], env(), inImage());
    expect(r.code).toBe(ExitCode.Ready);
    expect(r.stdout.trim()).toBe(version);
    expect(r.stderr).toBe('');
  });
});

describe('the bundle in the image layout, against real servers', () => {
  it('Redis with a password and core with the secret from a read-only file: exit 0, start, ready ×2, done, no secret', async () => {
    const r = await runCli(['--harbor-core', core.url, '--harbor-secret-file', secretFile, redisUrl], env(), inImage());
    expect(r.code, r.stdout + r.stderr).toBe(ExitCode.Ready);
    expect(r.lines[0]?.event).toBe('start');
    expect(r.lines.at(-1)?.event).toBe('done');
    const ready = r.events('ready');
    expect(ready.map((l) => l.target).sort()).toEqual([`${core.url}/api/v2.0/internalconfig`, `redis://:***@127.0.0.1:${redis.port}/1`].sort());
    for (const l of ready) expect(l).toMatchObject({ attempts: 1, address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(core.requests.at(-1)).toEqual({ path: '/api/v2.0/internalconfig', authorization: `Harbor-Secret ${HARBOR_SECRET}` });
    expect(r.stderr).toBe('');
    expectNoSecret(r);
  });

  it('the secret from JOBSERVICE_SECRET works the same, and is not shown', async () => {
    const r = await runCli(['--harbor-core', core.url, '--log-level', 'debug'], env({ JOBSERVICE_SECRET: HARBOR_SECRET }), inImage());
    expect(r.code).toBe(ExitCode.Ready);
    expect(r.events('ready')).toHaveLength(1);
    expectNoSecret(r);
  });

  it('a closed port with --deadline 1s: exit 124 with a deadline line naming it', async () => {
    const port = await freePort();
    const r = await runCli(['--deadline', '1s', `tcp://127.0.0.1:${port}`], env(), inImage());
    expect(r.code).toBe(ExitCode.Deadline);
    const deadline = r.events('deadline');
    expect(deadline).toHaveLength(1);
    expect(deadline[0]).toMatchObject({
      level: 'error',
      deadline_ms: 1000,
      pending: [expect.objectContaining({ target: `tcp://127.0.0.1:${port}`, stage: 'connect', code: 'ECONNREFUSED' })],
    });
    expect(r.stderr).toBe('');
    expect(r.ms).toBeLessThan(10_000);
  });

  it('a configuration error: exit 2, one config_error line, nothing on stderr, no stack trace', async () => {
    const r = await runCli(['--deadline', 'soon', `tcp://127.0.0.1:1`], env(), inImage());
    expect(r.code).toBe(ExitCode.ConfigError);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatchObject({ level: 'error', event: 'config_error', input: expect.stringContaining('--deadline') });
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(/\bat .*\.(m?js|ts):\d+/);
  });

  for (const [signal, code] of [['SIGTERM', ExitCode.Sigterm], ['SIGINT', ExitCode.Sigint]] as const) {
    it(`${signal} while waiting for a closed port: exit ${code}, logging cancelled`, async () => {
      const waiter = startCli([`tcp://127.0.0.1:${await freePort()}`], env(), inImage());
      await waiter.waitForEvent('not_ready');
      waiter.child.kill(signal);
      const r = await waiter.result;
      expect(r.code).toBe(code);
      expect(r.events('cancelled')).toEqual([expect.objectContaining({ level: 'warn', signal })]);
      expect(r.stderr).toBe('');
    });
  }

  it('as a sidecar (--serve, --preset jobservice): /readyz answers 200, SIGTERM exits 143', async () => {
    const config = join(secretDir, 'absent-config.yml'); // the Redis URL comes from JOB_SERVICE_POOL_REDIS_URL
    const sidecar = startCli(
      ['--preset', 'jobservice', '--jobservice-config', config, '--serve', '127.0.0.1:0', '--harbor-secret-file', secretFile],
      env({ CORE_URL: core.url, JOB_SERVICE_POOL_REDIS_URL: redisUrl }),
      inImage(),
    );
    const serving = await sidecar.waitForEvent('serving');
    await sidecar.waitForEvent('readiness', (l) => l.ready === true);
    const readyz = await fetch(`http://${String(serving.address)}/readyz`);
    expect(readyz.status).toBe(200);
    const body = await readyz.text();
    for (const s of SECRETS) expect(body).not.toContain(s);
    sidecar.child.kill('SIGTERM');
    const r = await sidecar.result;
    expect(r.code).toBe(ExitCode.Sigterm);
    expect(r.lines.at(-1)).toMatchObject({ event: 'stopped', signal: 'SIGTERM' });
    expect(r.stderr).toBe('');
    expectNoSecret(r);
  });

  it('wrote nothing: the directory still holds exactly node and the bundle, unchanged', () => {
    expect(readdirSync(dir).sort()).toEqual(LISTING);
    expect(statSync(dir).mode & 0o777).toBe(0o555);
    expect(statSync(join(dir, basename(IMAGE.bundle))).mode & 0o777).toBe(0o444);
    expect(statSync(join(dir, basename(IMAGE.bundle))).size).toBe(statSync(BUNDLE).size);
    expect(readdirSync(secretDir)).toEqual([basename(secretFile)]);
  });
});
