/**
 * run(io) → exit code: configuration, checks, the wait, and the lines that tell a person what happened.
 * Everything outside comes in through `io`, so tests can run it in-process; only main.ts touches `process`.
 */
import { builtin, monotonicMs } from '../basics/builtin.ts';
import { helpText, loadConfig, requestedLogFormat, requestedTerminationLog, type Config } from '../config/options.ts';
import { formatDuration } from '../basics/duration.ts';
import { ConfigError } from '../basics/errors.ts';
import { signalName } from '../engine/log-events.ts';
import { ExitCode } from '../basics/exit-codes.ts';
import { createLogger, type Logger } from '../engine/log.ts';
import { registerSecrets, scrubText } from '../basics/redact.ts';
import type { Resolver } from '../protocols/diagnosis-types.ts';
import type { Check, CheckContext, Lookup } from '../protocols/types.ts';
import { terminationText, writeTerminationLog } from '../engine/termination.ts';
import { VERSION } from '../basics/version.ts';
import { waitAll } from '../engine/waiter.ts';

export interface Io {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes to standard output / error; each call is one or more whole lines. */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Aborted on SIGTERM or SIGINT, with a Shutdown as its reason. */
  readonly signal: AbortSignal;
  /** Name resolution; tests inject one so that no DNS query leaves the machine. */
  readonly lookup?: Lookup;
  /** Every lookup `diagnose` makes (the system resolver and DNS itself); tests inject one, as for `lookup`. */
  readonly resolver?: Resolver;
  /** The jitter's random source, for tests. */
  readonly random?: () => number;
  /** How often `waiting` is logged; 10 s unless a test says otherwise. */
  readonly heartbeatMs?: number;
}

/** The reason a run is cancelled: the signal that stopped it. */
export class Shutdown {
  readonly signal: 'SIGTERM' | 'SIGINT';
  constructor(signal: 'SIGTERM' | 'SIGINT') {
    this.signal = signal;
  }
}

/** The system resolver (getaddrinfo: /etc/hosts, the search list), every address in its own order. */
const defaultLookup: Lookup = (hostname) => builtin('node:dns/promises').lookup(hostname, { all: true, order: 'verbatim' });

function cancelledCode(reason: unknown): ExitCode {
  return reason instanceof Shutdown && reason.signal === 'SIGINT' ? ExitCode.Sigint : ExitCode.Sigterm;
}

function logStart(log: Logger, config: Config): void {
  const settings = {
    preset: config.preset,
    serve: config.serve?.text ?? null,
    ...(config.serve ? { serve_interval_ms: config.serveIntervalMs } : {}),
    deadline_ms: config.serve ? null : config.deadlineMs,
    attempt_timeout_ms: config.attemptTimeoutMs,
    backoff_initial_ms: config.backoff.initialMs,
    backoff_max_ms: config.backoff.maxMs,
    backoff_factor: config.backoff.factor,
    expect_status: config.expectStatus.text,
    once: config.once,
    ca_file: config.tlsFiles.ca ?? null,
    cert_file: config.tlsFiles.cert ?? null,
    insecure_skip_verify: config.tls.insecureSkipVerify,
    log_level: config.logLevel,
    termination_log: config.terminationLog,
  };
  const labels = config.targets.map((t) => {
    const defaults = Object.entries(t.defaults ?? {});
    return defaults.length === 0 ? t.label : `${t.label} (unset, so core's defaults: ${defaults.map(([k, v]) => `${k}=${v}`).join(', ')})`;
  });
  const limit = config.serve
    ? `sidecar mode, serving on ${config.serve.text}`
    : config.deadlineMs > 0
      ? `deadline ${formatDuration(config.deadlineMs)}`
      : 'no deadline';
  const preset = config.preset ? `, preset ${config.preset}` : '';
  log.log(
    'info',
    'start',
    { version: VERSION, targets: config.targets.map((t) => ({ target: t.label, from: t.from, ...(t.defaults ? { defaults: t.defaults } : {}) })), settings },
    `harbor-wait ${VERSION} ${config.serve ? 'checking' : 'waiting for'} ${labels.length} target${labels.length === 1 ? '' : 's'} (${limit}${preset}): ${labels.join(', ')}`,
  );
  for (const warning of config.warnings) log.log('warn', 'warning', {}, warning);
}

/** What the waiter and the sidecar's monitor both take. */
function loopOptions(config: Config, io: Io, log: Logger) {
  return {
    attemptTimeoutMs: config.attemptTimeoutMs,
    backoff: config.backoff,
    signal: io.signal,
    log,
    ...(io.random ? { random: io.random } : {}),
    ...(io.heartbeatMs ? { heartbeatMs: io.heartbeatMs } : {}),
  };
}

/** Writes the termination message when the run did not succeed; a failure to write is only a debug line. */
function terminate(path: string | null, text: string, log: Logger | undefined): void {
  if (path === null) return;
  const problem = writeTerminationLog(path, text);
  if (problem) log?.log('debug', 'termination_log', { path, code: problem }, `could not write the termination message to ${path} (${problem})`);
}

async function runConfig(config: Config, io: Io): Promise<ExitCode> {
  if (config.diagnose) {
    const { runDiagnose } = await import('./diagnose.ts');
    const { code, text } = await runDiagnose(config, io);
    if (code !== ExitCode.Ready) terminate(config.terminationLog, text ?? '', undefined);
    return code;
  }
  const log = await createLogger({ level: config.logLevel, format: config.logFormat }, io.stdout);
  const { code, text } = await runChecks(config, io, log);
  if (code !== ExitCode.Ready) terminate(config.terminationLog, text ?? '', log);
  return code;
}

/** The run proper: the exit code, and for any exit but success the termination message. */
async function runChecks(config: Config, io: Io, log: Logger): Promise<{ code: ExitCode; text?: string }> {
  logStart(log, config);
  const ctx: CheckContext = {
    tls: config.tls,
    expectStatus: config.expectStatus,
    lookup: io.lookup ?? defaultLookup,
    userAgent: `harbor-wait/${VERSION}`,
  };
  const checks = await Promise.all(config.targets.map((t) => t.createCheck(ctx)));
  if (config.serve) {
    const code = await runSidecar(config, config.serve, checks, io, log);
    return { code, text: terminationText(`sidecar stopped by ${signalName(io.signal.reason)}`) };
  }
  const outcome = await waitAll(checks, { ...loopOptions(config, io, log), deadlineMs: config.deadlineMs, once: config.once });
  if (outcome.kind === 'ready') return { code: ExitCode.Ready };
  const text = terminationText(outcome.head, outcome.pending);
  if (outcome.kind === 'not_ready') return { code: ExitCode.Failure, text };
  if (outcome.kind === 'deadline') return { code: ExitCode.Deadline, text };
  return { code: cancelledCode(outcome.reason), text };
}

/** Sidecar mode: serve the monitor's state until SIGTERM / SIGINT. */
async function runSidecar(config: Config, listen: NonNullable<Config['serve']>, checks: Check[], io: Io, log: Logger): Promise<ExitCode> {
  const [{ createMonitor }, { serve }] = await Promise.all([import('../engine/monitor.ts'), import('../engine/sidecar-server.ts')]);
  const monitor = createMonitor(checks, { ...loopOptions(config, io, log), intervalMs: config.serveIntervalMs });
  // Listen before the first check: a bad address is a configuration error, and nothing has been contacted yet.
  const server = await serve({ listen, input: listen.input, monitor, version: VERSION });
  const started = monotonicMs();
  log.log('info', 'serving', { address: server.address, paths: ['/readyz', '/livez', '/metrics'] }, `serving /readyz, /livez and /metrics on ${server.address}`);
  try {
    await monitor.run();
  } finally {
    await server.close();
  }
  const reason: unknown = io.signal.reason;
  const name = signalName(reason);
  log.log('info', 'stopped', { signal: name, elapsed_ms: Math.round(monotonicMs() - started) }, `stopped by ${name}; the server is closed`);
  return cancelledCode(reason);
}

/** The command word that prints a Helm values overlay instead of waiting: `harbor-wait helm-values ...`. */
export const HELM_VALUES_COMMAND = 'helm-values';

/** `helm-values`: the overlay on stdout; a bad option on stderr (stdout is the YAML), exit 2. */
async function runGenerator(io: Io): Promise<ExitCode> {
  try {
    const { runHelmValues } = await import('./helm-values.ts');
    runHelmValues(io.argv.slice(1), io);
    return ExitCode.Ready;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`harbor-wait ${HELM_VALUES_COMMAND}: ${err.message}\n`);
      return ExitCode.ConfigError;
    }
    io.stderr(`harbor-wait ${HELM_VALUES_COMMAND}: internal error (a bug, please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ExitCode.Failure;
  }
}

/** Runs harbor-wait once and returns the exit code. Never throws. */
export async function run(io: Io): Promise<ExitCode> {
  if (io.argv[0] === HELM_VALUES_COMMAND) return runGenerator(io);
  try {
    const loaded = await loadConfig(io.argv, io.env);
    if (loaded.kind === 'help') {
      io.stdout(helpText(VERSION));
      return ExitCode.Ready;
    }
    if (loaded.kind === 'version') {
      io.stdout(`${VERSION}\n`);
      return ExitCode.Ready;
    }
    registerSecrets(loaded.config.secrets);
    if (io.signal.aborted) return cancelledCode(io.signal.reason);
    return await runConfig(loaded.config, io);
  } catch (err) {
    const path = requestedTerminationLog(io.argv, io.env);
    if (err instanceof ConfigError) {
      const log = await createLogger({ level: 'info', format: requestedLogFormat(io.argv, io.env) }, io.stdout);
      log.log('error', 'config_error', { input: err.input }, err.message);
      terminate(path, terminationText(`configuration error: ${err.message}`), log);
      return ExitCode.ConfigError;
    }
    // A bug: say so with the stack. Its message may quote a server: outside text, scrubbed as such.
    const text = scrubText(err instanceof Error ? (err.stack ?? err.message) : String(err));
    io.stderr(`harbor-wait: internal error (a bug, please report it): ${text}\n`);
    terminate(path, terminationText(`internal error (a bug, please report it): ${text.split('\n', 1)[0]}`), undefined);
    return ExitCode.Failure;
  }
}
