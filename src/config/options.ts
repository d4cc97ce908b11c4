/**
 * argv + env → one frozen Config. Flags beat environment variables, which beat defaults. Every problem is a
 * ConfigError that names the flag or variable and the bad part, never a secret. Nothing here touches the
 * network or loads a protocol library.
 */
import { builtin } from '../basics/builtin.ts';
import { DEFAULT_BACKOFF, type BackoffPolicy } from '../basics/backoff.ts';
import { formatDuration, parseDuration } from '../basics/duration.ts';
import { ConfigError } from '../basics/errors.ts';
import { DEFAULT_EXPECT_STATUS, parseStatusSet, type StatusSet } from '../basics/status-set.ts';
import { parseListenAddress, type ListenAddress } from '../net/listen-address.ts';
import { checkKeyPair, readPem, readText } from '../basics/files.ts';
import { isScrubbable, MIN_SCRUBBED_LENGTH } from '../basics/redact.ts';
import { DEFAULT_JOBSERVICE_CONFIG, PRESETS, resolvePreset, type Preset } from './presets.ts';
import { harborCoreTarget, parseTarget, type Target } from '../protocols/registry.ts';
import { DEFAULT_TERMINATION_LOG } from '../engine/termination.ts';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../engine/log.ts';
import type { TlsSettings } from '../net/dial.ts';


interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** The environment variable; part of the public contract. */
  readonly env?: string;
  readonly value?: string;
  readonly default?: string;
  readonly help: string;
}

/** Every option, its environment variable, default and help line: the one table the help text is made from. */
export const OPTIONS = {
  preset: { type: 'string', env: 'WAIT_PRESET', value: 'NAME', help: "core or jobservice: find the component's targets (Redis, core's database, core's API) in the env and files the chart gives it" },
  'jobservice-config': { type: 'string', env: 'WAIT_JOBSERVICE_CONFIG', value: 'FILE', default: DEFAULT_JOBSERVICE_CONFIG, help: "jobservice's config.yml, read by --preset jobservice" },
  deadline: { type: 'string', env: 'WAIT_DEADLINE', value: 'DURATION', default: '5m', help: 'give up after this long and exit 124; 0 waits forever' },
  'attempt-timeout': { type: 'string', env: 'WAIT_ATTEMPT_TIMEOUT', value: 'DURATION', default: '5s', help: 'limit for one attempt: connect, handshake and answer' },
  'backoff-initial': { type: 'string', env: 'WAIT_BACKOFF_INITIAL', value: 'DURATION', default: `${DEFAULT_BACKOFF.initialMs}ms`, help: 'delay after the first failed attempt' },
  'backoff-max': { type: 'string', env: 'WAIT_BACKOFF_MAX', value: 'DURATION', default: formatDuration(DEFAULT_BACKOFF.maxMs), help: 'largest delay between attempts of one target' },
  'backoff-factor': { type: 'string', env: 'WAIT_BACKOFF_FACTOR', value: 'NUMBER', default: String(DEFAULT_BACKOFF.factor), help: 'growth of the delay per failed attempt (1 to 100)' },
  'expect-status': { type: 'string', env: 'WAIT_EXPECT_STATUS', value: 'LIST', default: DEFAULT_EXPECT_STATUS, help: 'accepted statuses for http(s) targets, e.g. 200,204,300-399' },
  'harbor-core': { type: 'string', env: 'WAIT_HARBOR_CORE', value: 'URL', help: "core's base URL; waits for GET <URL>/api/v2.0/internalconfig to answer 200" },
  'harbor-secret-file': { type: 'string', env: 'WAIT_HARBOR_SECRET_FILE', value: 'FILE', help: 'file holding the jobservice secret (else env JOBSERVICE_SECRET)' },
  'ca-file': { type: 'string', env: 'WAIT_CA_FILE', value: 'FILE', help: 'PEM CA certificate(s) to trust for https, rediss and postgres (without sslrootcert), besides the defaults' },
  'cert-file': { type: 'string', env: 'WAIT_CERT_FILE', value: 'FILE', help: 'PEM client certificate for https and rediss (with --key-file)' },
  'key-file': { type: 'string', env: 'WAIT_KEY_FILE', value: 'FILE', help: 'PEM private key of the client certificate' },
  'insecure-skip-verify': { type: 'boolean', env: 'WAIT_INSECURE_SKIP_VERIFY', help: 'do not verify server certificates (logs a warning)' },
  once: { type: 'boolean', env: 'WAIT_ONCE', help: 'one attempt per target: exit 0 when all are ready, 1 otherwise' },
  serve: { type: 'string', env: 'WAIT_SERVE', value: 'ADDR', help: 'sidecar mode: never exit; keep checking and serve /readyz, /livez, /metrics on ADDR, e.g. :8099' },
  'serve-interval': { type: 'string', env: 'WAIT_SERVE_INTERVAL', value: 'DURATION', default: '5s', help: 'with --serve: time between checks of a ready target' },
  'log-level': { type: 'string', env: 'WAIT_LOG_LEVEL', value: 'LEVEL', default: 'info', help: 'debug, info, warn or error' },
  'log-format': { type: 'string', env: 'WAIT_LOG_FORMAT', value: 'FORMAT', default: 'json', help: 'json (one object per line) or pretty (for a terminal; the default for diagnose)' },
  'termination-log': { type: 'string', env: 'WAIT_TERMINATION_LOG', value: 'FILE', default: DEFAULT_TERMINATION_LOG, help: 'on any exit but 0, write a short summary to this file if it exists (the kubelet shows it in kubectl describe pod); empty turns it off' },
  diagnose: { type: 'boolean', env: 'WAIT_DIAGNOSE', help: 'run the troubleshooting checklist once over every target and print a report (same as the diagnose command)' },
  'exit-zero': { type: 'boolean', env: 'WAIT_EXIT_ZERO', help: 'with diagnose: exit 0 even when a check failed (for an init container that must not block the pod)' },
  help: { type: 'boolean', help: 'show this help' },
  version: { type: 'boolean', help: 'show the version' },
} as const satisfies Record<string, OptionSpec>;

type OptionName = keyof typeof OPTIONS;

/** Environment variables read besides the options'. */
export const TARGETS_ENV = 'WAIT_TARGETS';
/** The command word that runs a diagnosis instead of the wait: `harbor-wait diagnose ...`. */
export const DIAGNOSE_COMMAND = 'diagnose';
export const SECRET_ENV = 'JOBSERVICE_SECRET';

export interface Config {
  readonly targets: readonly Target[];
  readonly preset: Preset | null;
  /** 0 waits forever. */
  readonly deadlineMs: number;
  readonly attemptTimeoutMs: number;
  readonly backoff: BackoffPolicy;
  readonly expectStatus: StatusSet;
  readonly tls: TlsSettings;
  /** The TLS files as given, for the start line. */
  readonly tlsFiles: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  readonly once: boolean;
  /** Sidecar mode: where to serve /readyz, /livez and /metrics; null waits and exits. */
  readonly serve: (ListenAddress & { readonly text: string; readonly input: string }) | null;
  readonly serveIntervalMs: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Where the termination message goes; null when turned off. */
  readonly terminationLog: string | null;
  /** `diagnose`: one pass and a report instead of waiting. */
  readonly diagnose: boolean;
  /** With diagnose: exit 0 even when a check failed. */
  readonly exitZero: boolean;
  /** Every secret string the targets carry: scrubbed from all output. */
  readonly secrets: readonly string[];
  /** Things worth a warning that do not stop the run. */
  readonly warnings: readonly string[];
}

export type Loaded = { readonly kind: 'help' } | { readonly kind: 'version' } | { readonly kind: 'run'; readonly config: Config };

type Env = Readonly<Record<string, string | undefined>>;

/** Options that look like a way to pass the secret on the command line, which is refused. */
const SECRET_FLAGS = new Set(['harbor-secret', 'secret', 'jobservice-secret', 'core-secret']);

interface Raw {
  readonly values: Partial<Record<OptionName, string | boolean>>;
  readonly positionals: readonly string[];
}

/**
 * Reads argv with parseArgs, but reports unknown options in its own words (never echoing a value). With
 * `check` false it reports nothing: for finding the log format a configuration error is to be written in.
 */
function readArgv(argv: readonly string[], check = true): Raw {
  const { values, positionals, tokens } = builtin('node:util').parseArgs({
    args: [...argv],
    options: Object.fromEntries(Object.entries(OPTIONS).map(([name, o]) => [name, { type: o.type }])),
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== 'option' || !check) continue;
    const spec = (OPTIONS as Record<string, OptionSpec>)[token.name];
    if (SECRET_FLAGS.has(token.name)) {
      throw new ConfigError(
        token.rawName,
        'a secret is never accepted on the command line (it would show in the process list); use --harbor-secret-file or env JOBSERVICE_SECRET',
      );
    }
    if (!spec || token.rawName.length === 2) {
      throw new ConfigError(token.rawName, 'unknown option (see --help)');
    }
    if (spec.type === 'string' && token.value === undefined) {
      throw new ConfigError(token.rawName, `needs a value: ${token.rawName} ${spec.value ?? 'VALUE'}`);
    }
    if (spec.type === 'boolean' && token.inlineValue) {
      throw new ConfigError(token.rawName, `takes no value; set ${spec.env ?? 'it'}=true|false in the environment instead`);
    }
  }
  return { values: values as Raw['values'], positionals };
}

/** The command word, when the first argument that is not an option is `diagnose`; the targets are the rest. */
function withCommand(raw: Raw): { raw: Raw; command: boolean } {
  if (raw.positionals[0] !== DIAGNOSE_COMMAND) return { raw, command: false };
  return { raw: { values: raw.values, positionals: raw.positionals.slice(1) }, command: true };
}

/** Reads one option: the flag if given, else its env var (empty counts as unset). */
function pick(raw: Raw, env: Env, name: OptionName): { text: string; input: string } | undefined {
  const flag = raw.values[name];
  if (typeof flag === 'string') return { text: flag, input: `--${name}` };
  const envName = (OPTIONS[name] as OptionSpec).env;
  const fromEnv = envName ? env[envName] : undefined;
  if (envName && fromEnv !== undefined && fromEnv !== '') return { text: fromEnv, input: envName };
  return undefined;
}

function pickBoolean(raw: Raw, env: Env, name: OptionName): boolean {
  if (raw.values[name] === true) return true;
  const envName = (OPTIONS[name] as OptionSpec).env as string;
  const text = env[envName];
  if (text === undefined || text === '') return false;
  const lower = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  throw new ConfigError(envName, `"${text}" is not a boolean (use true or false)`);
}

function pickDuration(raw: Raw, env: Env, name: OptionName): { ms: number; input: string } {
  const picked = pick(raw, env, name) ?? { text: (OPTIONS[name] as OptionSpec).default as string, input: `--${name}` };
  const parsed = parseDuration(picked.text);
  if ('problem' in parsed) throw new ConfigError(picked.input, parsed.problem);
  return { ms: parsed.ms, input: picked.input };
}

function pickChoice<T extends string>(raw: Raw, env: Env, name: OptionName, choices: readonly T[]): T {
  const picked = pick(raw, env, name);
  if (!picked) return (OPTIONS[name] as OptionSpec).default as T;
  const value = picked.text.trim().toLowerCase();
  if (!(choices as readonly string[]).includes(value)) {
    throw new ConfigError(picked.input, `"${picked.text}" is not one of ${choices.join(', ')}`);
  }
  return value as T;
}

/**
 * The jobservice secret from --harbor-secret-file / WAIT_HARBOR_SECRET_FILE, else env JOBSERVICE_SECRET (empty,
 * or white space alone, counts as unset); undefined when neither. Used exactly as given (only a file's final line ending is dropped).
 */
function findSecret(raw: Raw, env: Env): string | undefined {
  const file = pick(raw, env, 'harbor-secret-file');
  if (file) {
    // Byte for byte as jobservice would send it, but for the one line ending an editor adds at the end.
    const secret = readText(file, 'the secret file').replace(/\r?\n$/, '');
    // White space alone can never be accepted: HTTP drops it from the end of the header.
    if (secret.trim() === '') throw new ConfigError(file.input, `the secret file "${file.text}" is empty`);
    return checkSecret(secret, file.input);
  }
  // Jobservice reads the variable as it is: no trimming, or a secret core refuses would be ready here.
  const secret = env[SECRET_ENV];
  return secret?.trim() ? checkSecret(secret, SECRET_ENV) : undefined;
}

/** Refuses a secret that cannot be what core expects, saying why without showing it. */
function checkSecret(secret: string, input: string): string {
  if (/^Harbor-Secret(\s|$)/i.test(secret)) {
    throw new ConfigError(input, 'holds the whole header value "Harbor-Secret ...": give the secret alone; the prefix is added');
  }
  const control = /[\u0000-\u0008\u000a-\u001f\u007f]/.exec(secret)?.[0];
  if (control !== undefined) {
    const code = `U+${control.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw new ConfigError(input, `holds ${code}, a line break or control character, which an HTTP header cannot carry: the secret is one line`);
  }
  return secret;
}

/**
 * The jobservice secret: from --harbor-secret-file / WAIT_HARBOR_SECRET_FILE, else env JOBSERVICE_SECRET.
 * `needer` names where the core URL came from, for the error when there is no secret.
 */
function readSecret(raw: Raw, env: Env, needer: string): string {
  const secret = findSecret(raw, env);
  if (secret) return secret;
  const hint = env.CORE_SECRET
    ? ' (CORE_SECRET is set, but core checks the jobservice secret: give JOBSERVICE_SECRET)'
    : '';
  throw new ConfigError(
    needer,
    `needs the jobservice secret: give --harbor-secret-file / WAIT_HARBOR_SECRET_FILE, or set env ${SECRET_ENV}${hint}`,
  );
}

function readBackoff(raw: Raw, env: Env): BackoffPolicy {
  const initial = pickDuration(raw, env, 'backoff-initial');
  if (initial.ms === 0) throw new ConfigError(initial.input, 'must be more than 0');
  // Without an explicit maximum, a larger initial delay raises the default maximum to it.
  const max = pick(raw, env, 'backoff-max')
    ? pickDuration(raw, env, 'backoff-max')
    : { ms: Math.max(DEFAULT_BACKOFF.maxMs, initial.ms), input: '--backoff-max' };
  if (max.ms < initial.ms) throw new ConfigError(max.input, `must be at least the initial backoff (${formatDuration(initial.ms)})`);
  const f = pick(raw, env, 'backoff-factor');
  let factor = DEFAULT_BACKOFF.factor;
  if (f) {
    factor = Number(f.text);
    if (!/^\s*\d+(\.\d+)?\s*$/.test(f.text) || !(factor >= 1) || factor > 100) {
      throw new ConfigError(f.input, `"${f.text}" is not a factor between 1 and 100`);
    }
  }
  return { initialMs: initial.ms, maxMs: max.ms, factor };
}

/** A target and where exactly it was given (`argument 2`, `WAIT_TARGETS item 1`, `_REDIS_URL_CORE`), for telling targets apart. */
interface Given {
  readonly target: Target;
  readonly where: string;
}

/**
 * One target per identity (what decides the connection and its credentials, secrets included: targets.ts),
 * so that `redis://:RIGHT@h/1` and `redis://:WRONG@h/1` are both checked. Targets whose labels still collide
 * are told apart in every line by where each was given: `redis://:***@h/1 (argument 2)`.
 */
function distinctTargets(given: readonly Given[], warnings: string[]): Target[] {
  const byIdentity = new Map<string, Given>();
  for (const g of given) {
    const first = byIdentity.get(g.target.identity);
    if (first) warnings.push(`target ${g.target.label} is given twice (${first.where} and ${g.where}); it is checked once`);
    else byIdentity.set(g.target.identity, g);
  }
  const kept = [...byIdentity.values()];
  const count = new Map<string, number>();
  for (const g of kept) count.set(g.target.label, (count.get(g.target.label) ?? 0) + 1);
  return kept.map((g) => ((count.get(g.target.label) ?? 0) > 1 ? g.target.named(`${g.target.label} (${g.where})`) : g.target));
}

function readTargets(raw: Raw, env: Env, warnings: string[], presetTargets: readonly Target[]): Target[] {
  const given: Given[] = presetTargets.map((target) => ({ target, where: target.from }));
  if (raw.positionals.length > 0) {
    for (const [i, text] of raw.positionals.entries()) given.push({ target: parseTarget(text, 'argument'), where: `argument ${i + 1}` });
  } else {
    const pieces = (env[TARGETS_ENV] ?? '').split(/\s+/).filter(Boolean);
    // A password with white space in it splits a URL in two; its pieces are not shown, as they hold the password.
    if (pieces.some((p) => !p.includes('://') && p.includes('@'))) {
      throw new ConfigError(
        TARGETS_ENV,
        'a piece holds "@" but no "://": a target URL cut in two at white space in its password (percent-encode it: %20), or no URL at all; not shown, as it may hold the password',
      );
    }
    for (const [i, text] of pieces.entries()) given.push({ target: parseTarget(text, TARGETS_ENV), where: `${TARGETS_ENV} item ${i + 1}` });
  }
  const core = pick(raw, env, 'harbor-core');
  if (core) {
    given.push({ target: harborCoreTarget(core.text.trim(), core.input, readSecret(raw, env, core.input)), where: core.input });
  } else if (pick(raw, env, 'harbor-secret-file') && !presetTargets.some((t) => t.from === 'CORE_URL')) {
    warnings.push('a Harbor secret file is given but no --harbor-core URL: the secret is not used');
  }
  if (given.length === 0) {
    throw new ConfigError(
      'targets',
      `nothing to wait for: give target URLs as arguments or in ${TARGETS_ENV}, --harbor-core, or --preset (see --help)`,
    );
  }
  return distinctTargets(given, warnings);
}

const KNOWN_ENV = new Set([TARGETS_ENV, ...Object.values(OPTIONS).flatMap((o: OptionSpec) => (o.env ? [o.env] : []))]);

function readJobserviceConfig(raw: Raw, env: Env): { path: string; input: string } {
  const picked = pick(raw, env, 'jobservice-config');
  return picked ? { path: picked.text, input: picked.input } : { path: DEFAULT_JOBSERVICE_CONFIG, input: '--jobservice-config' };
}

/** --serve: sidecar mode. It never exits on its own, so --once contradicts it and a deadline does not apply. */
function readServe(raw: Raw, env: Env, once: boolean, warnings: string[]): Config['serve'] {
  const picked = pick(raw, env, 'serve');
  if (!picked) return null;
  const address = parseListenAddress(picked.text);
  if ('problem' in address) throw new ConfigError(picked.input, address.problem);
  if (once) throw new ConfigError(picked.input, 'cannot be combined with --once / WAIT_ONCE: sidecar mode keeps checking');
  const deadline = pick(raw, env, 'deadline');
  if (deadline) warnings.push(`${deadline.input} is ignored with ${picked.input}: a sidecar never gives up; use the startupProbe's failureThreshold`);
  return { ...address, text: picked.text.trim(), input: picked.input };
}

/**
 * --termination-log / WAIT_TERMINATION_LOG: the file, or null when given empty (off). Read before anything
 * else can fail, so that a configuration error is written there too; never an error itself.
 */
function readTerminationLog(raw: Raw, env: Env): string | null {
  const flag = raw.values['termination-log'];
  const text = typeof flag === 'string' ? flag : env.WAIT_TERMINATION_LOG ?? DEFAULT_TERMINATION_LOG;
  return text.trim() === '' ? null : text.trim();
}

/** The termination log asked for, read as loosely as the log format: for a configuration error. */
export function requestedTerminationLog(argv: readonly string[], env: Env): string | null {
  try {
    return readTerminationLog(readArgv(argv, false), env);
  } catch {
    return DEFAULT_TERMINATION_LOG;
  }
}

/** Loads the configuration. Throws ConfigError on any bad input. */
export async function loadConfig(argv: readonly string[], env: Env): Promise<Loaded> {
  const { raw, command } = withCommand(readArgv(argv));
  if (raw.values.help) return { kind: 'help' };
  if (raw.values.version) return { kind: 'version' };

  const warnings: string[] = [];
  const diagnose = command || pickBoolean(raw, env, 'diagnose');
  const exitZero = pickBoolean(raw, env, 'exit-zero');
  if (exitZero && !diagnose) warnings.push('--exit-zero / WAIT_EXIT_ZERO only applies to diagnose: ignored');
  const logLevel = pickChoice(raw, env, 'log-level', LOG_LEVELS);
  // A diagnosis is a report for a person: pretty unless JSON is asked for.
  const logFormat = pick(raw, env, 'log-format') || !diagnose ? pickChoice(raw, env, 'log-format', LOG_FORMATS) : 'pretty';
  const deadline = pickDuration(raw, env, 'deadline');
  const attemptTimeout = pickDuration(raw, env, 'attempt-timeout');
  if (attemptTimeout.ms === 0) throw new ConfigError(attemptTimeout.input, 'must be more than 0');
  const backoff = readBackoff(raw, env);

  const statusPick = pick(raw, env, 'expect-status') ?? { text: DEFAULT_EXPECT_STATUS, input: '--expect-status' };
  const expectStatus = parseStatusSet(statusPick.text);
  if ('problem' in expectStatus) throw new ConfigError(statusPick.input, expectStatus.problem);

  const cert = readPem(pick(raw, env, 'cert-file'), 'certificate');
  const key = readPem(pick(raw, env, 'key-file'), 'private key');
  if (!cert !== !key) {
    throw new ConfigError(cert ? '--key-file' : '--cert-file', 'a client certificate needs both --cert-file and --key-file');
  }
  if (cert && key) checkKeyPair(cert, key, pick(raw, env, 'key-file')?.input ?? '--key-file');
  const insecureSkipVerify = pickBoolean(raw, env, 'insecure-skip-verify');
  const once = pickBoolean(raw, env, 'once');
  const serve = readServe(raw, env, once, warnings);
  if (serve && diagnose) throw new ConfigError(serve.input, 'cannot be combined with diagnose: a diagnosis is one pass and a report');
  const serveInterval = pickDuration(raw, env, 'serve-interval');
  if (serveInterval.ms === 0) throw new ConfigError(serveInterval.input, 'must be more than 0');

  const presetPick = pick(raw, env, 'preset');
  const preset = presetPick ? pickChoice(raw, env, 'preset', PRESETS) : null;
  const caPick = pick(raw, env, 'ca-file');
  const found = preset && presetPick
    ? await resolvePreset(preset, {
        env,
        input: presetPick.input,
        jobserviceConfig: readJobserviceConfig(raw, env),
        coreGiven: pick(raw, env, 'harbor-core') !== undefined,
        secret: () => findSecret(raw, env),
        caGiven: caPick !== undefined,
        diagnose,
      })
    : undefined;
  warnings.push(...(found?.warnings ?? []));
  const ca = readPem(caPick ?? (found?.ca ? { text: found.ca.path, input: found.ca.input } : undefined), 'certificate');

  const targets = readTargets(raw, env, warnings, found?.targets ?? []);
  if (insecureSkipVerify) {
    warnings.push('certificate verification is off (--insecure-skip-verify): any server can pose as the targets');
  }
  for (const t of targets) {
    if (t.skipsVerify) warnings.push(`certificate verification is off for ${t.label} (skip_verify in its URL)`);
    warnings.push(...(t.warnings ?? []));
    if (t.secrets.some((secret) => !isScrubbable(secret))) {
      warnings.push(
        `the password or secret of ${t.label} (from ${t.from}) is shorter than ${MIN_SCRUBBED_LENGTH} characters: it is never shown where harbor-wait places it, but it is not searched for in what servers say (it would match ordinary words), so a server that echoes it would show it; use a longer one`,
      );
    }
    if (insecureSkipVerify && t.verifiesItself) {
      warnings.push(`--insecure-skip-verify does not apply to ${t.label} (${t.from}): its ${t.verifiesItself} is checked, as core's driver checks it`);
    }
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('WAIT_') && !KNOWN_ENV.has(name)) warnings.push(`environment variable ${name} is not one harbor-wait reads`);
  }

  const config: Config = {
    targets,
    preset,
    deadlineMs: serve ? 0 : deadline.ms,
    attemptTimeoutMs: attemptTimeout.ms,
    backoff,
    expectStatus,
    tls: {
      ...(ca ? { ca: ca.pem } : {}),
      ...(cert && key ? { cert: cert.pem, key: key.pem } : {}),
      insecureSkipVerify,
    },
    tlsFiles: { ...(ca ? { ca: ca.path } : {}), ...(cert ? { cert: cert.path } : {}), ...(key ? { key: key.path } : {}) },
    once,
    serve,
    serveIntervalMs: serveInterval.ms,
    logLevel,
    logFormat,
    terminationLog: readTerminationLog(raw, env),
    diagnose,
    exitZero,
    secrets: [...new Set(targets.flatMap((t) => t.secrets))],
    warnings,
  };
  return { kind: 'run', config: Object.freeze(config) };
}

/** The log format asked for, if it can be read at all: so that even a configuration error comes out as asked. */
export function requestedLogFormat(argv: readonly string[], env: Env): LogFormat {
  try {
    const { raw, command } = withCommand(readArgv(argv, false));
    if (!pick(raw, env, 'log-format') && (command || pickBoolean(raw, env, 'diagnose'))) return 'pretty';
    return pickChoice(raw, env, 'log-format', LOG_FORMATS);
  } catch {
    return 'json';
  }
}

/** The --help text, made from the options table. */
export function helpText(version: string): string {
  const rows = Object.entries(OPTIONS).map(([name, o]: [string, OptionSpec]) => {
    const flag = `--${name}${o.value ? ` ${o.value}` : ''}`;
    const extra = [o.env ? `env ${o.env}` : '', o.default ? `default ${o.default}` : ''].filter(Boolean).join(', ');
    return `  ${flag.padEnd(28)} ${o.help}${extra ? ` [${extra}]` : ''}`;
  });
  return `harbor-wait ${version}: hold a Harbor pod until its dependencies are really ready.

Usage: harbor-wait [options] [TARGET ...]            wait until every target is ready
       harbor-wait diagnose [options] [TARGET ...]   check every target once and print a report:
                                                     URL, DNS, TCP, TLS, auth, server state, limits
                                                     (also --diagnose, env WAIT_DIAGNOSE; pretty unless
                                                     --log-format json; exit 0 nothing failed, 1 a check
                                                     failed, 2 bad input; --exit-zero)
       harbor-wait helm-values [options]             print the Helm values overlay that adds harbor-wait
                                                     to a harbor-helm release (helm-values --help)
       harbor-wait lint [options] FILE|DIR|-         check a release's rendered manifests before install
                                                     (helm template ... | harbor-wait lint -; lint --help)

Targets (or env ${TARGETS_ENV}, separated by whitespace), all checked in parallel:
  redis://[user:password@]host[:port][/db][?params]    AUTH, SELECT, PING answered PONG
  rediss://...                                        the same over verified TLS
  redis+sentinel://[:password@]s1:26379,s2:26379/master[/db]
  rediss+sentinel://...                               ask the sentinels, confirm ROLE master, then as above
  postgres://user[:password]@host[:port][/db][?params] log in, SELECT 1, writable, schema not dirty
                                                      (params: sslmode, sslrootcert, sslcert, sslkey,
                                                      connect_timeout, application_name, target_session_attrs)
  http://host[:port]/path, https://...                GET answered with an expected status
  tcp://host:port                                     a TCP connection opens

Options:
${rows.join('\n')}

Durations: 250ms, 5s, 1m30s, 2h; a bare integer means seconds.
Exit codes: 0 ready, 1 error or not ready with --once, 2 configuration error, 124 deadline, 130 SIGINT, 143 SIGTERM.
`;
}
