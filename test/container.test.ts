/**
 * The image, built for real from the project's Dockerfile with podman, and run as the kubelet runs Harbor's
 * pods. The base images cannot be pulled here, so stand-ins are made locally under the Dockerfile's exact names
 * (helpers/standins.ts; removed with everything else the file made when it ends), then `podman build --pull=never` builds all three stages,
 * npm ci reaching the npm registry with this machine's CA bundle mounted read-only and named by the Dockerfile's
 * NODE_EXTRA_CA_CERTS argument. Each container runs with harbor-helm's securityContext (uid 10000, or the
 * image's 65532; read-only root filesystem and nothing writable; all capabilities dropped; no new privileges;
 * the chart's CPU and memory limits) on the host's network, against a real Redis and the core imitation on
 * loopback. Every scenario asserts the exit code and the log lines, and that the container wrote nothing in its
 * filesystem (`podman diff`). The image is removed after this file, with every intermediate image its build
 * made; so are the containers, by name, whatever happened.
 *
 * The last block (chart-pod.ts) runs the same image as the real chart's rendered pods describe their wait
 * containers, with the overlay the generator makes: one build and one set of stand-ins for both.
 *
 * podman missing, or a container that cannot start, fails these tests with what is missing: never a skip.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SHIPPED } from '../scripts/build.ts';
import { chartPodTests } from './chart-pod.ts';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { CODE_CACHE } from '../src/launch/program.ts';
import { startFakeCore, type FakeCore } from './helpers/core.ts';
import { layout, readDockerfile } from './helpers/dockerfile.ts';
import {
  buildImage,
  containerDiff,
  inspectContainer,
  inspectImage,
  removeContainers,
  requireContainerTools,
  runContainer,
  startContainer,
  stopContainer,
  type BuiltImage,
  type ContainerOptions,
  type ContainerResult,
  type ImageInfo,
} from './helpers/podman.ts';
import { renderChartText } from './helpers/helm.ts';
import { freePort, tempDir } from './helpers/processes.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';
import { ensureStandIns, removeStandIns, RUNTIME_BASE, type StandIns } from './helpers/standins.ts';
import { compiled, VM_LINE, VM_OBSERVER } from './helpers/vm-observer.ts';

const REDIS_PASSWORD = 'container-redis-PW-mark/1';
const HARBOR_SECRET = 'container-harbor-SECRET-mark';
const DB_PASSWORD = 'container-db-PASSWORD-mark';
const SECRETS = [REDIS_PASSWORD, encodeURIComponent(REDIS_PASSWORD), HARBOR_SECRET, DB_PASSWORD];

/** The image as the Dockerfile describes it. */
const IMAGE = layout(readDockerfile());
const { version: VERSION } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const HARBOR = '10000:10000';
const NONROOT = `${IMAGE.user.uid}:${IMAGE.user.gid ?? IMAGE.user.uid}`;
const TAG = `localhost/harbor-wait:test-${process.pid}`;
const REVISION = (() => {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
})();
const CREATED = new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Where the observer (helpers/vm-observer.ts) is mounted: read-only in /dev, the runtime's own tmpfs, so that its
 * mount point is not in the container's filesystem (podman diff stays empty).
 */
const OBSERVER_PATH = '/dev/harbor-wait-observer.cjs';

/** What a process in the container sees: who it is, its privileges, and whether it could write anywhere. */
const PROBE = `
const fs = require('node:fs');
const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
const status = fs.readFileSync('/proc/self/status', 'utf8');
const field = (name) => new RegExp('^' + name + ':\\\\s*(\\\\S+)', 'm').exec(status)?.[1] ?? null;
const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\\n').map((l) => l.split(' ')).filter((f) => f[1] === '/');
const home = process.env.HOME ?? null;
console.log(JSON.stringify({
  uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), home, node: process.versions.node,
  capEff: field('CapEff'), capPrm: field('CapPrm'), noNewPrivs: field('NoNewPrivs'), seccomp: field('Seccomp'),
  rootOptions: mounts[0]?.[3]?.split(',') ?? null,
  write: { app: attempt(() => fs.writeFileSync('/app/probe', 'x')), tmp: attempt(() => fs.writeFileSync('/tmp/probe', 'x')),
    root: attempt(() => fs.writeFileSync('/probe', 'x')), home: home === null ? null : attempt(() => fs.writeFileSync(home + '/probe', 'x')) },
  app: fs.readdirSync('/app').sort().map((n) => { const s = fs.statSync('/app/' + n); return { name: n, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid }; }),
  shell: ['/bin/sh', '/bin/bash', '/usr/bin/sh', '/busybox/sh'].filter((p) => fs.existsSync(p)),
}));`;

interface Probe {
  uid: number;
  gid: number;
  groups: number[];
  home: string | null;
  node: string;
  capEff: string | null;
  capPrm: string | null;
  noNewPrivs: string | null;
  seccomp: string | null;
  rootOptions: string[] | null;
  write: { app: string; tmp: string; root: string; home: string | null };
  app: Array<{ name: string; mode: number; uid: number; gid: number }>;
  shell: string[];
}

let standIns: StandIns;
let image: BuiltImage;
let info: ImageInfo;
let base: ImageInfo;
let redis: RedisServer;
let core: FakeCore;
let redisUrl: string;
let observer: string;
let configFile: string;
/** `podman diff` of a container of the image that ran nothing (node -e 0): what the runtime changes itself. */
let runtimeDiff: string[];
/** Timings, printed after the file: how long the real thing takes here (each test's own time vitest shows). */
const timings: Record<string, string> = {};

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function expectNoSecret(r: ContainerResult): void {
  for (const s of SECRETS) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

/** harbor-wait in the image, as the kubelet starts it (uid 10000 unless said otherwise). */
function wait(args: readonly string[], o: ContainerOptions = {}): Promise<ContainerResult> {
  return runContainer(image.tag, args, o);
}

/**
 * Nothing was written in the container's filesystem: `podman diff` shows only what the runtime itself changes
 * in a container that runs nothing (RUNTIME_DIFF) and the mount points of the mounts asked for.
 */
async function expectNothingWritten(r: ContainerResult, mountPoints: readonly string[] = []): Promise<void> {
  const expected = [...new Set([...runtimeDiff, ...mountPoints])].sort();
  expect((await containerDiff(r.name)).sort(), 'podman diff: the container changed its filesystem').toEqual(expected);
}

/**
 * Builds and starts everything once. Should that fail (podman missing, a container that cannot start, a build
 * that breaks), every test fails with the reason: a failing beforeAll would only mark them skipped.
 */
async function setUp(): Promise<void> {
  requireContainerTools();
  const t0 = performance.now();
  standIns = await ensureStandIns();
  timings['stand-ins'] = standIns.build.made || standIns.runtime.made
    ? `made in ${secs(performance.now() - t0)} (debootstrap ${secs(standIns.debootstrapMs ?? 0)}, build base ${secs(standIns.build.ms)}, runtime base ${secs(standIns.runtime.ms)})`
    : `cached (${secs(performance.now() - t0)} to check)`;

  // A container must start before anything else is tried: say what is wrong when it cannot.
  const smoke = await runContainer(RUNTIME_BASE, ['--version'], { user: HARBOR });
  if (smoke.code !== 0 || !/^v24\./.test(smoke.stdout.trim())) {
    throw new Error(
      `a container cannot start here (podman run exited ${smoke.code}): ${smoke.stderr.trim()}\n` +
        'podman needs runc (apt-get install -y runc), rootful podman, the cgroupfs cgroup manager and ulimits it may set (helpers/podman.ts)',
    );
  }

  image = await buildImage({ tag: TAG, args: { REVISION, CREATED } });
  timings['image build'] = secs(image.ms);
  info = (await inspectImage(image.tag))!;
  base = (await inspectImage(RUNTIME_BASE))!;
  const control = await runContainer(image.tag, ['-e', '0'], { entrypoint: [IMAGE.node] });
  if (control.code !== 0) throw new Error(`node -e 0 in the image exited ${control.code}: ${control.stderr}`);
  runtimeDiff = await containerDiff(control.name);

  [redis, core] = await Promise.all([
    startRedis({ args: ['--requirepass', REDIS_PASSWORD] }),
    startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD }),
  ]);
  redisUrl = `redis://:${encodeURIComponent(REDIS_PASSWORD)}@127.0.0.1:${redis.port}/1`;

  // Host files the containers get: read-only for them, as ConfigMap volumes are.
  const dir = tempDir('harbor-wait-container-');
  observer = join(dir, 'observer.cjs');
  writeFileSync(observer, VM_OBSERVER);
  chmodSync(observer, 0o444);
  configFile = join(dir, 'config.yml');
  writeFileSync(configFile, readFileSync(new URL('./fixtures/jobservice-config.yml', import.meta.url), 'utf8').replace('redis://harbor-redis:6379/1', redisUrl));
  chmodSync(configFile, 0o444);
}

let setupError: unknown;
beforeAll(async () => {
  try {
    await setUp();
  } catch (err) {
    setupError = err;
  }
}, 20 * 60_000);
beforeEach(() => {
  if (setupError) throw setupError;
});

afterAll(async () => {
  await core?.close();
  // Containers, the image, then the stand-ins (ours only, by their label): nothing the tests made stays behind.
  const left = [...(await removeContainers()), ...((await image?.remove()) ?? []), ...(await removeStandIns())];
  process.stderr.write(`container timings: ${Object.entries(timings).map(([k, v]) => `${k}: ${v}`).join('; ')}\n`);
  if (left.length > 0) throw new Error(`could not remove what the tests made:\n${left.join('\n')}`);
}, 5 * 60_000);

describe('the image, built from the Dockerfile by podman', () => {
  it("is the runtime stage on the distroless base: one layer more than the base, USER 65532, node on the entry, no CMD, the OCI labels", () => {
    expect(info.layers.slice(0, base.layers.length)).toEqual(base.layers);
    expect(info.layers).toHaveLength(base.layers.length + 1);
    expect(info.user).toBe(NONROOT);
    expect(info.entrypoint).toEqual([IMAGE.node, IMAGE.bundle]);
    expect(info.cmd ?? []).toEqual([]);
    expect(info.workdir).toBe(IMAGE.programDir);
    expect(info.labels).toMatchObject({
      'org.opencontainers.image.title': 'harbor-wait',
      'org.opencontainers.image.version': VERSION,
      'org.opencontainers.image.revision': REVISION,
      'org.opencontainers.image.created': CREATED,
      'org.opencontainers.image.licenses': 'Apache-2.0',
    });
    // The build argument stays in the build stage.
    expect(info.env.join('\n')).not.toMatch(/NODE_EXTRA_CA_CERTS|npm_config/i);
    timings['image'] = `${(info.size / 1e6).toFixed(1)} MB in ${info.layers.length} layers (base ${(base.size / 1e6).toFixed(1)} MB)`;
  });

  it("a container that runs nothing changes only /etc, where the runtime mounts /etc/hosts, /etc/hostname and /etc/resolv.conf", () => {
    // podman diff leaves those three out but shows /etc changed by their mount points (/etc has none of them in
    // distroless); the kubelet's runtime mounts the same three.
    expect(runtimeDiff).toEqual(['C /etc']);
  });

  for (const user of [HARBOR, NONROOT]) {
    it(`as ${user}: no capability, no new privileges, seccomp, a read-only root and nowhere to write, no shell, the program root's and read-only`, async () => {
      const r = await runContainer(image.tag, ['-e', PROBE], { user, entrypoint: [IMAGE.node] });
      expect(r.code, r.stderr).toBe(0);
      const p = JSON.parse(r.stdout) as Probe;
      const [uid, gid] = user.split(':').map(Number);
      expect(p).toMatchObject({ uid, gid, capEff: '0000000000000000', capPrm: '0000000000000000', noNewPrivs: '1', seccomp: '2' });
      expect(p.node.split('.')[0]).toBe(/nodejs(\d+)/.exec(IMAGE.base)![1]);
      expect(p.groups).not.toContain(0);
      expect(p.rootOptions).toContain('ro');
      // podman always sets HOME (the WORKDIR for a uid /etc/passwd does not know); nothing can be written there.
      expect(p.write).toEqual({ app: 'EROFS', tmp: 'EROFS', root: 'EROFS', home: p.home === null ? null : expect.stringMatching(/^(EROFS|EACCES)$/) });
      expect(p.shell).toEqual([]);
      expect(p.app.map((f) => f.name)).toEqual([...SHIPPED].sort());
      for (const f of p.app) expect(f, f.name).toMatchObject({ mode: IMAGE.mode, uid: 0, gid: 0 });
      await expectNothingWritten(r);
    });
  }
});

describe('harbor-wait in the container, as the kubelet runs it', () => {
  const ready = () => ({ env: { JOBSERVICE_SECRET: HARBOR_SECRET }, args: ['--harbor-core', core.url, redisUrl] });

  for (const user of [HARBOR, NONROOT]) {
    it(`as ${user}: Redis with a password and core with the secret: exit 0, start, ready ×2, done; the code cache accepted; nothing written`, async () => {
      const { env, args } = ready();
      const r = await wait(args, { user, env: { ...env, NODE_OPTIONS: `--require ${OBSERVER_PATH}` }, mounts: [{ host: observer, container: OBSERVER_PATH }] });
      expect(r.code, r.stdout + r.stderr).toBe(ExitCode.Ready);
      expect(r.lines[0]?.event).toBe('start');
      expect(r.lines.at(-1)?.event).toBe('done');
      const readyLines = r.events('ready');
      expect(readyLines.map((l) => l.target).sort()).toEqual([`${core.url}/api/v2.0/internalconfig`, `redis://:***@127.0.0.1:${redis.port}/1`].sort());
      for (const l of readyLines) expect(l).toMatchObject({ attempts: 1, address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
      expect(core.requests.at(-1)).toEqual({ path: '/api/v2.0/internalconfig', authorization: `Harbor-Secret ${HARBOR_SECRET}` });
      // The entry handed V8 the image's code cache, made in the warm stage by this node, and V8 took it.
      expect(compiled(r.stderr)).toEqual([{ filename: IMAGE.bundle, cachedData: true, rejected: false }]);
      expect(r.stderr.split('\n').filter((l) => l && !l.startsWith(VM_LINE))).toEqual([]);
      expectNoSecret(r);
      expect((await inspectContainer(r.name)).oomKilled).toBe(false);
      await expectNothingWritten(r);
    });
  }

  it("the observer sees a rejection too: the image's cache, as another Node build would have made it, mounted over it: V8 rejects it, and harbor-wait runs all the same", async () => {
    const read = await runContainer(image.tag, ['-e', `process.stdout.write(require('node:fs').readFileSync('${IMAGE.programDir}/${CODE_CACHE}').toString('base64'))`], { entrypoint: [IMAGE.node] });
    expect(read.code, read.stderr).toBe(0);
    const cache = Buffer.from(read.stdout, 'base64');
    // V8's header holds a hash of the version that made it, just after its 4-byte magic number (after our line).
    const at = cache.indexOf(10) + 1;
    for (let i = at + 4; i < at + 8; i++) cache[i] = cache[i]! ^ 0xff;
    const foreign = join(tempDir('harbor-wait-foreign-cache-'), CODE_CACHE);
    writeFileSync(foreign, cache);
    chmodSync(foreign, 0o444);
    const { env, args } = ready();
    const r = await wait(args, {
      env: { ...env, NODE_OPTIONS: `--require ${OBSERVER_PATH}` },
      mounts: [{ host: observer, container: OBSERVER_PATH }, { host: foreign, container: `${IMAGE.programDir}/${CODE_CACHE}` }],
    });
    expect(r.code, r.stdout + r.stderr).toBe(ExitCode.Ready);
    expect(compiled(r.stderr)).toEqual([{ filename: IMAGE.bundle, cachedData: true, rejected: true }]);
    expect(r.events('ready')).toHaveLength(2);
    await expectNothingWritten(r);
  });

  it('a closed port with --deadline 1s: exit 124 with a deadline line naming it', async () => {
    const port = await freePort();
    const r = await wait(['--deadline', '1s', `tcp://127.0.0.1:${port}`]);
    expect(r.code).toBe(ExitCode.Deadline);
    expect(r.events('deadline')).toEqual([
      expect.objectContaining({
        level: 'error',
        deadline_ms: 1000,
        pending: [expect.objectContaining({ target: `tcp://127.0.0.1:${port}`, stage: 'connect', code: 'ECONNREFUSED' })],
      }),
    ]);
    expect(r.stderr).toBe('');
    await expectNothingWritten(r);
  });

  it('a configuration error: exit 2, one config_error line, nothing on stderr, no stack trace', async () => {
    const r = await wait(['--deadline', 'soon', 'tcp://127.0.0.1:1']);
    expect(r.code).toBe(ExitCode.ConfigError);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatchObject({ level: 'error', event: 'config_error', input: expect.stringContaining('--deadline') });
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(/\bat .*\.(m?js|ts|cjs):\d+/);
    await expectNothingWritten(r);
  });

  it('helm-values in the image (the install step that generates the overlay): the committed overlay for release harbor; bad input exit 2 on stderr', async () => {
    const r = await wait(['helm-values']);
    expect(r.code, r.stderr).toBe(ExitCode.Ready);
    expect(r.stdout).toBe(readFileSync(new URL('../helm-snippet/values-init.yaml', import.meta.url), 'utf8'));
    expect(r.stderr).toBe('');
    const bad = await wait(['helm-values', '--release', 'Bad_Name']);
    expect(bad.code).toBe(ExitCode.ConfigError);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^harbor-wait helm-values: --release: "Bad_Name" is not a release name Helm accepts/);
    await expectNothingWritten(r);
  });

  it('lint in the image, the render on its standard input (podman run -i ... lint -): the report, exit 0; a mistake, exit 1 naming the value', async () => {
    const good = await wait(['lint', '-'], { input: await renderChartText({ release: 'harbor', values: [] }) });
    expect(good.code, good.stderr).toBe(ExitCode.Ready);
    expect(good.stdout).toMatch(/^harbor-wait \S+ lint: \d+ objects from standard input; core, jobservice, registry, trivy adapter\n/);
    expect(good.stderr).toBe('');
    const bad = await wait(['lint', '--log-format', 'json', '-'], { input: await renderChartText({ release: 'harbor', values: [{ redis: { type: 'external', external: { addr: 'redis.example.internal:6379', existingSecret: 'my-redis' } } }] }) });
    expect(bad.code).toBe(ExitCode.Failure);
    const report = JSON.parse(bad.stdout) as { ok: boolean; components: Array<{ component: string; checks: Array<{ name: string; status: string; hint?: string }> }> };
    expect(report.ok).toBe(false);
    expect(report.components.find((c) => c.component === 'release')?.checks.find((c) => c.name === 'password')).toMatchObject({ status: 'fail', hint: expect.stringContaining('redis.external.existingSecret') });
    await expectNothingWritten(good);
  });

  it('podman stop while waiting for a closed port: SIGTERM, exit 143, logging cancelled; harbor-wait exits within 500 ms of the signal', async () => {
    const waiter = startContainer(image.tag, [`tcp://127.0.0.1:${await freePort()}`]);
    await waiter.waitForEvent('not_ready');
    const stop = await stopContainer(waiter.name);
    expect(stop.code, stop.stderr).toBe(0);
    const r = await waiter.result;
    expect(r.code).toBe(ExitCode.Sigterm);
    const cancelled = r.events('cancelled');
    expect(cancelled).toEqual([expect.objectContaining({ level: 'warn', signal: 'SIGTERM' })]);
    expect(r.stderr).toBe('');
    // From the moment harbor-wait logged the signal to the moment its process ended, as podman recorded it:
    // harbor-wait's own time, not podman's.
    const state = await inspectContainer(r.name);
    expect(state.exitCode).toBe(ExitCode.Sigterm);
    const exitMs = state.finishedAtMs - Date.parse(String(cancelled[0]!.time));
    expect(exitMs).toBeGreaterThan(-5); // the log line's time has millisecond resolution
    expect(exitMs).toBeLessThan(500);
    timings['SIGTERM to exit'] = `${exitMs.toFixed(0)} ms (podman stop took ${stop.ms.toFixed(0)} ms)`;
    await expectNothingWritten(r);
  });

  it("the jobservice preset with config.yml where the chart mounts it (read-only): exit 0, the Redis URL read from it, no secret", async () => {
    const r = await wait(['--preset', 'jobservice'], {
      env: { CORE_URL: core.url, JOBSERVICE_SECRET: HARBOR_SECRET },
      mounts: [{ host: configFile, container: '/etc/jobservice/config.yml' }],
    });
    expect(r.code, r.stdout + r.stderr).toBe(ExitCode.Ready);
    expect(r.lines[0]?.targets).toEqual([
      { target: `${core.url}/api/v2.0/internalconfig`, from: 'CORE_URL' },
      { target: `redis://:***@127.0.0.1:${redis.port}/1`, from: '/etc/jobservice/config.yml (worker_pool.redis_pool.redis_url)' },
    ]);
    expect(r.events('ready')).toHaveLength(2);
    expect(r.stderr).toBe('');
    expectNoSecret(r);
    // Only the mount point the runtime made for the file (the kubelet's runtime makes it just the same).
    await expectNothingWritten(r, ['C /etc', 'A /etc/jobservice', 'A /etc/jobservice/config.yml']);
  });

  it('as a sidecar (--preset jobservice --serve :PORT): /readyz answers 200 on the host; podman stop exits 143', async () => {
    const port = await freePort();
    const sidecar = startContainer(image.tag, ['--preset', 'jobservice', '--serve', `:${port}`], {
      env: { CORE_URL: core.url, JOBSERVICE_SECRET: HARBOR_SECRET },
      mounts: [{ host: configFile, container: '/etc/jobservice/config.yml' }],
    });
    const serving = await sidecar.waitForEvent('serving');
    expect(String(serving.address)).toMatch(new RegExp(`:${port}$`));
    await sidecar.waitForEvent('readiness', (l) => l.ready === true);
    const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(readyz.status).toBe(200);
    const body = await readyz.text();
    for (const s of SECRETS) expect(body).not.toContain(s);
    const stop = await stopContainer(sidecar.name);
    expect(stop.code, stop.stderr).toBe(0);
    const r = await sidecar.result;
    expect(r.code).toBe(ExitCode.Sigterm);
    expect(r.lines.at(-1)).toMatchObject({ event: 'stopped', signal: 'SIGTERM' });
    expect(r.stderr).toBe('');
    expectNoSecret(r);
    await expectNothingWritten(r, ['C /etc', 'A /etc/jobservice', 'A /etc/jobservice/config.yml']);
  });

  it('the termination message: with a file at /dev/termination-log (as the kubelet mounts it), a deadline writes why there', async () => {
    const file = join(tempDir('harbor-wait-termination-'), 'termination-log');
    writeFileSync(file, '');
    chmodSync(file, 0o666); // the kubelet's file is writable by any runAsUser
    const port = await freePort();
    const r = await wait(['--deadline', '1s', `tcp://127.0.0.1:${port}`], { terminationLog: file });
    expect(r.code).toBe(ExitCode.Deadline);
    const message = readFileSync(file, 'utf8');
    expect(message).toMatch(/^harbor-wait: gave up after the /);
    expect(message).toContain(`tcp://127.0.0.1:${port}`);
    await expectNothingWritten(r);
  });
});

// The chart's own pods, rendered by helm, their wait containers run from the image built above.
chartPodTests(() => {
  if (!image) throw new Error('the image was not built');
  return image.tag;
});
