/**
 * `npm run bench`: installs the peers (bench/setup.sh), builds the bundle, then runs here every figure side by
 * side on this machine and prints a table per figure, the goals met or not, the machine, and the duration;
 * bench/results.json gets every raw sample and summary. Progress goes to stderr, the report to stdout.
 *
 * Env: BENCH_QUICK=1 (short runs, for development), BENCH_REPEAT=n (repetitions of figure 2),
 * BENCH_ONLY=startup,notice,herd,soak,image (a subset).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, NODE, preflight, readSettings, redact, type Figure, type Settings } from './env.ts';
import { herdGoals, printHerd, runHerd, type HerdResult } from './herd.ts';
import { printImage, runImage, type ImageResult } from './image.ts';
import { noticeGoals, printNotice, runNotice, type NoticeResult } from './notice.ts';
import { killAllNow, killLeftovers, leftovers, stopAll } from './procs.ts';
import { printSoak, runSoak, soakGoals, type SoakResult } from './soak.ts';
import { printStartup, runStartup, startupGoals, type StartupResult } from './startup.ts';
import type { Goal } from './stats.ts';

const benchStarted = performance.now();
/** When `npm run bench` started (set by its script), else when this process did. */
const npmStartedMs = Number(process.env.BENCH_T0) || Date.now() - process.uptime() * 1000;

const progress = (msg: string) => process.stderr.write(`[bench ${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
const say = (text: string) => process.stdout.write(`${text}\n`);

function machine() {
  const model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  const node = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return {
    cpu: model,
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node,
    kernel: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
  };
}

interface Results {
  startup?: StartupResult;
  notice?: NoticeResult;
  herd?: HerdResult;
  soak?: SoakResult;
  image?: ImageResult;
}

async function runFigures(s: Settings, tools: ReturnType<typeof preflight>, results: Results): Promise<void> {
  const order: Figure[] = ['startup', 'notice', 'herd', 'soak', 'image'];
  for (const figure of order) {
    if (!s.only.has(figure)) continue;
    progress(`${figure}: starting`);
    if (figure === 'startup') say(`\n${printStartup((results.startup = await runStartup(s, tools, progress)))}`);
    if (figure === 'notice') say(`\n${printNotice((results.notice = await runNotice(s, tools, progress)))}`);
    if (figure === 'herd') say(`\n${printHerd((results.herd = await runHerd(s)))}`);
    if (figure === 'soak') say(`\n${printSoak((results.soak = await runSoak(s, progress)))}`);
    if (figure === 'image') say(`\n${printImage((results.image = await runImage(progress)))}`);
  }
}

function printGoals(goals: readonly Goal[]): string {
  const mark = (g: Goal) => (g.met === null ? 'n/a    ' : g.met ? 'met    ' : 'NOT MET');
  return ['Goals', ...goals.map((g) => `  [${mark(g)}] fig. ${g.figure}  ${g.goal}: ${g.value}`)].join('\n');
}

let stopping = false;
async function stop(code: number): Promise<never> {
  stopping = true;
  await stopAll();
  process.exit(code);
}
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    if (stopping) return;
    process.stderr.write(`\nbench: ${signal}, stopping every process it started\n`);
    void stop(code);
  });
}
process.on('exit', killAllNow);

async function main(): Promise<void> {
  const s = readSettings(process.env);
  const tools = preflight();
  const m = machine();
  say(`harbor-wait benchmark — ${m.date}${s.quick ? ' — BENCH_QUICK: shortened, not the reference figures' : ''}`);
  say(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.kernel}; node ${m.node} (node_modules/.bin/node)`);
  say(`all traffic on 127.0.0.1; figures: ${[...s.only].join(', ')}`);

  const results: Results = {};
  await runFigures(s, tools, results);
  const goals = [...startupGoals(results.startup), ...noticeGoals(results.notice), ...herdGoals(results.herd), ...soakGoals(results.soak)];
  say(`\n${printGoals(goals)}`);

  await stopAll();
  const left = leftovers();
  if (left.length > 0) killLeftovers(left);
  const benchS = (performance.now() - benchStarted) / 1000;
  const totalS = (Date.now() - npmStartedMs) / 1000;
  writeFileSync(
    join(BENCH_DIR, 'results.json'),
    `${JSON.stringify({ machine: m, settings: { ...s, only: [...s.only] }, ...results, goals, processesLeft: left.length, durationS: { bench: benchS, npmRunBench: totalS } }, null, 2)}\n`,
  );
  say(`\nprocesses of the bench left running: ${left.length}${left.length ? ' (killed now)' : ''}`);
  say('raw samples and summaries: bench/results.json');
  say(`duration: figures ${benchS.toFixed(1)} s; whole \`npm run bench\` (setup, build, figures) ${totalS.toFixed(1)} s`);
}

main().catch(async (err: unknown) => {
  if (stopping) return;
  process.stderr.write(`\nBENCH FAILED: ${redact(err instanceof Error ? err.message : String(err))}\n`);
  await stop(1);
});
