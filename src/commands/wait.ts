/**
 * The wait, and the sidecar: the start line, then every target's check retried until all are ready (exit 0),
 * the deadline passes (124), or a signal stops the run (143, 130); with --serve, the monitor behind
 * /readyz, /livez and /metrics until a signal. Whatever the ending but success, the termination message says why.
 */
import { builtin, monotonicMs } from '../basics/builtin.ts';
import { formatDuration } from '../basics/duration.ts';
import { ExitCode } from '../basics/exit-codes.ts';
import { VERSION } from '../basics/version.ts';
import type { Config } from '../config/options.ts';
import { signalName } from '../engine/log-events.ts';
import { createLogger, type Logger } from '../engine/log.ts';
import { terminate, terminationText } from '../engine/termination.ts';
import { waitAll } from '../engine/waiter.ts';
import type { Lookup } from '../net/dial.ts';
import type { Check, CheckContext } from '../protocols/types.ts';
import { cancelledCode, type Io } from './io.ts';

/** The system resolver (getaddrinfo: /etc/hosts, the search list), every address in its own order. */
const defaultLookup: Lookup = (hostname) => builtin('node:dns/promises').lookup(hostname, { all: true, order: 'verbatim' });

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

/** `harbor-wait [options] TARGET ...`: the wait (or the sidecar), logged as configured; the exit code. */
export async function runWait(config: Config, io: Io): Promise<ExitCode> {
  const log = await createLogger({ level: config.logLevel, format: config.logFormat }, io.stdout);
  const { code, text } = await runChecks(config, io, log);
  if (code !== ExitCode.Ready) terminate(config.terminationLog, text ?? '', log);
  return code;
}
