/**
 * lint's checks of the pods themselves: core and jobservice have a harbor-wait container (else the
 * `helm-values` command that adds one, for this release), every init container declares requests and limits
 * (a namespace with a ResourceQuota refuses the pod otherwise), every ConfigMap and Secret a pod refers to is in
 * the stream or named from outside it by an existingSecret value, and the secrets a component needs at start
 * are not empty. Secret values are described (empty, their length), never shown.
 */
import { CORE_CONTAINER, JOBSERVICE_CONTAINER } from '../config/presets.ts';
import { finding, type Line } from './findings.ts';
import type { Container, EnvValue, Reference, Release, Workload } from './release.ts';

type Obj = Readonly<Record<string, unknown>>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A harbor-wait container: by its image, the name helm-values gives it, or its --preset. */
function isHarborWait(c: Container): boolean {
  const args = [c.body.command, c.body.args].flatMap((a) => (Array.isArray(a) ? a : [])).filter((a): a is string => typeof a === 'string');
  return /(^|\/)harbor-wait([:@]|$)/.test(c.image) || c.name === CORE_CONTAINER || c.name === JOBSERVICE_CONTAINER || args.includes('--preset');
}

/** The `helm-values` command that adds harbor-wait to this release, from what the stream says of it. */
export function helmValuesCommand(release: Release): string {
  const fullname = release.fullname ?? 'harbor';
  const args: string[] = fullname.includes('harbor') ? ['--release', fullname] : ['--release', fullname, '--fullname', fullname];
  const core = release.workload('core');
  const coreEnv = core?.containers.find((c) => c.role === 'main')?.env;
  if (coreEnv?.get('INTERNAL_TLS_ENABLED')?.value === 'true') args.push('--internal-tls');
  const js = release.workload('jobservice')?.containers.find((c) => c.role === 'main')?.env.get('JOBSERVICE_SECRET')?.object;
  if (js && js.name !== `${fullname}-jobservice`) args.push('--jobservice-existing-secret', js.key && js.key !== 'JOBSERVICE_SECRET' ? `${js.name}:${js.key}` : js.name);
  const db = coreEnv?.get('POSTGRESQL_PASSWORD')?.object;
  if (db && db.name !== `${fullname}-core`) args.push('--database-existing-secret', db.name);
  return `harbor-wait helm-values ${args.join(' ')} > harbor-wait-values.yaml, then helm upgrade with -f harbor-wait-values.yaml`;
}

/** core's or jobservice's wait container. */
export function checkWaitContainer(w: Workload, release: Release): Line {
  const wait = w.containers.find((c) => c.role !== 'main' && isHarborWait(c));
  const what = w.component === 'core' ? 'Redis and PostgreSQL' : "core's configuration API and Redis";
  if (wait) return finding('pod', 'harbor-wait', 'ok', `${wait.role === 'sidecar' ? 'native sidecar' : 'init container'} ${wait.name} holds ${w.component} until ${what} are ready`);
  const after = w.component === 'core' ? 'crash-loops until they are (goharbor/harbor#14221)' : 'panics on its first failed call to core (goharbor/harbor#20053)';
  return finding('pod', 'harbor-wait', 'warn', `none: ${w.component} starts before ${what} are ready and ${after}`, `add it: ${helmValuesCommand(release)}`);
}

/** The value that lists a component's init containers in the chart. */
function initValue(component: string, index: number): string {
  const name = component === 'trivy' ? 'trivy' : component === 'database' ? 'database.internal' : component === 'redis' ? 'redis.internal' : component;
  return `${name}.initContainers[${index}].resources`;
}

function declares(c: Container): boolean {
  const r = c.body.resources;
  if (!isObject(r)) return false;
  const has = (v: unknown) => isObject(v) && v.cpu !== undefined && v.memory !== undefined;
  return has(r.requests) && has(r.limits);
}

/** Every init container (and native sidecar) declares cpu and memory requests and limits. */
export function checkInitResources(w: Workload): Line[] {
  const init = w.containers.filter((c) => c.role !== 'main');
  if (init.length === 0) return [];
  const missing = init.filter((c) => !declares(c));
  if (missing.length === 0) return [finding('pod', 'init resources', 'ok', `${init.map((c) => c.name).join(', ')}: cpu and memory requests and limits`)];
  const mains = w.containers.filter((c) => c.role === 'main');
  // A pod whose own containers declare none is refused by a quota anyway: the init container is not the one mistake.
  const prepared = mains.length > 0 && mains.every(declares);
  const names = missing.map((c) => `${c.name} (${initValue(w.component, w.containers.indexOf(c))})`).join(', ');
  return [
    finding(
      'pod',
      'init resources',
      prepared ? 'fail' : 'warn',
      `${names}: no cpu and memory requests and limits${prepared ? ", while the pod's other containers declare them" : ''}`,
      `set them: a namespace with a ResourceQuota refuses a pod with any container that has none (goharbor/harbor-helm#928)${prepared ? '' : "; the pod's other containers have none either"}`,
    ),
  ];
}

/** The values that name a Secret from outside the release, by the variable or volume that refers to it. */
const EXISTING_SECRET: Record<string, string> = {
  'env POSTGRESQL_PASSWORD': 'database.external.existingSecret',
  'env HARBOR_DATABASE_PASSWORD': 'database.external.existingSecret',
  'env JOBSERVICE_SECRET': 'jobservice.existingSecret',
  'env CORE_SECRET': 'core.existingSecret',
  'env REGISTRY_HTTP_SECRET': 'registry.existingSecret',
  'env REGISTRY_CREDENTIAL_PASSWORD': 'registry.credentials.existingSecret',
};

/**
 * The stream has every object the pod refers to, or an existingSecret value names it. Each object missing is
 * said once: named by an existingSecret value wherever the pod refers to it (ok, it comes from outside), or
 * not (a warning: a partial stream, or an object to create first).
 */
export function checkReferences(w: Workload, release: Release): Line[] {
  const fullname = release.fullname;
  const waits = new Set(w.containers.filter((c) => c.role !== 'main' && isHarborWait(c)).map((c) => c.name));
  const out: Line[] = [];
  const present = new Set<string>();
  const missing = new Map<string, Reference[]>();
  const keys = new Set<string>();
  for (const r of w.references) {
    const object = `${r.kind} ${r.name}`;
    if (r.found === 'yes') {
      present.add(object);
    } else if (r.found === 'no key') {
      const id = `${object} key ${r.key}`;
      if (keys.has(id)) continue;
      keys.add(id);
      // A wait container made for other settings than the release's (an overlay without --database-existing-secret).
      const regenerate = r.container !== undefined && waits.has(r.container) ? `; ${r.container} was made for other settings: ${helmValuesCommand(release)}` : '';
      out.push(finding('secrets', object, r.optional ? 'warn' : 'fail', `has no key ${r.key} (${r.via}${r.container ? ` of ${r.container}` : ''})`, r.optional ? 'optional: the variable stays unset' : `the kubelet will not start the container ("couldn't find key ${r.key}"): add the key, or name the right one${regenerate}`));
    } else {
      missing.set(object, [...(missing.get(object) ?? []), r]);
    }
  }
  for (const [object, refs] of missing) {
    const named = refs.map((r) => (r.kind === 'Secret' ? EXISTING_SECRET[r.via] : undefined));
    const value = named.find((v) => v !== undefined);
    const first = refs[0] as Reference;
    const vias = [...new Set(refs.map((r) => r.via))].join(', ');
    if (refs.every((r, i) => named[i] !== undefined || r.optional) && value !== undefined) {
      out.push(finding('secrets', object, 'ok', `outside the stream, named by ${value} (${vias}): it must exist in the namespace before the pod starts`));
    } else if (refs.every((r) => r.optional)) {
      out.push(finding('secrets', object, 'ok', `outside the stream, optional (${vias})`));
    } else {
      const chartsOwn = fullname !== undefined && (first.name === fullname || first.name.startsWith(`${fullname}-`));
      out.push(finding('secrets', object, 'warn', `not in the stream (${vias})${chartsOwn ? ': the chart makes it, so the stream is partial (--show-only?)' : ''}`, 'it must exist in the namespace, or the kubelet will not start the pod: lint the whole render, or create it first'));
    }
  }
  if (present.size > 0) out.unshift(finding('secrets', 'references', 'ok', `${[...present].join(', ')}: in the stream`));
  return out;
}

/** The secrets each component needs at start, by variable, and the value that sets each. */
const NEEDED: Record<string, ReadonlyArray<readonly [variable: string, value: string]>> = {
  core: [['CORE_SECRET', 'core.secret'], ['JOBSERVICE_SECRET', 'jobservice.secret']],
  jobservice: [['CORE_SECRET', 'core.secret'], ['JOBSERVICE_SECRET', 'jobservice.secret']],
  registry: [['REGISTRY_HTTP_SECRET', 'registry.secret']],
};

/** The secrets a component needs are set and not empty (their lengths, never their values). */
export function checkSecretValues(w: Workload, env: ReadonlyMap<string, EnvValue>): Line[] {
  const needed = NEEDED[w.component];
  if (!needed) return [];
  const out: Line[] = [];
  for (const [variable, value] of needed) {
    const v = env.get(variable);
    if (v === undefined) out.push(finding('secrets', variable, 'fail', 'unset', `${w.component} needs it at start: set ${value} (or its existingSecret)`));
    else if (v.value === undefined) out.push(finding('secrets', variable, 'skip', `in ${v.from}`, `${v.unresolved ?? 'outside the stream'}: not checked`));
    else if (v.value.trim() === '') out.push(finding('secrets', variable, 'fail', `empty (${v.from})`, `${w.component} needs it at start: set ${value} (or its existingSecret), not empty`));
    else out.push(finding('secrets', variable, 'ok', `${[...v.value].length} characters, not shown (${v.from})`));
  }
  return out;
}
