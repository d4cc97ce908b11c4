/**
 * Figure 1, start-up when everything is already up: one real redis-server, one real PostgreSQL and one HTTP
 * endpoint on loopback; each command run in turn (A B C … A B C …), every one wrapped the same way in GNU time
 * for its peak RSS.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cachedDataFor, compileProgram } from '../src/launch/program.ts';
import { buildNaive, CODE_CACHE_FILE } from '../scripts/build.ts';
import { BUNDLE, cleanEnv, NODE, WAIT_ON, type Settings, type Tools } from './env.ts';
import { start, tempDir } from './procs.ts';
import { startPostgresOnFreePort, startRedisOnFreePort, startServer, type PostgresServer } from './servers.ts';
import { fmt, range, ratio, summarize, table, times, type Goal, type Summary } from './stats.ts';

interface Command {
  readonly name: string;
  /** What the report shows: P, Q and H stand for the Redis, PostgreSQL and HTTP ports. */
  readonly display: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  /** stdout must match this too (redis-cli exits 0 even on an error reply). */
  readonly expectStdout?: RegExp;
  /** For the table of what each library costs: the library, and the row whose run is the same without it. */
  readonly cost?: { readonly library: string; readonly over: string };
}

export interface CommandResult {
  readonly name: string;
  readonly display: string;
  readonly cost?: { readonly library: string; readonly over: string };
  readonly wallMs: number[];
  readonly peakRssKiB: number[];
  readonly wall: Summary;
  readonly rss: Summary;
  /** Ratios of medians to `node -e 0`, measured in the same run. */
  readonly wallRatio: number;
  readonly rssRatio: number;
}

export interface StartupResult {
  readonly warmups: number;
  readonly runs: number;
  /** Whether this node accepts the code cache the build made (it must, or the shipped row measures nothing). */
  readonly codeCacheAccepted: boolean;
  readonly commands: CommandResult[];
}

const BASELINE = 'node -e 0';
const HW = 'harbor-wait';
const HW_NO_CACHE = 'harbor-wait, no code cache';
const NAIVE = 'the same libraries, bundled naively';
const HW_PG = 'harbor-wait, a ready PostgreSQL target';
/** The run HW_PG is compared with in 1b: the same, with a tcp:// target on the same server's port instead. */
const TCP_PG = 'tcp://Q, --once';

/**
 * The runs that tell what each library costs at start-up, by difference: each is the same run as the one it
 * is `over`, plus what loads that library. All are harbor-wait as shipped, against the figure's servers.
 */
function libraryCommands(redisPort: number, httpPort: number, pg: PostgresServer, configFile: string): Command[] {
  const tcp = `tcp://127.0.0.1:${redisPort}`;
  const core = { CORE_URL: `http://127.0.0.1:${httpPort}`, JOBSERVICE_SECRET: 'bench-secret-16chars' };
  const run = (name: string, display: string, args: string[], env?: Record<string, string>, cost?: Command['cost']): Command => ({
    name,
    display,
    command: NODE,
    args: [BUNDLE, ...args],
    ...(env ? { env } : {}),
    ...(cost ? { cost } : {}),
  });
  return [
    run('--version', 'node dist/harbor-wait.cjs --version', ['--version'], undefined, { library: 'the entry and its code cache', over: BASELINE }),
    run('tcp://', 'node dist/harbor-wait.cjs tcp://127.0.0.1:P', [tcp], undefined, { library: 'pino, p-retry and node:net (any wait)', over: '--version' }),
    run('redis://', 'node dist/harbor-wait.cjs redis://127.0.0.1:P', [`redis://127.0.0.1:${redisPort}`], undefined, { library: 'ioredis', over: 'tcp://' }),
    run('http://', 'node dist/harbor-wait.cjs http://127.0.0.1:H/', [`http://127.0.0.1:${httpPort}/`], undefined, { library: 'undici', over: 'tcp://' }),
    // What pg costs is HW_PG (in the main table) less this run: the same `--once` run with a tcp:// target on the
    // PostgreSQL server's own port, which loads everything any wait loads (pino, p-retry, node:net) but not pg.
    // So the difference is pg's modules (with node:crypto and its WebCrypto, which pg's SCRAM uses, loaded with
    // them) and what they build at load, plus the time of the check itself beyond a TCP connect: the startup
    // message, the server forking a backend for the session, SCRAM's two rounds (PBKDF2 of 4096 iterations on
    // the client's side; the server keeps the salted key), and the check's queries.
    run(TCP_PG, 'node dist/harbor-wait.cjs --once tcp://127.0.0.1:Q', ['--once', `tcp://127.0.0.1:${pg.port}`]),
    run('tcp://, pretty', 'node dist/harbor-wait.cjs --log-format pretty tcp://127.0.0.1:P', ['--log-format', 'pretty', tcp], undefined, { library: 'pino-pretty', over: 'tcp://' }),
    run('jobservice, Redis from env', 'JOB_SERVICE_POOL_REDIS_URL=… node dist/harbor-wait.cjs --preset jobservice', ['--preset', 'jobservice', '--jobservice-config', `${configFile}.absent`], {
      ...core,
      JOB_SERVICE_POOL_REDIS_URL: `redis://127.0.0.1:${redisPort}/1`,
    }),
    run('jobservice, config.yml', 'node dist/harbor-wait.cjs --preset jobservice --jobservice-config <config.yml>', ['--preset', 'jobservice', '--jobservice-config', configFile], core, {
      library: 'yaml',
      over: 'jobservice, Redis from env',
    }),
  ];
}

function commands(tools: Tools, redisPort: number, httpPort: number, pg: PostgresServer, noCacheDir: string, naive: string): Command[] {
  const redis = `redis://127.0.0.1:${redisPort}`;
  const web = `http://127.0.0.1:${httpPort}/`;
  return [
    { name: BASELINE, display: 'node -e 0', command: NODE, args: ['-e', '0'] },
    // As shipped: dist/ with the code cache the build's warm-up made with this node, as the image's warm stage does.
    { name: HW, display: 'node dist/harbor-wait.cjs redis://127.0.0.1:P http://127.0.0.1:H/', command: NODE, args: [BUNDLE, redis, web] },
    // Harbor core's own database, as shipped; `--once` (one attempt, exit 1 if not ready) makes a run that did not
    // find it ready fail the bench instead of retrying into the figure.
    {
      name: HW_PG,
      display: `node dist/harbor-wait.cjs --once ${pg.display}`,
      command: NODE,
      args: [BUNDLE, '--once', pg.url],
      cost: { library: 'pg, with node:crypto for SCRAM', over: TCP_PG },
    },
    {
      name: HW_NO_CACHE,
      display: 'node <dir>/harbor-wait.cjs redis://127.0.0.1:P http://127.0.0.1:H/ (the entry copied alone, no code cache)',
      command: NODE,
      args: [join(noCacheDir, 'harbor-wait.cjs'), redis, web],
    },
    {
      name: NAIVE,
      display: 'node <dir>/naive.cjs redis://127.0.0.1:P http://127.0.0.1:H/ (one plain esbuild bundle, libraries imported at the top)',
      command: NODE,
      args: [naive, redis, web],
    },
    { name: 'wait-on', display: 'node node_modules/wait-on/bin/wait-on tcp:127.0.0.1:P http://127.0.0.1:H/', command: NODE, args: [WAIT_ON, `tcp:127.0.0.1:${redisPort}`, web] },
    {
      name: 'wait-for-it',
      // -s (strict): without it a failed first check still runs the second, whose exit code would hide it.
      display: 'wait-for-it 127.0.0.1:P -t 5 -s -- wait-for-it 127.0.0.1:H -t 5',
      command: tools.waitForIt,
      args: [`127.0.0.1:${redisPort}`, '-t', '5', '-s', '--', tools.waitForIt, `127.0.0.1:${httpPort}`, '-t', '5'],
    },
    { name: 'redis-cli ping', display: 'redis-cli -h 127.0.0.1 -p P ping', command: tools.redisCli, args: ['-h', '127.0.0.1', '-p', String(redisPort), 'ping'], expectStdout: /^PONG\s*$/ },
  ];
}

/** One timed run under GNU time: wall time (spawn to exit) and peak RSS in KiB. Fails on a non-zero exit. */
async function timed(tools: Tools, c: Command, scratch: string): Promise<{ wallMs: number; rssKiB: number }> {
  const out = join(scratch, 'rss');
  rmSync(out, { force: true });
  const proc = await start(tools.gnuTime, ['-f', '%M', '-o', out, c.command, ...c.args], { env: cleanEnv(c.env), keepStdout: true, pkg: 'time' });
  const exit = await proc.exited;
  const wallMs = exit.at - proc.startedAt;
  if (exit.code !== 0) throw new Error(`${c.name} failed (exit ${exit.code ?? exit.signal}): ${c.display}\n${proc.output()}`);
  if (c.expectStdout && !c.expectStdout.test(proc.stdout())) throw new Error(`${c.name} answered "${proc.stdout().trim()}": ${c.display}`);
  const rssKiB = Number(readFileSync(out, 'utf8').trim().split('\n').pop());
  if (!Number.isFinite(rssKiB) || rssKiB <= 0) throw new Error(`GNU time gave no peak RSS for ${c.name}`);
  return { wallMs, rssKiB };
}

export async function runStartup(s: Settings, tools: Tools, progress: (msg: string) => void): Promise<StartupResult> {
  const redis = await startRedisOnFreePort(tools.redisServer);
  const web = await startServer('http').catch(async (err: unknown) => {
    await redis.stop();
    throw err;
  });
  progress('startup: initdb and PostgreSQL');
  const pg = await startPostgresOnFreePort(tools.postgresBin).catch(async (err: unknown) => {
    await Promise.all([redis.stop(), web.stop()]);
    throw err;
  });
  const scratch = tempDir('harbor-wait-bench-startup-');
  const noCacheDir = tempDir('harbor-wait-bench-no-cache-');
  try {
    copyFileSync(BUNDLE, join(noCacheDir, 'harbor-wait.cjs'));
    const naive = join(noCacheDir, 'naive.cjs');
    await buildNaive(naive);
    const { source, id } = createRequire(import.meta.url)(BUNDLE) as { source: string; id: string };
    const cachedData = cachedDataFor(id, readFileSync(CODE_CACHE_FILE));
    const codeCacheAccepted = cachedData !== undefined && !compileProgram(source, BUNDLE, cachedData).cachedDataRejected;
    if (!codeCacheAccepted) throw new Error(`this node rejects ${CODE_CACHE_FILE}: run npm run build with it first`);
    const configFile = join(scratch, 'config.yml');
    writeFileSync(configFile, `worker_pool:\n  redis_pool:\n    redis_url: redis://127.0.0.1:${redis.port}/1\n`);
    const list = [...commands(tools, redis.port, web.port, pg, noCacheDir, naive), ...libraryCommands(redis.port, web.port, pg, configFile)];

    const samples = new Map(list.map((c) => [c.name, { wallMs: [] as number[], peakRssKiB: [] as number[] }]));
    const rounds = s.startupWarmups + s.startupRuns;
    for (let round = 0; round < rounds; round++) {
      progress(`startup: round ${round + 1}/${rounds}${round < s.startupWarmups ? ' (warm-up)' : ''}`);
      for (const c of list) {
        const r = await timed(tools, c, scratch);
        if (round < s.startupWarmups) continue;
        const into = samples.get(c.name) as { wallMs: number[]; peakRssKiB: number[] };
        into.wallMs.push(r.wallMs);
        into.peakRssKiB.push(r.rssKiB);
      }
    }

    const base = samples.get(BASELINE) as { wallMs: number[]; peakRssKiB: number[] };
    const baseWall = summarize(base.wallMs).median;
    const baseRss = summarize(base.peakRssKiB).median;
    return {
      warmups: s.startupWarmups,
      runs: s.startupRuns,
      codeCacheAccepted,
      commands: list.map((c) => {
        const x = samples.get(c.name) as { wallMs: number[]; peakRssKiB: number[] };
        const wall = summarize(x.wallMs);
        const rss = summarize(x.peakRssKiB);
        return { name: c.name, display: c.display, ...(c.cost ? { cost: c.cost } : {}), ...x, wall, rss, wallRatio: ratio(wall.median, baseWall), rssRatio: ratio(rss.median, baseRss) };
      }),
    };
  } finally {
    await Promise.all([redis.stop(), web.stop(), pg.stop()]);
  }
}

const MIB = 1024;
/** The start-up goals for harbor-wait as shipped, against `node -e 0` on the same node. */
const WALL_GOAL = 2.0;
const RSS_GOAL = 1.35;

/** What each library adds: the median of its run less the median of the same run without it. */
function printCosts(r: StartupResult): string[] {
  const byName = new Map(r.commands.map((c) => [c.name, c]));
  const at = new Map(r.commands.map((c, i) => [c.name, i]));
  // Rows in the order of the later of their two runs: pg's (its run is in the main table, the run it is compared
  // with comes after undici's among 1b's) then sits after undici's instead of first.
  const later = (c: CommandResult) => Math.max(at.get(c.name) ?? 0, at.get(c.cost?.over ?? '') ?? 0);
  const rows = [...r.commands].sort((a, b) => later(a) - later(b)).flatMap((c) => {
    const over = c.cost ? byName.get(c.cost.over) : undefined;
    if (!c.cost || !over) return [];
    const signed = (n: number) => `${n < 0 ? '−' : '+'}${fmt(Math.abs(n), 1)}`;
    return [[c.cost.library, `${c.name} − ${over.name}`, signed(c.wall.median - over.wall.median), signed((c.rss.median - over.rss.median) / MIB)]];
  });
  return [
    '',
    `1b. What each library costs at start-up: medians of the same ${r.runs} interleaved rounds, a run less the same run without it`,
    table(['library', 'runs compared', 'wall ms', 'peak RSS MiB'], rows),
    ...r.commands.filter((c) => !MAIN.has(c.name)).map((c) => `  ${c.name.padEnd(32)} ${c.display}  (${fmt(c.wall.median, 1)} ms, ${fmt(c.rss.median / MIB, 1)} MiB)`),
  ];
}

/** The rows of the main table (the rest are the runs of 1b). */
const MAIN = new Set([BASELINE, HW, HW_PG, HW_NO_CACHE, NAIVE, 'wait-on', 'wait-for-it', 'redis-cli ping']);

export function printStartup(r: StartupResult): string {
  const rows = r.commands.filter((c) => MAIN.has(c.name)).map((c) => [
    c.name,
    range(c.wall, 0),
    times(c.wallRatio),
    range({ ...c.rss, median: c.rss.median / MIB, min: c.rss.min / MIB, max: c.rss.max / MIB }, 1),
    times(c.rssRatio),
  ]);
  return [
    `1. Start-up, everything already up (median [min–max] of ${r.runs} interleaved runs each, after ${r.warmups} warm-up rounds)`,
    table(['command', 'wall ms', '× node -e 0', 'peak RSS MiB', '× node -e 0'], rows),
    '',
    'commands (P = redis-server port, Q = PostgreSQL port, H = HTTP server port, all on 127.0.0.1):',
    ...r.commands.filter((c) => MAIN.has(c.name)).map((c) => `  ${c.name.padEnd(32)} ${c.display}`),
    `wall = spawn to exit as seen by the bench (performance.now), each command under \`/usr/bin/time -f %M\`;`,
    `peak RSS = GNU time's %M (for wait-for-it: its largest process, bash or a child, not their sum);`,
    `harbor-wait runs with the V8 code cache the build made with this node (accepted: ${r.codeCacheAccepted ? 'yes' : 'no'}); the "no code cache" row is the entry file copied alone;`,
    `the PostgreSQL row logs in as a role with a SCRAM-SHA-256 password, without TLS, to Debian's PostgreSQL (initdb'ed for the run, fsync off), whose registry database holds a clean schema_migrations row;`,
    `the naive row is the same program and libraries as one plain esbuild bundle: no lazy loading, deep imports, stubs or code cache.`,
    ...printCosts(r),
  ].join('\n');
}

export function startupGoals(r: StartupResult | undefined): Goal[] {
  const goals: Goal[] = [];
  // The goals are for harbor-wait as it ships; the row without the code cache is there to show what the cache buys.
  for (const name of [HW]) {
    const c = r?.commands.find((x) => x.name === name);
    goals.push({ figure: '1', goal: `${name}: wall ≤ ${WALL_GOAL}× node -e 0`, value: c ? `${times(c.wallRatio)} (${fmt(c.wall.median)} vs ${fmt(r?.commands[0]?.wall.median)} ms)` : 'not run', met: c ? c.wallRatio <= WALL_GOAL : null });
    goals.push({
      figure: '1',
      goal: `${name}: peak RSS ≤ ${RSS_GOAL}× node -e 0`,
      value: c ? `${times(c.rssRatio)} (${fmt(c.rss.median / MIB, 1)} vs ${fmt((r?.commands[0]?.rss.median ?? NaN) / MIB, 1)} MiB)` : 'not run',
      met: c ? c.rssRatio <= RSS_GOAL : null,
    });
  }
  return goals;
}
