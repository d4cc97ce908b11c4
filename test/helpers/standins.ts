/**
 * Stand-ins for the Dockerfile's two base images, which cannot be pulled here (no registry but npm's and
 * Debian's), made locally and tagged with the exact names the Dockerfile's FROM lines use:
 *
 * - node:24-bookworm-slim (docker.io/library/...): `debootstrap --variant=minbase bookworm` from the Debian
 *   mirror this machine's apt uses, with the project's Node 24 binary (the `node` package's, an official
 *   build) at /usr/local/bin/node and the host's own npm in /usr/local/lib/node_modules/npm, where the official
 *   image has them.
 * - gcr.io/distroless/nodejs24-debian12:nonroot: only what distroless holds: /nodejs/bin/node (the same
 *   binary), the shared libraries ldd says it needs (from the same Debian userland), the CA bundle at
 *   /etc/ssl/certs/ca-certificates.crt (this machine's), /etc/passwd and /etc/group with root, nobody and
 *   nonroot 65532, nsswitch.conf, os-release, netbase's services and protocols, tzdata, /tmp 1777 and
 *   /home/nonroot; no shell, no package manager. USER 65532, WORKDIR /home/nonroot, ENTRYPOINT node, and
 *   distroless's PATH and SSL_CERT_FILE.
 *
 * Each carries a label with a hash of everything it is made of (this file, the node binary, npm, the CA bundle,
 * the Debian suite and mirror); one already in storage with the same hash is used as it is. The test file and
 * the bench that make them remove them when they end (removeStandIns, by name and only when they carry the
 * label), so nothing they made stays behind: each run pays about 50 s to make them (debootstrap and import).
 * `node test/helpers/standins.ts make|remove` does either by hand. A base image of that name that this file did
 * not make (a real one, pulled by someone) is used as it is and never removed.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, cpSync, createReadStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST_CA_BUNDLE, inspectImage, keepPrivate, podman, podmanOk, redactPrivate, removeImages, requireContainerTools, run, tail, which } from './podman.ts';

/** The Dockerfile's build stage base, as podman names it fully (docker.io's library, as Docker reads it). */
export const BUILD_BASE = 'docker.io/library/node:24-bookworm-slim';
/** The Dockerfile's runtime base. */
export const RUNTIME_BASE = 'gcr.io/distroless/nodejs24-debian12:nonroot';
/** The label that marks a stand-in, and the hash of what it is made of. */
export const STANDIN_LABEL = 'io.github.harbor-wait.stand-in';

const SUITE = 'bookworm';
const HERE = fileURLToPath(import.meta.url);
/** The project's Node 24: the `node` devDependency's binary (the official build, from the npm registry). */
const NODE_BINARY = fileURLToPath(new URL('../../node_modules/node/bin/node', import.meta.url));

export interface StandIn {
  readonly name: string;
  readonly id: string;
  readonly size: number;
  /** Whether this run made it (false: it was in storage already). */
  readonly made: boolean;
  /** Whether it is one of ours (false: a real image of that name). */
  readonly ours: boolean;
  readonly ms: number;
}

export interface StandIns {
  readonly build: StandIn;
  readonly runtime: StandIn;
  /** Time spent in debootstrap, when it ran. */
  readonly debootstrapMs: number | null;
}

/** The Debian mirror this machine's apt uses for bookworm (or HARBOR_WAIT_DEBIAN_MIRROR). Never printed. */
export function debianMirror(): string {
  const given = process.env.HARBOR_WAIT_DEBIAN_MIRROR;
  if (given) return keep(given);
  const files = [
    ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').filter((f) => /\.(sources|list)$/.test(f)).map((f) => `/etc/apt/sources.list.d/${f}`) : []),
    '/etc/apt/sources.list',
  ].filter((f) => existsSync(f));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    // deb822: a stanza with URIs and Suites naming bookworm.
    for (const stanza of text.split(/\n\s*\n/)) {
      const uris = /^URIs:\s*(\S+)/im.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.*)$/im.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uris && suites.includes(SUITE) && !/^Enabled:\s*no/im.test(stanza)) return keep(uris);
    }
    // one-line form: deb [options] URI suite components
    for (const line of text.split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (m && m[2] === SUITE) return keep(m[1]!);
    }
  }
  throw new Error(`no apt source for Debian ${SUITE} on this machine: set HARBOR_WAIT_DEBIAN_MIRROR to a Debian mirror's URL`);
}

function keep(url: string): string {
  keepPrivate(url, URL.canParse(url) ? new URL(url).host : undefined);
  return url;
}

/** The host's npm: its package directory (a Node 24 compatible npm, checked by running it with Node 24). */
async function hostNpm(): Promise<{ dir: string; version: string }> {
  const bin = which('npm');
  if (!bin) throw new Error('npm is not installed on this machine: the build stand-in takes the host\'s npm');
  const dir = dirname(dirname(realpathSync(bin)));
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
  if (pkg.name !== 'npm') throw new Error(`${bin} is not npm's own package (${pkg.name})`);
  const r = await run(NODE_BINARY, [join(dir, 'bin', 'npm-cli.js'), '--version'], { env: { npm_config_update_notifier: 'false' } });
  if (r.code !== 0 || r.stdout.trim() !== pkg.version) throw new Error(`the host's npm ${pkg.version} does not run on Node 24: ${r.stderr}`);
  return { dir, version: pkg.version };
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function fileHash(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}

/** The hash of everything the stand-ins are made of. */
async function standInKey(mirror: string, npm: { dir: string; version: string }): Promise<string> {
  const parts = [
    `builder ${sha256(readFileSync(HERE))}`,
    `node ${await fileHash(NODE_BINARY)}`,
    `npm ${npm.version} ${sha256(readFileSync(join(npm.dir, 'package.json')))}`,
    `ca ${await fileHash(HOST_CA_BUNDLE)}`,
    `debian ${SUITE} minbase ${sha256(mirror)}`,
  ];
  return sha256(parts.join('\n')).slice(0, 16);
}

async function checkNode(): Promise<void> {
  if (!existsSync(NODE_BINARY)) throw new Error(`${NODE_BINARY} is missing: run npm ci (the node@24 devDependency brings it)`);
  const r = await run(NODE_BINARY, ['--version']);
  if (!/^v24\./.test(r.stdout.trim())) throw new Error(`${NODE_BINARY} is ${r.stdout.trim()}, not Node 24`);
}

/** debootstrap --variant=minbase bookworm, with netbase (distroless has its /etc/services). */
async function debootstrap(dir: string, mirror: string): Promise<number> {
  const r = await run('debootstrap', ['--variant=minbase', '--include=netbase', SUITE, dir, mirror]);
  if (r.code !== 0) throw new Error(`debootstrap --variant=minbase ${SUITE} failed (exit ${r.code}):\n${redactPrivate(tail(r.stdout + r.stderr))}`);
  // The host's resolver and name, which debootstrap copies in: the runtime mounts its own.
  rmSync(join(dir, 'etc/resolv.conf'), { force: true });
  writeFileSync(join(dir, 'etc/hostname'), '');
  rmSync(join(dir, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(join(dir, 'var/cache/apt/archives/partial'), { recursive: true });
  rmSync(join(dir, 'var/lib/apt/lists'), { recursive: true, force: true });
  mkdirSync(join(dir, 'var/lib/apt/lists/partial'), { recursive: true });
  return r.ms;
}

/** `tar` of `dir` piped into `podman import` with these Dockerfile-style changes; returns the image ID. */
async function importRootfs(dir: string, name: string, changes: readonly string[]): Promise<string> {
  const tar = spawn('tar', ['--numeric-owner', '--xattrs', '-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const out = await podmanOk(['import', '--quiet', ...changes.flatMap((c) => ['--change', c]), '-', name], { input: tar.stdout });
  return out.trim().split('\n').at(-1)!.replace(/^sha256:/, '');
}

/** The build stage's base: the Debian userland with Node 24 and npm where the official image has them. */
async function makeBuildBase(rootfs: string, npm: { dir: string; version: string }, key: string): Promise<string> {
  const local = join(rootfs, 'usr/local');
  mkdirSync(join(local, 'lib/node_modules'), { recursive: true });
  cpSync(npm.dir, join(local, 'lib/node_modules/npm'), { recursive: true, verbatimSymlinks: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin/npx'));
  // The official image's user `node` (1000).
  writeFileSync(join(rootfs, 'etc/passwd'), `${readFileSync(join(rootfs, 'etc/passwd'), 'utf8')}node:x:1000:1000::/home/node:/bin/bash\n`);
  writeFileSync(join(rootfs, 'etc/group'), `${readFileSync(join(rootfs, 'etc/group'), 'utf8')}node:x:1000:\n`);
  mkdirSync(join(rootfs, 'home/node'), { recursive: true });
  chownSync(join(rootfs, 'home/node'), 1000, 1000);
  const version = (await run(NODE_BINARY, ['--version'])).stdout.trim().replace(/^v/, '');
  return importRootfs(rootfs, BUILD_BASE, [
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `ENV NODE_VERSION=${version}`,
    'CMD ["node"]',
    `LABEL ${STANDIN_LABEL}=${key}`,
    `LABEL ${STANDIN_LABEL}.npm=${npm.version}`,
  ]);
}

/** Resolves `path` inside `root`, following symlinks (absolute ones too) as the root's own. */
function inRoot(root: string, path: string): string {
  const pending = path.split('/').filter(Boolean);
  const done: string[] = [];
  for (let hops = 0; pending.length > 0; ) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const here = join(root, ...done, part);
    if (lstatSync(here).isSymbolicLink()) {
      if (++hops > 40) throw new Error(`too many symlinks resolving ${path} in the stand-in's userland`);
      const target = readlinkSync(here);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/').filter(Boolean));
    } else {
      done.push(part);
    }
  }
  return join(root, ...done);
}

/** The runtime stage's base: as close to distroless's nodejs24-debian12:nonroot as these packages allow. */
async function makeRuntimeBase(userland: string, key: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'harbor-wait-distroless-'));
  try {
    return await importRuntimeBase(dir, userland, key);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lays the runtime base out in `dir`, from the userland's files, and imports it. */
async function importRuntimeBase(dir: string, userland: string, key: string): Promise<string> {
  chmodSync(dir, 0o755);
  const at = (p: string) => join(dir, p);
  const put = (p: string, mode: number) => {
    mkdirSync(at(p), { recursive: true });
    chmodSync(at(p), mode);
  };
  for (const d of ['etc', 'etc/ssl', 'etc/ssl/certs', 'lib', 'lib/x86_64-linux-gnu', 'lib64', 'nodejs', 'nodejs/bin', 'usr', 'usr/share', 'home', 'var']) put(d, 0o755);
  put('tmp', 0o1777);
  put('root', 0o700);
  put('home/nonroot', 0o700);
  chownSync(at('home/nonroot'), 65532, 65532);

  copyFileSync(NODE_BINARY, at('nodejs/bin/node'));
  chmodSync(at('nodejs/bin/node'), 0o755);
  // Exactly the libraries node needs, as the userland's own ldd lists them (run inside it).
  const ldd = await run('chroot', [userland, '/usr/bin/ldd', '/usr/local/bin/node']);
  if (ldd.code !== 0) throw new Error(`ldd of node in the stand-in userland failed: ${ldd.stderr}`);
  const libs = [...ldd.stdout.matchAll(/(\/\S+)\s+\(0x/g)].map((m) => m[1]!);
  if (!libs.some((l) => l.endsWith('/ld-linux-x86-64.so.2'))) throw new Error(`ldd named no dynamic loader:\n${ldd.stdout}`);
  for (const lib of libs) {
    const name = lib.split('/').pop()!;
    copyFileSync(inRoot(userland, lib), at(`lib/x86_64-linux-gnu/${name}`));
    chmodSync(at(`lib/x86_64-linux-gnu/${name}`), 0o755);
  }
  symlinkSync('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', at('lib64/ld-linux-x86-64.so.2'));

  copyFileSync(HOST_CA_BUNDLE, at('etc/ssl/certs/ca-certificates.crt'));
  chmodSync(at('etc/ssl/certs/ca-certificates.crt'), 0o644);
  writeFileSync(at('etc/passwd'), ['root:x:0:0:root:/root:/sbin/nologin', 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin', 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin', ''].join('\n'), { mode: 0o644 });
  writeFileSync(at('etc/group'), ['root:x:0:', 'nobody:x:65534:', 'nonroot:x:65532:', ''].join('\n'), { mode: 0o644 });
  writeFileSync(at('etc/nsswitch.conf'), 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n', { mode: 0o644 });
  for (const f of ['etc/services', 'etc/protocols']) copyFileSync(inRoot(userland, f), at(f));
  copyFileSync(inRoot(userland, 'etc/os-release'), at('etc/os-release'));
  cpSync(inRoot(userland, 'usr/share/zoneinfo'), at('usr/share/zoneinfo'), { recursive: true, verbatimSymlinks: true });

  // No shell, nothing to run but node: checked, so that the stand-in cannot hide a RUN in shell form.
  for (const sh of ['bin/sh', 'bin/bash', 'usr/bin/sh']) if (existsSync(at(sh))) throw new Error(`the distroless stand-in has ${sh}`);
  return importRootfs(dir, RUNTIME_BASE, [
    'USER 65532',
    'WORKDIR /home/nonroot',
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
    'ENTRYPOINT ["/nodejs/bin/node"]',
    `LABEL ${STANDIN_LABEL}=${key}`,
  ]);
}

/** Whether `name` is in storage, and whether it is one of ours and current. */
async function state(name: string, key: string): Promise<{ present: boolean; ours: boolean; current: boolean; id: string | null; size: number }> {
  const info = await inspectImage(name);
  if (!info) return { present: false, ours: false, current: false, id: null, size: 0 };
  const label = info.labels[STANDIN_LABEL];
  return { present: true, ours: label !== undefined, current: label === key, id: info.id, size: info.size };
}

/**
 * Makes sure both base images are there: the current stand-ins (made now when missing or out of date; an
 * out-of-date one of ours is removed by its ID once replaced), or real images of those names.
 */
export async function ensureStandIns(progress: (msg: string) => void = () => {}): Promise<StandIns> {
  requireContainerTools();
  await checkNode();
  const mirror = debianMirror();
  const npm = await hostNpm();
  const key = await standInKey(mirror, npm);
  const [b, r] = await Promise.all([state(BUILD_BASE, key), state(RUNTIME_BASE, key)]);
  const needBuild = !b.present || (b.ours && !b.current);
  const needRuntime = !r.present || (r.ours && !r.current);
  let debootstrapMs: number | null = null;
  const made: Record<'build' | 'runtime', number> = { build: 0, runtime: 0 };
  if (needBuild || needRuntime) {
    const userland = mkdtempSync(join(tmpdir(), 'harbor-wait-bookworm-'));
    try {
      progress(`debootstrap --variant=minbase ${SUITE}`);
      debootstrapMs = await debootstrap(userland, mirror);
      copyFileSync(NODE_BINARY, join(userland, 'usr/local/bin/node'));
      chmodSync(join(userland, 'usr/local/bin/node'), 0o755);
      // The runtime base first: it reads the userland's ldd and libraries, which the build base then extends.
      if (needRuntime) {
        const t = performance.now();
        progress(`making ${RUNTIME_BASE} (stand-in)`);
        await makeRuntimeBase(userland, key);
        made.runtime = performance.now() - t;
      }
      if (needBuild) {
        const t = performance.now();
        progress(`making ${BUILD_BASE} (stand-in)`);
        await makeBuildBase(userland, npm, key);
        made.build = performance.now() - t;
      }
    } finally {
      rmSync(userland, { recursive: true, force: true });
    }
    // The previous stand-ins, now untagged: ours, by their IDs.
    const stale = [b, r].filter((s) => s.ours && !s.current && s.id).map((s) => s.id!);
    if (stale.length) await removeImages(stale);
  }
  const result = async (name: string, s: typeof b, ms: number): Promise<StandIn> => {
    const info = (await inspectImage(name))!;
    return { name, id: info.id, size: info.size, made: ms > 0, ours: ms > 0 || s.ours, ms };
  };
  return { build: await result(BUILD_BASE, b, made.build), runtime: await result(RUNTIME_BASE, r, made.runtime), debootstrapMs };
}

/** Removes the stand-ins, by name, only when they carry our label. */
export async function removeStandIns(): Promise<string[]> {
  const ours: string[] = [];
  for (const name of [BUILD_BASE, RUNTIME_BASE]) {
    const info = await inspectImage(name);
    if (info && info.labels[STANDIN_LABEL] !== undefined) ours.push(name);
  }
  const left: string[] = [];
  for (const name of ours) {
    const r = await podman(['rmi', name]);
    if (r.code !== 0) left.push(`${name}: ${r.stderr.trim()}`);
  }
  return left;
}

// `node test/helpers/standins.ts [make|remove]`: by hand or from CI.
if (process.argv[1] === HERE) {
  const verb = process.argv[2] ?? 'make';
  if (verb === 'remove') {
    const left = await removeStandIns();
    if (left.length) {
      console.error(left.join('\n'));
      process.exit(1);
    }
  } else if (verb === 'make') {
    const s = await ensureStandIns((m) => console.error(m));
    for (const i of [s.build, s.runtime]) console.log(`${i.name}: ${i.made ? `made in ${(i.ms / 1000).toFixed(1)} s` : 'already there'}${i.ours ? '' : ' (not a stand-in: a real image)'}, ${(i.size / 1e6).toFixed(0)} MB`);
    if (s.debootstrapMs !== null) console.log(`debootstrap: ${(s.debootstrapMs / 1000).toFixed(1)} s`);
  } else {
    console.error('usage: node test/helpers/standins.ts [make|remove]');
    process.exit(2);
  }
}
