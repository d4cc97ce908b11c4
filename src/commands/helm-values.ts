/**
 * `harbor-wait helm-values`: the values overlay that adds harbor-wait to harbor-helm 1.19's core and jobservice
 * pods, for one release. The chart renders `<component>.initContainers` with toYaml, not tpl, so the object names
 * a wait container refers to cannot be templates: they are written out here with the chart's own rule for its
 * fullname (harbor.fullname in _helpers.tpl), and with the Secret and key the chart itself gives each component
 * when the release names the operator's own Secret (jobservice.existingSecret, database.external.existingSecret).
 *
 * Parsing refuses anything Kubernetes or Helm would refuse (exit 2, the input named); the text is built from
 * validated values only, every scalar written so that YAML 1.1 (Helm's reader) and 1.2 read it alike.
 */
import { formatDuration, parseDuration } from '../basics/duration.ts';
import { ConfigError } from '../basics/errors.ts';
import { VERSION } from '../basics/version.ts';
import { CORE_CONTAINER, JOBSERVICE_CONTAINER } from '../config/presets.ts';

/** The chart these overlays are made for, and the container names they add (their public contract). */
const CHART_VERSION = '1.19.1';
export { CORE_CONTAINER, JOBSERVICE_CONTAINER } from '../config/presets.ts';
/** The sidecar's port: core and jobservice use 8080, 8443 and 8001 in the same pod network. */
const SIDECAR_PORT = 8099;
const PROBE_PERIOD_S = 2;
/**
 * The kubelet's restart back-off doubles from 10 s to 5 min and starts again at 10 s once a run lasted more than
 * 10 min: a shorter deadline lets the gaps between runs grow to 5 min, while nothing waits.
 */
const BACKOFF_RESET_MS = 600_000;
const DEFAULT_DEADLINE_MS = BACKOFF_RESET_MS;

export type Mode = 'init' | 'sidecar';

export interface HelmValuesOptions {
  /** The Helm release name. */
  readonly release: string;
  /** The release's fullnameOverride, when it sets one. */
  readonly fullnameOverride?: string;
  /** The release's nameOverride, when it sets one (the chart's name, `harbor`, otherwise). */
  readonly nameOverride?: string;
  readonly mode: Mode;
  /** The release sets internalTLS.enabled. */
  readonly internalTls: boolean;
  /** The release's jobservice.existingSecret and jobservice.existingSecretKey. */
  readonly jobserviceSecret?: { readonly name: string; readonly key: string };
  /** The release's database.external.existingSecret (the chart reads its key `password`). */
  readonly databaseSecret?: string;
  readonly image: string;
  /** init: WAIT_DEADLINE; sidecar: the startupProbe's window. */
  readonly deadlineMs: number;
}

/** What `helm-values` was asked for: an overlay, or its help. */
export type HelmValuesRequest = { readonly kind: 'help' } | { readonly kind: 'overlay'; readonly options: HelmValuesOptions; readonly warnings: string[] };

const FLAGS = {
  release: { value: 'NAME', help: 'the Helm release name', default: 'harbor' },
  fullname: { value: 'NAME', help: "the release's fullnameOverride, when it sets one" },
  'name-override': { value: 'NAME', help: "the release's nameOverride, when it sets one (the fullname is then <release>-NAME, or the release name if it contains NAME)" },
  mode: { value: 'MODE', help: 'init (init containers) or sidecar (native sidecars, Kubernetes 1.29+)', default: 'init' },
  'internal-tls': { help: 'the release sets internalTLS.enabled: trust the internal CA from the chart\'s volumes' },
  'jobservice-existing-secret': { value: 'NAME[:KEY]', help: 'the release sets jobservice.existingSecret NAME (and existingSecretKey KEY, default JOBSERVICE_SECRET)' },
  'database-existing-secret': { value: 'NAME', help: 'the release sets database.external.existingSecret NAME (key password)' },
  image: { value: 'REF', help: 'the harbor-wait image, in your registry', default: `harbor-wait:${VERSION}` },
  deadline: { value: 'DURATION', help: 'give up after this long (init: WAIT_DEADLINE; sidecar: the startupProbe)', default: formatDuration(DEFAULT_DEADLINE_MS) },
} as const satisfies Record<string, { value?: string; help: string; default?: string }>;
type Flag = keyof typeof FLAGS;

export function helmValuesHelp(): string {
  const rows = Object.entries(FLAGS).map(([name, f]: [string, { value?: string; help: string; default?: string }]) => {
    const flag = `--${name}${f.value ? ` ${f.value}` : ''}`;
    return `  ${flag.padEnd(36)} ${f.help}${f.default ? ` [default ${f.default}]` : ''}`;
  });
  return `Usage: harbor-wait helm-values [options] > harbor-wait-values.yaml

Prints a values overlay for harbor-helm ${CHART_VERSION} that adds harbor-wait to the core and jobservice pods of
one release, with the object names that release's chart creates. Then:
  helm upgrade <release> harbor/harbor -n <namespace> --reuse-values -f harbor-wait-values.yaml

Options:
${rows.join('\n')}
`;
}

// ---- names as Kubernetes and Helm take them -------------------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label value (the chart's name is one). */
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** A Secret's data key (IsConfigMapKey). */
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
/** Helm's release names: a DNS-1123 subdomain of at most 53 characters (pkg/chartutil ValidateReleaseName). */
const MAX_RELEASE = 53;
/** The longest Service the chart names after its fullname: a Service name is a DNS-1035 label (≤ 63). */
const LONGEST_SERVICE_SUFFIX = '-jobservice';
/**
 * An image reference (distribution/reference): [host[:port]/]path[:tag][@digest], lower-case path components.
 */
const IMAGE_REF =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$/;

/** How a value looks in an error: quoted, control characters escaped. */
function shown(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/** Helm's trunc 63 | trimSuffix "-". */
function trunc63(name: string): string {
  const cut = name.slice(0, 63);
  return cut.endsWith('-') ? cut.slice(0, -1) : cut;
}

/** The chart's name, which its nameOverride replaces. */
const CHART_NAME = 'harbor';

/**
 * The chart's fullname: fullnameOverride, else the release name if it contains the chart's name (nameOverride,
 * else "harbor"), else `<release>-<name>`; cut to 63 characters, a final dash dropped.
 */
export function chartFullname(release: string, fullnameOverride?: string, nameOverride?: string): string {
  if (fullnameOverride !== undefined && fullnameOverride !== '') return trunc63(fullnameOverride);
  const name = nameOverride === undefined || nameOverride === '' ? CHART_NAME : nameOverride;
  return trunc63(release.includes(name) ? release : `${release}-${name}`);
}

function checkRelease(release: string): void {
  if (release.length > MAX_RELEASE) throw new ConfigError('--release', `${shown(release)} is longer than ${MAX_RELEASE} characters: Helm refuses the release name`);
  if (!DNS1123_SUBDOMAIN.test(release)) {
    throw new ConfigError('--release', `${shown(release)} is not a release name Helm accepts (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit)`);
  }
}

/** The names the overlay and the chart build on the fullname must be ones the API server accepts. */
function checkFullname(fullname: string, input: string, given: string): void {
  const service = `${fullname}${LONGEST_SERVICE_SUFFIX}`;
  const why =
    fullname === '' ? 'an empty name'
    : !DNS1035_LABEL.test(service) ? `Service "${service}" is not a DNS-1035 label (lower-case letters, digits and "-", starting with a letter)`
    : service.length > 63 ? `Service "${service}" is longer than 63 characters`
    : undefined;
  if (why === undefined) return;
  const fullnameIs = input === '--fullname' ? '' : ` (the chart's fullname is "${fullname}")`;
  throw new ConfigError(input, `${shown(given)}${fullnameIs}: the chart names its Services after it, and Kubernetes would refuse ${why}`);
}

function secretName(input: string, name: string): string {
  if (name === '') throw new ConfigError(input, 'the Secret name is empty');
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    throw new ConfigError(input, `${shown(name)} is not a Secret name Kubernetes accepts (a DNS-1123 subdomain: lower-case letters, digits, "-" and ".", at most 253 characters)`);
  }
  return name;
}

function secretKey(input: string, key: string): string {
  if (key === '' || key.length > 253 || !SECRET_KEY.test(key) || key === '.' || key === '..') {
    throw new ConfigError(input, `key ${shown(key)} is not a Secret key Kubernetes accepts (letters, digits, "-", "_" and ".", at most 253 characters)`);
  }
  return key;
}

// ---- parsing ------------------------------------------------------------------------------------------------

/** `helm-values`' own arguments (the command word already taken off): the options, or a ConfigError. */
export function parseHelmValuesArgs(args: readonly string[]): HelmValuesRequest {
  const given = new Map<Flag, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (!arg.startsWith('--')) throw new ConfigError(shown(arg), 'helm-values takes no arguments, only options (see harbor-wait helm-values --help)');
    const eq = arg.indexOf('=');
    const name = (eq < 0 ? arg.slice(2) : arg.slice(2, eq)) as Flag;
    const spec = Object.hasOwn(FLAGS, name) ? (FLAGS[name] as { readonly value?: string }) : undefined;
    const input = `--${name}`;
    if (spec === undefined) throw new ConfigError(eq < 0 ? shown(arg) : shown(arg.slice(0, eq)), 'not an option of helm-values (see harbor-wait helm-values --help)');
    if (given.has(name)) throw new ConfigError(input, 'given twice');
    if (spec.value === undefined) {
      if (eq >= 0) throw new ConfigError(input, 'takes no value');
      given.set(name, true);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new ConfigError(input, `needs a value (${spec.value})`);
    given.set(name, value);
  }
  const text = (flag: Flag): string | undefined => {
    const v = given.get(flag);
    return typeof v === 'string' ? v : undefined;
  };

  const release = text('release') ?? FLAGS.release.default;
  checkRelease(release);
  const override = text('fullname');
  if (override !== undefined && override === '') throw new ConfigError('--fullname', 'is empty (leave it out when the release sets no fullnameOverride)');
  const nameOverride = text('name-override');
  if (nameOverride !== undefined && nameOverride === '') throw new ConfigError('--name-override', 'is empty (leave it out when the release sets no nameOverride)');
  // The chart also puts it, cut to 63, in every object's app.kubernetes.io/name label.
  if (nameOverride !== undefined && !LABEL_VALUE.test(trunc63(nameOverride))) {
    throw new ConfigError('--name-override', `${shown(nameOverride)} is not a label value Kubernetes accepts (the chart puts it in app.kubernetes.io/name): letters, digits, "-", "_" and ".", starting and ending with a letter or digit`);
  }
  const fullname = chartFullname(release, override, nameOverride);
  const [named, value] = override !== undefined ? ['--fullname', override] : nameOverride !== undefined ? ['--name-override', nameOverride] : ['--release', release];
  checkFullname(fullname, named, value);

  const modeText = text('mode') ?? FLAGS.mode.default;
  if (modeText !== 'init' && modeText !== 'sidecar') throw new ConfigError('--mode', `${shown(modeText)} is not a mode: use init or sidecar`);

  let jobserviceSecret: HelmValuesOptions['jobserviceSecret'];
  const js = text('jobservice-existing-secret');
  if (js !== undefined) {
    const colon = js.indexOf(':');
    const input = '--jobservice-existing-secret';
    jobserviceSecret = {
      name: secretName(input, colon < 0 ? js : js.slice(0, colon)),
      key: colon < 0 ? 'JOBSERVICE_SECRET' : secretKey(input, js.slice(colon + 1)),
    };
  }
  const db = text('database-existing-secret');
  const databaseSecret = db === undefined ? undefined : secretName('--database-existing-secret', db);

  const image = text('image') ?? FLAGS.image.default;
  if (image.length > 512 || !IMAGE_REF.test(image)) {
    throw new ConfigError('--image', `${shown(image)} is not an image reference ([registry[:port]/]path[:tag][@digest], a lower-case path)`);
  }

  const warnings: string[] = [];
  let deadlineMs = DEFAULT_DEADLINE_MS;
  const deadline = text('deadline');
  if (deadline !== undefined) {
    const parsed = parseDuration(deadline);
    if ('problem' in parsed) throw new ConfigError('--deadline', parsed.problem);
    if (parsed.ms < 1000) throw new ConfigError('--deadline', `${shown(deadline)} is less than 1s: the wait could never succeed`);
    deadlineMs = parsed.ms;
    if (deadlineMs < BACKOFF_RESET_MS) {
      warnings.push(
        `--deadline ${formatDuration(deadlineMs)} is shorter than ${formatDuration(BACKOFF_RESET_MS)}: after each run the kubelet's restart back-off grows (up to 5 min between runs, while nothing waits)`,
      );
    }
  }
  return {
    kind: 'overlay',
    warnings,
    options: {
      release,
      ...(override === undefined ? {} : { fullnameOverride: override }),
      ...(nameOverride === undefined ? {} : { nameOverride }),
      mode: modeText,
      internalTls: given.has('internal-tls'),
      ...(jobserviceSecret ? { jobserviceSecret } : {}),
      ...(databaseSecret ? { databaseSecret } : {}),
      image,
      deadlineMs,
    },
  };
}

// ---- the overlay ----------------------------------------------------------------------------------------------

/** Words YAML 1.1 (Helm's reader) or 1.2 takes for a boolean or null, in any case. */
const YAML_WORDS = new Set(['y', 'n', 'yes', 'no', 'on', 'off', 'true', 'false', 'null']);

/**
 * A scalar as YAML: plain when it is a name that starts with a letter and holds only letters, digits, "-", "_"
 * and "." (which no YAML 1.1 or 1.2 reader takes for a number or a date) and is not a boolean or null word, else
 * double-quoted (JSON's escapes are YAML's).
 */
function q(value: string): string {
  return /^[A-Za-z][\w.-]*$/.test(value) && !YAML_WORDS.has(value.toLowerCase()) ? value : JSON.stringify(value);
}

/** The flags that make these options, defaults left out, in one order: the same options, the same line. */
export function canonicalArgs(o: HelmValuesOptions): string[] {
  const args = ['--release', o.release];
  if (o.fullnameOverride !== undefined) args.push('--fullname', o.fullnameOverride);
  if (o.nameOverride !== undefined) args.push('--name-override', o.nameOverride);
  if (o.mode !== 'init') args.push('--mode', o.mode);
  if (o.internalTls) args.push('--internal-tls');
  if (o.jobserviceSecret) args.push('--jobservice-existing-secret', `${o.jobserviceSecret.name}:${o.jobserviceSecret.key}`);
  if (o.databaseSecret) args.push('--database-existing-secret', o.databaseSecret);
  if (o.image !== FLAGS.image.default) args.push('--image', o.image);
  if (o.deadlineMs !== DEFAULT_DEADLINE_MS) args.push('--deadline', formatDuration(o.deadlineMs));
  return args;
}

interface SecretRef {
  readonly name: string;
  readonly key: string;
}

interface Component {
  readonly name: 'core' | 'jobservice';
  readonly container: string;
  readonly configMap: string;
  readonly configMapNote: string;
  readonly secretVariable: string;
  readonly secret: SecretRef;
  readonly secretNote: string[];
  readonly mounts: Array<{ readonly name: string; readonly path: string; readonly subPath?: string }>;
  /** Said above the mounts. */
  readonly mountsComment?: string[];
}

function components(o: HelmValuesOptions): Component[] {
  const fullname = chartFullname(o.release, o.fullnameOverride, o.nameOverride);
  const core = `${fullname}-core`;
  const jobservice = `${fullname}-jobservice`;
  // Only the CA, by subPath: the volume also holds the component's own certificate and private key, which the wait
  // needs not. A subPath mount does not follow a rotated CA until the container restarts; neither do core and
  // jobservice themselves, which read their certificates at start.
  const certs = (component: string) => ({ name: `${component}-internal-certs`, path: `/etc/harbor/ssl/${component}/ca.crt`, subPath: 'ca.crt' });
  return [
    {
      name: 'core',
      container: CORE_CONTAINER,
      configMap: core,
      configMapNote: '_REDIS_URL_CORE, _REDIS_URL_HARBOR, _REDIS_URL_REG, POSTGRESQL_*',
      secretVariable: 'POSTGRESQL_PASSWORD',
      secret: o.databaseSecret ? { name: o.databaseSecret, key: 'password' } : { name: core, key: 'POSTGRESQL_PASSWORD' },
      secretNote: o.databaseSecret
        ? ["Core's database password: the key the chart gives core from", 'database.external.existingSecret.']
        : ["Core's database password: this one key, not the whole Secret", `${core} (it also holds core's own secret).`],
      mounts: o.internalTls ? [certs('core')] : [],
      ...(o.internalTls ? { mountsComment: ["The chart's own pod volume: its CA only, not core's own key."] } : {}),
    },
    {
      name: 'jobservice',
      container: JOBSERVICE_CONTAINER,
      configMap: `${jobservice}-env`,
      configMapNote: o.internalTls ? `CORE_URL (https://${core}:443)` : 'CORE_URL',
      secretVariable: 'JOBSERVICE_SECRET',
      secret: o.jobserviceSecret ?? { name: jobservice, key: 'JOBSERVICE_SECRET' },
      secretNote: o.jobserviceSecret
        ? ['The secret core checks: the key the chart gives jobservice from', 'jobservice.existingSecret / existingSecretKey.']
        : ['The secret core checks: this one key, not the whole Secret', `${jobservice} (it also holds REGISTRY_CREDENTIAL_PASSWORD).`],
      mounts: [{ name: 'jobservice-config', path: '/etc/jobservice/config.yml', subPath: 'config.yml' }, ...(o.internalTls ? [certs('jobservice')] : [])],
      mountsComment: o.internalTls
        ? ["The chart's own pod volumes: jobservice's Redis URL is in config.yml;", "the internal CA (only it, not jobservice's own key) verifies core."]
        : ["The chart's own pod volume: jobservice's Redis URL is in config.yml."],
    },
  ];
}

function container(c: Component, o: HelmValuesOptions, first: boolean): string {
  const sidecar = o.mode === 'sidecar';
  const lines: string[] = [];
  const add = (indent: number, text: string) => lines.push(`${' '.repeat(indent)}${text}`);
  const comment = (indent: number, ...text: string[]) => text.forEach((t) => add(indent, `# ${t}`));
  add(2, 'initContainers:');
  add(4, `- name: ${q(c.container)}`);
  add(6, `image: ${q(o.image)}`);
  add(6, 'imagePullPolicy: IfNotPresent');
  if (sidecar) add(6, 'restartPolicy: Always  # a native sidecar');
  const args = ['--preset', c.name, ...(sidecar ? ['--serve', `:${SIDECAR_PORT}`] : [])];
  add(6, `args: [${args.map((a) => JSON.stringify(a)).join(', ')}]`);
  if (sidecar) {
    add(6, 'ports:');
    add(8, '- name: wait-http');
    add(10, `containerPort: ${SIDECAR_PORT}`);
    add(10, 'protocol: TCP');
  }
  add(6, 'envFrom:');
  add(8, '- configMapRef:');
  add(12, `name: ${q(c.configMap)}  # ${c.configMapNote}`);
  add(6, 'env:');
  if (!sidecar) {
    if (first) {
      comment(8, `Give up (exit 124) after ${formatDuration(o.deadlineMs)}; the kubelet then restarts this`, "container. Its restart back-off doubles from 10 s up to 5 min, but", 'starts again at 10 s after a run of over 10 min: so 10m or more keeps', 'restarts 10 s apart, while a shorter deadline lets the gaps grow to', '5 min, during which nothing waits.');
    } else {
      comment(8, 'See core above: 10m or more keeps the kubelet\'s restarts 10 s apart.');
    }
    add(8, '- name: WAIT_DEADLINE');
    add(10, `value: ${JSON.stringify(formatDuration(o.deadlineMs))}`);
  }
  add(8, '- name: WAIT_ATTEMPT_TIMEOUT');
  add(10, 'value: "5s"');
  comment(8, ...c.secretNote);
  add(8, `- name: ${c.secretVariable}`);
  add(10, 'valueFrom:');
  add(12, 'secretKeyRef:');
  add(14, `name: ${q(c.secret.name)}`);
  add(14, `key: ${q(c.secret.key)}`);
  if (o.internalTls) {
    if (c.name === 'core') comment(8, "The CA for any TLS target (the chart's internal Redis and database are", 'plain: redis://, sslmode disable).');
    add(8, '- name: INTERNAL_TLS_ENABLED');
    add(10, 'value: "true"');
    add(8, '- name: INTERNAL_TLS_TRUST_CA_PATH');
    add(10, `value: ${JSON.stringify(`/etc/harbor/ssl/${c.name}/ca.crt`)}`);
  }
  if (c.mounts.length > 0) {
    add(6, 'volumeMounts:');
    if (c.mountsComment) comment(8, ...c.mountsComment);
    for (const m of c.mounts) {
      add(8, `- name: ${q(m.name)}`);
      add(10, `mountPath: ${m.path}`);
      if (m.subPath) add(10, `subPath: ${m.subPath}`);
      add(10, 'readOnly: true');
    }
  }
  if (sidecar) {
    const threshold = Math.ceil(o.deadlineMs / (PROBE_PERIOD_S * 1000));
    if (first) {
      comment(6, `${c.name === 'core' ? 'Core' : 'Jobservice'} starts within ${PROBE_PERIOD_S} s of its dependencies answering.`, `${threshold} x ${PROBE_PERIOD_S} s = ${formatDuration(threshold * PROBE_PERIOD_S * 1000)}: then the kubelet restarts this container,`, 'so a stuck wait shows as a restart (as WAIT_DEADLINE does in init mode).');
    } else {
      comment(6, `See core above: ${threshold} x ${PROBE_PERIOD_S} s before the kubelet restarts it.`);
    }
    const probe = (name: string, path: string, period: number, failures: number) => {
      add(6, `${name}:`);
      add(8, 'httpGet:');
      add(10, `path: ${path}`);
      add(10, 'port: wait-http');
      add(8, `periodSeconds: ${period}`);
      add(8, `failureThreshold: ${failures}`);
    };
    probe('startupProbe', '/readyz', PROBE_PERIOD_S, threshold);
    probe('readinessProbe', '/readyz', 10, 3);
    probe('livenessProbe', '/livez', 10, 3);
  }
  if (first) {
    comment(6, "The chart's containerSecurityContext (it gives init containers only", "the pod's runAsUser 10000), plus a read-only root filesystem and group", "10000: the pod sets no runAsGroup, so the runtime would give group 0.");
  }
  add(6, 'securityContext:');
  add(8, 'privileged: false');
  add(8, 'allowPrivilegeEscalation: false');
  add(8, 'capabilities:');
  add(10, 'drop: ["ALL"]');
  add(8, 'runAsNonRoot: true');
  add(8, 'runAsGroup: 10000');
  add(8, 'readOnlyRootFilesystem: true');
  add(8, 'seccompProfile:');
  add(10, 'type: RuntimeDefault');
  add(6, 'resources:');
  add(8, 'requests:');
  add(10, 'cpu: 10m');
  add(10, 'memory: 64Mi');
  add(8, 'limits:');
  add(10, 'cpu: 250m');
  add(10, 'memory: 128Mi  # Node.js needs about 80 MB');
  if (first) comment(6, 'On failure, the last log lines show in `kubectl describe pod`.');
  add(6, 'terminationMessagePolicy: FallbackToLogsOnError');
  return lines.join('\n');
}

/** The overlay's text, a header of comments first. */
export function helmValues(o: HelmValuesOptions): string {
  const fullname = chartFullname(o.release, o.fullnameOverride, o.nameOverride);
  const what = o.mode === 'sidecar' ? 'native sidecars' : 'init containers';
  const header = [
    `harbor-wait ${VERSION} as ${what} of harbor-helm ${CHART_VERSION}'s core and jobservice pods,`,
    `for release "${o.release}" (the chart's fullname: "${fullname}").`,
    `Made by: harbor-wait helm-values ${canonicalArgs(o).join(' ')}`,
    '',
    "Core waits for its Redis and its database; jobservice for core's config API",
    'and its Redis. The object names below are this release\'s (the chart renders',
    'these lists with toYaml, not tpl): made for a release whose values have',
    `  internalTLS.enabled: ${o.internalTls}`,
    o.jobserviceSecret
      ? `  jobservice.existingSecret: ${o.jobserviceSecret.name}, existingSecretKey: ${o.jobserviceSecret.key}`
      : '  jobservice.existingSecret not set',
    o.databaseSecret ? `  database.external.existingSecret: ${o.databaseSecret}` : '  database.external.existingSecret not set',
    o.fullnameOverride === undefined ? '  fullnameOverride not set' : `  fullnameOverride: ${o.fullnameOverride}`,
    o.nameOverride === undefined ? '  nameOverride not set' : `  nameOverride: ${o.nameOverride}`,
    'Run harbor-wait helm-values again when one of them changes.',
    ...(o.mode === 'sidecar'
      ? [
          '',
          'Needs Kubernetes 1.29 or later: older clusters drop or refuse restartPolicy',
          'on an init container, and the pods are not created (use --mode init there).',
          `Each wait container keeps running and serves /readyz, /livez and /metrics on`,
          `port ${SIDECAR_PORT}; the pod is Ready only while the dependencies answer.`,
        ]
      : []),
    '',
    `  helm upgrade ${o.release} harbor/harbor -n <namespace> --reuse-values -f <this file>`,
    '',
    'Helm replaces lists, it does not merge them: copy any init containers you',
    'already have into these lists.',
  ];
  const [core, jobservice] = components(o) as [Component, Component];
  return [
    // Every line of the header a comment, whatever it holds.
    ...header.flatMap((l) => l.split(/\r\n|\r|\n/)).map((l) => (l === '' ? '#' : `# ${l}`)),
    '',
    'core:',
    container(core, o, true),
    '',
    'jobservice:',
    container(jobservice, o, false),
    '',
  ].join('\n');
}

/** The command: the overlay on stdout; a bad option is a ConfigError (exit 2), said by the caller on stderr. */
export function runHelmValues(args: readonly string[], out: { stdout(text: string): void; stderr(text: string): void }): void {
  const request = parseHelmValuesArgs(args);
  if (request.kind === 'help') {
    out.stdout(helmValuesHelp());
    return;
  }
  for (const w of request.warnings) out.stderr(`harbor-wait helm-values: warning: ${w}\n`);
  out.stdout(helmValues(request.options));
}
