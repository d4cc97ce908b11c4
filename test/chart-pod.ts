/**
 * The wait containers as the rendered chart describes them, run with podman the way the kubelet would run them.
 *
 * Each scenario renders the real harbor-helm chart (helm template, helpers/helm.ts) with the release's values
 * pointing core's Redis and database at servers this test starts on loopback (redis.type external with a
 * password; database.type external with sslmode require, a real PostgreSQL serving TLS) and the overlay that
 * `harbor-wait helm-values --image <the image built for this run>` generates. Then helpers/kubelet.ts turns the
 * rendered pod template into what the container gets: its environment from the rendered ConfigMaps and Secrets
 * (passed to podman by name, so no value is on a command line), its volumes (the rendered ConfigMap and Secret
 * contents, laid out as the kubelet's atomic writer does, subPath mounts of the one file), the pod's and the
 * container's security context merged, its resources, its args, and a host file at its terminationMessagePath.
 * Service names are cluster DNS names: each Service of the render gets a loopback address of its own (a random
 * 127.x.y.0/24 per run), mapped with --add-host; the core imitation listens on core's address at the port of
 * CORE_URL, as core's Service would answer. Every name, secret, path and port the test uses comes from the
 * render (or the values the test gave it), never from a copy written here.
 *
 * What this proves: the overlay, merged by helm into the real chart, gives each wait container everything its
 * preset needs from the objects the chart creates, in a container the chart's securityContext allows (uid 10000,
 * read-only root, no capabilities, no new privileges), and that the waits end as the chart's pods need: exit 0
 * once the dependencies answer, 124 with a termination message naming what was missing at the deadline; no
 * secret of the render in the output.
 *
 * What it cannot prove: there is no kubelet and no API server. Restart back-off, probes, the ordering of init
 * containers and native sidecars, admission (Pod Security), the pod's own network namespace and cluster DNS
 * (the container runs on the host's network, as the other container tests do) are Kubernetes' own; the image's
 * cgroup is podman's, not the pod's.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { makeCerts, makeUntrustedCerts } from './helpers/certs.ts';
import type { LogLine } from './helpers/cli.ts';
import { startFakeCore, type FakeCore } from './helpers/core.ts';
import { generateOverlay, renderChart, type K8sObject } from './helpers/helm.ts';
import {
  clusterServices,
  containerEnv,
  findContainer,
  kubeletRun,
  renderedSecrets,
  serviceNames,
  terminationMessage,
  volumeMounts,
  type ClusterService,
  type KubeletRun,
} from './helpers/kubelet.ts';
import { containerDiff, inspectImage, kubeletOptions, startContainer, stopContainer, type ContainerOptions, type ContainerResult, type RunningContainer } from './helpers/podman.ts';
import { startPostgres, type PgServer } from './helpers/postgres.ts';
import { freePort, tempDir } from './helpers/processes.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';

/** A release whose name lacks "harbor" (so the chart's fullname is `<release>-harbor`), in a namespace of its own. */
const RELEASE = 'wait-test';
const NAMESPACE = 'registry-test';
/** Percent-encoded by the chart (urlquery) into every Redis URL: harbor-wait must decode it as Harbor does. */
const REDIS_PASSWORD = `${markedSecret('rds')}/m@rk`;
const DB_PASSWORD = markedSecret('pg');
const DB_USER = 'harbor';
const DB_NAME = 'registry';
/** What the core imitation holds before it holds the rendered secret. */
const WRONG_SECRET = markedSecret('bad');
/** The marked database password in the core imitation's 200 body. */
const CONFIG_PASSWORD = markedSecret('cfg');
const OURS = [REDIS_PASSWORD, DB_PASSWORD, WRONG_SECRET, CONFIG_PASSWORD];
/** Each run's Services get 127.<a>.<b>.<i+1>: an address block of its own, unlikely to be another run's. */
const NET = `127.${randomInt(16, 250)}.${randomInt(0, 256)}.`;

// ---- the overlay ------------------------------------------------------------------------------------------

// ---- a rendered release -----------------------------------------------------------------------------------

interface Release {
  readonly objects: K8sObject[];
  readonly services: ClusterService[];
  /** The wait containers' names, from the overlay: core's, jobservice's. */
  readonly waits: { readonly core: string; readonly jobservice: string };
  /** The values of the render's Secrets, none of which may show (the test's own are OURS). */
  readonly secrets: string[];
}

async function renderRelease(o: { image: string; redisPort: number; pgPort: number; internalTls?: boolean; deadline?: string }): Promise<Release> {
  const { text: overlayText, warnings, overlay: generated } = await generateOverlay([
    '--release', RELEASE,
    '--image', o.image,
    ...(o.internalTls ? ['--internal-tls'] : []),
    ...(o.deadline ? ['--deadline', o.deadline] : []),
  ]);
  // Only a deadline under the kubelet's 10-minute back-off reset draws a warning.
  if (o.deadline) expect(warnings).toMatch(/^harbor-wait helm-values: warning: --deadline \S+ is shorter than 10m/);
  else expect(warnings).toBe('');
  const overlay = generated as Record<string, { initContainers: Array<{ name: string }> }>;
  const waitName = (component: string) => {
    const list = overlay[component]?.initContainers ?? [];
    if (list.length !== 1) throw new Error(`the overlay has ${list.length} ${component}.initContainers, expected 1`);
    return list[0]!.name;
  };
  const objects = await renderChart({
    release: RELEASE,
    namespace: NAMESPACE,
    values: [
      {
        redis: { type: 'external', external: { addr: `127.0.0.1:${o.redisPort}`, password: REDIS_PASSWORD } },
        database: {
          type: 'external',
          external: { host: '127.0.0.1', port: String(o.pgPort), username: DB_USER, password: DB_PASSWORD, coreDatabase: DB_NAME, sslmode: 'require' },
        },
        internalTLS: { enabled: o.internalTls === true },
      },
      overlayText,
    ],
  });
  const rendered = [...renderedSecrets(objects)]
    // Certificates are public; a value under 8 characters would match ordinary text by chance.
    .filter(([key, v]) => !/\.crt$/.test(key) && v.length >= 8)
    .map(([, v]) => v);
  return {
    objects,
    services: clusterServices(objects, NAMESPACE, (i) => `${NET}${i + 1}`),
    waits: { core: waitName('core'), jobservice: waitName('jobservice') },
    secrets: rendered,
  };
}

/** The address the pod's resolver gives `host` (a Service name in any of its forms), or `host` itself when it is an IP. */
function addressOf(release: Release, host: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return host;
  const s = release.services.find((x) => serviceNames(x, NAMESPACE).includes(host));
  if (!s) throw new Error(`${host} is neither an address nor a Service of the render: the pod could not resolve it`);
  return s.clusterIP;
}

/** The main container of the pod that holds the wait container `wait` (core's own `core`, jobservice's own): its env and its files. */
function mainContainerOf(release: Release, wait: string, dir: string) {
  const { pod } = findContainer(release.objects, wait);
  const containers = (pod.spec.containers ?? []) as Array<Record<string, unknown>>;
  if (containers.length !== 1) throw new Error(`${pod.workload} has ${containers.length} containers, expected 1`);
  const container = containers[0]!;
  const env = containerEnv(release.objects, pod, container, release.services);
  const mounts = volumeMounts(release.objects, pod, container, dir);
  const hostPath = (path: string) => {
    const m = mounts.filter((x) => path === x.container || path.startsWith(`${x.container}/`)).sort((a, b) => b.container.length - a.container.length)[0];
    if (!m) throw new Error(`${path} is not in a volume of ${pod.workload}'s container ${String(container.name)}`);
    return m.host + path.slice(m.container.length);
  };
  return { pod, container, env, hostPath };
}

// ---- running a wait container -----------------------------------------------------------------------------

let imageUser: string | undefined;

/** How long a scenario waits for a line or for the end before it stops the container and fails with its output. */
const LINE_MS = 60_000;
const END_MS = 90_000;

interface Waiting {
  readonly run: KubeletRun;
  readonly options: ContainerOptions;
  readonly container: RunningContainer;
  /** The first line with this event (and predicate), within LINE_MS. */
  line(event: string, predicate?: (l: LogLine) => boolean): Promise<LogLine>;
  /** The container's end, within `ms` (END_MS). */
  end(ms?: number): Promise<ContainerResult>;
}

/** `p`, or, once `ms` have passed, the container stopped and an error with what it printed. */
async function within<T>(p: Promise<T>, ms: number, container: RunningContainer, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    const first = await Promise.race([p, late]);
    if (first !== 'late') return first as T;
  } finally {
    clearTimeout(timer);
  }
  await stopContainer(container.name, 2);
  const r = await container.result;
  throw new Error(`${what}: not within ${ms / 1000} s; the container printed:\n${r.stdout}${r.stderr}`);
}

/**
 * Starts the wait container `name` of the render with podman, as the kubelet would. `probe` runs another program
 * in its place (the image's node with a script), everything else as rendered.
 */
async function startWait(release: Release, name: string, image: string, probe?: { entrypoint: string[]; args: string[] }): Promise<Waiting> {
  imageUser ??= (await inspectImage(image))?.user;
  if (imageUser === undefined) throw new Error(`podman has no image ${image}`);
  const run = kubeletRun(release.objects, { container: name, image, imageUser, services: release.services, dir: tempDir('harbor-wait-pod-') });
  const entrypoint = probe?.entrypoint ?? run.entrypoint;
  const args = probe?.args ?? run.args;
  const options: ContainerOptions = { env: run.env, mounts: run.mounts, podFlags: run.podFlags, ...(entrypoint ? { entrypoint } : {}) };
  // The command line podman gets holds names, never a value of the environment.
  const commandLine = [...kubeletOptions(options), ...args].join(' ');
  expectNoSecret({ 'podman command line': commandLine }, OURS);
  for (const [i, s] of release.secrets.entries()) expect(commandLine.includes(s), `podman's command line holds rendered secret #${i}`).toBe(false);
  const container = startContainer(image, args, options);
  return {
    run,
    options,
    container,
    line: (event, predicate) => within(container.waitForEvent(event, predicate), LINE_MS, container, `a "${event}" line`),
    end: (ms = END_MS) => within(container.result, ms, container, 'the end of the wait'),
  };
}

/** No secret of the render nor of the test in the output or the termination message, in any spelling a leak would take. */
function expectNoLeak(release: Release, r: ContainerResult, termination: string): void {
  const outputs = { stdout: r.stdout, stderr: r.stderr, 'termination message': termination };
  expectNoSecret(outputs, OURS);
  for (const [where, text] of Object.entries(outputs)) {
    for (const [i, s] of release.secrets.entries()) {
      for (const spelling of [s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)]) expect(text.includes(spelling), `${where} holds rendered secret #${i}`).toBe(false);
    }
  }
}

/** The container wrote nothing but the mount points of its mounts (and the runtime's /etc). */
async function expectOnlyMountPoints(r: ContainerResult, run: KubeletRun): Promise<void> {
  const allowed = new Set(['/etc']);
  for (const m of run.mounts) for (let p = m.container; p !== '/' && p !== '.'; p = p.slice(0, p.lastIndexOf('/')) || '/') allowed.add(p);
  for (const line of await containerDiff(r.name)) {
    const path = line.slice(2);
    expect(allowed.has(path), `podman diff: the container changed ${line}`).toBe(true);
  }
}

/**
 * A wait that ended ready, as the pod needs it: exit 0 with a ready line for each target and done last, nothing on
 * stderr, no termination message (the kubelet's view, by the container's policy), no secret anywhere, nothing
 * written but its mount points.
 */
async function expectReady(release: Release, wait: Waiting, r: ContainerResult, targets: ReadonlyArray<{ target: string }>): Promise<void> {
  expect(r.code, r.stdout + r.stderr).toBe(ExitCode.Ready);
  expect(r.events('ready').map((l) => l.target).sort()).toEqual(targets.map((t) => t.target).sort());
  expect(r.lines.at(-1)?.event).toBe('done');
  expect(r.stderr).toBe('');
  const file = readFileSync(wait.run.terminationLog, 'utf8');
  expect(terminationMessage({ policy: wait.run.terminationMessagePolicy, exitCode: r.code!, file, logs: r.stdout + r.stderr })).toBe('');
  expectNoLeak(release, r, file);
  await expectOnlyMountPoints(r, wait.run);
}

/** Core's config API under CORE_URL, as harbor-wait names the target (a WHATWG URL: the scheme's default port left out). */
function configUrl(coreUrl: string): string {
  return `${new URL(coreUrl).origin}/api/v2.0/internalconfig`;
}

/** The start line's targets. */
function targetsOf(start: LogLine): Array<{ target: string; from: string }> {
  return start.targets as Array<{ target: string; from: string }>;
}

/** The hosts the container dials: each is an address or a Service name of the render (else the pod could not resolve it). */
function expectResolvable(release: Release, targets: ReadonlyArray<{ target: string }>): void {
  for (const t of targets) {
    const host = /^[a-z+]+:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/?]+)/.exec(t.target)?.[1];
    expect(host, t.target).toBeDefined();
    expect(() => addressOf(release, host!), t.target).not.toThrow();
  }
}

/**
 * What a process in the container sees of its identity, privileges, files, names and cgroup (v1 or v2): run with
 * the image's node in place of harbor-wait. The paths it looks at come from its own environment (the render).
 */
const IDENTITY_PROBE = `
const fs = require('node:fs');
const dns = require('node:dns');
const status = fs.readFileSync('/proc/self/status', 'utf8');
const field = (name) => new RegExp('^' + name + ':\\\\s*(\\\\S+)', 'm').exec(status)?.[1] ?? null;
const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
const file = (p) => {
  const l = fs.lstatSync(p); const s = fs.statSync(p);
  return { readable: fs.readFileSync(p).length > 0, write: attempt(() => fs.appendFileSync(p, '')), uid: s.uid, gid: s.gid, mode: s.mode & 0o7777, symlink: l.isSymbolicLink() };
};
const read = (...paths) => { for (const p of paths) { try { return fs.readFileSync(p, 'utf8').trim(); } catch {} } return null; };
const num = (t) => (t === null || t === 'max' ? t : Number(t));
const v2cpu = read('/sys/fs/cgroup/cpu.max')?.split(' ') ?? null;
const ca = process.env.INTERNAL_TLS_TRUST_CA_PATH;
const host = new URL(process.env.CORE_URL).hostname;
dns.lookup(host, (err, address) => {
  console.log(JSON.stringify({
    uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(),
    capEff: field('CapEff'), capBnd: field('CapBnd'), noNewPrivs: field('NoNewPrivs'), seccomp: field('Seccomp'),
    rootOptions: fs.readFileSync('/proc/self/mounts', 'utf8').split('\\n').map((l) => l.split(' ')).find((f) => f[1] === '/')?.[3]?.split(',') ?? null,
    files: { '/etc/jobservice/config.yml': file('/etc/jobservice/config.yml'), [ca]: file(ca) },
    caDir: fs.readdirSync(require('node:path').dirname(ca)).sort(),
    resolved: { [host]: err ? err.code : address },
    cgroup: {
      memory: num(read('/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory.max')),
      memsw: num(read('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')),
      cpuQuota: num(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us') ?? v2cpu?.[0] ?? null),
      cpuPeriod: num(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us') ?? v2cpu?.[1] ?? null),
      cpuShares: num(read('/sys/fs/cgroup/cpu/cpu.shares')) ?? (read('/sys/fs/cgroup/cpu.weight') === null ? null : 'weight ' + read('/sys/fs/cgroup/cpu.weight')),
    },
  }));
});`;

interface IdentityProbe {
  uid: number;
  gid: number;
  groups: number[];
  capEff: string | null;
  capBnd: string | null;
  noNewPrivs: string | null;
  seccomp: string | null;
  rootOptions: string[] | null;
  files: Record<string, { readable: boolean; write: string; uid: number; gid: number; mode: number; symlink: boolean }>;
  caDir: string[];
  resolved: Record<string, string>;
  cgroup: { memory: number | string | null; memsw: number | string | null; cpuQuota: number | string | null; cpuPeriod: number | string | null; cpuShares: number | string | null };
}

// ---- the scenarios ----------------------------------------------------------------------------------------

/**
 * Registers the scenarios. `image` gives the tag of the image the calling file built (called only once its
 * beforeAll has run); the calling file removes the containers, the image and the stand-ins when it ends.
 */
export function chartPodTests(image: () => string): void {
  describe("the chart's pods as rendered by helm, their wait containers run as the kubelet would (helpers/kubelet.ts)", () => {
    const stops: Array<() => Promise<void>> = [];
    const cleanUp = async () => {
      for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
    };
    let certs: Awaited<ReturnType<typeof makeCerts>>;
    beforeAll(async () => {
      certs = await makeCerts();
    });
    afterAll(cleanUp);

    /** A PostgreSQL with the external database's role and database, stopped: started on `port` when the test says. */
    async function preparedDatabase(port: number): Promise<{ start(): Promise<PgServer> }> {
      const tls = { certFile: certs.serverCert, keyFile: certs.serverKey };
      const setup = await startPostgres({ port, tls });
      await setup.sql(`CREATE ROLE ${DB_USER} LOGIN PASSWORD '${DB_PASSWORD}'; CREATE DATABASE ${DB_NAME} OWNER ${DB_USER}`);
      await setup.stop();
      return {
        async start() {
          const pg = await startPostgres({ port, dir: setup.dir, tls, settings: { log_connections: 'on' } });
          stops.push(() => pg.stop());
          return pg;
        },
      };
    }

    async function redisOn(port: number): Promise<RedisServer> {
      const redis = await startRedis({ port, args: ['--requirepass', REDIS_PASSWORD] });
      stops.push(() => redis.stop());
      return redis;
    }

    async function coreOn(release: Release, coreUrl: string, o: { secret: string; tls?: { serverCert: string; serverKey: string } }): Promise<FakeCore> {
      const url = new URL(coreUrl);
      const core = await startFakeCore({
        secret: o.secret,
        dbPassword: CONFIG_PASSWORD,
        host: addressOf(release, url.hostname),
        port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        ...(o.tls ? { tls: o.tls } : {}),
      });
      stops.push(() => core.close());
      return core;
    }

    it("core's wait container, started before Redis and PostgreSQL: not_ready for each target (ECONNREFUSED); both started on the rendered ports: exit 0, ready for each Redis URL and the database (over TLS, sslmode require); it saw what core's own container sees", async () => {
      const [redisPort, pgPort] = [await freePort(), await freePort()];
      const database = await preparedDatabase(pgPort);
      const release = await renderRelease({ image: image(), redisPort, pgPort });
      try {
        const wait = await startWait(release, release.waits.core, image());
        const core = mainContainerOf(release, release.waits.core, tempDir('harbor-wait-core-'));
        // What the wait container waits for is what core itself reads.
        for (const name of ['_REDIS_URL_CORE', '_REDIS_URL_REG', 'DATABASE_TYPE', 'POSTGRESQL_HOST', 'POSTGRESQL_PORT', 'POSTGRESQL_USERNAME', 'POSTGRESQL_PASSWORD', 'POSTGRESQL_DATABASE', 'POSTGRESQL_SSLMODE']) {
          expect(wait.run.env[name], name).toBe(core.env.get(name));
        }
        const start = await wait.line('start');
        const targets = targetsOf(start);
        expect(targets.map((t) => t.from)).toEqual(['_REDIS_URL_CORE', '_REDIS_URL_REG', 'POSTGRESQL_*']);
        expect(targets.map((t) => t.target)).toEqual([
          `redis://:***@127.0.0.1:${redisPort}/0?idle_timeout_seconds=30`,
          `redis://:***@127.0.0.1:${redisPort}/2?idle_timeout_seconds=30`,
          `postgres://${DB_USER}:***@127.0.0.1:${pgPort}/${DB_NAME}?sslmode=require`,
        ]);
        expectResolvable(release, targets);
        for (const t of targets) {
          const line = await wait.line('not_ready', (l) => l.target === t.target);
          expect(line, t.target).toMatchObject({ stage: 'connect', code: 'ECONNREFUSED' });
        }

        const [, pg] = await Promise.all([redisOn(redisPort), database.start()]);
        const r = await wait.end();
        await expectReady(release, wait, r, targets);
        // sslmode require: every login of the wait's user came over TLS.
        const logins = pg.output().split('\n').filter((l) => l.includes(`connection authorized: user=${DB_USER} `));
        expect(logins.length, pg.output()).toBeGreaterThan(0);
        for (const l of logins) expect(l).toMatch(/SSL enabled \(protocol=TLSv1\.[23]/);
      } finally {
        await cleanUp();
      }
    }, 180_000);

    it("jobservice's wait container: Redis from config.yml (the jobservice-config volume's subPath); core at CORE_URL's Service name holding another secret: HTTP_401 not_ready; then the secret core's own container gets: exit 0", async () => {
      const redisPort = await freePort();
      const release = await renderRelease({ image: image(), redisPort, pgPort: await freePort() });
      try {
        await redisOn(redisPort);
        const wait0 = findContainer(release.objects, release.waits.jobservice);
        const coreUrl = containerEnv(release.objects, wait0.pod, wait0.container, release.services).get('CORE_URL');
        expect(coreUrl).toMatch(/^http:\/\//);
        const fakeCore = await coreOn(release, coreUrl!, { secret: WRONG_SECRET });
        const wait = await startWait(release, release.waits.jobservice, image());
        const start = await wait.line('start');
        const targets = targetsOf(start);
        expect(targets).toEqual([
          { target: configUrl(coreUrl!), from: 'CORE_URL' },
          { target: `redis://:***@127.0.0.1:${redisPort}/1`, from: '/etc/jobservice/config.yml (worker_pool.redis_pool.redis_url)' },
        ]);
        expectResolvable(release, targets);
        const refused = await wait.line('not_ready', (l) => l.code === 'HTTP_401');
        expect(refused.target).toBe(targets[0]!.target);

        // The secret core checks is the one the kubelet gives core's own container.
        const core = mainContainerOf(release, release.waits.core, tempDir('harbor-wait-core-'));
        const secret = core.env.get('JOBSERVICE_SECRET');
        expect(secret).toBeTruthy();
        expect(wait.run.env.JOBSERVICE_SECRET).toBe(secret);
        fakeCore.secret = secret!;
        const r = await wait.end();
        await expectReady(release, wait, r, targets);
        expect(fakeCore.requests.at(-1)).toEqual({ path: '/api/v2.0/internalconfig', authorization: `Harbor-Secret ${secret}` });
      } finally {
        await cleanUp();
      }
    }, 180_000);

    it("jobservice's wait container with internalTLS.enabled and --internal-tls: core at https://<core Service>:443 with the certificate and key the chart generated for core; a certificate of another CA first is refused (tls not_ready); then exit 0, verified with the CA of the mounted jobservice-internal-certs volume", async () => {
      const redisPort = await freePort();
      const release = await renderRelease({ image: image(), redisPort, pgPort: await freePort(), internalTls: true });
      try {
        await redisOn(redisPort);
        const wait0 = findContainer(release.objects, release.waits.jobservice);
        const waitEnv = containerEnv(release.objects, wait0.pod, wait0.container, release.services);
        const coreUrl = waitEnv.get('CORE_URL')!;
        expect(coreUrl).toMatch(/^https:\/\//);
        expect(waitEnv.get('INTERNAL_TLS_ENABLED')).toBe('true');

        // First a server the pod must not trust: another CA's certificate.
        const untrusted = await makeUntrustedCerts();
        const impostor = await coreOn(release, coreUrl, { secret: 'unused', tls: { serverCert: untrusted.serverCert, serverKey: untrusted.serverKey } });
        const wait = await startWait(release, release.waits.jobservice, image());
        const targets = targetsOf(await wait.line('start'));
        expect(targets[0]).toEqual({ target: configUrl(coreUrl!), from: 'CORE_URL' });
        expectResolvable(release, targets);
        const refused = await wait.line('not_ready', (l) => l.target === targets[0]!.target && l.stage === 'tls');
        expect(impostor.requests).toEqual([]);
        await impostor.close();

        // Then core with what the kubelet gives core's own container: INTERNAL_TLS_CERT_PATH and _KEY_PATH in its volume.
        const core = mainContainerOf(release, release.waits.core, tempDir('harbor-wait-core-'));
        const tls = { serverCert: core.hostPath(core.env.get('INTERNAL_TLS_CERT_PATH')!), serverKey: core.hostPath(core.env.get('INTERNAL_TLS_KEY_PATH')!) };
        const fakeCore = await coreOn(release, coreUrl, { secret: core.env.get('JOBSERVICE_SECRET')!, tls });
        const r = await wait.end();
        await expectReady(release, wait, r, targets);
        expect(fakeCore.requests.at(-1)?.authorization).toBe(`Harbor-Secret ${core.env.get('JOBSERVICE_SECRET')}`);
        expect(refused.code).not.toBe('ECONNREFUSED');
      } finally {
        await cleanUp();
      }
    }, 180_000);

    it("what the rendered pod gives jobservice's wait container (internal TLS: the most mounts), seen from inside: uid 10000 and group 10000 (the overlay's runAsGroup: the pod sets none, and the image's /etc/passwd has no 10000, so the runtime would give group 0) with the fsGroup 10000, no capabilities, no new privileges, a seccomp filter, a read-only root; config.yml and the CA readable, root:10000 0644, the CA alone of its volume (not the component's own key); the Service name resolves to its address; the limits in its cgroup", async () => {
      const release = await renderRelease({ image: image(), redisPort: await freePort(), pgPort: await freePort(), internalTls: true });
      const node = (await inspectImage(image()))?.entrypoint[0];
      expect(node).toBeDefined();
      const wait = await startWait(release, release.waits.jobservice, image(), { entrypoint: [node!], args: ['-e', IDENTITY_PROBE] });
      const r = await wait.end();
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const p = JSON.parse(r.stdout) as IdentityProbe;
      const caPath = wait.run.env.INTERNAL_TLS_TRUST_CA_PATH!;
      const coreHost = new URL(wait.run.env.CORE_URL!).hostname;
      expect(p).toMatchObject({
        uid: 10000,
        gid: 10000,
        capEff: '0000000000000000',
        capBnd: '0000000000000000',
        noNewPrivs: '1',
        seccomp: '2',
        files: {
          // Not writable: uid 10000 is neither the owner nor given write by the mode (EACCES comes before the read-only mount's EROFS).
          '/etc/jobservice/config.yml': { readable: true, write: expect.stringMatching(/^(EACCES|EROFS)$/), uid: 0, gid: 10000, mode: 0o644, symlink: false },
          [caPath]: { readable: true, write: expect.stringMatching(/^(EACCES|EROFS)$/), uid: 0, gid: 10000, mode: 0o644, symlink: false },
        },
        resolved: { [coreHost]: addressOf(release, coreHost) },
      });
      expect(p.groups).toContain(10000);
      expect(p.rootOptions).toContain('ro');
      // By subPath, the CA file only: the volume's tls.crt and tls.key (jobservice's own) stay out of the container.
      expect(p.caDir).toEqual(['ca.crt']);
      // resources.limits: 250m (a quota of 25 ms in each 100 ms), 128Mi and no swap on top; requests.cpu 10m: shares 10.
      expect(p.cgroup).toMatchObject({ memory: 128 * 2 ** 20, cpuQuota: 25_000, cpuPeriod: 100_000, cpuShares: 10 });
      if (p.cgroup.memsw !== null) expect(p.cgroup.memsw).toBe(128 * 2 ** 20);
      expect(r.stderr).toBe('');
    }, 180_000);

    it("core's wait container, overlay made with --deadline 8s, Redis never started (the database up): exit 124 after about 8 s; the termination message (the rendered terminationMessagePath, a host file) names both Redis URLs and not the database", async () => {
      const [redisPort, pgPort] = [await freePort(), await freePort()];
      const database = await preparedDatabase(pgPort);
      const release = await renderRelease({ image: image(), redisPort, pgPort, deadline: '8s' });
      try {
        await database.start();
        const wait = await startWait(release, release.waits.core, image());
        expect(wait.run.env.WAIT_DEADLINE).toBe('8s');
        const r = await wait.end();
        expect(r.code, r.stdout + r.stderr).toBe(ExitCode.Deadline);
        // 8 s of waiting plus the container's start and end, which podman takes a second or two for here.
        expect(r.ms).toBeGreaterThan(8_000);
        expect(r.ms).toBeLessThan(30_000);
        const deadline = r.events('deadline');
        expect(deadline).toHaveLength(1);
        expect(deadline[0]).toMatchObject({ deadline_ms: 8000 });
        const file = readFileSync(wait.run.terminationLog, 'utf8');
        const message = terminationMessage({ policy: wait.run.terminationMessagePolicy, exitCode: r.code!, file, logs: r.stdout + r.stderr });
        expect(message).toBe(file); // harbor-wait wrote it: the kubelet shows it rather than the logs
        expect(message).toMatch(/^harbor-wait: gave up after the /);
        expect(message).toContain(`redis://:***@127.0.0.1:${redisPort}/0?idle_timeout_seconds=30`);
        expect(message).toContain(`redis://:***@127.0.0.1:${redisPort}/2?idle_timeout_seconds=30`);
        expect(message).not.toContain(`:${pgPort}`);
        expectNoLeak(release, r, file);
        await expectOnlyMountPoints(r, wait.run);
      } finally {
        await cleanUp();
      }
    }, 180_000);
  });
}
