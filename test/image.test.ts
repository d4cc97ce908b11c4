/**
 * The image's runtime contract, without a container engine: what the runtime stage holds — a node binary and the
 * build's dist/ with the code cache made by that node in the warm stage, all root-owned and read-only — is rebuilt
 * in a temporary directory, warmed as the Dockerfile's warm stage does (its own RUN, as its USER, with the same
 * node binary that then runs), and the entry is run there with that node, as an unprivileged uid (Harbor's
 * runAsUser: 10000 when the tests run as root, the image's own USER, and any other), with no HOME, a TMPDIR that
 * does not exist, and no capabilities, against real servers. It must behave exactly as in test/cli.test.ts, start
 * with the code cache whatever the uid, and write nothing.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, constants, copyFileSync, lstatSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, SHIPPED } from '../scripts/build.ts';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { CODE_CACHE } from '../src/launch/program.ts';
import { runCli, startCli, type CliOptions, type CliResult } from './helpers/cli.ts';
import { startFakeCore, type FakeCore } from './helpers/core.ts';
import { layout, readDockerfile } from './helpers/dockerfile.ts';
import { freePort, tempDir } from './helpers/processes.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';
import { compiled, VM_OBSERVER } from './helpers/vm-observer.ts';

const REDIS_PASSWORD = 'image-redis-PW-mark/1';
const HARBOR_SECRET = 'image-harbor-SECRET-mark';
const DB_PASSWORD = 'image-db-PASSWORD-mark';
const SECRETS = [REDIS_PASSWORD, encodeURIComponent(REDIS_PASSWORD), HARBOR_SECRET, DB_PASSWORD];

/** The image as the Dockerfile describes it: node, the entry, the USER, the runtime base, the warm stage. */
const IMAGE = layout(readDockerfile());
/** Harbor's chart runs its pods with runAsUser: 10000. Switching user needs root; otherwise run as we are. */
const IS_ROOT = process.getuid?.() === 0;
const HARBOR_USER = IS_ROOT ? { uid: 10000, gid: 10000 } : {};
const IMAGE_USER = IS_ROOT ? { uid: IMAGE.user.uid, gid: IMAGE.user.gid ?? IMAGE.user.uid } : {};
/** Any other runAsUser: the code cache is one file, for every uid. */
const OTHER_USER = IS_ROOT ? { uid: 20000, gid: 20000 } : {};
/** The warm stage's USER, and the owner its COPY --chown gives the build's files. */
const WARM_USER = IS_ROOT ? { uid: IMAGE.warmUp.uid, gid: IMAGE.warmUp.gid ?? IMAGE.warmUp.uid } : {};
const WARM_OWNER = { uid: IMAGE.warmOwner.uid, gid: IMAGE.warmOwner.gid ?? IMAGE.warmOwner.uid };
/** What the build stage's node leaves in dist/ as far as the image's node is concerned: a cache V8 rejects. */
const FOREIGN_CACHE = 'made by another node build';
const { version: VERSION } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };


let dir: string;
let secretDir: string;
let secretFile: string;
let configDir: string;
let configFile: string;
let observerDir: string;
let observer: string;
let redis: RedisServer;
let core: FakeCore;
let redisUrl: string;
/** The directory tree right after it was made root-owned and read-only, as the runtime stage has it. */
let before: Entry[];

/** Only PATH (the directory itself) and TMPDIR (a path that does not exist and cannot be made): no HOME. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: dir, TMPDIR: join(dir, 'tmp'), ...extra };
}

/** A path of the image, in the rebuilt directory: its node, or a file in the program directory. */
function inDir(path: string): string {
  if (path === IMAGE.node) return join(dir, basename(IMAGE.node));
  const rel = relative(IMAGE.programDir, path);
  if (rel === '' || rel.startsWith('..')) throw new Error(`${path} is not in the image's ${IMAGE.programDir}`);
  return join(dir, rel);
}

function inImage(user: { uid?: number; gid?: number } = HARBOR_USER): CliOptions {
  return { node: inDir(IMAGE.node), bundle: inDir(IMAGE.bundle), cwd: dir, ...user };
}

interface Entry {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  sha256: string | null;
}

/** Every file and directory under `root` with its metadata and (but for node) a hash of its content. */
function tree(root: string): Entry[] {
  const entries: Entry[] = [];
  const walk = (path: string) => {
    const st = lstatSync(path);
    const sha256 = st.isFile() && basename(path) !== basename(IMAGE.node) ? createHash('sha256').update(readFileSync(path)).digest('hex') : null;
    entries.push({ path: relative(root, path), mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, sha256 });
    if (st.isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name));
  };
  walk(root);
  return entries;
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
  // The warm stage's COPY --from=build --chown: dist/, its files given to the warm-up's user, in a directory only
  // root may write (the warm-up rewrites the code cache in place, and needs nothing more); node beside them.
  // realpath: node reports the program by its real path.
  dir = realpathSync(tempDir('harbor-wait-image-'));
  chmodSync(dir, 0o755);
  copyFileSync(process.execPath, inDir(IMAGE.node), constants.COPYFILE_FICLONE);
  chmodSync(inDir(IMAGE.node), 0o555);
  for (const file of SHIPPED) {
    copyFileSync(join(DIST, file), join(dir, file));
    if (IS_ROOT) chownSync(join(dir, file), WARM_OWNER.uid, WARM_OWNER.gid);
  }
  writeFileSync(join(dir, CODE_CACHE), FOREIGN_CACHE);

  // The warm stage's RUN, as its USER: the warm-up, with the same node binary as every run below.
  const { argv } = IMAGE.warmUp;
  const warm = await runCli(argv.slice(2), env(), { node: inDir(argv[0]!), bundle: inDir(argv[1]!), cwd: dir, ...WARM_USER });
  if (warm.code !== 0 || warm.stdout !== '' || warm.stderr !== '') {
    throw new Error(`the warm-up ${JSON.stringify(argv)} exited ${warm.code}:\n${warm.stdout}${warm.stderr}`);
  }

  // The runtime stage's COPY --from=warm --chown=0:0 --chmod: every file, and the directory, root's and read-only.
  for (const e of tree(dir)) {
    if (IS_ROOT) chownSync(join(dir, e.path), 0, 0);
    chmodSync(join(dir, e.path), IMAGE.mode);
  }
  before = tree(dir);

  // The jobservice secret as a Secret volume mounts it: a read-only file in a read-only directory.
  secretDir = tempDir('harbor-wait-image-secret-');
  secretFile = join(secretDir, 'JOBSERVICE_SECRET');
  writeFileSync(secretFile, `${HARBOR_SECRET}\n`);
  chmodSync(secretFile, 0o444);
  chmodSync(secretDir, 0o555);

  // The observer, read-only too, outside the image's directory.
  observerDir = tempDir('harbor-wait-image-observer-');
  observer = join(observerDir, 'observe-vm.cjs');
  writeFileSync(observer, VM_OBSERVER);
  chmodSync(observer, 0o444);
  chmodSync(observerDir, 0o555);

  [redis, core] = await Promise.all([
    startRedis({ args: ['--requirepass', REDIS_PASSWORD] }),
    startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD }),
  ]);
  redisUrl = `redis://:${encodeURIComponent(REDIS_PASSWORD)}@127.0.0.1:${redis.port}/1`;

  // jobservice's config.yml as the chart renders it, mounted from a ConfigMap: read-only.
  configDir = tempDir('harbor-wait-image-config-');
  configFile = join(configDir, 'config.yml');
  writeFileSync(configFile, readFileSync(new URL('./fixtures/jobservice-config.yml', import.meta.url), 'utf8').replace('redis://harbor-redis:6379/1', redisUrl));
  chmodSync(configFile, 0o444);
  chmodSync(configDir, 0o555);
});

afterAll(async () => {
  await core?.close();
  // Writable again, so that the helpers can remove them when we are not root.
  for (const d of [dir, secretDir, configDir, observerDir]) if (d) chmodSync(d, 0o755);
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
    const r = await runCli(['--version'], env(), inImage());
    expect(r.code).toBe(ExitCode.Ready);
    expect(r.stdout.trim()).toBe(VERSION);
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


  it("the jobservice preset reads a read-only config.yml (the YAML parser is inside the entry): exit 0, no secret", async () => {
    const r = await runCli(
      ['--preset', 'jobservice', '--jobservice-config', configFile, '--harbor-secret-file', secretFile],
      env({ CORE_URL: core.url }),
      inImage(),
    );
    expect(r.code, r.stdout + r.stderr).toBe(ExitCode.Ready);
    expect(r.lines[0]?.targets).toEqual([
      { target: `${core.url}/api/v2.0/internalconfig`, from: 'CORE_URL' },
      { target: `redis://:***@127.0.0.1:${redis.port}/1`, from: `${configFile} (worker_pool.redis_pool.redis_url)` },
    ]);
    expect(r.events('ready')).toHaveLength(2);
    expect(r.stderr).toBe('');
    expectNoSecret(r);
  });
});

describe('the code cache, made in the warm stage by the same node', () => {
  it('the warm-up replaced the cache it was given; the directory holds exactly node and the shipped files, root-owned and read-only', () => {
    expect(readdirSync(dir).sort()).toEqual([...SHIPPED, basename(IMAGE.node)].sort());
    expect(readFileSync(join(dir, CODE_CACHE), 'utf8')).not.toBe(FOREIGN_CACHE);
    for (const e of tree(dir)) {
      expect(e.mode & 0o7777, e.path).toBe(IMAGE.mode);
      if (IS_ROOT) expect([e.uid, e.gid], e.path).toEqual([0, 0]);
    }
  });

  for (const [name, user] of [
    ["Harbor's uid 10000", HARBOR_USER],
    ["the image's USER", IMAGE_USER],
    ['any other runAsUser (20000)', OTHER_USER],
  ] as const) {
    it(`as ${name}: the entry compiles the program with the cache, and V8 accepts it`, async () => {
      const r = await runCli(['--version'], env({ NODE_OPTIONS: `--require ${observer}` }), inImage(user));
      expect(r.code).toBe(ExitCode.Ready);
      expect(r.stdout.trim()).toBe(VERSION);
      expect(compiled(r.stderr)).toEqual([{ filename: join(dir, IMAGE.bundle.split('/').pop()!), cachedData: true, rejected: false }]);
    });
  }

  it('any other runAsUser (20000) waits for the real servers just the same: exit 0, ready ×2, no secret', async () => {
    const r = await runCli(['--harbor-core', core.url, '--harbor-secret-file', secretFile, redisUrl], env(), inImage(OTHER_USER));
    expect(r.code, r.stdout + r.stderr).toBe(ExitCode.Ready);
    expect(r.events('ready')).toHaveLength(2);
    expect(r.lines.at(-1)?.event).toBe('done');
    expect(r.stderr).toBe('');
    expectNoSecret(r);
  });
});

describe('afterwards', () => {
  it('wrote nothing: node, the shipped files and the code cache are unchanged, and so are the mounts', () => {
    expect(tree(dir)).toEqual(before);
    expect(readdirSync(secretDir)).toEqual([basename(secretFile)]);
    expect(readdirSync(configDir)).toEqual([basename(configFile)]);
  });
});
