/**
 * run(io) → exit code: the command line read, and the command it names run (the wait or the sidecar, diagnose,
 * helm-values, lint); help, version, configuration errors and bugs answered here. Everything outside comes in
 * through `io`, so tests can run it in-process; only main.ts touches `process`.
 */
import { helpText, loadConfig, requestedLogFormat, requestedTerminationLog, type Config } from '../config/options.ts';
import { ConfigError } from '../basics/errors.ts';
import { ExitCode } from '../basics/exit-codes.ts';
import { createLogger } from '../engine/log.ts';
import { registerSecrets, scrubText } from '../basics/redact.ts';
import { terminate, terminationText } from '../engine/termination.ts';
import { VERSION } from '../basics/version.ts';
import { cancelledCode, type Io } from './io.ts';
import { runWait } from './wait.ts';

async function runConfig(config: Config, io: Io): Promise<ExitCode> {
  if (config.diagnose) {
    const { runDiagnose } = await import('./diagnose.ts');
    const { code, text } = await runDiagnose(config, io);
    if (code !== ExitCode.Ready) terminate(config.terminationLog, text ?? '', undefined);
    return code;
  }
  return runWait(config, io);
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

/** The command word that checks rendered manifests instead of waiting: `harbor-wait lint FILE|-`. */
export const LINT_COMMAND = 'lint';

/** `lint`: the report on stdout; a bad option or input on stderr, exit 2; a bug with its stack, exit 1. */
async function runLintCommand(io: Io): Promise<ExitCode> {
  try {
    const { runLint } = await import('./lint.ts');
    return await runLint(io.argv.slice(1), io);
  } catch (err) {
    io.stderr(`harbor-wait ${LINT_COMMAND}: internal error (a bug, please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ExitCode.Failure;
  }
}

/** Runs harbor-wait once and returns the exit code. Never throws. */
export async function run(io: Io): Promise<ExitCode> {
  if (io.argv[0] === HELM_VALUES_COMMAND) return runGenerator(io);
  if (io.argv[0] === LINT_COMMAND) return runLintCommand(io);
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
