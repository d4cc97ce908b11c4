/**
 * A stand-in for the Kubernetes API server, on loopback, for `helm template --dry-run=server`: the one way
 * Helm's `lookup` finds a Secret while rendering (what `helm install` against a cluster does). A real API
 * server cannot run here; this one answers only what Helm asks on that path, as the API server answers it:
 * `/version`, discovery (`/api`, `/api/v1`, `/apis`, `/apis/<group>/v1`) for the kinds harbor-helm renders,
 * and GET of a Secret by namespace and name (the object, or a 404 Status). Anything else is a 404 Status, so
 * a Helm that asked for more would fail the render instead of passing on a guess.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The kinds harbor-helm 1.19.1 renders, by API group ('' is the core group). */
const KINDS: Record<string, ReadonlyArray<readonly [kind: string, resource: string]>> = {
  '': [['Secret', 'secrets'], ['ConfigMap', 'configmaps'], ['Service', 'services'], ['PersistentVolumeClaim', 'persistentvolumeclaims'], ['ServiceAccount', 'serviceaccounts']],
  apps: [['Deployment', 'deployments'], ['StatefulSet', 'statefulsets']],
  'networking.k8s.io': [['Ingress', 'ingresses']],
  policy: [['PodDisruptionBudget', 'poddisruptionbudgets']],
  batch: [['Job', 'jobs']],
};

export interface KubeApi {
  /** A kubeconfig file whose current context is this server, namespace `namespace`. */
  readonly kubeconfig: string;
  /** Every request path Helm made, in order. */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

/** A Secret as the API server returns it: its data base64-encoded. */
function secretObject(namespace: string, name: string, data: Record<string, string>): object {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace }, data: encoded };
}

function resources(group: string): object {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? 'v1' : `${group}/v1`,
    resources: (KINDS[group] ?? []).map(([kind, name]) => ({ name, singularName: kind.toLowerCase(), namespaced: true, kind, verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'] })),
  };
}

/** Starts the stand-in with these Secrets (`namespace/name` → decoded data). */
export async function startKubeApi(secrets: Readonly<Record<string, Record<string, string>>>, namespace = 'harbor'): Promise<KubeApi> {
  const requests: string[] = [];
  const notFound = (res: ServerResponse, message: string) => send(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'NotFound', code: 404 });
  const send = (res: ServerResponse, code: number, body: object) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    requests.push(path);
    if (req.method !== 'GET') return send(res, 405, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'MethodNotAllowed', code: 405 });
    if (path === '/version') return send(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0', platform: 'linux/amd64' });
    if (path === '/api') return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (path === '/api/v1') return send(res, 200, resources(''));
    if (path === '/apis') {
      const groups = Object.keys(KINDS).filter((g) => g !== '').map((name) => ({ name, versions: [{ groupVersion: `${name}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' } }));
      return send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    const group = /^\/apis\/([^/]+)\/v1$/.exec(path)?.[1];
    if (group !== undefined && KINDS[group]) return send(res, 200, resources(group));
    const secret = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(path);
    if (secret) {
      const [, ns, name] = secret as unknown as [string, string, string];
      const data = secrets[`${ns}/${name}`];
      return data ? send(res, 200, secretObject(ns, name, data)) : notFound(res, `secrets "${name}" not found`);
    }
    return notFound(res, 'the server could not find the requested resource');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dir = mkdtempSync(join(tmpdir(), 'harbor-wait-kube-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: standin, cluster: {server: "http://127.0.0.1:' + port + '"}}]',
    'users: [{name: standin, user: {}}]',
    `contexts: [{name: standin, context: {cluster: standin, user: standin, namespace: ${namespace}}}]`,
    'current-context: standin',
    '',
  ].join('\n'));
  return {
    kubeconfig,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
