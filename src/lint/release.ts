/**
 * A Harbor release as its rendered manifests describe it: the workloads the chart labels with a `component`
 * (core, jobservice, registry, trivy, exporter, and the internal database and Redis), each container's
 * environment resolved as the kubelet resolves it (envFrom in order, then env, ConfigMap and Secret keys read
 * from the stream, Secret data base64-decoded with stringData merged), and every reference to a ConfigMap or
 * Secret with whether the stream has it. What the stream does not say (an object from outside it, a fieldRef)
 * is unresolved, with the reason, never guessed.
 */
import type { Manifest } from './manifests.ts';

type Obj = Readonly<Record<string, unknown>>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObject) : []);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The components lint checks, and the ones whose settings those checks read. */
export const COMPONENTS = ['core', 'jobservice', 'registry', 'trivy', 'exporter'] as const;
export type Component = (typeof COMPONENTS)[number] | 'database' | 'redis' | 'other';

/** One environment variable as the container will see it. */
export interface EnvValue {
  /** The value; undefined when the stream cannot say it (see `unresolved`). */
  readonly value: string | undefined;
  /** Where it comes from, in words: `ConfigMap harbor-core`, `Secret jsec key JOBSERVICE_SECRET`, `env`. */
  readonly from: string;
  /** It comes from a Secret. */
  readonly secret: boolean;
  /** Why the value is unknown: the object is not in the stream, or it is a fieldRef. */
  readonly unresolved?: string;
  /** The Secret or ConfigMap it comes from, when it comes from one. */
  readonly object?: { readonly kind: 'Secret' | 'ConfigMap'; readonly name: string; readonly key?: string };
}

/** A reference from a pod to a ConfigMap or Secret. */
export interface Reference {
  readonly kind: 'Secret' | 'ConfigMap';
  readonly name: string;
  /** The key, for a single-key reference (secretKeyRef, configMapKeyRef, a volume's items). */
  readonly key?: string;
  readonly optional: boolean;
  /** How the pod refers to it: `env JOBSERVICE_SECRET`, `envFrom`, `volume jobservice-config`. */
  readonly via: string;
  readonly container?: string;
  /** The stream has the object (and the key, when one is named). */
  readonly found: 'yes' | 'no object' | 'no key';
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly role: 'init' | 'sidecar' | 'main';
  readonly body: Obj;
  readonly env: ReadonlyMap<string, EnvValue>;
  /** The envFrom sources the stream does not hold (`Secret harbor-core`): any variable may come from them. */
  readonly unknownSources: readonly string[];
}

export interface Workload {
  readonly component: Component;
  readonly kind: string;
  readonly name: string;
  readonly replicas: number;
  readonly containers: readonly Container[];
  readonly volumes: readonly Obj[];
  readonly references: readonly Reference[];
}

export interface Release {
  readonly objects: readonly Manifest[];
  readonly workloads: readonly Workload[];
  /** The first workload of a component. */
  workload(component: Component): Workload | undefined;
  /** A ConfigMap's or Secret's data (Secrets decoded), or undefined when the stream has no such object. */
  data(kind: 'Secret' | 'ConfigMap', name: string): ReadonlyMap<string, string> | undefined;
  /** The chart's fullname, read from the core Deployment's name (`<fullname>-core`). */
  readonly fullname: string | undefined;
}

/** The kinds whose pod template lint reads (the chart's components are Deployments and StatefulSets). */
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

function componentOf(labels: unknown): Component | undefined {
  if (!isObject(labels)) return undefined;
  const value = text(labels.component) ?? text(labels['app.kubernetes.io/component']);
  if (value === undefined) return undefined;
  if ((COMPONENTS as readonly string[]).includes(value) || value === 'database' || value === 'redis') return value as Component;
  return 'other';
}

/**
 * A data value as the API server takes it: a string, or a number or boolean (which a YAML reader turns into
 * its text); anything else (a list, a mapping) the API server refuses, so it is left out here, never flattened
 * (an aliased list could be huge).
 */
function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

/** A Secret's data decoded (base64, as the API server stores it), stringData merged over it. */
function secretData(body: Obj): Map<string, string> {
  const out = new Map<string, string>();
  if (isObject(body.data)) {
    for (const [k, v] of Object.entries(body.data)) if (typeof v === 'string') out.set(k, Buffer.from(v, 'base64').toString('utf8'));
  }
  if (isObject(body.stringData)) {
    for (const [k, v] of Object.entries(body.stringData)) {
      const t = scalarText(v);
      if (t !== undefined) out.set(k, t);
    }
  }
  return out;
}

function configMapData(body: Obj): Map<string, string> {
  const out = new Map<string, string>();
  if (isObject(body.data)) {
    for (const [k, v] of Object.entries(body.data)) {
      const t = scalarText(v);
      if (t !== undefined) out.set(k, t);
    }
  }
  return out;
}

/** A workload's pod template: its spec and its labels. */
function podTemplate(body: Obj): { spec: Obj; labels: unknown } {
  const template = isObject(body.spec) && isObject(body.spec.template) ? body.spec.template : {};
  return { spec: isObject(template.spec) ? template.spec : {}, labels: isObject(template.metadata) ? template.metadata.labels : undefined };
}

export function buildRelease(manifests: readonly Manifest[]): Release {
  const index = new Map<string, ReadonlyMap<string, string>>();
  for (const m of manifests) {
    if (m.kind === 'Secret') index.set(`Secret/${m.name}`, secretData(m.body));
    else if (m.kind === 'ConfigMap') index.set(`ConfigMap/${m.name}`, configMapData(m.body));
  }
  const data = (kind: 'Secret' | 'ConfigMap', name: string) => index.get(`${kind}/${name}`);

  const workloads: Workload[] = [];
  for (const m of manifests) {
    if (!WORKLOAD_KINDS.has(m.kind)) continue;
    const { spec, labels } = podTemplate(m.body);
    const component = componentOf(labels) ?? componentOf(isObject(m.body.metadata) ? m.body.metadata.labels : undefined) ?? 'other';
    const references: Reference[] = [];
    const refer = (r: Omit<Reference, 'found'>): Reference => {
      const d = data(r.kind, r.name);
      const found = d === undefined ? 'no object' : r.key !== undefined && !d.has(r.key) ? 'no key' : 'yes';
      const ref = { ...r, found } as Reference;
      references.push(ref);
      return ref;
    };
    const containers: Container[] = [];
    const add = (list: unknown, init: boolean) => {
      for (const c of objects(list)) {
        const name = text(c.name) ?? '';
        const role = init ? (c.restartPolicy === 'Always' ? 'sidecar' : 'init') : 'main';
        const unknownSources: string[] = [];
        containers.push({ name, image: text(c.image) ?? '', role, body: c, env: resolveEnv(c, name, data, refer, unknownSources), unknownSources });
      }
    };
    add(spec.initContainers, true);
    add(spec.containers, false);
    const volumes = objects(spec.volumes);
    for (const v of volumes) {
      const vname = text(v.name) ?? '';
      const sources: Array<[kind: 'Secret' | 'ConfigMap', source: unknown]> = [['Secret', v.secret], ['ConfigMap', v.configMap]];
      if (isObject(v.projected)) for (const s of objects(v.projected.sources)) sources.push(['Secret', s.secret], ['ConfigMap', s.configMap]);
      for (const [kind, source] of sources) {
        if (!isObject(source)) continue;
        const name = text(kind === 'Secret' ? (source.secretName ?? source.name) : source.name);
        if (name === undefined) continue;
        const optional = source.optional === true;
        const items = objects(source.items);
        if (items.length === 0) refer({ kind, name, optional, via: `volume ${vname}` });
        for (const item of items) refer({ kind, name, key: text(item.key) ?? '', optional, via: `volume ${vname}` });
      }
    }
    const spec0 = isObject(m.body.spec) ? m.body.spec : {};
    const replicas = typeof spec0.replicas === 'number' ? spec0.replicas : 1;
    workloads.push({ component, kind: m.kind, name: m.name, replicas, containers, volumes, references });
  }
  const core = workloads.find((w) => w.component === 'core');
  return {
    objects: manifests,
    workloads,
    workload: (component) => workloads.find((w) => w.component === component),
    data,
    fullname: core?.name.endsWith('-core') ? core.name.slice(0, -'-core'.length) : undefined,
  };
}

/** A container's environment, as makeEnvironmentVariables builds it: envFrom in order, then env (which wins). */
function resolveEnv(
  c: Obj,
  container: string,
  data: (kind: 'Secret' | 'ConfigMap', name: string) => ReadonlyMap<string, string> | undefined,
  refer: (r: Omit<Reference, 'found'>) => Reference,
  unknownSources: string[],
): Map<string, EnvValue> {
  const env = new Map<string, EnvValue>();
  for (const source of objects(c.envFrom)) {
    const prefix = text(source.prefix) ?? '';
    const ref = isObject(source.secretRef) ? (['Secret', source.secretRef] as const) : isObject(source.configMapRef) ? (['ConfigMap', source.configMapRef] as const) : undefined;
    if (!ref) continue;
    const [kind, r] = ref;
    const name = text(r.name) ?? '';
    refer({ kind, name, optional: r.optional === true, via: 'envFrom', container });
    const d = data(kind, name);
    // The keys of an object outside the stream are unknown: what it would set cannot be listed.
    if (d === undefined) unknownSources.push(`${kind} ${name}`);
    for (const [k, v] of d ?? []) env.set(prefix + k, { value: v, from: `${kind} ${name}`, secret: kind === 'Secret', object: { kind, name, key: k } });
  }
  for (const e of objects(c.env)) {
    const name = text(e.name);
    if (name === undefined) continue;
    if (!isObject(e.valueFrom)) {
      env.set(name, { value: text(e.value) ?? '', from: 'env', secret: false });
      continue;
    }
    const ref = isObject(e.valueFrom.secretKeyRef) ? (['Secret', e.valueFrom.secretKeyRef] as const) : isObject(e.valueFrom.configMapKeyRef) ? (['ConfigMap', e.valueFrom.configMapKeyRef] as const) : undefined;
    if (!ref) {
      env.set(name, { value: undefined, from: 'env', secret: false, unresolved: 'set by the pod at run time (fieldRef or resourceFieldRef)' });
      continue;
    }
    const [kind, r] = ref;
    const objectName = text(r.name) ?? '';
    const key = text(r.key) ?? '';
    const reference = refer({ kind, name: objectName, key, optional: r.optional === true, via: `env ${name}`, container });
    const from = `${kind} ${objectName} key ${key}`;
    const object = { kind, name: objectName, key };
    if (reference.found === 'yes') env.set(name, { value: data(kind, objectName)?.get(key), from, secret: kind === 'Secret', object });
    else env.set(name, { value: undefined, from, secret: kind === 'Secret', object, unresolved: reference.found === 'no key' ? `the stream's ${kind} ${objectName} has no key ${key}` : `${kind} ${objectName} is not in the stream` });
  }
  return env;
}
