/**
 * `harbor-wait helm-values`, rendered. For each release in a matrix (the chart's defaults; external Redis plain, with
 * a password, from an existingSecret and through Sentinel; external PostgreSQL; the operator's own Secrets; internal
 * TLS, the chart's certificates and the operator's; release names with and without "harbor", a nameOverride, a
 * fullnameOverride; init and sidecar), the real harbor-helm 1.19.1 chart is rendered by
 * `helm template` with the release's own values and the overlay the built CLI prints for that release, and the
 * rendered objects are checked:
 *  - placement: each wait container is an init container of the core or the jobservice pod (found by its labels
 *    and its container, not by a name worked out here), a native sidecar only in sidecar mode, in no other pod;
 *  - references: every ConfigMap and Secret (and key) a wait container reads is in the same render, or is the
 *    operator's own Secret named by the release's values, read exactly as the component itself reads it;
 *  - volumes: every mount is a volume of the same pod whose ConfigMap or Secret is in the render (or is the
 *    operator's, named by the release's values, which the component mounts too), a subPath one of its files (its
 *    `items`, when it lists them);
 *  - security: the pod's securityContext merged with the container's (the container's wins, as the kubelet merges
 *    them) runs as 10000, non-root, read-only, without privilege escalation or capabilities; resources are bounded;
 *  - schema: every pod template of every workload passes kubernetes-models' validation and has no unknown field;
 *  - the preset: with the env and files the kubelet would give the wait container (helpers/kubelet.ts; the
 *    operator's own Secrets made as the operator would), `--preset core` / `--preset jobservice` loads, and every
 *    variable it reads holds what the component's own container is given (the jobservice secret: what core checks).
 * The render is the source: every name checked against is one the chart rendered for that release; none is read
 * from harbor-facts.md. Each check returns its problems, so the last blocks render wrong overlays on purpose (one
 * for another release, for internal TLS without it, without the operator's Secret, ...) and show each check failing.
 *
 * What this cannot prove: nothing runs. No kubelet starts the pods (image pulls, mounts, the order it starts native
 * sidecars in, probes), and no API server admits the objects (admission webhooks, Pod Security Admission, quotas,
 * defaulting, and the validation the OpenAPI schema does not express: name lengths, port-name rules, restartPolicy
 * Always on an init container, which a cluster before 1.29 drops or refuses). A Secret the operator provides is not
 * in the render: it is checked only against the chart's own use of it, not for existing or holding its key.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ReplicaSet } from 'kubernetes-models/apps/v1/ReplicaSet';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { Pod } from 'kubernetes-models/v1/Pod';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/options.ts';
import { CORE_CONTAINER, JOBSERVICE_CONTAINER } from '../src/commands/helm-values.ts';
import { DEFAULT_JOBSERVICE_CONFIG } from '../src/config/presets.ts';
import { makeCerts } from './helpers/certs.ts';
import { generateOverlay, renderChart, type K8sObject } from './helpers/helm.ts';
import { containerEnv, findContainer, volumeMounts } from './helpers/kubelet.ts';
import { modelOf, unknownFields } from './helpers/k8s-schema.ts';
import { tempDir } from './helpers/processes.ts';

const INSTALLER = fileURLToPath(new URL('../scripts/install-helm.sh', import.meta.url));

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const at = (value: unknown, path: readonly string[]): unknown => path.reduce<unknown>((v, key) => (isObj(v) ? v[key] : undefined), value);

const COMPONENTS = ['core', 'jobservice'] as const;
type Component = (typeof COMPONENTS)[number];
type Mode = 'init' | 'sidecar';

// ---------------------------------------------------------------------------------------------------------------
// The overlay, as a user gets it

/** `harbor-wait helm-values <flags>` from the built CLI: its overlay, read as Helm reads it. */
const overlay = async (flags: readonly string[]): Promise<Obj> => (await generateOverlay(flags)).overlay;

const modeOf = (flags: readonly string[]): Mode => (flags[flags.indexOf('--mode') + 1] === 'sidecar' ? 'sidecar' : 'init');

/** The containers an overlay adds to each component's pod. */
const overlayContainers = (o: Obj, component: Component): IContainer[] =>
  ((at(o, [component, 'initContainers']) as unknown[] | undefined) ?? []).filter(isObj) as unknown as IContainer[];

// ---------------------------------------------------------------------------------------------------------------
// The render: its pods, and the objects they read

/** Where each workload kind keeps its pod template; a bare Pod is its own. */
const TEMPLATE_PATH: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
  Pod: [],
};
/** kubernetes-models' class for each workload kind (its validate() checks the whole object against the schema). */
const MODEL: Readonly<Record<string, new (data: never) => { validate(): void }>> = {
  Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod,
};

interface PodTemplate {
  /** "Deployment harbor-core": the workload, for problems. */
  readonly where: string;
  readonly workload: K8sObject;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: IPodSpec;
}

/** Every pod the render would make. An object of another kind that holds containers fails: it would go unchecked. */
function podsOf(objects: readonly K8sObject[]): PodTemplate[] {
  return objects.flatMap((o) => {
    const path = TEMPLATE_PATH[o.kind];
    if (path === undefined) {
      if (JSON.stringify(o).includes('"containers"')) throw new Error(`${o.kind} ${o.metadata.name} holds containers, and this test knows no pod template of a ${o.kind}`);
      return [];
    }
    const template = path.length === 0 ? o : at(o, path);
    const labels = (at(template, ['metadata', 'labels']) ?? {}) as Record<string, string>;
    return [{ where: `${o.kind} ${o.metadata.name}`, workload: o, labels, spec: at(template, ['spec']) as IPodSpec }];
  });
}

/** The component's pod, found as the chart labels it: a Deployment `component: <component>` running a container <component>. */
function componentPods(pods: readonly PodTemplate[], component: Component): PodTemplate[] {
  return pods.filter((p) => p.workload.kind === 'Deployment' && p.labels['component'] === component && p.spec.containers.some((c) => c.name === component));
}

/** A wait container where the render put it. */
interface Placed {
  readonly pod: PodTemplate;
  readonly container: IContainer;
  /** "Deployment harbor-core initContainers[0] wait-for-redis-and-database" */
  readonly where: string;
}

/** Every container, in every pod, that bears the name of a container the overlay adds. */
function waitContainers(objects: readonly K8sObject[], o: Obj): Placed[] {
  const names = new Set(COMPONENTS.flatMap((k) => overlayContainers(o, k).map((c) => c.name)));
  return podsOf(objects).flatMap((pod) =>
    (['initContainers', 'containers'] as const).flatMap((list) =>
      (pod.spec[list] ?? []).flatMap((container, i) => (names.has(container.name) ? [{ pod, container, where: `${pod.where} ${list}[${i}] ${container.name}` }] : [])),
    ),
  );
}

const objectNamed = (objects: readonly K8sObject[], kind: 'ConfigMap' | 'Secret', name: string | undefined) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

/** The keys of a ConfigMap (data, binaryData) or a Secret (data, stringData). */
function keysOf(object: K8sObject): string[] {
  const fields = object.kind === 'Secret' ? ['data', 'stringData'] : ['data', 'binaryData'];
  return fields.flatMap((f) => Object.keys((object[f] as Obj | undefined) ?? {}));
}

/**
 * Every string in the release's values: the names of the operator's own objects are among them. The chart takes
 * those under many keys (existingSecret, secretName, caBundleSecretName, ...), so no key is singled out; being named
 * is never enough alone: the pod's own container must read the object the same way (see the checks).
 */
function namedByValues(values: unknown): Set<string> {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string' && v !== '') names.add(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (isObj(v)) Object.values(v).forEach(walk);
  };
  walk(values);
  return names;
}

// ---------------------------------------------------------------------------------------------------------------
// The checks: each returns its problems, [] when there are none

/**
 * 1. Each container the overlay adds for a component is, unchanged, an init container of that component's pod (a
 * native sidecar, restartPolicy Always, in sidecar mode only), and is in no other pod and in no `containers` list.
 */
function placementProblems(objects: readonly K8sObject[], o: Obj, mode: Mode): string[] {
  const problems: string[] = [];
  const pods = podsOf(objects);
  const placed = waitContainers(objects, o);
  for (const component of COMPONENTS) {
    const found = componentPods(pods, component);
    if (found.length !== 1) {
      problems.push(`${component}: the render has ${found.length} Deployments labelled component: ${component} with a container ${component}; expected one`);
      continue;
    }
    const pod = found[0] as PodTemplate;
    for (const wanted of overlayContainers(o, component)) {
      const here = placed.filter((p) => p.container.name === wanted.name);
      for (const p of here) {
        if (p.pod.where !== pod.where) problems.push(`${p.where}: belongs only in ${component}'s pod (${pod.where})`);
      }
      const init = (pod.spec.initContainers ?? []).find((c) => c.name === wanted.name);
      if (init === undefined) {
        problems.push(`${pod.where}: no init container "${wanted.name}"; ${component} would start without waiting`);
        continue;
      }
      if (!isDeepStrictEqual(init, wanted)) problems.push(`${pod.where}: init container "${wanted.name}" differs from the overlay's`);
      if (pod.spec.containers.some((c) => c.name === wanted.name)) problems.push(`${pod.where}: "${wanted.name}" is also in containers: it would run beside ${component}, not before it`);
      if (mode === 'init' && init.restartPolicy !== undefined) {
        problems.push(`${pod.where}: init container "${wanted.name}" has restartPolicy ${init.restartPolicy} in init mode: a sidecar, not a wait that ends`);
      }
      if (mode === 'sidecar' && init.restartPolicy !== 'Always') {
        problems.push(`${pod.where}: init container "${wanted.name}" has restartPolicy ${init.restartPolicy ?? '(none)'} in sidecar mode: it should be Always (a native sidecar)`);
      }
    }
  }
  return problems;
}

/**
 * 2a. Every ConfigMap and Secret a wait container reads by envFrom or by a key reference is in the render, with the
 * key. A secretKeyRef to a Secret the render lacks passes only when the release's values name it (an existingSecret,
 * the operator's own) and a container of the pod's own reads the same variable from the same Secret and key.
 */
function referenceProblems(objects: readonly K8sObject[], o: Obj, releaseValues: Obj): string[] {
  const problems: string[] = [];
  const named = namedByValues(releaseValues);
  for (const { pod, container, where } of waitContainers(objects, o)) {
    (container.envFrom ?? []).forEach((source, i) => {
      for (const [kind, ref] of [['ConfigMap', source.configMapRef], ['Secret', source.secretRef]] as const) {
        if (ref !== undefined && objectNamed(objects, kind, ref.name) === undefined) {
          problems.push(`${where}: envFrom[${i}]: no ${kind} "${ref.name}" in the render`);
        }
      }
    });
    for (const e of container.env ?? []) {
      for (const [kind, ref] of [['ConfigMap', e.valueFrom?.configMapKeyRef], ['Secret', e.valueFrom?.secretKeyRef]] as const) {
        if (ref === undefined) continue;
        const object = objectNamed(objects, kind, ref.name);
        if (object !== undefined) {
          if (!keysOf(object).includes(ref.key)) problems.push(`${where}: env ${e.name}: ${kind} "${ref.name}" in the render has no key "${ref.key}"`);
          continue;
        }
        if (kind === 'ConfigMap') {
          problems.push(`${where}: env ${e.name}: no ConfigMap "${ref.name}" in the render`);
          continue;
        }
        if (!named.has(ref.name ?? '')) {
          problems.push(`${where}: env ${e.name}: no Secret "${ref.name}" in the render (nor one the release's values name)`);
          continue;
        }
        // The operator's Secret: the render cannot say what it holds, but the chart's own container says how to read it.
        const own = pod.spec.containers.flatMap((c) => (c.env ?? []).filter((v) => v.name === e.name).map((v) => ({ c: c.name, ref: v.valueFrom?.secretKeyRef })));
        if (own.length === 0) problems.push(`${where}: env ${e.name}: from the operator's Secret "${ref.name}", but no container of ${pod.where}'s own reads ${e.name} by a secretKeyRef`);
        for (const { c, ref: theirs } of own) {
          if (theirs?.name !== ref.name || theirs?.key !== ref.key) {
            problems.push(`${where}: env ${e.name}: Secret "${ref.name}" key "${ref.key}", but container ${c} reads it from ${theirs ? `Secret "${theirs.name}" key "${theirs.key}"` : 'no Secret'}`);
          }
        }
      }
    }
  }
  return problems;
}

/** What a volume shows from the render: the objects it takes files from, those the render lacks, and its files. */
interface VolumeFiles {
  /** Its items' paths, else every key of its ConfigMaps and Secrets; undefined for an emptyDir, a claim, or a missing object. */
  readonly files?: string[];
  /** Each object it names that the render does not have. */
  readonly missing: Array<{ readonly kind: string; readonly name: string }>;
  /** Items whose key the object lacks. */
  readonly problems: string[];
}

function volumeFiles(objects: readonly K8sObject[], volume: IVolume): VolumeFiles {
  const sources = [
    ['ConfigMap', volume.configMap?.name, volume.configMap?.items],
    ['Secret', volume.secret?.secretName, volume.secret?.items],
    ...(volume.projected?.sources ?? []).flatMap((s) => [
      ...(s.configMap ? [['ConfigMap', s.configMap.name, s.configMap.items] as const] : []),
      ...(s.secret ? [['Secret', s.secret.name, s.secret.items] as const] : []),
    ]),
  ] as const;
  const files: string[] = [];
  const missing: Array<{ kind: string; name: string }> = [];
  const problems: string[] = [];
  let fromObjects = false;
  for (const [kind, name, items] of sources) {
    if (name === undefined && items === undefined) continue;
    fromObjects = true;
    const object = objectNamed(objects, kind, name);
    if (object === undefined) {
      missing.push({ kind, name: name ?? '' });
      continue;
    }
    const keys = keysOf(object);
    for (const item of items ?? []) if (!keys.includes(item.key)) problems.push(`volume "${volume.name}": ${kind} "${name}" has no key "${item.key}" (its items list it)`);
    files.push(...(items ? items.map((i) => i.path) : keys));
  }
  return fromObjects && missing.length === 0 ? { files, missing, problems } : { missing, problems };
}

/**
 * 2b. Every volumeMount of a wait container is a volume of its pod, that volume's ConfigMaps and Secrets are in the
 * render (or are the operator's: named by the release's values and mounted by a container of the pod's own as well),
 * and a subPath is one of its files.
 */
function volumeProblems(objects: readonly K8sObject[], o: Obj, releaseValues: Obj): string[] {
  const problems: string[] = [];
  const named = namedByValues(releaseValues);
  for (const { pod, container, where } of waitContainers(objects, o)) {
    for (const mount of container.volumeMounts ?? []) {
      const volume = (pod.spec.volumes ?? []).find((v) => v.name === mount.name);
      if (volume === undefined) {
        problems.push(`${where}: volumeMount "${mount.name}": ${pod.where} has no such volume`);
        continue;
      }
      const { files, missing, problems: found } = volumeFiles(objects, volume);
      problems.push(...found.map((p) => `${where}: ${p}`));
      const mountedByOwn = pod.spec.containers.some((c) => (c.volumeMounts ?? []).some((m) => m.name === volume.name));
      for (const { kind, name } of missing) {
        if (!named.has(name) || !mountedByOwn) {
          problems.push(`${where}: volume "${volume.name}": no ${kind} "${name}" in the render (nor the operator's, named by the release's values and mounted by the pod's own containers)`);
        }
      }
      const file = mount.subPath?.split('/')[0];
      if (file !== undefined && files !== undefined && !files.includes(file)) {
        problems.push(`${where}: volumeMount "${mount.name}": subPath "${mount.subPath}" is not a file of the volume (${files.join(', ') || 'none'})`);
      }
    }
  }
  return problems;
}

/** The pod-level fields a container's securityContext overrides: those both types have (kubernetes-models' schema). */
const SHARED_SECURITY_FIELDS = [...modelOf('PodSecurityContext').fields.keys()].filter((f) => modelOf('SecurityContext').fields.has(f)).sort();

/** 3. The securityContext the kubelet applies (the pod's, the container's over it) and the resources of each wait container. */
function securityProblems(objects: readonly K8sObject[], o: Obj): string[] {
  const problems: string[] = [];
  for (const { pod, container, where } of waitContainers(objects, o)) {
    const fromPod = Object.fromEntries(Object.entries(pod.spec.securityContext ?? {}).filter(([k]) => SHARED_SECURITY_FIELDS.includes(k)));
    const sc = { ...fromPod, ...container.securityContext } as Obj;
    const capabilities = (sc['capabilities'] ?? {}) as { add?: string[]; drop?: string[] };
    if (sc['runAsUser'] !== 10000) problems.push(`${where}: runs as user ${JSON.stringify(sc['runAsUser'])}, not 10000`);
    if (sc['runAsNonRoot'] !== true) problems.push(`${where}: runAsNonRoot is ${JSON.stringify(sc['runAsNonRoot'])}, not true`);
    if (sc['readOnlyRootFilesystem'] !== true) problems.push(`${where}: readOnlyRootFilesystem is ${JSON.stringify(sc['readOnlyRootFilesystem'])}, not true`);
    if (sc['allowPrivilegeEscalation'] !== false) problems.push(`${where}: allowPrivilegeEscalation is ${JSON.stringify(sc['allowPrivilegeEscalation'])}, not false`);
    if (!(capabilities.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities do not drop ALL`);
    if ((capabilities.add ?? []).length > 0) problems.push(`${where}: capabilities add ${capabilities.add?.join(', ')}`);
    if (sc['privileged'] === true) problems.push(`${where}: privileged`);
    for (const bound of ['requests', 'limits'] as const) {
      for (const resource of ['cpu', 'memory']) {
        if (container.resources?.[bound]?.[resource] === undefined) problems.push(`${where}: no ${bound}.${resource}`);
      }
    }
  }
  return problems;
}

/** 4. Every workload (so every pod template) as the Kubernetes API's schema has it, and no field it does not have. */
function schemaProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const path = TEMPLATE_PATH[o.kind];
    const Model = MODEL[o.kind];
    if (path === undefined || Model === undefined) continue;
    const where = `${o.kind} ${o.metadata.name}`;
    try {
      new Model(o as never).validate();
    } catch (e) {
      problems.push(`${where}: the Kubernetes schema refuses it: ${(e as Error).message}`);
    }
    if (path.length === 0) unknownFields(o, 'Pod', where, problems);
    else unknownFields(at(o, path), 'PodTemplateSpec', `${where}.${path.join('.')}`, problems);
  }
  return problems;
}

/** All of them, for one render. */
function allProblems(objects: readonly K8sObject[], o: Obj, releaseValues: Obj, mode: Mode): string[] {
  return [
    ...placementProblems(objects, o, mode),
    ...referenceProblems(objects, o, releaseValues),
    ...volumeProblems(objects, o, releaseValues),
    ...securityProblems(objects, o),
    ...schemaProblems(objects),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The matrix

interface Case {
  readonly name: string;
  /** The Helm release name. */
  readonly release: string;
  /** The release's own values (what `--reuse-values` keeps). */
  readonly values: Obj;
  /** What the operator tells `harbor-wait helm-values` about that release. */
  readonly flags: readonly string[];
  /**
   * What the release's values do to the render, by variable: the value the component's own container gets, read
   * through its envFrom ConfigMaps and its env ("Secret <name> key <key>" for a secretKeyRef). Proves each case is
   * the release it says it is.
   */
  readonly sees?: Partial<Record<Component, Readonly<Record<string, RegExp>>>>;
  /** The kinds of workload the render has pods of, when the case is there to cover them. */
  readonly podKinds?: readonly string[];
}

const EXTERNAL_DATABASE = {
  type: 'external',
  external: { host: 'pg.db.example', port: '5432', username: 'harbor', password: 'not-a-real-password', coreDatabase: 'harbor_registry', sslmode: 'verify-full' },
};

/** internalTLS.certSource secret: every component's certificates from the operator's own Secrets (cert-manager, say). */
const OWN_INTERNAL_TLS = {
  internalTLS: {
    enabled: true,
    certSource: 'secret',
    ...Object.fromEntries(['core', 'jobservice', 'registry', 'portal', 'trivy'].map((c) => [c, { secretName: `${c}-internal-tls-own` }])),
  },
};

const MATRIX: readonly Case[] = [
  {
    name: 'chart defaults (internal Redis and database), init',
    release: 'harbor',
    values: {},
    flags: [],
    sees: {
      core: { _REDIS_URL_CORE: /^redis:\/\/harbor-redis:6379\/0\?/, POSTGRESQL_HOST: /^harbor-database$/, POSTGRESQL_PASSWORD: /^Secret harbor-core key POSTGRESQL_PASSWORD$/ },
      jobservice: { CORE_URL: /^http:\/\/harbor-core:80$/, JOBSERVICE_SECRET: /^Secret harbor-jobservice key JOBSERVICE_SECRET$/ },
    },
  },
  {
    name: 'chart defaults (internal Redis and database), sidecar',
    release: 'harbor',
    values: {},
    flags: ['--mode', 'sidecar'],
  },
  {
    name: 'external Redis, external PostgreSQL with sslmode verify-full',
    release: 'harbor',
    values: { redis: { type: 'external', external: { addr: 'redis.cache.example:6379' } }, database: EXTERNAL_DATABASE },
    flags: [],
    sees: {
      core: {
        _REDIS_URL_CORE: /^redis:\/\/redis\.cache\.example:6379\/0\?idle_timeout_seconds=30$/,
        POSTGRESQL_HOST: /^pg\.db\.example$/,
        POSTGRESQL_USERNAME: /^harbor$/,
        POSTGRESQL_DATABASE: /^harbor_registry$/,
        POSTGRESQL_SSLMODE: /^verify-full$/,
        POSTGRESQL_PASSWORD: /^Secret harbor-core key POSTGRESQL_PASSWORD$/,
      },
    },
  },
  {
    name: 'external Redis with a password, external PostgreSQL with sslmode require',
    release: 'harbor',
    values: {
      redis: { type: 'external', external: { addr: '10.0.0.5:6379', password: 'p@ss word' } },
      database: { ...EXTERNAL_DATABASE, external: { ...EXTERNAL_DATABASE.external, sslmode: 'require' } },
    },
    flags: [],
    sees: { core: { _REDIS_URL_CORE: /^redis:\/\/:p%40ss\+word@10\.0\.0\.5:6379\/0\?/, POSTGRESQL_SSLMODE: /^require$/ } },
  },
  {
    // The chart reads this Secret with Helm's lookup at render time; under helm template (as here, or a GitOps
    // renderer) lookup finds nothing and the URLs carry an empty password.
    name: 'external Redis with redis.external.existingSecret',
    release: 'harbor',
    values: { redis: { type: 'external', external: { addr: '10.0.0.5:6379', existingSecret: 'harbor-redis-own' } } },
    flags: [],
    sees: { core: { _REDIS_URL_CORE: /^redis:\/\/:@10\.0\.0\.5:6379\/0\?/ } },
  },
  {
    name: 'external Redis Sentinel',
    release: 'harbor',
    values: { redis: { type: 'external', external: { addr: 's1.example:26379,s2.example:26379,s3.example:26379', sentinelMasterSet: 'mymaster' } } },
    flags: [],
    sees: { core: { _REDIS_URL_CORE: /^redis\+sentinel:\/\/s1\.example:26379,s2\.example:26379,s3\.example:26379\/mymaster\/0\?/ } },
  },
  {
    name: 'database.external.existingSecret',
    release: 'harbor',
    values: { database: { ...EXTERNAL_DATABASE, external: { ...EXTERNAL_DATABASE.external, existingSecret: 'harbor-db-credentials' } } },
    flags: ['--database-existing-secret', 'harbor-db-credentials'],
    sees: { core: { POSTGRESQL_PASSWORD: /^Secret harbor-db-credentials key password$/ } },
  },
  {
    name: 'jobservice.existingSecret with its own existingSecretKey',
    release: 'harbor',
    values: { jobservice: { existingSecret: 'harbor-jobservice-own', existingSecretKey: 'secret' } },
    flags: ['--jobservice-existing-secret', 'harbor-jobservice-own:secret'],
    sees: { jobservice: { JOBSERVICE_SECRET: /^Secret harbor-jobservice-own key secret$/ } },
  },
  {
    name: 'jobservice.existingSecret with the default key',
    release: 'harbor',
    values: { jobservice: { existingSecret: 'harbor-jobservice-own' } },
    flags: ['--jobservice-existing-secret', 'harbor-jobservice-own'],
    sees: { jobservice: { JOBSERVICE_SECRET: /^Secret harbor-jobservice-own key JOBSERVICE_SECRET$/ } },
  },
  {
    name: 'internalTLS.enabled, init',
    release: 'harbor',
    values: { internalTLS: { enabled: true } },
    flags: ['--internal-tls'],
    sees: { jobservice: { CORE_URL: /^https:\/\/harbor-core:443$/, INTERNAL_TLS_ENABLED: /^true$/ } },
  },
  {
    name: 'internalTLS.enabled with certSource secret (the operator\'s certificates)',
    release: 'harbor',
    values: OWN_INTERNAL_TLS,
    flags: ['--internal-tls'],
    sees: { jobservice: { CORE_URL: /^https:\/\/harbor-core:443$/ } },
  },
  {
    name: 'internalTLS.enabled, sidecar',
    release: 'harbor',
    values: { internalTLS: { enabled: true } },
    flags: ['--internal-tls', '--mode', 'sidecar'],
  },
  {
    name: 'a release name without "harbor"',
    release: 'my-registry',
    values: {},
    flags: ['--release', 'my-registry'],
    sees: { jobservice: { CORE_URL: /^http:\/\/my-registry-harbor-core:80$/ } },
  },
  {
    name: 'a release name containing "harbor"',
    release: 'harbor-eu',
    values: {},
    flags: ['--release', 'harbor-eu'],
    sees: { jobservice: { CORE_URL: /^http:\/\/harbor-eu-core:80$/ } },
  },
  {
    // The chart's fullname is then <release>-<nameOverride> (the negative case below shows --release alone
    // naming objects that are not there).
    name: 'a nameOverride',
    release: 'prod',
    values: { nameOverride: 'registry' },
    flags: ['--release', 'prod', '--name-override', 'registry'],
    sees: { jobservice: { CORE_URL: /^http:\/\/prod-registry-core:80$/ } },
  },
  {
    name: 'a fullnameOverride',
    release: 'x',
    values: { fullnameOverride: 'registry-prod' },
    flags: ['--release', 'x', '--fullname', 'registry-prod'],
    sees: { core: { POSTGRESQL_HOST: /^registry-prod-database$/ }, jobservice: { CORE_URL: /^http:\/\/registry-prod-core:80$/ } },
  },
  {
    // Everything at once, with the chart's other pods on (the migration Job, the exporter, Trivy), so "in no other
    // pod" and the schema check see every workload kind the chart has.
    name: 'all together: Sentinel, both existingSecrets, internal TLS, sidecar, another release, every optional pod',
    release: 'registry-eu',
    values: {
      redis: { type: 'external', external: { addr: 's1.example:26379,s2.example:26379', sentinelMasterSet: 'mymaster', password: 'pw' } },
      database: { ...EXTERNAL_DATABASE, external: { ...EXTERNAL_DATABASE.external, existingSecret: 'db-credentials' } },
      jobservice: { existingSecret: 'jobservice-credentials', existingSecretKey: 'token' },
      internalTLS: { enabled: true },
      enableMigrateHelmHook: true,
      metrics: { enabled: true },
      trivy: { enabled: true },
    },
    flags: [
      '--release', 'registry-eu', '--mode', 'sidecar', '--internal-tls',
      '--database-existing-secret', 'db-credentials', '--jobservice-existing-secret', 'jobservice-credentials:token',
    ],
    sees: {
      core: { _REDIS_URL_CORE: /^redis\+sentinel:\/\/:pw@s1\.example:26379,s2\.example:26379\/mymaster\/0\?/, POSTGRESQL_PASSWORD: /^Secret db-credentials key password$/ },
      jobservice: { CORE_URL: /^https:\/\/registry-eu-harbor-core:443$/, JOBSERVICE_SECRET: /^Secret jobservice-credentials key token$/ },
    },
    podKinds: ['Deployment', 'Job', 'StatefulSet'],
  },
];

function caseNamed(name: string): Case {
  const c = MATRIX.find((m) => m.name === name);
  if (c === undefined) throw new Error(`no case "${name}" in the matrix`);
  return c;
}

interface Rendered {
  readonly overlay: Obj;
  readonly objects: K8sObject[];
}

/** Native sidecars are on by default from Kubernetes 1.29: sidecar renders say that cluster, init ones the helper's default. */
const kubeVersionFor = (mode: Mode): string | undefined => (mode === 'sidecar' ? '1.29.0' : undefined);

/** Renders the chart for a release: its values, then the overlay (later values win, as with repeated -f). */
async function render(release: string, values: Obj, o: Obj, mode: Mode): Promise<Rendered> {
  const kubeVersion = kubeVersionFor(mode);
  const objects = await renderChart({ release, values: [values, o], ...(kubeVersion ? { kubeVersion } : {}) });
  return { overlay: o, objects };
}

/** Each case is generated and rendered once (helm template takes about 0.3 s), on first use. */
const renders = new Map<string, Promise<Rendered>>();
function rendered(c: Case): Promise<Rendered> {
  let r = renders.get(c.name);
  if (r === undefined) {
    r = overlay(c.flags).then((o) => render(c.release, c.values, o, modeOf(c.flags)));
    renders.set(c.name, r);
  }
  return r;
}

/** What the component's own container gets for each variable: its envFrom ConfigMaps' values, then its env. */
function componentEnv(objects: readonly K8sObject[], component: Component): Map<string, string> {
  const [pod] = componentPods(podsOf(objects), component);
  const own = pod?.spec.containers.find((c) => c.name === component);
  const env = new Map<string, string>();
  for (const source of own?.envFrom ?? []) {
    const cm = objectNamed(objects, 'ConfigMap', source.configMapRef?.name);
    for (const [k, v] of Object.entries((cm?.['data'] as Record<string, string> | undefined) ?? {})) env.set(`${source.prefix ?? ''}${k}`, v);
    const secret = objectNamed(objects, 'Secret', source.secretRef?.name);
    for (const k of secret ? keysOf(secret) : []) env.set(`${source.prefix ?? ''}${k}`, `Secret ${source.secretRef?.name} key ${k}`);
  }
  for (const e of own?.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    env.set(e.name, ref ? `Secret ${ref.name} key ${ref.key}` : (e.value ?? ''));
  }
  return env;
}

/** The namespace every render is made for (helpers/helm.ts's default). */
const NAMESPACE = 'harbor';
/** What each preset reads from the environment (src/config/presets.ts, src/config/core-database.ts). */
const CORE_READS = /^(_REDIS_URL_\w+|DATABASE_TYPE|POSTGRESQL_\w+|PG\w+|CACHE_ENABLED|INTERNAL_TLS_ENABLED|INTERNAL_TLS_TRUST_CA_PATH)$/;
const JOBSERVICE_READS = /^(CORE_URL|JOBSERVICE_SECRET|JOB_SERVICE_POOL_REDIS_URL|_REDIS_URL_\w+|CACHE_ENABLED|INTERNAL_TLS_ENABLED|INTERNAL_TLS_TRUST_CA_PATH)$/;

/** A CA certificate for the operator's own certificate Secrets (made once, with openssl). */
let ca: Promise<string> | undefined;
const operatorCa = (): Promise<string> => (ca ??= makeCerts().then((certs) => readFileSync(certs.caCert, 'utf8')));

/**
 * The render plus the Secrets the operator creates before installing (the release's values name them; no render
 * has them): each key a pod of the render reads from one, with a value of its own, and certificate Secrets with a
 * real CA (a preset reads ca.crt at start).
 */
function withOperatorSecrets(objects: readonly K8sObject[], caPem: string): K8sObject[] {
  const rendered = new Set(objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name));
  const wanted = new Map<string, Set<string>>();
  const want = (name: string | undefined, ...keys: string[]) => {
    if (name === undefined || rendered.has(name)) return;
    const set = wanted.get(name) ?? new Set<string>();
    for (const k of keys) set.add(k);
    wanted.set(name, set);
  };
  for (const { spec } of podsOf(objects)) {
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      for (const e of c.env ?? []) want(e.valueFrom?.secretKeyRef?.name, e.valueFrom?.secretKeyRef?.key ?? '');
      for (const f of c.envFrom ?? []) want(f.secretRef?.name);
    }
    for (const v of spec.volumes ?? []) want(v.secret?.secretName, 'ca.crt', 'tls.crt', 'tls.key', ...(v.secret?.items ?? []).map((i) => i.key));
  }
  const value = (secret: string, key: string) => (key === 'ca.crt' ? caPem : `operator-${secret}-${key}`);
  return [
    ...objects,
    ...[...wanted].map(([name, keys]) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: NAMESPACE },
      data: Object.fromEntries([...keys].filter(Boolean).map((k) => [k, Buffer.from(value(name, k)).toString('base64')])),
    })),
  ];
}

// ---------------------------------------------------------------------------------------------------------------

describe('what the checks rest on', () => {
  it('merges the pod and container securityContext on the fields both have, as the schema lists them', () => {
    expect(SHARED_SECURITY_FIELDS).toEqual(['appArmorProfile', 'runAsGroup', 'runAsNonRoot', 'runAsUser', 'seLinuxOptions', 'seccompProfile', 'windowsOptions']);
  });

  it('finds unknown fields from a PodTemplateSpec down, its metadata (apimachinery ObjectMeta) included', () => {
    const template = {
      metadata: { labels: { component: 'core' }, lables: {} },
      spec: {
        containers: [{ name: 'core', resources: { limits: { cpu: '1' } }, livenessProbe: { httpGet: { port: 'http', path: '/' } } }],
        initContainers: [{ name: 'w', restartPolicyy: 'Always' }],
        volumes: [{ name: 'v', secret: { secretName: 's', itmes: [] } }],
      },
    };
    expect(unknownFields(template, 'PodTemplateSpec', 't')).toEqual([
      't.metadata.lables: unknown field (Kubernetes ObjectMeta has no such field)',
      't.spec.initContainers[0].restartPolicyy: unknown field (Kubernetes Container has no such field)',
      't.spec.volumes[0].secret.itmes: unknown field (Kubernetes SecretVolumeSource has no such field)',
    ]);
    expect(unknownFields(template.spec, 'PodSpec', 's')).toHaveLength(2);
  });

  it('refuses to overlook a kind that holds containers it has no pod template path for', () => {
    const odd = { apiVersion: 'example.com/v1', kind: 'Workflow', metadata: { name: 'w' }, spec: { containers: [] } };
    expect(() => podsOf([odd])).toThrow(/Workflow w holds containers/);
  });

  it('without helm in the cache, the tests fail saying what to run (the check fetches nothing)', () => {
    const empty = tempDir('harbor-wait-no-tools-');
    const r = spawnSync('bash', [INSTALLER, '--check'], { env: { PATH: process.env.PATH, HARBOR_WAIT_TOOLS: empty }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^helm v4\.1\.4 is not installed in .*: run bash scripts\/install-helm\.sh \(bash scripts\/setup\.sh runs it\)\n$/);
    expect(readdirSync(empty)).toEqual([]);
  });

  it('takes every string of the release\'s values, at any depth, as a name the operator may have given', () => {
    expect([...namedByValues({ a: { existingSecret: 'x', b: [{ secretName: 'y' }, 3, true] }, c: '' })].sort()).toEqual(['x', 'y']);
  });
});

// Every case's render starts at once (helm template is the slow part, ~0.3 s of CPU); each test awaits its own. A
// failed render fails the tests that await it, not this hook.
beforeAll(() => {
  for (const c of MATRIX) rendered(c).catch(() => {});
});

describe.concurrent.each(MATRIX)('$name', (c) => {
  const mode = modeOf(c.flags);

  it('the overlay adds one wait container to core and one to jobservice, nothing else', async () => {
    const { overlay: o } = await rendered(c);
    expect(Object.keys(o).sort()).toEqual(['core', 'jobservice']);
    for (const component of COMPONENTS) expect(Object.keys(o[component] as Obj)).toEqual(['initContainers']);
    expect(overlayContainers(o, 'core').map((w) => [w.name, w.args?.slice(0, 2)])).toEqual([[CORE_CONTAINER, ['--preset', 'core']]]);
    expect(overlayContainers(o, 'jobservice').map((w) => [w.name, w.args?.slice(0, 2)])).toEqual([[JOBSERVICE_CONTAINER, ['--preset', 'jobservice']]]);
  });

  it('the release renders as the case says', async () => {
    const { objects } = await rendered(c);
    for (const component of COMPONENTS) {
      const env = componentEnv(objects, component);
      for (const [name, expected] of Object.entries(c.sees?.[component] ?? {})) expect(env.get(name), `${component} ${name}`).toMatch(expected);
    }
    if (c.podKinds) expect([...new Set(podsOf(objects).map((p) => p.workload.kind))].sort()).toEqual(c.podKinds);
  });

  it(`1. each wait container is an init container of its component's pod only${mode === 'sidecar' ? ', a native sidecar' : ''}`, async () => {
    const { objects, overlay: o } = await rendered(c);
    expect(placementProblems(objects, o, mode)).toEqual([]);
    expect(waitContainers(objects, o)).toHaveLength(2);
  });

  it('2. every ConfigMap, Secret and key it reads is in the render, or is the operator\'s Secret read as the component reads it', async () => {
    const { objects, overlay: o } = await rendered(c);
    expect(referenceProblems(objects, o, c.values)).toEqual([]);
  });

  it('2. every volume it mounts is its pod\'s, from an object in the render, a subPath one of its files', async () => {
    const { objects, overlay: o } = await rendered(c);
    expect(volumeProblems(objects, o, c.values)).toEqual([]);
  });

  it('3. it runs as 10000, non-root, read-only, no escalation, no capabilities; resources bounded', async () => {
    const { objects, overlay: o } = await rendered(c);
    expect(securityProblems(objects, o)).toEqual([]);
  });

  it('4. every pod template of the render is valid against the Kubernetes schema, with no unknown field', async () => {
    const { objects } = await rendered(c);
    expect(schemaProblems(objects)).toEqual([]);
  });

  it("5. with the env and files the kubelet would give it, its preset loads and reads what the component's own container is given", async () => {
    const { objects } = await rendered(c);
    const all = withOperatorSecrets(objects, await operatorCa());
    const dir = tempDir('harbor-wait-preset-');
    const ownEnv = (name: string) => {
      const { pod, container } = findContainer(all, name, { namespace: NAMESPACE });
      return containerEnv(all, pod, container);
    };
    const own = { core: ownEnv('core'), jobservice: ownEnv('jobservice') };
    for (const [component, name] of [['core', CORE_CONTAINER], ['jobservice', JOBSERVICE_CONTAINER]] as const) {
      const { pod, container } = findContainer(all, name, { namespace: NAMESPACE });
      const env = containerEnv(all, pod, container);
      // Its files, written as the kubelet lays them out; a path in its env is read where the test wrote it.
      const mounts = volumeMounts(all, pod, container, dir);
      const onHost = (path: string): string | undefined => {
        for (const m of mounts) {
          if (path === m.container) return m.host;
          if (path.startsWith(`${m.container}/`)) return join(m.host, path.slice(m.container.length + 1));
        }
        return undefined;
      };
      const hostEnv = Object.fromEntries([...env].map(([k, v]) => [k, (v.startsWith('/') ? onHost(v) : undefined) ?? v]));
      const configFile = onHost(DEFAULT_JOBSERVICE_CONFIG);
      const args = [...((container['args'] as string[] | undefined) ?? []), ...(configFile ? ['--jobservice-config', configFile] : [])];
      const loaded = await loadConfig(args, hostEnv);
      if (loaded.kind !== 'run') throw new Error(`${name}: loadConfig gave ${loaded.kind}`);
      const schemes = loaded.config.targets.map((t) => /^([a-z+]+):\/\//.exec(t.label)?.[1]);
      // What the preset reads is what the component itself gets, value for value (secrets included).
      const read = component === 'core' ? CORE_READS : JOBSERVICE_READS;
      const pick = (m: ReadonlyMap<string, string>) => new Map([...m].filter(([k]) => read.test(k)));
      expect(pick(env), `${name}: the variables its preset reads`).toEqual(pick(own[component]));
      if (component === 'core') {
        expect(schemes.filter((s) => s !== 'postgres').length, `${name}: its Redis targets`).toBeGreaterThan(0);
        expect(schemes.filter((s) => s === 'postgres'), `${name}: its database`).toHaveLength(own.core.get('DATABASE_TYPE') === 'postgresql' ? 1 : 0);
      } else {
        // The secret it sends is the one core checks.
        expect(env.get('JOBSERVICE_SECRET')).toBe(own.core.get('JOBSERVICE_SECRET'));
        expect(schemes.filter((s) => s === 'http' || s === 'https')).toEqual([own.jobservice.get('CORE_URL')?.split(':')[0]]);
        expect(loaded.config.targets.some((t) => configFile !== undefined && t.from.startsWith(configFile)), `${name}: its Redis from config.yml`).toBe(true);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The checks bite: wrong overlays, rendered for real, each fails the check it should, naming what is wrong (the
// security and schema checks, which look at the wait containers only, on a render with those containers changed)

describe.concurrent('the checks catch a wrong overlay', () => {
  /** Renders `release` (its values) with the overlay generated from `flags`, changed by `change` when given. */
  const renderWith = async (release: string, values: Obj, flags: readonly string[], change?: (o: Obj) => Obj | void): Promise<Rendered> => {
    const generated = await overlay(flags);
    const o = change ? (change(generated) ?? generated) : generated;
    return render(release, values, o, modeOf(flags));
  };
  const first = (o: Obj, component: Component): Obj => overlayContainers(o, component)[0] as unknown as Obj;

  it('placement: core\'s wait container given to the registry\'s pod instead', async () => {
    const intended = await overlay([]);
    const { objects } = await render('harbor', {}, { registry: intended['core'], jobservice: intended['jobservice'] }, 'init');
    expect(placementProblems(objects, intended, 'init')).toEqual([
      `Deployment harbor-registry initContainers[0] ${CORE_CONTAINER}: belongs only in core's pod (Deployment harbor-core)`,
      `Deployment harbor-core: no init container "${CORE_CONTAINER}"; core would start without waiting`,
    ]);
  });

  it('placement: a sidecar overlay where init containers are expected, and the other way round', async () => {
    const sidecar = await rendered(caseNamed('chart defaults (internal Redis and database), sidecar'));
    expect(placementProblems(sidecar.objects, sidecar.overlay, 'init')).toEqual([
      `Deployment harbor-core: init container "${CORE_CONTAINER}" has restartPolicy Always in init mode: a sidecar, not a wait that ends`,
      `Deployment harbor-jobservice: init container "${JOBSERVICE_CONTAINER}" has restartPolicy Always in init mode: a sidecar, not a wait that ends`,
    ]);
    const init = await rendered(caseNamed('chart defaults (internal Redis and database), init'));
    expect(placementProblems(init.objects, init.overlay, 'sidecar').join('\n')).toMatch(/restartPolicy \(none\) in sidecar mode: it should be Always/);
  });

  it('placement: a render changed after the fact (what no chart setting does, but the check must see)', async () => {
    const { objects, overlay: o } = await rendered(caseNamed('chart defaults (internal Redis and database), init'));
    const change = (edit: (pods: PodTemplate[]) => void): K8sObject[] => {
      const copy = structuredClone(objects);
      edit(podsOf(copy));
      return copy;
    };
    const pod = (pods: PodTemplate[], component: Component) => componentPods(pods, component)[0] as PodTemplate;
    const edited = change((pods) => {
      const core = pod(pods, 'core').spec.initContainers?.[0] as IContainer;
      core.image = 'harbor-wait:0.0.1';
      const jobservice = pod(pods, 'jobservice').spec;
      jobservice.containers.push(structuredClone(jobservice.initContainers?.[0] as IContainer));
    });
    expect(placementProblems(edited, o, 'init')).toEqual([
      `Deployment harbor-core: init container "${CORE_CONTAINER}" differs from the overlay's`,
      `Deployment harbor-jobservice: "${JOBSERVICE_CONTAINER}" is also in containers: it would run beside jobservice, not before it`,
    ]);
    const unlabelled = change((pods) => {
      (pod(pods, 'core').workload as unknown as { spec: { template: { metadata: { labels: Obj } } } }).spec.template.metadata.labels['component'] = 'api';
    });
    expect(placementProblems(unlabelled, o, 'init')).toEqual([
      'core: the render has 0 Deployments labelled component: core with a container core; expected one',
    ]);
  });

  it('references: the overlay for release harbor rendered under release my-registry names objects that are not there', async () => {
    const { objects, overlay: o } = await renderWith('my-registry', {}, []);
    expect(referenceProblems(objects, o, {})).toEqual([
      `Deployment my-registry-harbor-core initContainers[0] ${CORE_CONTAINER}: envFrom[0]: no ConfigMap "harbor-core" in the render`,
      `Deployment my-registry-harbor-core initContainers[0] ${CORE_CONTAINER}: env POSTGRESQL_PASSWORD: no Secret "harbor-core" in the render (nor one the release's values name)`,
      `Deployment my-registry-harbor-jobservice initContainers[0] ${JOBSERVICE_CONTAINER}: envFrom[0]: no ConfigMap "harbor-jobservice-env" in the render`,
      `Deployment my-registry-harbor-jobservice initContainers[0] ${JOBSERVICE_CONTAINER}: env JOBSERVICE_SECRET: no Secret "harbor-jobservice" in the render (nor one the release's values name)`,
    ]);
    // ... and the mount of the chart's jobservice-config still resolves: that volume is the pod's whatever the fullname.
    expect(volumeProblems(objects, o, {})).toEqual([]);
  });

  it('references: --release without --name-override under a release with a nameOverride', async () => {
    const { objects, overlay: o } = await renderWith('prod', { nameOverride: 'registry' }, ['--release', 'prod']);
    expect(referenceProblems(objects, o, { nameOverride: 'registry' })).toEqual([
      `Deployment prod-registry-core initContainers[0] ${CORE_CONTAINER}: envFrom[0]: no ConfigMap "prod-harbor-core" in the render`,
      `Deployment prod-registry-core initContainers[0] ${CORE_CONTAINER}: env POSTGRESQL_PASSWORD: no Secret "prod-harbor-core" in the render (nor one the release's values name)`,
      `Deployment prod-registry-jobservice initContainers[0] ${JOBSERVICE_CONTAINER}: envFrom[0]: no ConfigMap "prod-harbor-jobservice-env" in the render`,
      `Deployment prod-registry-jobservice initContainers[0] ${JOBSERVICE_CONTAINER}: env JOBSERVICE_SECRET: no Secret "prod-harbor-jobservice" in the render (nor one the release's values name)`,
    ]);
  });

  it('references: a missing ConfigMap key, a ConfigMap key of a missing ConfigMap, a whole Secret that is not there', async () => {
    const { objects, overlay: o } = await renderWith('harbor', {}, [], (g) => {
      const core = first(g, 'core');
      (core['env'] as Obj[]).push(
        { name: 'REDIS_URL', valueFrom: { configMapKeyRef: { name: 'harbor-core', key: '_REDIS_URL_COR' } } },
        { name: 'CORE_URL', valueFrom: { configMapKeyRef: { name: 'harbor-cor', key: 'CORE_URL' } } },
      );
      (core['envFrom'] as Obj[]).push({ secretRef: { name: 'harbor-redis' } });
    });
    expect(referenceProblems(objects, o, {})).toEqual([
      `Deployment harbor-core initContainers[0] ${CORE_CONTAINER}: envFrom[1]: no Secret "harbor-redis" in the render`,
      `Deployment harbor-core initContainers[0] ${CORE_CONTAINER}: env REDIS_URL: ConfigMap "harbor-core" in the render has no key "_REDIS_URL_COR"`,
      `Deployment harbor-core initContainers[0] ${CORE_CONTAINER}: env CORE_URL: no ConfigMap "harbor-cor" in the render`,
    ]);
  });

  it('references: without --jobservice-existing-secret under a release with jobservice.existingSecret, the chart\'s Secret lacks the key', async () => {
    // jobservice-secrets.yaml writes JOBSERVICE_SECRET only `if not .Values.jobservice.existingSecret`.
    const { objects, overlay: o } = await renderWith('harbor', { jobservice: { existingSecret: 'harbor-jobservice-own' } }, []);
    expect(referenceProblems(objects, o, { jobservice: { existingSecret: 'harbor-jobservice-own' } })).toEqual([
      `Deployment harbor-jobservice initContainers[0] ${JOBSERVICE_CONTAINER}: env JOBSERVICE_SECRET: Secret "harbor-jobservice" in the render has no key "JOBSERVICE_SECRET"`,
    ]);
  });

  it('references: --jobservice-existing-secret with the default key under a release whose existingSecretKey is another', async () => {
    const values = { jobservice: { existingSecret: 'harbor-jobservice-own', existingSecretKey: 'secret' } };
    const { objects, overlay: o } = await renderWith('harbor', values, ['--jobservice-existing-secret', 'harbor-jobservice-own']);
    expect(referenceProblems(objects, o, values)).toEqual([
      `Deployment harbor-jobservice initContainers[0] ${JOBSERVICE_CONTAINER}: env JOBSERVICE_SECRET: Secret "harbor-jobservice-own" key "JOBSERVICE_SECRET", but container jobservice reads it from Secret "harbor-jobservice-own" key "secret"`,
    ]);
  });

  it('references: without --database-existing-secret under a release with database.external.existingSecret, and with it under one without', async () => {
    // core-secret.yaml writes POSTGRESQL_PASSWORD only `if not .Values.database.external.existingSecret`.
    const values = { database: { ...EXTERNAL_DATABASE, external: { ...EXTERNAL_DATABASE.external, existingSecret: 'harbor-db-credentials' } } };
    const without = await renderWith('harbor', values, []);
    expect(referenceProblems(without.objects, without.overlay, values)).toEqual([
      `Deployment harbor-core initContainers[0] ${CORE_CONTAINER}: env POSTGRESQL_PASSWORD: Secret "harbor-core" in the render has no key "POSTGRESQL_PASSWORD"`,
    ]);
    const stray = await renderWith('harbor', { database: EXTERNAL_DATABASE }, ['--database-existing-secret', 'harbor-db-credentials']);
    expect(referenceProblems(stray.objects, stray.overlay, { database: EXTERNAL_DATABASE })).toEqual([
      `Deployment harbor-core initContainers[0] ${CORE_CONTAINER}: env POSTGRESQL_PASSWORD: no Secret "harbor-db-credentials" in the render (nor one the release's values name)`,
    ]);
  });

  it('references: the operator\'s Secret named by the release, read by a variable the component does not read from it', async () => {
    const values = { jobservice: { existingSecret: 'harbor-jobservice-own' } };
    const { objects, overlay: o } = await renderWith('harbor', values, ['--jobservice-existing-secret', 'harbor-jobservice-own'], (g) => {
      const env = first(g, 'jobservice')['env'] as Array<{ name: string }>;
      for (const e of env) if (e.name === 'JOBSERVICE_SECRET') e.name = 'CORE_SECRET_OF_MINE';
    });
    expect(referenceProblems(objects, o, values)).toEqual([
      `Deployment harbor-jobservice initContainers[0] ${JOBSERVICE_CONTAINER}: env CORE_SECRET_OF_MINE: from the operator's Secret "harbor-jobservice-own", but no container of Deployment harbor-jobservice's own reads CORE_SECRET_OF_MINE by a secretKeyRef`,
    ]);
  });

  it('volumes: the internal-TLS overlay under a release without internalTLS mounts volumes the pods do not have', async () => {
    const { objects, overlay: o } = await renderWith('harbor', {}, ['--internal-tls']);
    expect(volumeProblems(objects, o, {})).toEqual([
      `Deployment harbor-core initContainers[0] ${CORE_CONTAINER}: volumeMount "core-internal-certs": Deployment harbor-core has no such volume`,
      `Deployment harbor-jobservice initContainers[0] ${JOBSERVICE_CONTAINER}: volumeMount "jobservice-internal-certs": Deployment harbor-jobservice has no such volume`,
    ]);
  });

  it('volumes: a subPath that is not a key of the ConfigMap, and one that is a key of the Secret but not a path of the volume\'s items', async () => {
    const { objects, overlay: o } = await renderWith('harbor', {}, [], (g) => {
      ((first(g, 'jobservice')['volumeMounts'] as Obj[])[0] as Obj)['subPath'] = 'config.yaml';
      // Core's volume secret-key shows key secretKey of Secret <fullname>-core as the file `key` (its items).
      first(g, 'core')['volumeMounts'] = [
        { name: 'secret-key', mountPath: '/etc/core/key', subPath: 'secretKey', readOnly: true },
        { name: 'secret-key', mountPath: '/etc/core/key2', subPath: 'key', readOnly: true },
      ];
    });
    expect(volumeProblems(objects, o, {})).toEqual([
      `Deployment harbor-core initContainers[0] ${CORE_CONTAINER}: volumeMount "secret-key": subPath "secretKey" is not a file of the volume (key)`,
      `Deployment harbor-jobservice initContainers[0] ${JOBSERVICE_CONTAINER}: volumeMount "jobservice-config": subPath "config.yaml" is not a file of the volume (config.yml)`,
    ]);
  });

  it('volumes: internal TLS from the operator\'s Secrets passes only as the operator\'s: named by the values, mounted by the component too', async () => {
    const { objects, overlay: o } = await rendered(caseNamed("internalTLS.enabled with certSource secret (the operator's certificates)"));
    expect(volumeProblems(objects, o, OWN_INTERNAL_TLS)).toEqual([]);
    // Checked as if the release's values named no such Secret:
    expect(volumeProblems(objects, o, {})).toEqual([
      `Deployment harbor-core initContainers[0] ${CORE_CONTAINER}: volume "core-internal-certs": no Secret "core-internal-tls-own" in the render (nor the operator's, named by the release's values and mounted by the pod's own containers)`,
      `Deployment harbor-jobservice initContainers[0] ${JOBSERVICE_CONTAINER}: volume "jobservice-internal-certs": no Secret "jobservice-internal-tls-own" in the render (nor the operator's, named by the release's values and mounted by the pod's own containers)`,
    ]);
    // A pod whose own container does not mount that volume (the render altered: no chart setting does this):
    const altered = structuredClone(objects);
    const [core] = componentPods(podsOf(altered), 'core');
    for (const c of core?.spec.containers ?? []) c.volumeMounts = c.volumeMounts?.filter((m) => m.name !== 'core-internal-certs');
    expect(volumeProblems(altered, o, OWN_INTERNAL_TLS)).toEqual([
      `Deployment harbor-core initContainers[0] ${CORE_CONTAINER}: volume "core-internal-certs": no Secret "core-internal-tls-own" in the render (nor the operator's, named by the release's values and mounted by the pod's own containers)`,
    ]);
  });

  /**
   * The sidecar case's render with its wait containers changed in place, for the checks that look only at those
   * containers (security, schema). The chart copies initContainers verbatim (check 1 compares them with the
   * overlay), so this is the render of an overlay changed the same way, without a render per case.
   */
  const altered = async (change: (view: Obj) => void): Promise<K8sObject[]> => {
    const { objects, overlay: o } = await rendered(caseNamed('chart defaults (internal Redis and database), sidecar'));
    const copy = structuredClone(objects);
    const names = new Set(COMPONENTS.flatMap((k) => overlayContainers(o, k).map((c) => c.name)));
    const view = Object.fromEntries(COMPONENTS.map((k) => [k, { initContainers: componentPods(podsOf(copy), k).flatMap((p) => (p.spec.initContainers ?? []).filter((c) => names.has(c.name))) }]));
    change(view);
    return copy;
  };
  const security = (o: Obj, component: Component) => first(o, component)['securityContext'] as Obj;
  it.each<[string, (o: Obj) => void, string]>([
    ['no runAsNonRoot (the pod sets none)', (o) => { delete security(o, 'core')['runAsNonRoot']; }, 'runAsNonRoot is undefined, not true'],
    ['runAsUser 0 in the container (it wins over the pod\'s 10000)', (o) => { security(o, 'core')['runAsUser'] = 0; }, 'runs as user 0, not 10000'],
    ['a writable root filesystem', (o) => { security(o, 'jobservice')['readOnlyRootFilesystem'] = false; }, 'readOnlyRootFilesystem is false, not true'],
    ['privilege escalation', (o) => { delete security(o, 'jobservice')['allowPrivilegeEscalation']; }, 'allowPrivilegeEscalation is undefined, not false'],
    ['capabilities kept', (o) => { security(o, 'core')['capabilities'] = { drop: ['NET_RAW'] }; }, 'capabilities do not drop ALL'],
    ['a capability added', (o) => { security(o, 'core')['capabilities'] = { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }; }, 'capabilities add NET_BIND_SERVICE'],
    ['privileged', (o) => { security(o, 'jobservice')['privileged'] = true; }, 'privileged'],
    ['no memory limit', (o) => { delete ((first(o, 'core')['resources'] as Obj)['limits'] as Obj)['memory']; }, 'no limits.memory'],
  ])('security: %s', async (_label, change, problem) => {
    const objects = await altered(change);
    const { overlay: o } = await rendered(caseNamed('chart defaults (internal Redis and database), sidecar'));
    expect(securityProblems(objects, o).map((p) => p.replace(/^.*?(?:wait-for-[a-z-]+): /, ''))).toEqual([problem]);
  });

  it.each<[string, (o: Obj) => void, RegExp]>([
    ['an unknown field', (o) => { first(o, 'core')['restartPolicyy'] = 'Always'; }, /^Deployment harbor-core\.spec\.template\.spec\.initContainers\[0\]\.restartPolicyy: unknown field \(Kubernetes Container has no such field\)$/],
    ['a nested unknown field', (o) => { ((first(o, 'jobservice')['envFrom'] as Obj[])[0] as Obj)['configMapRef'] = { nmae: 'harbor-jobservice-env' }; }, /envFrom\[0\]\.configMapRef\.nmae: unknown field \(Kubernetes ConfigMapEnvSource has no such field\)/],
    ['a schema violation', (o) => { (first(o, 'core')['ports'] as Obj[])[0] = { name: 'wait-http', containerPort: '8099' }; }, /^Deployment harbor-core: the Kubernetes schema refuses it: .*containerPort/],
  ])('schema: %s', async (_label, change, problem) => {
    const objects = await altered(change);
    const problems = schemaProblems(objects);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });
});
