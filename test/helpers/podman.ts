/**
 * A real container runtime for the image tests: Debian's podman, as root, the way it works on these machines
 * (`--runtime runc --cgroup-manager cgroupfs`, `--pull=never`, nofile and nproc ulimits on every run and build:
 * crun and podman's default ulimits fail here). Builds the project's Dockerfile on the stand-in base images
 * (standins.ts), runs containers with the security context Harbor's chart gives its pods, and removes exactly
 * the containers and images it made, by name or ID, never by a filter.
 *
 * Every podman command is asynchronous: the servers the containers talk to (the core imitation among them) run
 * in the test's own process, whose event loop must keep turning.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { watchProcess, type LogLine } from './cli.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** podman's own options: runc (crun fails here), cgroupfs (no systemd). Storage stays podman's default. */
export const PODMAN_GLOBAL = ['--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
/** podman's default ulimits cannot be set here (runc: "error setting rlimits ... operation not permitted"). */
export const ULIMITS = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];
/** This machine's CA bundle, mounted read-only into the build so that npm ci trusts what the host trusts. */
export const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** Where the build sees it (a path no base image has: only the mount puts a file there). */
export const BUILD_CA_PATH = '/run/harbor-wait-build/ca-certificates.crt';

/** The binaries these tests need, and the Debian packages that bring them. */
const TOOLS: Record<string, string> = { podman: 'podman', runc: 'runc', debootstrap: 'debootstrap', tar: 'tar' };

/** Finds `binary` in PATH (and root's sbin directories, where debootstrap lives). */
export function which(binary: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) if (d && existsSync(join(d, binary))) return join(d, binary);
  return null;
}

/**
 * Fails, with what to install, unless podman, runc, debootstrap and tar are here and this runs as root (podman
 * runs rootful: the stand-ins are made with debootstrap, and the runs switch to uid 10000 and 65532).
 */
export function requireContainerTools(): void {
  const missing = Object.keys(TOOLS).filter((b) => which(b) === null);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((b) => TOOLS[b]!))].join(' ');
    throw new Error(`the container tests need ${missing.join(', ')}: install the Debian package(s) ${pkgs} (apt-get install -y ${pkgs}, or run: bash scripts/setup.sh)`);
  }
  if (process.getuid?.() !== 0) throw new Error('the container tests run podman as root (rootful podman, debootstrap for the stand-in base images): run them as root');
}

/**
 * Hosts and addresses of this machine that must never show in a log or an assertion message (the npm registry,
 * its proxies, the Debian mirror): registered by whoever reads them, replaced in every output shown.
 */
const privateWords = new Set<string>();
export function keepPrivate(...words: Array<string | undefined>): void {
  for (const w of words) if (w && w.length >= 4) privateWords.add(w);
}
export function redactPrivate(text: string): string {
  let out = text;
  for (const w of privateWords) out = out.split(w).join('<private>');
  return out;
}

export interface Done {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface CommandOptions {
  /** Piped to the command's stdin (a Buffer or a stream source). */
  readonly input?: NodeJS.ReadableStream;
  /** Added to podman's own environment (for `--env NAME`, which takes the value from there). */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

/** Runs a command to its end, collecting its output. */
export function run(command: string, args: readonly string[], o: CommandOptions = {}): Promise<Done> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: [o.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (o.input) o.input.pipe(child.stdin!);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - started }));
  });
}

/** `podman <global options> ...args`. */
export function podman(args: readonly string[], o: CommandOptions = {}): Promise<Done> {
  return run('podman', [...PODMAN_GLOBAL, ...args], o);
}

/** `podman ...args`, which must exit 0; else an error with its (redacted) output. */
export async function podmanOk(args: readonly string[], o: CommandOptions = {}): Promise<string> {
  const r = await podman(args, o);
  if (r.code !== 0) throw new Error(`podman ${args.slice(0, 3).join(' ')} … exited ${r.code ?? r.signal}:\n${redactPrivate(tail(r.stdout + r.stderr))}`);
  return r.stdout;
}

export function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

// ---- images ------------------------------------------------------------------------------------------------

export interface ImageInfo {
  readonly id: string;
  /** Uncompressed, as podman image inspect reports it. */
  readonly size: number;
  readonly layers: string[];
  readonly labels: Record<string, string>;
  readonly user: string;
  readonly entrypoint: string[];
  readonly cmd: string[] | null;
  readonly env: string[];
  readonly workdir: string;
}

/** The image `ref` as podman has it, or null when there is none by that name. */
export async function inspectImage(ref: string): Promise<ImageInfo | null> {
  const r = await podman(['image', 'inspect', ref]);
  if (r.code !== 0) return null;
  const [i] = JSON.parse(r.stdout) as Array<{
    Id: string;
    Size: number;
    RootFS: { Layers: string[] };
    Labels: Record<string, string> | null;
    Config: { User?: string; Entrypoint?: string[]; Cmd?: string[] | null; Env?: string[]; WorkingDir?: string };
  }>;
  return {
    id: i!.Id,
    size: i!.Size,
    layers: i!.RootFS.Layers,
    labels: i!.Labels ?? {},
    user: i!.Config.User ?? '',
    entrypoint: i!.Config.Entrypoint ?? [],
    cmd: i!.Config.Cmd ?? null,
    env: i!.Config.Env ?? [],
    workdir: i!.Config.WorkingDir ?? '',
  };
}

export interface HistoryEntry {
  readonly createdBy: string;
  /** Bytes this step added (0 for a step that only changed the configuration). */
  readonly size: number;
}

/** `podman history`: the image's steps, newest first. */
export async function imageHistory(ref: string): Promise<HistoryEntry[]> {
  const out = await podmanOk(['history', '--no-trunc', '--format', 'json', ref]);
  return (JSON.parse(out) as Array<{ CreatedBy?: string; size?: number }>).map((h) => ({ createdBy: h.CreatedBy ?? '', size: h.size ?? 0 }));
}

/** Every image ID in podman's storage, intermediate ones too. */
async function allImageIds(): Promise<Set<string>> {
  const out = await podmanOk(['images', '--all', '--no-trunc', '--quiet']);
  return new Set(out.split('\n').map((l) => l.trim().replace(/^sha256:/, '')).filter(Boolean));
}

/**
 * Removes images by exact ID or name; those already gone are fine. An intermediate image is removable only once
 * the images made from it are gone, so it goes round until nothing more can be removed. Returns what is left.
 */
export async function removeImages(refs: readonly string[]): Promise<string[]> {
  let pending = [...new Set(refs)];
  const errors = new Map<string, string>();
  for (let progress = true; pending.length > 0 && progress; ) {
    progress = false;
    const next: string[] = [];
    for (const ref of pending) {
      const r = await podman(['rmi', ref]);
      if (r.code === 0 || /image not known|no such image|not found/i.test(r.stderr)) progress = true;
      else {
        next.push(ref);
        errors.set(ref, redactPrivate(r.stderr.trim()));
      }
    }
    pending = next;
  }
  return pending.map((ref) => `${ref}: ${errors.get(ref)}`);
}

export interface BuiltImage {
  /** The tag it was given (localhost/...). */
  readonly tag: string;
  readonly id: string;
  /** Every image the build made (the tag's and the intermediate ones), by ID: what remove() removes. */
  readonly made: string[];
  readonly ms: number;
  /** The build's output, redacted. */
  readonly output: string;
  remove(): Promise<string[]>;
}

export interface BuildOptions {
  readonly tag: string;
  /** --build-arg NAME=VALUE pairs besides NODE_EXTRA_CA_CERTS. */
  readonly args?: Record<string, string>;
  /** Build only up to this stage (--target). */
  readonly target?: string;
}

/**
 * What npm inside the build needs to reach the registry as the host's npm does, besides the CA bundle: the
 * host's registry and proxy settings, when they are not npm's defaults, in an npmrc mounted read-only as root's
 * (the build stage runs as root). The values never leave this machine's temporary directory. Proxy variables
 * in the environment reach the build on their own (podman build passes them through, --http-proxy).
 */
async function npmConfigMount(dir: string): Promise<string[]> {
  const r = await run('npm', ['config', 'list', '--json']);
  if (r.code !== 0) return [];
  const config = JSON.parse(r.stdout) as Record<string, unknown>;
  const lines: string[] = [];
  const registry = typeof config.registry === 'string' ? config.registry : '';
  for (const key of ['proxy', 'https-proxy', 'noproxy']) {
    const v = config[key];
    const value = Array.isArray(v) ? v.filter(Boolean).join(',') : typeof v === 'string' ? v : '';
    if (value) {
      lines.push(`${key}=${value}`);
      keepPrivate(...value.split(','));
    }
  }
  if (registry && registry !== 'https://registry.npmjs.org/') lines.push(`registry=${registry}`);
  if (registry) keepPrivate(new URL(registry).host);
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']) {
    const v = process.env[name];
    if (v) keepPrivate(...v.split(','), ...v.split(',').map((p) => URL.canParse(p) ? new URL(p).host : p));
  }
  if (lines.length === 0) return [];
  const file = join(dir, 'npmrc');
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return ['--volume', `${file}:/root/.npmrc:ro`];
}

/**
 * `podman build --pull=never` on the project's own Dockerfile, with this machine's CA bundle mounted read-only
 * and named by the NODE_EXTRA_CA_CERTS build argument, and the host's network (the build's one reach beyond
 * loopback is npm ci, to the npm registry; the warm-up's servers are on loopback ports the kernel picks).
 */
export async function buildImage(o: BuildOptions): Promise<BuiltImage> {
  if (!existsSync(HOST_CA_BUNDLE)) throw new Error(`${HOST_CA_BUNDLE} is missing: install the Debian package ca-certificates`);
  const before = await allImageIds();
  const scratch = mkdtempSync(join(tmpdir(), 'harbor-wait-build-'));
  const args = [
    'build',
    '--pull=never',
    '--network', 'host',
    ...ULIMITS,
    '--force-rm',
    '--volume', `${HOST_CA_BUNDLE}:${BUILD_CA_PATH}:ro`,
    ...(await npmConfigMount(scratch)),
    '--build-arg', `NODE_EXTRA_CA_CERTS=${BUILD_CA_PATH}`,
    ...Object.entries(o.args ?? {}).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    ...(o.target ? ['--target', o.target] : []),
    '--tag', o.tag,
    '--file', join(ROOT, 'Dockerfile'),
    ROOT,
  ];
  const r = await podman(args).finally(() => rmSync(scratch, { recursive: true, force: true }));
  const output = redactPrivate(r.stdout + r.stderr);
  // What this build committed: the IDs it printed (`--> 1a2b3c…`, and the last line's full ID) that were not in
  // storage before it began. Only those are ever removed.
  const printed = [...output.matchAll(/^(?:--> )?([0-9a-f]{11,64})$/gm)].map((m) => m[1]!);
  const after = await allImageIds();
  const made = [...after].filter((id) => !before.has(id) && printed.some((p) => id.startsWith(p)));
  // The tag goes first; an image that was there before the build (all of it cached) only loses the tag.
  const remove = async () => {
    const tagged = await inspectImage(o.tag);
    if (tagged && before.has(tagged.id)) {
      const r = await podman(['untag', tagged.id, o.tag]);
      if (r.code !== 0) return [`${o.tag}: ${redactPrivate(r.stderr.trim())}`];
      return removeImages(made);
    }
    return removeImages([o.tag, ...made]);
  };
  if (r.code !== 0) {
    await remove();
    throw new Error(`podman build of the Dockerfile failed (exit ${r.code ?? r.signal}):\n${tail(output, 60)}`);
  }
  const info = await inspectImage(o.tag);
  if (!info) throw new Error(`podman build exited 0 but ${o.tag} is not there`);
  if (!made.includes(info.id) && !before.has(info.id)) made.push(info.id);
  return { tag: o.tag, id: info.id, made, ms: r.ms, output, remove };
}

// ---- containers --------------------------------------------------------------------------------------------

/** A mount of a host path, read-only unless said otherwise. */
export interface Mount {
  readonly host: string;
  readonly container: string;
  readonly writable?: boolean;
}

/** How the kubelet would start it (harbor-helm's securityContext); every field can be changed. */
export interface ContainerOptions {
  /** --user UID:GID; by default Harbor's runAsUser 10000. */
  readonly user?: string;
  /** Environment for the container (passed by name: values stay off podman's command line). */
  readonly env?: Record<string, string>;
  readonly mounts?: readonly Mount[];
  /** A host file mounted read-write at /dev/termination-log, as the kubelet does. */
  readonly terminationLog?: string;
  /** --entrypoint (JSON array form), for probes that are not harbor-wait. */
  readonly entrypoint?: readonly string[];
  /** The chart's CPU and memory limits (default true). */
  readonly limits?: boolean;
  /**
   * The pod's own podman options, derived from a rendered pod template (helpers/kubelet.ts: user and groups,
   * read-only root, capabilities, no new privileges, seccomp, limits, host names): they replace the fixed
   * harbor-helm context above (user and limits are then ignored). Pull, network, ulimits, env, mounts and the
   * entrypoint stay as they are.
   */
  readonly podFlags?: readonly string[];
  /** What the container reads on standard input (`podman run -i`), written and then closed. */
  readonly input?: string | Buffer;
}

export interface ContainerResult extends Done {
  readonly name: string;
  readonly lines: LogLine[];
  events(event: string): LogLine[];
}

export interface RunningContainer {
  readonly name: string;
  /** Resolves when the container has printed a line with this event. */
  waitForEvent(event: string, predicate?: (line: LogLine) => boolean): Promise<LogLine>;
  /** The `podman run` process's end: the container's exit code and its output. */
  readonly result: Promise<ContainerResult>;
}

/** Containers this process created, by name: removed by removeContainers(), whatever happened. */
const containers = new Set<string>();
let counter = 0;

/** The security context of Harbor's pods, as podman options. */
export function kubeletOptions(o: ContainerOptions = {}): string[] {
  const harbor = [
    '--user', o.user ?? '10000:10000',
    // readOnlyRootFilesystem: true, and nothing else writable: podman would otherwise mount tmpfs on /tmp,
    // /var/tmp and /run (--read-only-tmpfs), which the kubelet does not.
    '--read-only',
    '--read-only-tmpfs=false',
    // capabilities: drop ALL; allowPrivilegeEscalation: false; seccomp RuntimeDefault is podman's default.
    '--cap-drop', 'ALL',
    '--security-opt', 'no-new-privileges',
    // resources.limits of the chart's wait containers (helm-snippet/): 250m CPU, 128Mi.
    ...(o.limits === false ? [] : ['--cpus', '0.25', '--memory', '128m']),
  ];
  return [
    '--pull=never',
    ...(o.podFlags ?? harbor),
    '--network', 'host',
    ...ULIMITS,
    ...Object.keys(o.env ?? {}).flatMap((k) => ['--env', k]),
    ...(o.mounts ?? []).flatMap((m) => ['--volume', `${m.host}:${m.container}:${m.writable ? 'rw' : 'ro'}`]),
    ...(o.terminationLog ? ['--volume', `${o.terminationLog}:/dev/termination-log:rw`] : []),
    ...(o.entrypoint ? ['--entrypoint', JSON.stringify(o.entrypoint)] : []),
  ];
}

/**
 * `podman run` attached, not --rm: the container stays, stopped, for `podman diff` and `podman inspect` until
 * removeContainers(). Its name is unique to this process.
 */
export function startContainer(image: string, args: readonly string[], o: ContainerOptions = {}): RunningContainer {
  const name = `harbor-wait-test-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}`;
  containers.add(name);
  const child = spawn('podman', [...PODMAN_GLOBAL, 'run', '--name', name, ...(o.input !== undefined ? ['-i'] : []), ...kubeletOptions(o), image, ...args], {
    env: { ...process.env, ...o.env },
    stdio: [o.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  if (o.input !== undefined && child.stdin) {
    child.stdin.on('error', () => {});
    child.stdin.end(o.input);
  }
  const watched = watchProcess(child, 'the container exited', (err) =>
    err.code === 'ENOENT' ? new Error('podman is not installed: install the Debian packages podman and runc (or run: bash scripts/setup.sh)') : err,
  );
  return { name, waitForEvent: watched.waitForEvent, result: watched.result.then((r) => ({ ...r, name })) };
}

export function runContainer(image: string, args: readonly string[], o: ContainerOptions = {}): Promise<ContainerResult> {
  return startContainer(image, args, o).result;
}

/** `podman diff`: what the container changed in its own filesystem (A, C or D, then the path). */
export async function containerDiff(name: string): Promise<string[]> {
  const out = await podmanOk(['diff', name]);
  return out.split('\n').map((l) => l.trim()).filter(Boolean);
}

export interface ContainerState {
  readonly exitCode: number;
  readonly startedAt: Date;
  /** When the container's process ended, as conmon saw it (nanoseconds kept as a fraction of the ms). */
  readonly finishedAtMs: number;
  readonly oomKilled: boolean;
}

export async function inspectContainer(name: string): Promise<ContainerState> {
  const out = await podmanOk(['container', 'inspect', '--format', '{{json .State}}', name]);
  const s = JSON.parse(out) as { ExitCode: number; StartedAt: string; FinishedAt: string; OOMKilled: boolean };
  return { exitCode: s.ExitCode, startedAt: new Date(s.StartedAt), finishedAtMs: preciseMs(s.FinishedAt), oomKilled: s.OOMKilled };
}

/** An RFC 3339 time with up to nanoseconds, as milliseconds since the epoch with the fraction kept. */
export function preciseMs(text: string): number {
  const m = /^(.*?:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text.trim());
  if (!m) return Number.NaN;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  return whole + Number(`0.${m[2] ?? '0'}`) * 1000;
}

/** Stops a running container with SIGTERM (`podman stop`), waiting up to `seconds` before podman kills it. */
export function stopContainer(name: string, seconds = 10): Promise<Done> {
  return podman(['stop', '--time', String(seconds), name]);
}

/** Removes every container this process made, by name (stopping those still running). */
export async function removeContainers(): Promise<string[]> {
  const left: string[] = [];
  for (const name of [...containers]) {
    const r = await podman(['rm', '--force', '--time', '2', name]);
    if (r.code === 0 || /no such container/i.test(r.stderr)) containers.delete(name);
    else left.push(`${name}: ${r.stderr.trim()}`);
  }
  return left;
}
