/**
 * Where things are, what the run is configured to do (BENCH_QUICK, BENCH_REPEAT, BENCH_ONLY), the tools it
 * needs (with the package that brings each), and the redaction that keeps this machine's paths out of the
 * output.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The project's Node 24 (the `node` devDependency), used for every Node process the bench starts. */
export const NODE = join(ROOT, 'node_modules/.bin/node');
export const BUNDLE = join(ROOT, 'dist/harbor-wait.cjs');
export const WAIT_ON = join(ROOT, 'node_modules/wait-on/bin/wait-on');
export const BENCH_DIR = join(ROOT, 'bench');

export const FIGURES = ['startup', 'notice', 'herd', 'soak', 'image'] as const;
export type Figure = (typeof FIGURES)[number];

export interface Settings {
  readonly quick: boolean;
  readonly only: ReadonlySet<Figure>;
  readonly startupWarmups: number;
  readonly startupRuns: number;
  /** Outage lengths of the time-to-notice figure, in seconds. */
  readonly noticeOutages: readonly number[];
  readonly noticeRepeat: number;
  /** Waiters of one tool started together for one outage. */
  readonly noticeWaiters: number;
  readonly herdWaiters: number;
  readonly herdOutageMs: number;
  readonly herdSeeds: number;
  readonly soakAttempts: number;
}

function positiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

export function readSettings(env: NodeJS.ProcessEnv): Settings {
  const quick = env.BENCH_QUICK !== undefined && env.BENCH_QUICK !== '' && env.BENCH_QUICK !== '0';
  const only = new Set<Figure>();
  for (const part of (env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(FIGURES as readonly string[]).includes(part)) throw new Error(`BENCH_ONLY: unknown figure "${part}"; use ${FIGURES.join(', ')}`);
    only.add(part as Figure);
  }
  return {
    quick,
    only: only.size > 0 ? only : new Set(FIGURES),
    startupWarmups: quick ? 1 : 3,
    startupRuns: quick ? 5 : 20,
    noticeOutages: quick ? [1, 7] : [1, 10, 30],
    noticeRepeat: positiveInt('BENCH_REPEAT', env.BENCH_REPEAT) ?? (quick ? 1 : 2),
    noticeWaiters: quick ? 5 : 10,
    herdWaiters: 1000,
    herdOutageMs: 60_000,
    herdSeeds: quick ? 2 : 5,
    soakAttempts: quick ? 1000 : 10_000,
  };
}

/** Replaces this machine's project and home paths, so that no output names them. */
export function redact(text: string): string {
  const root = ROOT.replace(/\/$/, '');
  let out = text.split(root).join('.');
  const home = homedir();
  if (home && home !== '/') out = out.split(home).join('~');
  return out;
}

/** The environment every command runs in: the bench's own, minus what would change how the tools behave. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // harbor-wait reads WAIT_*; NODE_OPTIONS / NODE_COMPILE_CACHE would change every Node start-up; PG* would
    // choose things for psql, initdb and postgres that only the bench's arguments should.
    if (k.startsWith('WAIT_') || k.startsWith('PG') || k === 'NODE_OPTIONS' || k === 'NODE_COMPILE_CACHE') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, binary);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Absolute paths of the system tools, found once by the preflight. */
export interface Tools {
  readonly redisServer: string;
  readonly redisCli: string;
  readonly waitForIt: string;
  readonly gnuTime: string;
  /** The bin directory of the newest PostgreSQL under /usr/lib/postgresql (initdb, postgres, psql). */
  readonly postgresBin: string;
}

const PG_ROOT = '/usr/lib/postgresql';
const PG_BINARIES = ['initdb', 'postgres', 'psql'];

/** The newest /usr/lib/postgresql/<version>/bin that has every binary the bench runs. */
function findPostgresBin(): string | undefined {
  let versions: string[] = [];
  try {
    versions = readdirSync(PG_ROOT).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    // no PostgreSQL at all
  }
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(PG_ROOT, v, 'bin')).find((dir) => PG_BINARIES.every((b) => existsSync(join(dir, b))));
}

const SETUP_HINT = 'bench/setup.sh does, and npm run bench runs it';

/** Checks that every tool is there; a missing one fails with the package that brings it. */
export function preflight(): Tools {
  const problems: string[] = [];
  const need = (binary: string, pkg: string, hint: string): string => {
    const found = onPath(binary);
    if (!found) problems.push(`${binary} is not installed: install the Debian package ${pkg} (${hint})`);
    return found ?? binary;
  };
  const redisServer = need('redis-server', 'redis-server', 'bash scripts/setup.sh');
  const redisCli = need('redis-cli', 'redis-tools', 'bash scripts/setup.sh');
  const waitForIt = need('wait-for-it', 'wait-for-it', SETUP_HINT);
  // The shell keyword `time` cannot report peak RSS; GNU time's %M can, and only /usr/bin/time is it.
  const gnuTime = '/usr/bin/time';
  const version = existsSync(gnuTime) ? spawnSync(gnuTime, ['--version'], { encoding: 'utf8' }) : undefined;
  if (!version || !/GNU/.test(`${version.stdout}${version.stderr}`)) {
    problems.push(`GNU time (${gnuTime}) is not installed: install the Debian package time (${SETUP_HINT})`);
  }
  need('timeout', 'coreutils', 'wait-for-it runs it');
  const postgresBin = findPostgresBin();
  if (!postgresBin) problems.push(`PostgreSQL's ${PG_BINARIES.join(', ')} are not installed under ${PG_ROOT}/<version>/bin: install the Debian package postgresql (${SETUP_HINT})`);
  // As root, initdb and postgres run as the postgres system user, through setpriv.
  if (process.getuid?.() === 0) need('setpriv', 'util-linux', 'the bench runs PostgreSQL as the postgres user with it');
  if (!existsSync(NODE)) problems.push('node_modules/.bin/node (Node 24, the node devDependency) is missing: run npm ci');
  if (!existsSync(WAIT_ON)) problems.push('wait-on (npm devDependency) is missing: run npm ci');
  if (!existsSync(BUNDLE)) problems.push('dist/harbor-wait.cjs is missing: run npm run bench, which builds it first');
  if (problems.length > 0) throw new Error(`the bench cannot run:\n  - ${problems.join('\n  - ')}`);
  return { redisServer, redisCli, waitForIt, gnuTime, postgresBin: postgresBin ?? PG_ROOT };
}
