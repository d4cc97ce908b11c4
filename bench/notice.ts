/**
 * Figure 2, time to notice: N waiters of one tool start against a port that refuses connections; T seconds
 * later a real redis-server starts there. Time to notice = from the bench reading redis-server's "Ready to
 * accept connections" line to each waiter's exit. One tool per outage, because the attempts are counted by
 * the kernel for a whole network namespace: Tcp OutRsts, one RST sent per refused connect (see netns.ts).
 *
 * The waiters start at random moments within one second: wait-for-it polls every 1 s and wait-on every
 * 250 ms, so waiters started together, with T a whole number of seconds, would all be in the same phase
 * with the moment redis-server comes up, and every sample would be the same (misleadingly short) one.
 */
import { BUNDLE, cleanEnv, NODE, WAIT_ON, type Settings, type Tools } from './env.ts';
import { openCounterSpace, type Counters, type CounterSpace } from './netns.ts';
import { start, type Proc } from './procs.ts';
import { freeOddPort, startRedis, type RedisServer } from './servers.ts';
import { fmt, summarize, table, type Goal, type Summary } from './stats.ts';

export const TOOLS = ['harbor-wait', 'wait-on', 'wait-for-it'] as const;
export type Tool = (typeof TOOLS)[number];

/** Waiters start at random moments within this window; the outage is counted from its end. */
const STAGGER_MS = 1000;
/** Attempts per second are counted from this long after the last possible start. */
const RATE_FROM_MS = 5000;

const delta = (a: Counters, b: Counters, key: string) => (b[key] ?? Number.NaN) - (a[key] ?? Number.NaN);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export interface CounterCheck {
  readonly usable: boolean;
  readonly refused: number;
  /** OutRsts and AttemptFails deltas of the last try. */
  readonly outRsts: number;
  readonly attemptFails: number;
  readonly tries: number;
  /** OutRsts per second while the bench sent nothing (other processes on the machine). */
  readonly backgroundPerSec: number;
}

/**
 * 50 refused connects (bash's /dev/tcp, one connect each, in the namespace measured) must raise OutRsts by
 * exactly 50; three tries, in case something else sent a RST meanwhile.
 */
export async function counterSelfCheck(space: CounterSpace): Promise<CounterCheck> {
  const refused = 50;
  const port = await freeOddPort();
  const script = `for ((i = 0; i < ${refused}; i++)); do { : </dev/tcp/127.0.0.1/${port}; } 2>/dev/null; done`;
  let last = { outRsts: Number.NaN, attemptFails: Number.NaN };
  let tries = 0;
  while (tries < 3) {
    tries++;
    const before = space.read();
    const line = space.wrap('bash', ['-c', script]);
    const proc = await start(line.command, line.args, { env: cleanEnv() });
    await proc.exited;
    const after = space.read();
    last = { outRsts: delta(before, after, 'OutRsts'), attemptFails: delta(before, after, 'AttemptFails') };
    if (last.outRsts === refused) break;
  }
  const q0 = space.read();
  await sleep(1000);
  const backgroundPerSec = delta(q0, space.read(), 'OutRsts');
  return { usable: last.outRsts === refused, refused, ...last, tries, backgroundPerSec };
}

function waiterCommand(tools: Tools, tool: Tool, port: number): { command: string; args: string[] } {
  switch (tool) {
    case 'harbor-wait':
      return { command: NODE, args: [BUNDLE, `redis://127.0.0.1:${port}`] };
    case 'wait-on':
      return { command: NODE, args: [WAIT_ON, `tcp:127.0.0.1:${port}`] };
    case 'wait-for-it':
      return { command: tools.waitForIt, args: [`127.0.0.1:${port}`, '-t', '0'] };
  }
}

export interface Outage {
  readonly tool: Tool;
  readonly outageS: number;
  readonly rep: number;
  readonly waiters: number;
  /** When each waiter was started, ms after the first possible start. */
  readonly startOffsetsMs: number[];
  /** Seconds from the ready line to each waiter's exit. */
  readonly noticeS: number[];
  /** Refused connects per second per waiter from 5 s after the last start to redis-server's start; null for outages ≤ 5 s. */
  readonly attemptsPerSecAfter5s: number | null;
  /** Kernel deltas from the first waiter's spawn to redis-server's ready line. */
  readonly outRsts: number;
  readonly attemptFails: number;
  /** harbor-wait only: failed attempts it reported itself (attempts − 1 in its `ready` lines). */
  readonly selfReportedFailures: number | null;
}

function selfReportedFailures(waiters: readonly Proc[]): number {
  let failures = 0;
  for (const w of waiters) {
    const ready = w
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event?: string; attempts?: number })
      .find((e) => e.event === 'ready');
    if (typeof ready?.attempts !== 'number') throw new Error(`harbor-wait logged no ready line with attempts:\n${w.output()}`);
    failures += ready.attempts - 1;
  }
  return failures;
}

async function runOutage(space: CounterSpace, tools: Tools, tool: Tool, outageS: number, rep: number, n: number): Promise<Outage> {
  const port = await freeOddPort();
  const plain = waiterCommand(tools, tool, port);
  const { command, args } = space.wrap(plain.command, plain.args);
  const offsets = Array.from({ length: n }, () => Math.random() * STAGGER_MS).sort((a, b) => a - b);
  const waiters: Proc[] = [];
  let redis: RedisServer | undefined;
  try {
    const c0 = space.read();
    const t0 = performance.now();
    for (const offset of offsets) {
      await sleep(t0 + offset - performance.now());
      waiters.push(await start(command, args, { env: cleanEnv(), keepStdout: tool === 'harbor-wait' }));
    }
    const allStarted = t0 + STAGGER_MS;

    let c5: { at: number; c: Counters } | undefined;
    if (outageS * 1000 > RATE_FROM_MS) {
      await sleep(allStarted + RATE_FROM_MS - performance.now());
      c5 = { at: performance.now(), c: space.read() };
    }
    await sleep(allStarted + outageS * 1000 - performance.now());
    const early = waiters.find((w) => w.exit() !== undefined);
    if (early) throw new Error(`${tool} exited (${early.exit()?.code}) while 127.0.0.1:${port} was still closed:\n${early.output()}`);
    const cStart = { at: performance.now(), c: space.read() };
    redis = await startRedis(tools.redisServer, port, space.wrap);
    const cReady = space.read();
    const readyAt = redis.readyAt;

    let timer: NodeJS.Timeout | undefined;
    const exits = await Promise.race([
      Promise.all(waiters.map((w) => w.exited)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${tool}: not every waiter exited within 30 s of redis-server being ready`)), 30_000);
      }),
    ]).finally(() => clearTimeout(timer));
    exits.forEach((e, i) => {
      if (e.code !== 0) throw new Error(`${tool} exited with ${e.code ?? e.signal} after redis-server came up:\n${waiters[i]?.output()}`);
    });

    return {
      tool,
      outageS,
      rep,
      waiters: n,
      startOffsetsMs: offsets,
      noticeS: exits.map((e) => (e.at - readyAt) / 1000),
      attemptsPerSecAfter5s: c5 ? delta(c5.c, cStart.c, 'OutRsts') / ((cStart.at - c5.at) / 1000) / n : null,
      outRsts: delta(c0, cReady, 'OutRsts'),
      attemptFails: delta(c0, cReady, 'AttemptFails'),
      selfReportedFailures: tool === 'harbor-wait' ? selfReportedFailures(waiters) : null,
    };
  } finally {
    await Promise.all([...waiters.map((w) => w.stop()), redis?.stop()]);
  }
}

export interface NoticeRow {
  readonly tool: Tool;
  readonly outageS: number;
  readonly notice: Summary;
  /** Mean over the repetitions of the per-waiter rate; null when the outage is ≤ 5 s or the counter is unusable. */
  readonly attemptsPerSecAfter5s: number | null;
  /** Kernel RSTs per waiter over the whole outage (mean over repetitions). */
  readonly rstsPerWaiter: number | null;
}

export interface NoticeResult {
  /** Where the counters were read: a private network namespace, or the machine's shared one (and why). */
  readonly counterSpace: { readonly kind: 'private' | 'shared'; readonly why: string | undefined };
  readonly waiters: number;
  readonly repeat: number;
  readonly counter: CounterCheck;
  readonly outages: Outage[];
  readonly rows: NoticeRow[];
  /** harbor-wait's own failure count against the kernel's RSTs, over all its outages. */
  readonly crossCheck: { readonly selfReported: number; readonly outRsts: number; readonly attemptFails: number };
}

export async function runNotice(s: Settings, tools: Tools, progress: (msg: string) => void): Promise<NoticeResult> {
  const space = await openCounterSpace();
  try {
    return await measureAll(s, tools, space, progress);
  } finally {
    await space.stop();
  }
}

async function measureAll(s: Settings, tools: Tools, space: CounterSpace, progress: (msg: string) => void): Promise<NoticeResult> {
  progress(space.kind === 'private' ? 'notice: counting in a private network namespace' : `notice: counting in the shared network namespace: ${space.why}`);
  const counter = await counterSelfCheck(space);
  progress(
    counter.usable
      ? `notice: counter self-check: ${counter.refused} refused connects raised OutRsts by ${counter.outRsts}: usable`
      : `notice: counter self-check FAILED: ${counter.refused} refused connects raised OutRsts by ${counter.outRsts}; attempts will be n/a`,
  );
  const outages: Outage[] = [];
  for (let rep = 0; rep < s.noticeRepeat; rep++) {
    for (const [ti, outageS] of s.noticeOutages.entries()) {
      // The order of the tools turns with every outage length and repetition.
      const k = (rep + ti) % TOOLS.length;
      const order = [...TOOLS.slice(k), ...TOOLS.slice(0, k)];
      for (const tool of order) {
        progress(`notice: repetition ${rep + 1}/${s.noticeRepeat}, outage ${outageS} s, ${s.noticeWaiters} × ${tool}`);
        outages.push(await runOutage(space, tools, tool, outageS, rep, s.noticeWaiters));
        await sleep(300);
      }
    }
  }

  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const rows: NoticeRow[] = [];
  for (const outageS of s.noticeOutages) {
    for (const tool of TOOLS) {
      const mine = outages.filter((o) => o.tool === tool && o.outageS === outageS);
      rows.push({
        tool,
        outageS,
        notice: summarize(mine.flatMap((o) => o.noticeS)),
        attemptsPerSecAfter5s: counter.usable ? mean(mine.flatMap((o) => (o.attemptsPerSecAfter5s === null ? [] : [o.attemptsPerSecAfter5s]))) : null,
        rstsPerWaiter: counter.usable ? mean(mine.map((o) => o.outRsts / o.waiters)) : null,
      });
    }
  }
  const hw = outages.filter((o) => o.tool === 'harbor-wait');
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    counterSpace: { kind: space.kind, why: space.why },
    waiters: s.noticeWaiters,
    repeat: s.noticeRepeat,
    counter,
    outages,
    rows,
    crossCheck: { selfReported: sum(hw.map((o) => o.selfReportedFailures ?? 0)), outRsts: sum(hw.map((o) => o.outRsts)), attemptFails: sum(hw.map((o) => o.attemptFails)) },
  };
}

export function printNotice(r: NoticeResult): string {
  const rows = r.rows.map((x) => [
    x.tool,
    `${x.outageS} s`,
    String(x.notice.n),
    fmt(x.notice.median, 3),
    fmt(x.notice.p95, 3),
    `${fmt(x.notice.min, 3)}–${fmt(x.notice.max, 3)}`,
    fmt(x.attemptsPerSecAfter5s, 2),
    fmt(x.rstsPerWaiter, 1),
  ]);
  const c = r.counter;
  return [
    `2. Time to notice (${r.waiters} waiters of one tool per outage, ${r.repeat} repetition(s) per outage length, tools one after another, order turning)`,
    table(['tool', 'outage', 'n', 'median s', 'p95 s', 'min–max s', 'attempts/s/waiter after 5 s', 'refused connects/waiter'], rows),
    '',
    `the waiters start at random moments within ${STAGGER_MS / 1000} s (so their polling phase is independent of the moment redis-server comes up); redis-server starts T s after that second;`,
    'time to notice = from the bench reading redis-server\'s "Ready to accept connections" line (its stdout) to the waiter\'s exit;',
    `attempts/s = RSTs the kernel sent for the closed port (Tcp OutRsts: one per refused connect) from ${RATE_FROM_MS / 1000} s after the last start to redis-server's start, per waiter;`,
    'refused connects/waiter = OutRsts from the first spawn to the ready line, divided by the waiters.',
    r.counterSpace.kind === 'private'
      ? 'counters: a private network namespace of the bench (unshare; the tools and redis-server run in it through nsenter), so only the bench\'s traffic counts;'
      : `counters: the machine's shared network namespace, so other processes' RSTs count too (${r.counterSpace.why});`,
    `commands: node dist/harbor-wait.cjs redis://127.0.0.1:P | node node_modules/wait-on/bin/wait-on tcp:127.0.0.1:P | wait-for-it 127.0.0.1:P -t 0`,
    `counter self-check: ${c.refused} refused connects raised OutRsts by ${c.outRsts} and AttemptFails by ${c.attemptFails} (${c.tries} tr${c.tries === 1 ? 'y' : 'ies'}): ${c.usable ? 'usable' : 'NOT USABLE, attempts shown as n/a'}; background while idle: ${c.backgroundPerSec} RST/s`,
    `cross-check: harbor-wait's own failed attempts (attempts − 1 in its ready lines) ${r.crossCheck.selfReported}, kernel OutRsts over the same outages ${r.crossCheck.outRsts}, AttemptFails ${r.crossCheck.attemptFails}`,
  ].join('\n');
}

export function noticeGoals(r: NoticeResult | undefined): Goal[] {
  const longest = r ? Math.max(...r.rows.map((x) => x.outageS)) : 30;
  const row = r?.rows.find((x) => x.tool === 'harbor-wait' && x.outageS === longest);
  const after = `after a ${longest} s outage`;
  return [
    { figure: '2', goal: `harbor-wait: median time to notice ≤ 0.5 s ${after}`, value: row ? `${fmt(row.notice.median, 3)} s` : 'not run', met: row ? row.notice.median <= 0.5 : null },
    { figure: '2', goal: `harbor-wait: p95 time to notice ≤ 1.5 s ${after}`, value: row ? `${fmt(row.notice.p95, 3)} s` : 'not run', met: row ? row.notice.p95 <= 1.5 : null },
    {
      figure: '2',
      goal: `harbor-wait: ≤ 2 attempts/s per waiter after the first 5 s (${longest} s outage)`,
      value: row ? (row.attemptsPerSecAfter5s === null ? 'n/a (counter unusable)' : `${fmt(row.attemptsPerSecAfter5s, 2)} /s`) : 'not run',
      met: row && row.attemptsPerSecAfter5s !== null ? row.attemptsPerSecAfter5s <= 2 : null,
    },
  ];
}
