/**
 * What the kubelet does for one container of a rendered pod template, as far as the container itself can tell,
 * so that a test can run it with podman exactly as the pod describes it:
 *
 * - its environment (makeEnvironmentVariables in pkg/kubelet/kubelet_pods.go): envFrom ConfigMaps and Secrets in
 *   order (a later source wins, each key with its prefix), then `env` in order (wins over envFrom): `value` with
 *   `$(VAR)` expanded against what is defined so far and the Service variables, `configMapKeyRef`,
 *   `secretKeyRef` (the Secret's data base64-decoded, stringData merged as the API server does), then the
 *   Service variables (pkg/kubelet/envvars) of every Service of the namespace (enableServiceLinks) and of
 *   `kubernetes` in `default`, where nothing else defined the name;
 * - its files: each volumeMount's pod volume (configMap, secret, projected of those, emptyDir) written into a
 *   temporary directory as the kubelet's atomic writer lays it out (`..<timestamp>/` with the files, `..data`
 *   pointing at it, each top-level name a symlink into `..data`), the fsGroup's group and read bits applied as
 *   SetVolumeOwnership does; a subPath mounts the one file it resolves to; configMap, secret and projected
 *   volumes are always read-only; the termination message file (terminationMessagePath, mode 0666, read-write);
 * - its security context, pod and container merged (the container's field wins), as podman options, and its
 *   resources, command and args.
 *
 * A reference to an object, key or volume that is not in the render is an error naming it (unless marked
 * optional, as for the kubelet); so is any field of the pod or container that changes what the container sees
 * and that this file does not reproduce: nothing is silently left out.
 *
 * What it cannot be: the kubelet. Restarts and their back-off, probes, the order of init containers and native
 * sidecars, image pulls, cgroups of the pod, the pod's own network namespace (the tests run with the host's
 * network, Service names mapped to loopback addresses with --add-host) and its DNS are Kubernetes' own.
 */
import { randomInt } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { K8sObject } from './helm.ts';
import type { Mount } from './podman.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, what: string): Obj {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new Error(`${what} is not an object`);
  return v;
}

function list(v: unknown, what: string): Obj[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every(isObj)) throw new Error(`${what} is not a list of objects`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what} is not a string`);
  return v;
}

function strings(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new Error(`${what} is not a list of strings`);
  return v;
}

/** Throws naming each field of `o` that is in neither list: a field this imitation would otherwise drop. */
function onlyKnown(o: Obj, what: string, handled: readonly string[], ignored: Readonly<Record<string, string>> = {}): void {
  const unknown = Object.keys(o).filter((k) => !handled.includes(k) && !(k in ignored));
  if (unknown.length > 0) throw new Error(`${what}: ${unknown.join(', ')}: not reproduced by the kubelet imitation (helpers/kubelet.ts)`);
}

// ---- the render -------------------------------------------------------------------------------------------

/** A pod template of the render: the workload that holds it, its namespace and its spec. */
export interface PodTemplate {
  readonly workload: string;
  readonly namespace: string;
  readonly spec: Obj;
}

const WORKLOADS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'] as const;

function podTemplates(objects: readonly K8sObject[], defaultNamespace: string): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const o of objects) {
    const namespace = o.metadata.namespace ?? defaultNamespace;
    if ((WORKLOADS as readonly string[]).includes(o.kind)) {
      const spec = obj(obj(obj(o.spec, `${o.kind} ${o.metadata.name} spec`).template, 'template').spec, 'template spec');
      out.push({ workload: `${o.kind}/${o.metadata.name}`, namespace, spec });
    } else if (o.kind === 'CronJob') {
      const job = obj(obj(obj(o.spec, 'spec').jobTemplate, 'jobTemplate').spec, 'jobTemplate spec');
      out.push({ workload: `CronJob/${o.metadata.name}`, namespace, spec: obj(obj(job.template, 'template').spec, 'template spec') });
    } else if (o.kind === 'Pod') {
      out.push({ workload: `Pod/${o.metadata.name}`, namespace, spec: obj(o.spec, 'Pod spec') });
    }
  }
  return out;
}

/** The containers of a pod spec, init containers first, each marked. */
function containersOf(spec: Obj): Array<{ container: Obj; init: boolean }> {
  return [
    ...list(spec.initContainers, 'initContainers').map((container) => ({ container, init: true })),
    ...list(spec.containers, 'containers').map((container) => ({ container, init: false })),
  ];
}

/**
 * The one pod template of the render that has a container named `name` (init or not), and that container; an
 * error when none or several have one.
 */
export function findContainer(objects: readonly K8sObject[], name: string, o: { workload?: string; namespace?: string } = {}): { pod: PodTemplate; container: Obj; init: boolean } {
  const found = podTemplates(objects, o.namespace ?? 'default')
    .filter((p) => o.workload === undefined || p.workload === o.workload)
    .flatMap((pod) => containersOf(pod.spec).filter((c) => c.container.name === name).map((c) => ({ pod, ...c })));
  if (found.length === 0) throw new Error(`no pod template of the render has a container "${name}"${o.workload ? ` in ${o.workload}` : ''}`);
  if (found.length > 1) throw new Error(`container "${name}" is in ${found.length} pod templates: ${found.map((f) => f.pod.workload).join(', ')}`);
  return found[0]!;
}

/** The object of `kind` named `name` in `namespace`; an error naming it when the render has none. */
export function renderedObject(objects: readonly K8sObject[], kind: string, namespace: string, name: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name && (o.metadata.namespace ?? namespace) === namespace);
  if (found.length === 0) throw new Error(`${kind} ${namespace}/${name} is not in the render`);
  if (found.length > 1) throw new Error(`${kind} ${namespace}/${name} is in the render ${found.length} times`);
  return found[0]!;
}

/** A ConfigMap's keys: data as text, binaryData decoded. */
export function configMapData(cm: K8sObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(obj(cm.data, `ConfigMap ${cm.metadata.name} data`))) out.set(k, Buffer.from(str(v, `ConfigMap ${cm.metadata.name} data.${k}`)));
  for (const [k, v] of Object.entries(obj(cm.binaryData, `ConfigMap ${cm.metadata.name} binaryData`))) out.set(k, Buffer.from(str(v, `binaryData.${k}`), 'base64'));
  return out;
}

/** A Secret's keys as the kubelet gets them: data base64-decoded, stringData merged over it (the API server does that on write). */
export function secretData(secret: K8sObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(obj(secret.data, `Secret ${secret.metadata.name} data`))) {
    const text = str(v, `Secret ${secret.metadata.name} data.${k}`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error(`Secret ${secret.metadata.name} data.${k} is not base64: the API server would refuse it`);
    out.set(k, Buffer.from(text, 'base64'));
  }
  for (const [k, v] of Object.entries(obj(secret.stringData, `Secret ${secret.metadata.name} stringData`))) out.set(k, Buffer.from(str(v, `stringData.${k}`)));
  return out;
}

/** Every value of every Secret of the render, decoded, keyed `<Secret>/<key>`: what must never show in an output. */
export function renderedSecrets(objects: readonly K8sObject[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of objects.filter((x) => x.kind === 'Secret')) for (const [k, v] of secretData(o)) out.set(`${o.metadata.name}/${k}`, v.toString('utf8'));
  return out;
}

// ---- Services ---------------------------------------------------------------------------------------------

/** A Service as the kubelet sees it once the API server has given it a cluster IP (here, a loopback address). */
export interface ClusterService {
  readonly name: string;
  readonly namespace: string;
  readonly clusterIP: string;
  readonly ports: ReadonlyArray<{ readonly name?: string; readonly port: number; readonly protocol?: string }>;
}

/**
 * Every ClusterIP Service of the render, plus `kubernetes` in `default` (every cluster has it, port 443 named
 * https), each given an address by `address(i)` (the test hands out loopback addresses of its own).
 */
export function clusterServices(objects: readonly K8sObject[], namespace: string, address: (i: number) => string): ClusterService[] {
  const out: ClusterService[] = [{ name: 'kubernetes', namespace: 'default', clusterIP: address(0), ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }];
  for (const s of objects.filter((o) => o.kind === 'Service')) {
    const spec = obj(s.spec, `Service ${s.metadata.name} spec`);
    if (spec.type === 'ExternalName' || spec.clusterIP === 'None') continue;
    out.push({
      name: s.metadata.name,
      namespace: s.metadata.namespace ?? namespace,
      clusterIP: address(out.length),
      ports: list(spec.ports, `Service ${s.metadata.name} ports`).map((p) => ({
        ...(typeof p.name === 'string' && p.name ? { name: p.name } : {}),
        port: Number(p.port),
        ...(typeof p.protocol === 'string' ? { protocol: p.protocol } : {}),
      })),
    });
  }
  return out;
}

/** The names a pod in `namespace` resolves a Service by (search path `<ns>.svc.cluster.local svc.cluster.local cluster.local`). */
export function serviceNames(s: ClusterService, namespace: string): string[] {
  const fqdn = [`${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}.svc.cluster.local`];
  return s.namespace === namespace ? [s.name, ...fqdn] : fqdn;
}

const envName = (s: string) => s.toUpperCase().replaceAll('-', '_');

/** The Service variables (pkg/kubelet/envvars FromServices): host, first port, named ports, the Docker link ones. */
export function serviceEnv(services: readonly ClusterService[], namespace: string, enableServiceLinks: boolean): Map<string, string> {
  const out = new Map<string, string>();
  const shown = services.filter((s) => (s.namespace === 'default' && s.name === 'kubernetes') || (enableServiceLinks && s.namespace === namespace));
  for (const s of shown) {
    const prefix = envName(s.name);
    if (s.ports.length === 0) continue;
    out.set(`${prefix}_SERVICE_HOST`, s.clusterIP);
    out.set(`${prefix}_SERVICE_PORT`, String(s.ports[0]!.port));
    for (const p of s.ports) if (p.name) out.set(`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port));
    s.ports.forEach((p, i) => {
      const protocol = (p.protocol ?? 'TCP').toLowerCase();
      const hostPort = `${s.clusterIP.includes(':') ? `[${s.clusterIP}]` : s.clusterIP}:${p.port}`;
      if (i === 0) out.set(`${prefix}_PORT`, `${protocol}://${hostPort}`);
      const pp = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
      out.set(pp, `${protocol}://${hostPort}`);
      out.set(`${pp}_PROTO`, protocol);
      out.set(`${pp}_PORT`, String(p.port));
      out.set(`${pp}_ADDR`, s.clusterIP);
    });
  }
  return out;
}

// ---- environment ------------------------------------------------------------------------------------------

/**
 * `$(VAR)` expansion as the kubelet does it (third_party/forked/golang/expansion): `$(NAME)` becomes the first
 * context's value of NAME, or stays as written when none has it; `$$` is one `$`; any other `$` stays.
 */
export function expand(input: string, ...contexts: ReadonlyArray<ReadonlyMap<string, string>>): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') out += '$';
    else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close < 0) out += '$(';
      else {
        const name = rest.slice(1, close);
        const ctx = contexts.find((c) => c.has(name));
        out += ctx ? ctx.get(name)! : `$(${name})`;
        advance = close + 1;
      }
    } else out += `$${rest[0]}`;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/**
 * The container's environment, in the kubelet's order: envFrom, then env, then the Service variables nothing
 * else set. `services` stands for the cluster's Services (clusterServices).
 */
export function containerEnv(objects: readonly K8sObject[], pod: PodTemplate, container: Obj, services: readonly ClusterService[] = []): Map<string, string> {
  const name = String(container.name);
  const ns = pod.namespace;
  const env = new Map<string, string>();
  const links = serviceEnv(services, ns, pod.spec.enableServiceLinks !== false);
  const source = (kind: 'ConfigMap' | 'Secret', ref: Obj, what: string): Map<string, Buffer> | undefined => {
    const refName = str(ref.name, `${what}.name`);
    if (ref.optional === true && !objects.some((o) => o.kind === kind && o.metadata.name === refName)) return undefined;
    const o = renderedObject(objects, kind, ns, refName);
    return kind === 'Secret' ? secretData(o) : new Map([...configMapData(o)].filter(([k]) => Object.hasOwn(obj(o.data, 'data'), k)));
  };

  for (const [i, from] of list(container.envFrom, `${name} envFrom`).entries()) {
    const what = `container ${name} envFrom[${i}]`;
    onlyKnown(from, what, ['configMapRef', 'secretRef', 'prefix']);
    const prefix = typeof from.prefix === 'string' ? from.prefix : '';
    const data = from.configMapRef ? source('ConfigMap', obj(from.configMapRef, what), `${what}.configMapRef`) : from.secretRef ? source('Secret', obj(from.secretRef, what), `${what}.secretRef`) : undefined;
    if (!from.configMapRef && !from.secretRef) throw new Error(`${what} has neither configMapRef nor secretRef`);
    for (const [k, v] of data ?? []) env.set(prefix + k, v.toString('utf8'));
  }

  for (const [i, e] of list(container.env, `${name} env`).entries()) {
    const what = `container ${name} env[${i}]`;
    onlyKnown(e, what, ['name', 'value', 'valueFrom']);
    const varName = str(e.name, `${what}.name`);
    let value = typeof e.value === 'string' ? e.value : '';
    if (value !== '') value = expand(value, env, links);
    else if (e.valueFrom !== undefined) {
      const from = obj(e.valueFrom, `${what}.valueFrom`);
      onlyKnown(from, `${what}.valueFrom`, ['configMapKeyRef', 'secretKeyRef'], {});
      const ref = obj(from.configMapKeyRef ?? from.secretKeyRef, `${what}.valueFrom`);
      const kind = from.configMapKeyRef ? 'ConfigMap' : 'Secret';
      const data = source(kind, ref, `${what}.valueFrom`);
      if (data === undefined) continue;
      const key = str(ref.key, `${what}.valueFrom key`);
      const v = data.get(key);
      if (v === undefined) {
        if (ref.optional === true) continue;
        throw new Error(`${what} (${varName}): couldn't find key ${key} in ${kind} ${ns}/${String(ref.name)}`);
      }
      value = v.toString('utf8');
    }
    env.set(varName, value);
  }

  for (const [k, v] of links) if (!env.has(k)) env.set(k, v);
  return env;
}

// ---- files ------------------------------------------------------------------------------------------------

/** One file of a volume: its path inside the volume and its bytes and mode. */
export interface VolumeFile {
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
}

/** A volume as the kubelet fills it: an atomic-writer volume of files, or an emptyDir. */
export type VolumeContents = { readonly kind: 'files'; readonly files: VolumeFile[] } | { readonly kind: 'emptyDir' };

function projectKeys(data: Map<string, Buffer>, src: Obj, what: string, defaultMode: number): VolumeFile[] {
  const items = list(src.items, `${what} items`);
  if (items.length === 0) return [...data].map(([k, v]) => ({ path: k, content: v, mode: defaultMode }));
  return items.flatMap((item) => {
    const key = str(item.key, `${what} item key`);
    const content = data.get(key);
    if (content === undefined) {
      if (src.optional === true) return [];
      throw new Error(`${what}: key ${key} is not in it`);
    }
    return [{ path: str(item.path, `${what} item path`), content, mode: typeof item.mode === 'number' ? item.mode : defaultMode }];
  });
}

/** The pod volume `volumeName` as the kubelet fills it from the render. */
export function volumeContents(objects: readonly K8sObject[], pod: PodTemplate, volumeName: string): VolumeContents {
  const volume = list(pod.spec.volumes, `${pod.workload} volumes`).find((v) => v.name === volumeName);
  if (!volume) throw new Error(`${pod.workload} has no volume "${volumeName}"`);
  const what = `${pod.workload} volume ${volumeName}`;
  const ns = pod.namespace;
  const fromConfigMap = (src: Obj, mode: number, w: string): VolumeFile[] => {
    const cmName = str(src.name, `${w} name`);
    if (src.optional === true && !objects.some((o) => o.kind === 'ConfigMap' && o.metadata.name === cmName)) return [];
    return projectKeys(configMapData(renderedObject(objects, 'ConfigMap', ns, cmName)), src, `${w} (ConfigMap ${cmName})`, mode);
  };
  const fromSecret = (src: Obj, nameField: 'secretName' | 'name', mode: number, w: string): VolumeFile[] => {
    const sName = str(src[nameField], `${w} ${nameField}`);
    if (src.optional === true && !objects.some((o) => o.kind === 'Secret' && o.metadata.name === sName)) return [];
    return projectKeys(secretData(renderedObject(objects, 'Secret', ns, sName)), src, `${w} (Secret ${sName})`, mode);
  };
  const kinds = Object.keys(volume).filter((k) => k !== 'name');
  if (kinds.length !== 1) throw new Error(`${what} has ${kinds.length} sources: ${kinds.join(', ')}`);
  const kind = kinds[0]!;
  const src = obj(volume[kind], what);
  const mode = (m: unknown) => (typeof m === 'number' ? m : 0o644);
  switch (kind) {
    case 'configMap':
      onlyKnown(src, what, ['name', 'items', 'defaultMode', 'optional']);
      return { kind: 'files', files: fromConfigMap(src, mode(src.defaultMode), what) };
    case 'secret':
      onlyKnown(src, what, ['secretName', 'items', 'defaultMode', 'optional']);
      return { kind: 'files', files: fromSecret(src, 'secretName', mode(src.defaultMode), what) };
    case 'projected': {
      onlyKnown(src, what, ['sources', 'defaultMode']);
      const files = list(src.sources, `${what} sources`).flatMap((s, i) => {
        const w = `${what} sources[${i}]`;
        onlyKnown(s, w, ['configMap', 'secret']);
        if (s.configMap) return fromConfigMap(obj(s.configMap, w), mode(src.defaultMode), w);
        return fromSecret(obj(s.secret, w), 'name', mode(src.defaultMode), w);
      });
      return { kind: 'files', files };
    }
    case 'emptyDir':
      onlyKnown(src, what, [], { sizeLimit: 'enforced by eviction, not by the volume', medium: 'tmpfs or disk: the container sees a directory either way' });
      return { kind: 'emptyDir' };
    default:
      throw new Error(`${what}: a ${kind} volume is not reproduced by the kubelet imitation (helpers/kubelet.ts)`);
  }
}

/** The atomic writer's timestamped directory name (`..2006_01_02_15_04_05.<random>`). */
function timestampDir(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${randomInt(1e9)}`;
}

/** chown to root:fsGroup and chmod as SetVolumeOwnership does for a read-only volume (files +0440, directories +2550). */
function own(path: string, mode: number, fsGroup: number | undefined, dir: boolean): void {
  const extra = fsGroup === undefined ? 0 : dir ? 0o2550 : 0o440;
  chmodSync(path, mode | extra);
  if (fsGroup !== undefined) chownSync(path, 0, fsGroup);
}

/**
 * Writes a volume into a new directory under `dir` as the kubelet lays it out; returns the volume's root. An
 * emptyDir is an empty directory, mode 0777 (setgid and the fsGroup's with one).
 */
export function writeVolume(contents: VolumeContents, dir: string, fsGroup: number | undefined): string {
  const root = mkdtempSync(join(dir, 'volume-'));
  own(root, 0o777, fsGroup, true);
  if (contents.kind === 'emptyDir') return root;
  const ts = timestampDir();
  const tsDir = join(root, ts);
  mkdirSync(tsDir);
  own(tsDir, 0o755, fsGroup, true);
  for (const f of contents.files) {
    const normal = posix.normalize(f.path);
    if (normal.startsWith('..') || posix.isAbsolute(normal)) throw new Error(`volume item path ${f.path} leaves the volume`);
    const full = join(tsDir, normal);
    for (let d = dirname(normal); d !== '.'; d = posix.dirname(d)) {
      mkdirSync(join(tsDir, d), { recursive: true });
      own(join(tsDir, d), 0o755, fsGroup, true);
    }
    writeFileSync(full, f.content);
    own(full, f.mode, fsGroup, false);
  }
  symlinkSync(ts, join(root, '..data'));
  for (const top of new Set(contents.files.map((f) => posix.normalize(f.path).split('/')[0]!))) symlinkSync(posix.join('..data', top), join(root, top));
  return root;
}

/** The mounts of a container's volumeMounts, with each volume written under `dir`. */
export function volumeMounts(objects: readonly K8sObject[], pod: PodTemplate, container: Obj, dir: string): Mount[] {
  const name = String(container.name);
  const fsGroup = numberField(obj(pod.spec.securityContext, 'pod securityContext').fsGroup, 'fsGroup');
  const written = new Map<string, { root: string; contents: VolumeContents }>();
  return list(container.volumeMounts, `${name} volumeMounts`).map((m, i) => {
    const what = `container ${name} volumeMounts[${i}]`;
    onlyKnown(m, what, ['name', 'mountPath', 'subPath', 'readOnly', 'mountPropagation', 'recursiveReadOnly']);
    if (m.mountPropagation !== undefined && m.mountPropagation !== 'None') throw new Error(`${what}: mountPropagation ${String(m.mountPropagation)} is not reproduced`);
    if (m.recursiveReadOnly !== undefined && m.recursiveReadOnly !== 'Disabled') throw new Error(`${what}: recursiveReadOnly ${String(m.recursiveReadOnly)} is not reproduced`);
    const volumeName = str(m.name, `${what}.name`);
    const mountPath = str(m.mountPath, `${what}.mountPath`);
    let volume = written.get(volumeName);
    if (!volume) {
      const contents = volumeContents(objects, pod, volumeName);
      volume = { root: writeVolume(contents, dir, fsGroup), contents };
      written.set(volumeName, volume);
    }
    // configMap, secret and projected volumes are read-only whatever the mount says (their mounter's ReadOnly).
    const readOnly = m.readOnly === true || volume.contents.kind === 'files';
    let host = volume.root;
    const subPath = typeof m.subPath === 'string' ? m.subPath : '';
    if (subPath !== '') {
      const normal = posix.normalize(subPath);
      if (posix.isAbsolute(subPath) || normal.split('/').includes('..')) throw new Error(`${what}: subPath ${subPath} must be relative, without ..`);
      // The kubelet resolves the subPath's symlinks inside the volume and bind-mounts what they lead to.
      if (volume.contents.kind === 'files') {
        const file = volume.contents.files.find((f) => posix.normalize(f.path) === normal || posix.normalize(f.path).startsWith(`${normal}/`));
        if (!file) throw new Error(`${what}: subPath ${subPath} is not in volume ${volumeName} (it has ${volume.contents.files.map((f) => f.path).join(', ') || 'nothing'}); the kubelet would make an empty directory in a read-only volume and fail`);
        host = join(volume.root, readlinkSync(join(volume.root, '..data')), normal);
      } else {
        host = join(volume.root, normal);
        mkdirSync(host, { recursive: true });
      }
    }
    return { host, container: mountPath, writable: !readOnly };
  });
}

/** The termination message file: terminationMessagePath (default /dev/termination-log), a host file 0666 mounted read-write. */
export function terminationMount(container: Obj, dir: string): Mount & { readonly path: string } {
  const path = typeof container.terminationMessagePath === 'string' ? container.terminationMessagePath : '/dev/termination-log';
  const host = join(mkdtempSync(join(dir, 'termination-')), 'termination-log');
  writeFileSync(host, '');
  chmodSync(host, 0o666);
  return { host, container: path, writable: true, path: host };
}

/** The kubelet keeps the last 4096 bytes of the file; with FallbackToLogsOnError and a failure, the last 80 lines (at most 2048 bytes) of the log instead of an empty file. */
export function terminationMessage(o: { policy: unknown; exitCode: number; file: string; logs: string }): string {
  const tail = (s: string, bytes: number) => {
    const b = Buffer.from(s);
    return b.length <= bytes ? s : b.subarray(b.length - bytes).toString('utf8');
  };
  const file = tail(o.file, 4096);
  if (file !== '' || o.policy !== 'FallbackToLogsOnError' || o.exitCode === 0) return file;
  const lines = o.logs.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return tail(lines.slice(-80).map((l) => `${l}\n`).join(''), 2048);
}

// ---- security context, resources, command -----------------------------------------------------------------

function numberField(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`${what} is not a non-negative integer`);
  return v;
}

/** containerd's default capabilities (the ones a container gets when its securityContext says nothing). */
export const RUNTIME_DEFAULT_CAPS = ['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE'];

const POD_SC = ['runAsUser', 'runAsGroup', 'runAsNonRoot', 'fsGroup', 'supplementalGroups', 'seccompProfile', 'appArmorProfile', 'seLinuxOptions', 'sysctls'];
const POD_SC_IGNORED = { fsGroupChangePolicy: 'the volumes here are written fresh, with the fsGroup applied', supplementalGroupsPolicy: 'checked below' };
const CONTAINER_SC = ['runAsUser', 'runAsGroup', 'runAsNonRoot', 'allowPrivilegeEscalation', 'capabilities', 'privileged', 'readOnlyRootFilesystem', 'seccompProfile', 'appArmorProfile', 'seLinuxOptions', 'procMount'];

function profile(p: unknown, what: string, flag: 'seccomp' | 'apparmor'): string[] {
  if (p === undefined) return flag === 'seccomp' ? ['--security-opt', 'seccomp=unconfined'] : [];
  const o = obj(p, what);
  if (o.type === 'RuntimeDefault') return [];
  if (o.type === 'Unconfined') return ['--security-opt', `${flag}=unconfined`];
  throw new Error(`${what}: type ${String(o.type)} is not reproduced`);
}

/**
 * The merged security context as podman options. `imageUser` is the image's USER (for runAsNonRoot without
 * runAsUser, and for runAsGroup without runAsUser). Throws for privileged, for runAsNonRoot with uid 0 (or a
 * user it cannot verify), and for any field it does not reproduce.
 */
export function securityFlags(pod: PodTemplate, container: Obj, imageUser: string): string[] {
  const name = String(container.name);
  const p = obj(pod.spec.securityContext, `${pod.workload} securityContext`);
  const c = obj(container.securityContext, `container ${name} securityContext`);
  onlyKnown(p, `${pod.workload} securityContext`, POD_SC, POD_SC_IGNORED);
  onlyKnown(c, `container ${name} securityContext`, CONTAINER_SC);
  if (p.supplementalGroupsPolicy !== undefined && p.supplementalGroupsPolicy !== 'Merge') throw new Error(`${pod.workload}: supplementalGroupsPolicy ${String(p.supplementalGroupsPolicy)} is not reproduced`);
  if (p.seLinuxOptions !== undefined || c.seLinuxOptions !== undefined) throw new Error(`container ${name}: seLinuxOptions are not reproduced`);
  if (c.privileged === true) throw new Error(`container ${name} is privileged: refused (no wait container needs it, and podman would give it the host's devices)`);
  if (c.procMount !== undefined && c.procMount !== 'Default') throw new Error(`container ${name}: procMount ${String(c.procMount)} is not reproduced`);

  const pick = (k: string) => (c[k] !== undefined ? c[k] : p[k]);
  const runAsUser = numberField(pick('runAsUser'), `container ${name} runAsUser`);
  const runAsGroup = numberField(pick('runAsGroup'), `container ${name} runAsGroup`);
  const flags: string[] = [];

  // runAsNonRoot: the uid it will run as must be known and not 0 (kuberuntime verifyRunAsNonRoot).
  if (pick('runAsNonRoot') === true) {
    if (runAsUser !== undefined) {
      if (runAsUser === 0) throw new Error(`container ${name}: runAsUser 0 breaks runAsNonRoot: the kubelet refuses to start it`);
    } else {
      const user = imageUser.split(':')[0] ?? '';
      if (user === '' || user === '0' || user === 'root') throw new Error(`container ${name} has runAsNonRoot and image will run as root: the kubelet refuses to start it`);
      if (!/^\d+$/.test(user)) throw new Error(`container ${name} has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root: the kubelet refuses to start it`);
    }
  }
  // Without runAsGroup the runtime takes the group from the image's /etc/passwd for that uid, else 0: podman does the same.
  if (runAsUser !== undefined) flags.push('--user', runAsGroup !== undefined ? `${runAsUser}:${runAsGroup}` : String(runAsUser));
  else if (runAsGroup !== undefined) flags.push('--user', `${imageUser.split(':')[0] || '0'}:${runAsGroup}`);

  const groups = new Set<number>();
  const fsGroup = numberField(p.fsGroup, `${pod.workload} fsGroup`);
  if (fsGroup !== undefined) groups.add(fsGroup);
  for (const g of Array.isArray(p.supplementalGroups) ? p.supplementalGroups : []) groups.add(numberField(g, 'supplementalGroups')!);
  for (const g of groups) flags.push('--group-add', String(g));

  if (c.readOnlyRootFilesystem === true) flags.push('--read-only', '--read-only-tmpfs=false');

  // Capabilities: the runtime's default set, less drop (ALL: all), plus add.
  const caps = obj(c.capabilities, `container ${name} capabilities`);
  onlyKnown(caps, `container ${name} capabilities`, ['add', 'drop']);
  const norm = (s: string) => s.toUpperCase().replace(/^CAP_/, '');
  const drop = strings(caps.drop, 'capabilities.drop').map(norm);
  const add = strings(caps.add, 'capabilities.add').map(norm);
  let set = drop.includes('ALL') ? [] : RUNTIME_DEFAULT_CAPS.filter((x) => !drop.includes(x));
  if (add.includes('ALL')) throw new Error(`container ${name}: capabilities.add ALL is refused`);
  set = [...new Set([...set, ...add])];
  flags.push('--cap-drop', 'ALL', ...set.flatMap((x) => ['--cap-add', x]));

  if (c.allowPrivilegeEscalation === false) flags.push('--security-opt', 'no-new-privileges');
  flags.push(...profile(pick('seccompProfile'), `container ${name} seccompProfile`, 'seccomp'));
  flags.push(...profile(pick('appArmorProfile'), `container ${name} appArmorProfile`, 'apparmor'));
  for (const s of list(p.sysctls, 'sysctls')) flags.push('--sysctl', `${str(s.name, 'sysctl name')}=${str(s.value, 'sysctl value')}`);
  return flags;
}

const SUFFIXES: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** A Kubernetes quantity (`250m`, `128Mi`, `1e3`, `0.5`) as a number. */
export function quantity(q: unknown, what: string): number {
  const text = typeof q === 'number' ? String(q) : typeof q === 'string' ? q : '';
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E))?$/.exec(text);
  if (!m) throw new Error(`${what}: "${text}" is not a quantity`);
  return Number(m[1]) * (m[2] !== undefined ? 10 ** Number(m[2]) : SUFFIXES[m[3] ?? '']!);
}

/**
 * resources as the kubelet gives them to the runtime: limits.cpu → --cpus (quota over a 100 ms period),
 * limits.memory → --memory with no swap on top, requests.cpu (else limits.cpu, as the API server defaults it)
 * → --cpu-shares (1024 a CPU, at least 2).
 */
export function resourceFlags(container: Obj): string[] {
  const name = String(container.name);
  const r = obj(container.resources, `container ${name} resources`);
  onlyKnown(r, `container ${name} resources`, ['limits', 'requests'], { claims: 'dynamic resources: none here' });
  const limits = obj(r.limits, 'limits');
  const requests = obj(r.requests, 'requests');
  for (const k of [...Object.keys(limits), ...Object.keys(requests)]) {
    if (!['cpu', 'memory', 'ephemeral-storage'].includes(k)) throw new Error(`container ${name}: resource ${k} is not reproduced`);
  }
  const flags: string[] = [];
  const milli = (q: unknown, w: string) => Math.ceil(quantity(q, w) * 1000);
  if (limits.cpu !== undefined) flags.push('--cpus', String(milli(limits.cpu, 'limits.cpu') / 1000));
  if (limits.memory !== undefined) {
    const bytes = Math.ceil(quantity(limits.memory, 'limits.memory'));
    flags.push('--memory', `${bytes}b`, '--memory-swap', `${bytes}b`);
  }
  const cpuRequest = requests.cpu ?? limits.cpu;
  flags.push('--cpu-shares', String(Math.max(2, Math.floor((cpuRequest === undefined ? 0 : milli(cpuRequest, 'requests.cpu')) * 1024 / 1000))));
  return flags;
}

/** command and args with `$(VAR)` expanded against the container's environment: --entrypoint when command is set. */
export function commandAndArgs(container: Obj, env: ReadonlyMap<string, string>): { entrypoint?: string[]; args: string[] } {
  const command = strings(container.command, 'command').map((s) => expand(s, env));
  const args = strings(container.args, 'args').map((s) => expand(s, env));
  return command.length > 0 ? { entrypoint: command, args } : { args };
}

// ---- the whole container ----------------------------------------------------------------------------------

const CONTAINER_FIELDS = ['name', 'image', 'imagePullPolicy', 'command', 'args', 'workingDir', 'env', 'envFrom', 'volumeMounts', 'securityContext', 'resources', 'terminationMessagePath', 'terminationMessagePolicy'];
const CONTAINER_IGNORED: Record<string, string> = {
  ports: 'informational; the container runs on the host network here',
  livenessProbe: "the kubelet's own (not run here)",
  readinessProbe: "the kubelet's own (not run here)",
  startupProbe: "the kubelet's own (not run here)",
  restartPolicy: "the kubelet's own: a native sidecar's restarts and ordering are not reproduced",
  resizePolicy: 'in-place resize: not reproduced, and nothing the container sees',
};
const POD_FIELDS = ['volumes', 'securityContext', 'initContainers', 'containers', 'automountServiceAccountToken', 'enableServiceLinks', 'hostAliases'];
const POD_IGNORED: Record<string, string> = {
  terminationGracePeriodSeconds: 'how long the kubelet waits after SIGTERM (podman stop takes its own)',
  serviceAccountName: 'no token is mounted (automountServiceAccountToken must be false)',
  nodeSelector: 'scheduling',
  affinity: 'scheduling',
  tolerations: 'scheduling',
  topologySpreadConstraints: 'scheduling',
  priorityClassName: 'scheduling',
  schedulerName: 'scheduling',
  imagePullSecrets: 'pulling (the image is local)',
  dnsPolicy: 'Service names are mapped with --add-host',
  dnsConfig: 'Service names are mapped with --add-host',
  restartPolicy: "the kubelet's own",
  activeDeadlineSeconds: "the kubelet's own",
};

export interface KubeletRun {
  readonly pod: PodTemplate;
  readonly container: Obj;
  readonly init: boolean;
  /** The environment, passed to podman by name (--env NAME), the values in podman's own environment. */
  readonly env: Record<string, string>;
  /** Every volume mount and the termination message file. */
  readonly mounts: Mount[];
  /** Security context, resources, workingDir, host names: ContainerOptions.podFlags. */
  readonly podFlags: string[];
  readonly entrypoint?: string[];
  readonly args: string[];
  /** The host file mounted at terminationMessagePath. */
  readonly terminationLog: string;
  readonly terminationMessagePolicy: unknown;
  /** The host file or directory the container sees at `path` (through its mounts), or undefined. */
  hostPath(path: string): string | undefined;
}

export interface KubeletOptions {
  /** The container's name; it must be in exactly one pod template of the render. */
  readonly container: string;
  /** The image the container must name (what the test built and tagged). */
  readonly image: string;
  /** The image's USER (podman image inspect), for runAsNonRoot and runAsGroup. */
  readonly imageUser: string;
  /** The cluster's Services with their addresses (clusterServices). */
  readonly services: readonly ClusterService[];
  /** Where the volumes and the termination message file are written. */
  readonly dir: string;
  readonly namespace?: string;
}

/** Everything podman needs to start the container `o.container` of the render as the kubelet would. */
export function kubeletRun(objects: readonly K8sObject[], o: KubeletOptions): KubeletRun {
  const { pod, container, init } = findContainer(objects, o.container, o.namespace !== undefined ? { namespace: o.namespace } : {});
  const name = o.container;
  onlyKnown(pod.spec, `${pod.workload} spec`, POD_FIELDS, POD_IGNORED);
  onlyKnown(container, `container ${name}`, CONTAINER_FIELDS, CONTAINER_IGNORED);
  if (pod.spec.automountServiceAccountToken !== false) throw new Error(`${pod.workload}: automountServiceAccountToken is not false: the kubelet would mount a service account token, which this imitation cannot make`);
  if (container.image !== o.image) throw new Error(`container ${name} runs image ${String(container.image)}, not ${o.image}`);
  if (!['File', 'FallbackToLogsOnError', undefined].includes(container.terminationMessagePolicy as string | undefined)) throw new Error(`container ${name}: terminationMessagePolicy ${String(container.terminationMessagePolicy)} is not one Kubernetes has`);

  const envMap = containerEnv(objects, pod, container, o.services);
  const { entrypoint, args } = commandAndArgs(container, envMap);
  const mounts = volumeMounts(objects, pod, container, o.dir);
  const termination = terminationMount(container, o.dir);
  const hosts = [
    ...o.services.flatMap((s) => serviceNames(s, pod.namespace).map((n) => `${n}:${s.clusterIP}`)),
    ...list(pod.spec.hostAliases, 'hostAliases').flatMap((a) => strings(a.hostnames, 'hostAliases hostnames').map((h) => `${h}:${str(a.ip, 'hostAliases ip')}`)),
  ];
  const podFlags = [
    ...securityFlags(pod, container, o.imageUser),
    ...resourceFlags(container),
    ...(typeof container.workingDir === 'string' ? ['--workdir', container.workingDir] : []),
    ...hosts.flatMap((h) => ['--add-host', h]),
    // podman hands its own proxy variables to the container unless told not to; the kubelet hands none.
    '--http-proxy=false',
  ];
  const allMounts = [...mounts, { host: termination.host, container: termination.container, writable: true }];
  return {
    pod,
    container,
    init,
    env: Object.fromEntries(envMap),
    mounts: allMounts,
    podFlags,
    ...(entrypoint ? { entrypoint } : {}),
    args,
    terminationLog: termination.host,
    terminationMessagePolicy: container.terminationMessagePolicy,
    hostPath(path: string) {
      const m = allMounts
        .filter((x) => path === x.container || path.startsWith(`${x.container.replace(/\/$/, '')}/`))
        .sort((a, b) => b.container.length - a.container.length)[0];
      return m ? join(m.host, path.slice(m.container.length)) : undefined;
    },
  };
}
