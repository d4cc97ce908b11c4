/**
 * harbor-helm 1.19.1 rendered for real: `helm template` on ../shared/harbor-helm/chart/ (used where it is, never
 * copied), with helm from scripts/install-helm.sh (a cache outside the tree). helm missing fails the test with
 * what to run; nothing here fetches anything. helm's own cache, config and data directories are a temporary
 * directory of the render's, so a render reads and writes nothing of the machine's.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { runCli } from './cli.ts';
import { loadYaml } from './yaml.ts';

/** The chart as released, beside the project (CI lays ../shared/ out the same way). */
export const CHART_DIR = fileURLToPath(new URL('../../../shared/harbor-helm/chart/', import.meta.url));
const INSTALLER = fileURLToPath(new URL('../../scripts/install-helm.sh', import.meta.url));

let helm: string | undefined;

/** The helm binary scripts/install-helm.sh installed; throws, saying what to run, when there is none. */
export function helmBinary(): string {
  if (helm !== undefined) return helm;
  try {
    helm = execFileSync('bash', [INSTALLER, '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    const said = String((e as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(said || 'helm is not installed: run bash scripts/install-helm.sh (bash scripts/setup.sh runs it)');
  }
  return helm;
}

/** A rendered Kubernetes object, as helm printed it. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

export interface RenderOptions {
  /** The release name (`helm template <release>`). */
  readonly release: string;
  /** Values files, in order (later ones win, as with repeated -f): YAML text or an object. */
  readonly values: ReadonlyArray<string | object>;
  readonly namespace?: string;
  /** --kube-version: what .Capabilities.KubeVersion says; native sidecars need 1.29+. */
  readonly kubeVersion?: string;
  /**
   * Render against this (stand-in) cluster, as helm install does: `--dry-run=server`, so that the chart's
   * `lookup` finds what the cluster holds (test/helpers/kube-api.ts). Without it, lookup finds nothing.
   */
  readonly kubeconfig?: string;
  /** More arguments for helm template (`--set`, `--output-dir`, ...). */
  readonly args?: readonly string[];
}

/** Runs a command, resolving with its output; rejects with its stderr when it exits other than 0. */
function capture(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`helm template exited ${code}:\n${stderr.trim()}`))));
  });
}

/** `helm template` of the real chart: its output as helm prints it. */
export async function renderChartText(o: RenderOptions): Promise<string> {
  const binary = helmBinary();
  const dir = mkdtempSync(join(tmpdir(), 'harbor-wait-helm-'));
  try {
    const files = o.values.map((v, i) => {
      const file = join(dir, `values-${i}.yaml`);
      writeFileSync(file, typeof v === 'string' ? v : JSON.stringify(v));
      return file;
    });
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      ...(o.kubeconfig ? { KUBECONFIG: o.kubeconfig } : {}),
      HELM_CACHE_HOME: join(dir, 'cache'),
      HELM_CONFIG_HOME: join(dir, 'config'),
      HELM_DATA_HOME: join(dir, 'data'),
    };
    const args = [
      'template', o.release, CHART_DIR,
      '--namespace', o.namespace ?? 'harbor',
      ...(o.kubeconfig ? ['--dry-run=server', '--disable-openapi-validation'] : ['--kube-version', o.kubeVersion ?? '1.31.0']),
      ...files.flatMap((f) => ['--values', f]),
      ...(o.args ?? []),
    ];
    return await capture(binary, args, env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `helm template` of the real chart: every object it renders, parsed (empty documents dropped). */
export async function renderChart(o: RenderOptions): Promise<K8sObject[]> {
  const text = await renderChartText(o);
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`helm's output is not YAML: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

/** What `harbor-wait helm-values` printed: the YAML, what it said on stderr (warnings), and the overlay as Helm reads it. */
export interface Generated {
  readonly text: string;
  readonly warnings: string;
  readonly overlay: Record<string, unknown>;
}

/**
 * `harbor-wait helm-values <args>` from the built CLI (the lone copy of the entry, as a user gets it). Anything but
 * exit 0, or an overlay that is not one mapping reading alike as YAML 1.1 and 1.2, is an error.
 */
export async function generateOverlay(args: readonly string[]): Promise<Generated> {
  const what = `harbor-wait helm-values ${args.join(' ')}`;
  const r = await runCli(['helm-values', ...args]);
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stderr}`);
  const overlay = loadYaml(r.stdout, what);
  if (typeof overlay !== 'object' || overlay === null || Array.isArray(overlay)) throw new Error(`${what}: not a mapping`);
  return { text: r.stdout, warnings: r.stderr, overlay: overlay as Record<string, unknown> };
}
