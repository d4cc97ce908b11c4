/**
 * Figure 4, soak: many failed attempts of the real check code in one process, looking for leaks. A child
 * `node --expose-gc bench/soak.ts <kind> <port> <attempts>` builds the check as harbor-wait does
 * (parseTarget + createCheck) and loops attemptOnce with backoffDelay between, sampling open file
 * descriptors, heapUsed after gc() and RSS at attempt 100 and at the last attempt (and every tenth of the
 * way, for the shape). runSoak() starts the servers and the four children.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { attemptOnce } from '../src/engine/attempt.ts';
import { backoffDelay, type BackoffPolicy } from '../src/basics/backoff.ts';
import { NotReady } from '../src/basics/errors.ts';
import { parseStatusSet, type StatusSet } from '../src/basics/status-set.ts';
import { parseTarget } from '../src/protocols/registry.ts';
import type { CheckContext } from '../src/protocols/types.ts';
import { BENCH_DIR, cleanEnv, NODE, type Settings } from './env.ts';
import { start } from './procs.ts';
import { freeOddPort, startServer } from './servers.ts';
import { fmt, table, type Goal } from './stats.ts';

export const KINDS = ['redis-refused', 'redis-silent', 'http-refused', 'http-silent'] as const;
export type Kind = (typeof KINDS)[number];

/** Short on purpose: the point is many attempts, not realistic spacing. */
export const SOAK_BACKOFF: BackoffPolicy = { initialMs: 1, maxMs: 1, factor: 1 };
/** Long enough for a loopback connect, short enough that a silent server costs little per attempt. */
export const SOAK_ATTEMPT_TIMEOUT_MS = 2;
/** The first sample is taken here, once lazily loaded modules and pools have settled. */
export const FIRST_SAMPLE = 100;

/** PASS bounds: no open file descriptor more, heap within +1 MiB. RSS is reported, not judged. */
export const HEAP_BOUND_BYTES = 1024 * 1024;

export interface Sample {
  readonly attempt: number;
  readonly fds: number;
  readonly heapUsed: number;
  readonly rss: number;
  /** The rest of process.memoryUsage(), to tell where RSS goes. */
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export interface SoakRun {
  readonly kind: Kind;
  readonly attempts: number;
  readonly elapsedMs: number;
  /** How the attempts failed, by code. */
  readonly codes: Record<string, number>;
  readonly samples: Sample[];
}

/** What the checks need from the configuration; host names are never looked up (the bench uses 127.0.0.1). */
function benchContext(): CheckContext {
  return {
    tls: { insecureSkipVerify: false },
    expectStatus: parseStatusSet('200-299') as StatusSet,
    lookup: (hostname) => Promise.reject(Object.assign(new Error(`the bench resolves no names (${hostname})`), { code: 'ENOTFOUND' })),
    userAgent: 'harbor-wait-bench',
  };
}

async function sample(attempt: number): Promise<Sample> {
  // Let closed sockets finish closing, then collect twice (the second catches what the first's finalizers freed).
  await new Promise((r) => setTimeout(r, 50));
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
  const mem = process.memoryUsage();
  return {
    attempt,
    fds: readdirSync('/proc/self/fd').length,
    heapUsed: mem.heapUsed,
    rss: mem.rss,
    heapTotal: mem.heapTotal,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
  };
}

async function soak(kind: Kind, port: number, attempts: number): Promise<SoakRun> {
  const url = kind.startsWith('redis') ? `redis://127.0.0.1:${port}` : `http://127.0.0.1:${port}/`;
  const check = await parseTarget(url, 'bench').createCheck(benchContext());
  const run = new AbortController();
  const codes: Record<string, number> = {};
  const samples: Sample[] = [];
  const marks = new Set([FIRST_SAMPLE, attempts, ...Array.from({ length: 10 }, (_, i) => Math.round(((i + 1) * attempts) / 10))]);
  const started = performance.now();
  for (let n = 1; n <= attempts; n++) {
    try {
      await attemptOnce(check, run.signal, SOAK_ATTEMPT_TIMEOUT_MS);
      throw new Error(`attempt ${n} against ${url} succeeded; the soak needs a dependency that never is ready`);
    } catch (err) {
      if (!(err instanceof NotReady)) throw err;
      codes[err.code] = (codes[err.code] ?? 0) + 1;
    }
    await new Promise((r) => setTimeout(r, backoffDelay(SOAK_BACKOFF, n)));
    if (marks.has(n)) samples.push(await sample(n));
  }
  return { kind, attempts, elapsedMs: performance.now() - started, codes, samples };
}

export interface SoakRow {
  readonly kind: Kind;
  readonly first: Sample;
  /** The sample a tenth of the way: by then the JIT and lazily built caches have warmed up. */
  readonly warm: Sample;
  readonly last: Sample;
  readonly fdsPass: boolean;
  readonly heapPass: boolean;
}

export interface SoakResult {
  readonly attempts: number;
  readonly backoff: BackoffPolicy;
  readonly attemptTimeoutMs: number;
  readonly runs: SoakRun[];
  readonly rows: SoakRow[];
}

export async function runSoak(s: Settings, progress: (msg: string) => void): Promise<SoakResult> {
  const silent = await startServer('silent');
  const refused = await freeOddPort();
  try {
    const runs: SoakRun[] = [];
    for (const kind of KINDS) {
      progress(`soak: ${s.soakAttempts} attempts, ${kind}`);
      const port = kind.endsWith('silent') ? silent.port : refused;
      const proc = await start(NODE, ['--expose-gc', join(BENCH_DIR, 'soak.ts'), kind, String(port), String(s.soakAttempts)], { env: cleanEnv(), keepStdout: true });
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([
        proc.exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`soak ${kind} took over 180 s`)), 180_000);
        }),
      ]).finally(() => clearTimeout(timer));
      if (exit.code !== 0) throw new Error(`soak ${kind} failed (exit ${exit.code ?? exit.signal}):\n${proc.output()}`);
      runs.push(JSON.parse(proc.stdout()) as SoakRun);
    }
    const rows = runs.map((r): SoakRow => {
      const first = r.samples.find((x) => x.attempt === FIRST_SAMPLE) as Sample;
      const last = r.samples.find((x) => x.attempt === r.attempts) as Sample;
      const warm = r.samples.find((x) => x.attempt === Math.round(r.attempts / 10)) as Sample;
      return { kind: r.kind, first, warm, last, fdsPass: last.fds <= first.fds, heapPass: last.heapUsed - first.heapUsed <= HEAP_BOUND_BYTES };
    });
    return { attempts: s.soakAttempts, backoff: SOAK_BACKOFF, attemptTimeoutMs: SOAK_ATTEMPT_TIMEOUT_MS, runs, rows };
  } finally {
    await silent.stop();
  }
}

const mib = (b: number) => fmt(b / 1024 / 1024, 2);
const signed = (s: string) => (s.startsWith('-') ? s : `+${s}`);

export function printSoak(r: SoakResult): string {
  const rows = r.rows.map((x) => {
    const run = r.runs.find((y) => y.kind === x.kind) as SoakRun;
    return [
      x.kind,
      `${x.first.fds} → ${x.last.fds} (${signed(String(x.last.fds - x.first.fds))})`,
      `${mib(x.first.heapUsed)} → ${mib(x.last.heapUsed)} (${signed(mib(x.last.heapUsed - x.first.heapUsed))})`,
      signed(mib(x.last.heapUsed - x.warm.heapUsed)),
      `${mib(x.first.heapTotal)} → ${mib(x.last.heapTotal)}`,
      `${mib(x.first.rss)} → ${mib(x.last.rss)} (${signed(mib(x.last.rss - x.first.rss))})`,
      fmt(run.elapsedMs / 1000, 1),
      Object.entries(run.codes)
        .map(([code, n]) => `${code} ${n}`)
        .join(', '),
      x.fdsPass && x.heapPass ? 'PASS' : 'FAIL',
    ];
  });
  const b = r.backoff;
  return [
    `4. Soak: ${r.attempts} failed attempts per kind, in one process, real check code (parseTarget + createCheck + attemptOnce)`,
    table(['kind', `open fds @${FIRST_SAMPLE} → @${r.attempts}`, 'heapUsed MiB (after gc)', `heap @${Math.round(r.attempts / 10)} → end`, 'heapTotal MiB', 'RSS MiB', 'time s', 'failures by code', 'verdict'], rows),
    '',
    `refused = a closed port on 127.0.0.1; silent = a loopback server that accepts and never answers; redis://127.0.0.1:P and http://127.0.0.1:P/.`,
    `attempt timeout ${r.attemptTimeoutMs} ms; backoffDelay with initial ${b.initialMs} ms, max ${b.maxMs} ms, factor ${b.factor}; samples after 50 ms idle and two gc() calls.`,
    `heap @${Math.round(r.attempts / 10)} → end = heapUsed growth after warm-up (the step before it is the JIT and lazily built caches, once).`,
    `PASS = open fds not above the first sample and heapUsed within +${mib(HEAP_BOUND_BYTES)} MiB of it. RSS is shown, not judged: it follows heapTotal, the heap V8`,
    `keeps committed (it grows it for a high allocation rate and does not give it back at once), not heapUsed, the live objects; every tenth sample is in results.json.`,
  ].join('\n');
}

export function soakGoals(r: SoakResult | undefined): Goal[] {
  return KINDS.map((kind) => {
    const x = r?.rows.find((y) => y.kind === kind);
    return {
      figure: '4',
      goal: `${kind}: no growth (open fds not above the first sample, heap ≤ +1 MiB)`,
      value: x ? `fds ${signed(String(x.last.fds - x.first.fds))}, heap ${signed(mib(x.last.heapUsed - x.first.heapUsed))} MiB` : 'not run',
      met: x ? x.fdsPass && x.heapPass : null,
    };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [kind, port, attempts] = process.argv.slice(2);
  if (!(KINDS as readonly string[]).includes(kind ?? '') || !Number(port) || !Number(attempts) || Number(attempts) < FIRST_SAMPLE) {
    process.stderr.write(`usage: node --expose-gc bench/soak.ts ${KINDS.join('|')} <port> <attempts ≥ ${FIRST_SAMPLE}>\n`);
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(await soak(kind as Kind, Number(port), Number(attempts))));
}
