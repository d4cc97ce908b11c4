/**
 * The kubelet imitation (helpers/kubelet.ts) that the chart pod tests (chart-pod.ts) run the wait containers
 * with: its rules checked on small pods written here, so that a container test's pass or failure is about
 * harbor-wait and the chart, not about the imitation. Each rule is the kubelet's (pkg/kubelet/kubelet_pods.go,
 * pkg/kubelet/envvars, third_party/forked/golang/expansion, the atomic writer, kuberuntime's termination
 * message); nothing here starts a container.
 */
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { K8sObject } from './helpers/helm.ts';
import {
  containerEnv,
  expand,
  kubeletRun,
  quantity,
  resourceFlags,
  securityFlags,
  serviceEnv,
  terminationMessage,
  volumeMounts,
  type ClusterService,
  type PodTemplate,
} from './helpers/kubelet.ts';
import { tempDir } from './helpers/processes.ts';

const NS = 'ns';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const meta = (name: string) => ({ name, namespace: NS });
const OBJECTS: K8sObject[] = [
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('a'), data: { X: 'from-a', Y: 'from-a', 'file.yml': 'key: value\n' }, binaryData: { BIN: b64('bytes') } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('b'), data: { Y: 'from-b' } },
  { apiVersion: 'v1', kind: 'Secret', metadata: meta('s'), data: { Z: b64('secret-z'), 'tls.key': b64('KEY') }, stringData: { Z2: 'plain' } },
];
const SERVICES: ClusterService[] = [
  { name: 'kubernetes', namespace: 'default', clusterIP: '10.0.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
  { name: 'my-svc', namespace: NS, clusterIP: '10.0.0.2', ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] },
  { name: 'elsewhere', namespace: 'other', clusterIP: '10.0.0.3', ports: [{ port: 1 }] },
];

function pod(spec: Record<string, unknown> = {}): PodTemplate {
  return { workload: 'Deployment/d', namespace: NS, spec: { automountServiceAccountToken: false, ...spec } };
}

describe('the environment', () => {
  it('$(VAR) expands as the kubelet does: defined names, $$ an escaped $, undefined and incomplete references kept', () => {
    const ctx = new Map([['A', 'x'], ['B', '$(A)']]);
    expect(expand('$(A)-$(B)', ctx)).toBe('x-$(A)'); // one pass: a value's own references stay
    expect(expand('$$(A) $(NOPE) $A $(A $', ctx)).toBe('$(A) $(NOPE) $A $(A $');
    expect(expand('$(A)$(A)', new Map(), ctx)).toBe('xx'); // the first context holding the name
  });

  it('envFrom in order (a later source wins, a prefix before each key, data only), then env (wins; $(VAR) against what is defined so far), then Service variables nothing set', () => {
    const container = {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'a' } }, { configMapRef: { name: 'b' } }, { secretRef: { name: 's' }, prefix: 'S_' }],
      env: [
        { name: 'X', value: '$(Y)+$(S_Z)+$(LATER)+$(MY_SVC_SERVICE_HOST)' },
        { name: 'W', valueFrom: { configMapKeyRef: { name: 'a', key: 'X' } } },
        { name: 'LATER', value: 'l' },
        { name: 'MY_SVC_PORT', value: 'mine' },
        { name: 'EMPTY', value: '' },
      ],
    };
    const env = containerEnv(OBJECTS, pod(), container, SERVICES);
    expect(Object.fromEntries(env)).toMatchObject({ X: 'from-b+secret-z+$(LATER)+10.0.0.2', Y: 'from-b', W: 'from-a', S_Z: 'secret-z', S_Z2: 'plain', LATER: 'l', EMPTY: '', 'file.yml': 'key: value\n' });
    expect(env.has('BIN')).toBe(false);
    expect(env.get('MY_SVC_PORT')).toBe('mine');
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.0.0.1');
    expect(env.get('ELSEWHERE_SERVICE_HOST')).toBeUndefined();
    // enableServiceLinks: false keeps only the master service's.
    const unlinked = containerEnv(OBJECTS, pod({ enableServiceLinks: false }), container, SERVICES);
    expect(unlinked.get('MY_SVC_SERVICE_HOST')).toBeUndefined();
    expect(unlinked.get('KUBERNETES_PORT_443_TCP')).toBe('tcp://10.0.0.1:443');
  });

  it("Service variables as pkg/kubelet/envvars writes them: host, first port, named ports, Docker's link variables", () => {
    expect(Object.fromEntries(serviceEnv(SERVICES.slice(1, 2), NS, true))).toEqual({
      MY_SVC_SERVICE_HOST: '10.0.0.2',
      MY_SVC_SERVICE_PORT: '80',
      MY_SVC_SERVICE_PORT_HTTP: '80',
      MY_SVC_SERVICE_PORT_HTTPS: '443',
      MY_SVC_PORT: 'tcp://10.0.0.2:80',
      MY_SVC_PORT_80_TCP: 'tcp://10.0.0.2:80',
      MY_SVC_PORT_80_TCP_PROTO: 'tcp',
      MY_SVC_PORT_80_TCP_PORT: '80',
      MY_SVC_PORT_80_TCP_ADDR: '10.0.0.2',
      MY_SVC_PORT_443_TCP: 'tcp://10.0.0.2:443',
      MY_SVC_PORT_443_TCP_PROTO: 'tcp',
      MY_SVC_PORT_443_TCP_PORT: '443',
      MY_SVC_PORT_443_TCP_ADDR: '10.0.0.2',
    });
  });

  it('a ConfigMap, Secret or key the render lacks is an error naming it, unless the reference is optional', () => {
    const env = (e: unknown[], f: unknown[] = []) => () => containerEnv(OBJECTS, pod(), { name: 'c', env: e, envFrom: f });
    expect(env([], [{ configMapRef: { name: 'gone' } }])).toThrow('ConfigMap ns/gone is not in the render');
    expect(env([{ name: 'V', valueFrom: { secretKeyRef: { name: 's', key: 'nope' } } }])).toThrow("couldn't find key nope in Secret ns/s");
    expect(env([{ name: 'V', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }])).toThrow('Secret ns/gone is not in the render');
    expect(env([{ name: 'V', valueFrom: { secretKeyRef: { name: 's', key: 'nope', optional: true } } }], [{ configMapRef: { name: 'gone', optional: true } }])()).toEqual(new Map());
    expect(env([{ name: 'V', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }])).toThrow(/fieldRef: not reproduced/);
  });
});

describe('the volumes', () => {
  it("as the atomic writer lays them out: ..<timestamp>/ with the files, ..data pointing at it, a symlink per name; items and their modes; the fsGroup's group and read bits; a subPath mounts the one real file; configMap and secret read-only whatever the mount says", () => {
    const spec = {
      securityContext: { fsGroup: 4242 },
      volumes: [
        { name: 'conf', configMap: { name: 'a', items: [{ key: 'file.yml', path: 'sub/config.yml' }, { key: 'BIN', path: 'bin', mode: 0o400 }] } },
        { name: 'keys', secret: { secretName: 's', defaultMode: 0o400 } },
        { name: 'scratch', emptyDir: {} },
      ],
    };
    const container = {
      name: 'c',
      volumeMounts: [
        { name: 'conf', mountPath: '/etc/conf' },
        { name: 'conf', mountPath: '/etc/one.yml', subPath: 'sub/config.yml', readOnly: false },
        { name: 'keys', mountPath: '/keys' },
        { name: 'scratch', mountPath: '/scratch' },
      ],
    };
    const mounts = volumeMounts(OBJECTS, pod(spec), container, tempDir('harbor-wait-kubelet-'));
    expect(mounts.map((m) => [m.container, m.writable])).toEqual([['/etc/conf', false], ['/etc/one.yml', false], ['/keys', false], ['/scratch', true]]);
    const [conf, one, keys, scratch] = mounts.map((m) => m.host) as [string, string, string, string];
    const ts = readlinkSync(join(conf, '..data'));
    expect(ts).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+$/);
    expect(readlinkSync(join(conf, 'sub'))).toBe('..data/sub');
    expect(readFileSync(join(conf, 'sub/config.yml'), 'utf8')).toBe('key: value\n');
    expect(one).toBe(join(conf, ts, 'sub/config.yml'));
    expect(lstatSync(one).isFile()).toBe(true);
    expect(readFileSync(join(conf, 'bin'), 'utf8')).toBe('bytes');
    const mode = (p: string) => statSync(p).mode & 0o7777;
    expect([mode(one), statSync(one).gid]).toEqual([0o644, 4242]);
    expect(mode(join(conf, 'bin'))).toBe(0o440); // 0400 plus the fsGroup's read
    expect(mode(join(keys, 'tls.key'))).toBe(0o440);
    expect(readFileSync(join(keys, 'Z2'), 'utf8')).toBe('plain');
    expect(mode(scratch)).toBe(0o2777);
  });

  it('a volume, key or subPath the render lacks is an error naming it; a volume kind it cannot make is refused', () => {
    const mount = (spec: Record<string, unknown>, m: Record<string, unknown>) => () => volumeMounts(OBJECTS, pod(spec), { name: 'c', volumeMounts: [m] }, tempDir('harbor-wait-kubelet-'));
    expect(mount({ volumes: [] }, { name: 'v', mountPath: '/v' })).toThrow('has no volume "v"');
    expect(mount({ volumes: [{ name: 'v', configMap: { name: 'a', items: [{ key: 'nope', path: 'p' }] } }] }, { name: 'v', mountPath: '/v' })).toThrow('key nope is not in it');
    expect(mount({ volumes: [{ name: 'v', configMap: { name: 'a' } }] }, { name: 'v', mountPath: '/v', subPath: 'nope' })).toThrow('subPath nope is not in volume v');
    expect(mount({ volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'x' } }] }, { name: 'v', mountPath: '/v' })).toThrow('a persistentVolumeClaim volume is not reproduced');
  });
});

describe('the security context and resources', () => {
  const restricted = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };

  it("pod and container merged (the container's field wins): --user, the fsGroup and supplementalGroups as groups, read-only root, capabilities from the runtime's defaults, no new privileges, seccomp unconfined unless a profile is set", () => {
    expect(securityFlags(pod({ securityContext: { runAsUser: 10000, fsGroup: 10000, supplementalGroups: [7] } }), { name: 'c', securityContext: restricted }, '65532')).toEqual([
      '--user', '10000', '--group-add', '10000', '--group-add', '7', '--read-only', '--read-only-tmpfs=false', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    ]);
    const plain = securityFlags(pod({ securityContext: { runAsUser: 1, runAsGroup: 2 } }), { name: 'c', securityContext: { runAsUser: 3, capabilities: { drop: ['NET_RAW', 'CAP_KILL'], add: ['NET_ADMIN'] } } }, '65532');
    expect(plain.slice(0, 2)).toEqual(['--user', '3:2']);
    expect(plain).toContain('seccomp=unconfined');
    expect(plain).not.toContain('no-new-privileges');
    const added = plain.filter((_, i) => plain[i - 1] === '--cap-add');
    expect(added).toContain('NET_ADMIN');
    expect(added).toContain('CHOWN');
    expect(added).not.toContain('NET_RAW');
    expect(added).not.toContain('KILL');
    // runAsGroup alone keeps the image's user.
    expect(securityFlags(pod({ securityContext: { runAsGroup: 5 } }), { name: 'c' }, '65532:65532').slice(0, 2)).toEqual(['--user', '65532:5']);
  });

  it("refused as the kubelet refuses: privileged, runAsNonRoot with uid 0 or an image user it cannot verify; and a field it does not reproduce", () => {
    const flags = (p: Record<string, unknown>, c: Record<string, unknown>, user = '65532') => () => securityFlags(pod({ securityContext: p }), { name: 'c', securityContext: c }, user);
    expect(flags({}, { privileged: true })).toThrow('is privileged: refused');
    expect(flags({ runAsUser: 10000 }, { runAsNonRoot: true, runAsUser: 0 })).toThrow('runAsUser 0 breaks runAsNonRoot');
    expect(flags({}, { runAsNonRoot: true }, 'root')).toThrow('image will run as root');
    expect(flags({}, { runAsNonRoot: true }, '')).toThrow('image will run as root');
    expect(flags({}, { runAsNonRoot: true }, 'nonroot')).toThrow('non-numeric user (nonroot)');
    expect(flags({}, { runAsNonRoot: true }, '65532')).not.toThrow();
    expect(flags({}, { seccompProfile: { type: 'Localhost', localhostProfile: 'x' } })).toThrow('type Localhost is not reproduced');
    expect(flags({ windowsOptions: {} }, {})).toThrow('windowsOptions: not reproduced');
  });

  it('quantities and resources: limits.cpu a quota, limits.memory with no swap on top, requests.cpu (else limits.cpu) as shares', () => {
    expect([quantity('250m', 'q'), quantity('128Mi', 'q'), quantity('1e3', 'q'), quantity('0.5', 'q'), quantity('2k', 'q')]).toEqual([0.25, 134217728, 1000, 0.5, 2000]);
    expect(() => quantity('12 Mi', 'limits.memory')).toThrow('limits.memory: "12 Mi" is not a quantity');
    expect(resourceFlags({ name: 'c', resources: { limits: { cpu: '250m', memory: '128Mi' }, requests: { cpu: '10m', memory: '64Mi' } } })).toEqual([
      '--cpus', '0.25', '--memory', '134217728b', '--memory-swap', '134217728b', '--cpu-shares', '10',
    ]);
    expect(resourceFlags({ name: 'c', resources: { limits: { cpu: '2' } } })).toEqual(['--cpus', '2', '--cpu-shares', '2048']);
    expect(resourceFlags({ name: 'c' })).toEqual(['--cpu-shares', '2']);
    expect(() => resourceFlags({ name: 'c', resources: { limits: { 'nvidia.com/gpu': '1' } } })).toThrow('resource nvidia.com/gpu is not reproduced');
  });
});

describe('the whole container', () => {
  const base = {
    name: 'w',
    image: 'img:1',
    command: ['/bin/run', '$(MODE)'],
    args: ['--x', '$(MODE)', '$$(MODE)'],
    env: [{ name: 'MODE', value: 'fast' }],
    securityContext: { runAsNonRoot: true },
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  const objects = (container: Record<string, unknown>, spec: Record<string, unknown> = {}): K8sObject[] => [
    ...OBJECTS,
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('d'), spec: { template: { spec: { automountServiceAccountToken: false, securityContext: { runAsUser: 10000 }, initContainers: [container], containers: [{ name: 'main' }], ...spec } } } },
  ];
  const run = (c: Record<string, unknown>, spec?: Record<string, unknown>) => () =>
    kubeletRun(objects(c, spec), { container: 'w', image: 'img:1', imageUser: '65532', services: SERVICES, dir: tempDir('harbor-wait-kubelet-'), namespace: NS });

  it('command and args expanded against its environment (command as the entrypoint); Service names mapped to their addresses; the termination message file at its path, 0666, read-write; no proxy variables from podman', () => {
    const r = run({ ...base, terminationMessagePath: '/tmp/why' })();
    expect(r.init).toBe(true);
    expect(r.entrypoint).toEqual(['/bin/run', 'fast']);
    expect(r.args).toEqual(['--x', 'fast', '$(MODE)']);
    expect(r.podFlags).toEqual(expect.arrayContaining(['--add-host', 'my-svc:10.0.0.2', 'my-svc.ns.svc.cluster.local:10.0.0.2', 'kubernetes.default.svc:10.0.0.1', '--http-proxy=false']));
    expect(r.podFlags).not.toContain('kubernetes:10.0.0.1');
    expect(r.mounts.at(-1)).toMatchObject({ container: '/tmp/why', writable: true, host: r.terminationLog });
    expect(statSync(r.terminationLog).mode & 0o777).toBe(0o666);
    expect(r.terminationMessagePolicy).toBe('FallbackToLogsOnError');
  });

  it('refused: another image, a service account token to mount, a lifecycle hook, a field of the pod it does not reproduce', () => {
    expect(run({ ...base, image: 'other:2' })).toThrow('runs image other:2, not img:1');
    expect(run(base, { automountServiceAccountToken: true })).toThrow('automountServiceAccountToken is not false');
    expect(run({ ...base, lifecycle: { postStart: {} } })).toThrow('container w: lifecycle: not reproduced');
    expect(run(base, { runtimeClassName: 'gvisor' })).toThrow('runtimeClassName: not reproduced');
  });

  it('the termination message as kuberuntime reads it: the file (its last 4096 bytes); empty, with FallbackToLogsOnError and a failure, the last 80 lines of the log (at most 2048 bytes); otherwise empty', () => {
    const logs = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    expect(terminationMessage({ policy: 'FallbackToLogsOnError', exitCode: 124, file: 'why', logs })).toBe('why');
    expect(terminationMessage({ policy: 'File', exitCode: 124, file: 'x'.repeat(5000) + 'end', logs })).toHaveLength(4096);
    const fallback = terminationMessage({ policy: 'FallbackToLogsOnError', exitCode: 1, file: '', logs });
    expect(fallback.split('\n')[0]).toBe('line 20');
    expect(fallback.endsWith('line 99\n')).toBe(true);
    expect(Buffer.byteLength(terminationMessage({ policy: 'FallbackToLogsOnError', exitCode: 1, file: '', logs: 'y'.repeat(3000) }))).toBe(2048);
    expect(terminationMessage({ policy: 'FallbackToLogsOnError', exitCode: 0, file: '', logs })).toBe('');
    expect(terminationMessage({ policy: 'File', exitCode: 1, file: '', logs })).toBe('');
  });
});
