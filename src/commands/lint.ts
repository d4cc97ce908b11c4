/**
 * `harbor-wait lint [FILE|DIR|-]`: a release's rendered manifests (helm template's output, a directory of them,
 * or standard input) checked as each Harbor component will read them (src/lint/), before anything runs. The
 * report is diagnose's: pretty or one JSON line, exit 0 (no failure), 1 (a failure, unless --exit-zero) or 2
 * (bad options, or input that is not a stream of manifests, said on stderr).
 */
import { abortable } from '../basics/abort.ts';
import { builtin } from '../basics/builtin.ts';
import { ConfigError } from '../basics/errors.ts';
import { ExitCode } from '../basics/exit-codes.ts';
import { fileErrorCode } from '../basics/files.ts';
import { VERSION } from '../basics/version.ts';
import { renderJson, renderReport, type Group } from '../engine/diagnosis-render.ts';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../engine/log.ts';
import { LINT_LAYERS } from '../lint/findings.ts';
import { lintRelease } from '../lint/lint.ts';
import { readManifests, type Source } from '../lint/manifests.ts';
import { buildRelease, COMPONENTS } from '../lint/release.ts';
import { cancelledCode, type Io } from './io.ts';

const LINT_COMMAND = 'lint';

/** A release renders to some hundred kilobytes; a stream of 8 MiB is fifty of them, and one larger is refused before it is parsed (parsing 8 MiB of YAML takes seconds and some hundred MB). */
export const MAX_STREAM_BYTES = 8 * 1024 * 1024;
const MANIFEST_FILE = /\.(ya?ml|json)$/i;

export interface LintArgs {
  readonly input: string;
  readonly format: LogFormat;
  readonly level: LogLevel;
  readonly exitZero: boolean;
  readonly maxConnections: number | undefined;
}

export function lintHelp(): string {
  return `Usage: harbor-wait lint [options] FILE|DIR|-

Checks a Harbor release's rendered manifests before it is installed: every Redis URL, the registry's redis
block, core's database settings and the connection budget, the wait containers, init container resources,
and the Secrets the components need. Values are described, never shown.
  helm template harbor harbor/harbor -n harbor -f values.yaml | harbor-wait lint -

Options:
  --log-format FORMAT        pretty or json (one line, for CI) [default pretty]
  --log-level LEVEL          info shows every check, warn hides what is fine, error shows failures only [default info]
  --max-connections N        the PostgreSQL server's max_connections (else 1024 for the chart's internal database, 100 for an external one)
  --exit-zero                exit 0 even when a check fails
  -h, --help                 this text

Exit: 0 no failure, 1 a check failed, 2 bad options or input that is not a stream of manifests.
`;
}

function pick<T extends string>(list: readonly T[], value: string, input: string): T {
  if ((list as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(input, `"${value}" is not one of ${list.join(', ')}`);
}

export function parseLintArgs(args: readonly string[]): LintArgs | 'help' {
  let input: string | undefined;
  let format: LogFormat = 'pretty';
  let level: LogLevel = 'info';
  let exitZero = false;
  let maxConnections: number | undefined;
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '-' || !arg.startsWith('-')) {
      if (input !== undefined) throw new ConfigError(arg === '-' ? '-' : 'FILE', 'lint reads one stream: give one FILE, DIR or -');
      input = arg;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (seen.has(name)) throw new ConfigError(name, 'given twice');
    seen.add(name);
    if (name === '--exit-zero') {
      if (eq >= 0) throw new ConfigError(name, 'takes no value');
      exitZero = true;
      continue;
    }
    if (!['--log-format', '--log-level', '--max-connections'].includes(name)) throw new ConfigError(name.slice(0, 60), 'not an option of lint (see harbor-wait lint --help)');
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new ConfigError(name, 'needs a value');
    if (name === '--log-format') format = pick(LOG_FORMATS, value, name);
    else if (name === '--log-level') level = pick(LOG_LEVELS, value, name);
    else {
      if (!/^\d{1,6}$/.test(value) || Number(value) < 1 || Number(value) > 262143) throw new ConfigError(name, `"${value.slice(0, 20)}" is not a max_connections (1-262143)`);
      maxConnections = Number(value);
    }
  }
  if (input === undefined) throw new ConfigError('FILE', 'missing: give the rendered manifests as FILE, DIR, or - for standard input (helm template ... | harbor-wait lint -)');
  return { input, format, level, exitZero, maxConnections };
}

/** Reads a stream to its end, at most `max` bytes: undefined when there are more. */
async function readStream(stream: AsyncIterable<Uint8Array>, max: number): Promise<Buffer | undefined> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of stream) {
    length += chunk.length;
    if (length > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length);
}

const TOO_LARGE = `is larger than ${MAX_STREAM_BYTES / 1024 / 1024} MiB: not one release's manifests`;

/** The manifest files of a directory, sorted, its subdirectories included (helm template --output-dir writes a tree). */
function manifestFiles(dir: string): string[] {
  const { readdirSync } = builtin('node:fs');
  const { join } = builtin('node:path');
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && MANIFEST_FILE.test(entry.name)) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}

/** The input's text, file by file; every problem a ConfigError naming the input. */
async function readInput(input: string, io: Io): Promise<Source[]> {
  const text = (bytes: Buffer | undefined, name: string): Source => {
    if (bytes === undefined) throw new ConfigError(name, TOO_LARGE);
    return { name, text: bytes.toString('utf8') };
  };
  if (input === '-') {
    if (!io.stdin) throw new ConfigError('-', 'standard input cannot be read here');
    return [text(await readStream(io.stdin(), MAX_STREAM_BYTES), '-')];
  }
  const fs = builtin('node:fs');
  let isDir: boolean;
  try {
    isDir = fs.statSync(input).isDirectory();
  } catch (err) {
    throw new ConfigError(input, `cannot be read (${fileErrorCode(err)})`);
  }
  try {
    if (!isDir) return [text(await readStream(fs.createReadStream(input), MAX_STREAM_BYTES), input)];
    const files = manifestFiles(input);
    if (files.length === 0) throw new ConfigError(input, 'holds no .yaml, .yml or .json file');
    const sources: Source[] = [];
    let total = 0;
    for (const file of files) {
      const source = text(await readStream(fs.createReadStream(file), MAX_STREAM_BYTES - total), file);
      total += Buffer.byteLength(source.text);
      sources.push(source);
    }
    return sources;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(input, `cannot be read (${fileErrorCode(err)})`);
  }
}

/** The exit code; the report on stdout, an input or option problem on stderr (and as one JSON line with --log-format json). */
export async function runLint(args: readonly string[], io: Io): Promise<ExitCode> {
  // Before the options are read, a bad one is still answered in the format asked for.
  let format: LogFormat = args.some((a, i) => a === '--log-format=json' || (a === '--log-format' && args[i + 1] === 'json')) ? 'json' : 'pretty';
  try {
    const parsed = parseLintArgs(args);
    if (parsed === 'help') {
      io.stdout(lintHelp());
      return ExitCode.Ready;
    }
    format = parsed.format;
    // A signal ends the wait for input (a terminal, a pipe that never closes) at once, as it ends a wait.
    let sources: Source[];
    try {
      sources = await abortable(readInput(parsed.input, io), io.signal);
    } catch (err) {
      if (io.signal.aborted) return cancelledCode(io.signal.reason);
      throw err;
    }
    const manifests = readManifests(sources);
    if (manifests.length === 0) throw new ConfigError(parsed.input, 'holds no Kubernetes objects');
    const release = buildRelease(manifests);
    const groups: Group[] = lintRelease(release, parsed.maxConnections !== undefined ? { maxConnections: parsed.maxConnections } : {});
    if (groups.length === 0 || !release.workloads.some((w) => (COMPONENTS as readonly string[]).includes(w.component))) {
      throw new ConfigError(parsed.input, `holds no Harbor component (${COMPONENTS.join(', ')}): not a Harbor release's manifests`);
    }
    const shape = { list: 'components', item: 'component', layers: LINT_LAYERS };
    const names = groups.filter((g) => g.target !== 'release').map((g) => g.target);
    const title = `harbor-wait ${VERSION} lint: ${manifests.length} objects from ${parsed.input === '-' ? 'standard input' : parsed.input}; ${names.join(', ')}`;
    io.stdout(parsed.format === 'json'
      ? renderJson(groups, false, undefined, shape)
      : renderReport(groups, { title, command: 'lint', level: parsed.level, layers: LINT_LAYERS }));
    const failed = groups.some((g) => g.findings.some((f) => f.status === 'fail'));
    return failed && !parsed.exitZero ? ExitCode.Failure : ExitCode.Ready;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`harbor-wait ${LINT_COMMAND}: ${err.message}\n`);
      if (format === 'json') io.stdout(`${JSON.stringify({ ok: false, error: { input: err.input, message: err.message } })}\n`);
      return ExitCode.ConfigError;
    }
    throw err;
  }
}
