/**
 * Fault injection: the built bundle against real servers on loopback that misbehave — silent, half a reply,
 * headers or a body that never end, resets mid-handshake, TLS and plain mixed up, bad certificates, a Redis
 * restarted and a sentinel failing over mid-wait, core changing its answers — and signals arriving in each
 * stage. Every run carries marked secrets, logs at debug, and must keep them all out of its output.
 * Name-resolution faults run in-process (run() with an injected lookup), so no DNS query leaves the machine.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/commands/cli.ts';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { makeCerts, makeExpiredCert, type Certs } from './helpers/certs.ts';
import { eventually } from './helpers/checks.ts';
import { runCli, startCli, type LogLine, type Running } from './helpers/cli.ts';
import { startFakeCore } from './helpers/core.ts';
import {
  closeOnFirstData,
  endlessBody,
  endlessHeaders,
  halfReply,
  isClientHello,
  resetOnAccept,
  resetOnFirstData,
  silent,
  socketsTo,
  startFaulty,
  startUnaccepting,
  greetAndClose,
  type Fault,
  type FaultyServer,
} from './helpers/faulty.ts';
import { freePort, tempDir } from './helpers/processes.ts';
import { startRedis, startSentinel } from './helpers/redis.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';
import type { Lookup } from '../src/net/dial.ts';
import { Shutdown } from '../src/commands/io.ts';

const REDIS_PASSWORD = markedSecret('rpw');
const ACL_PASSWORD = markedSecret('acl');
const HARBOR_SECRET = markedSecret('hsec');
/** The secret core holds before it is "fixed": the waiter never has it, so it must never show either. */
const CORE_OLD_SECRET = markedSecret('hold');
const DB_PASSWORD = markedSecret('dbpw');
const HTTP_PASSWORD = markedSecret('http');
const SECRETS = [REDIS_PASSWORD, ACL_PASSWORD, HARBOR_SECRET, CORE_OLD_SECRET, DB_PASSWORD, HTTP_PASSWORD];

/** What --harbor-core needs from the environment (never on the command line). */
const CORE_ENV = { JOBSERVICE_SECRET: HARBOR_SECRET };
const ACL_USER = 'harbor';
const ACL_ARGS = ['--user', ACL_USER, 'on', `>${ACL_PASSWORD}`, '~*', '&*', '+@all', '--user', 'default', 'off'];

/** Small limits, so that a fault costs about a second per attempt and a run a few seconds. */
const DEADLINE_MS = 3000;
const QUICK = ['--deadline', `${DEADLINE_MS}ms`, '--attempt-timeout', '1s', '--log-level', 'debug'];

/** What both the spawned bundle and the in-process run() leave to look at. */
interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly lines: readonly LogLine[];
}

type Pair = readonly [stage: unknown, code: unknown];

/** The targets a start line lists (redacted), in the order given. */
function startTargets(start: LogLine): string[] {
  return (start.targets as Array<{ target: string }>).map((t) => t.target);
}

/** The targets of a run as its start line lists them. */
function labels(o: Outcome): string[] {
  const start = o.lines.find((l) => l.event === 'start');
  if (!start) throw new Error(`no start line:\n${o.stdout}${o.stderr}`);
  return startTargets(start);
}

/** [stage, code] of every not_ready line of `target`, in order. */
function pairs(o: Outcome, target: string): Pair[] {
  return o.lines.filter((l) => l.event === 'not_ready' && l.target === target).map((l) => [l.stage, l.code]);
}

/** The codes of `target`'s not_ready lines, each repeat folded into one: the sequence of states it went through. */
function codeSequence(o: Outcome, target: string): unknown[] {
  return pairs(o, target)
    .map(([, code]) => code)
    .filter((code, i, all) => i === 0 || all[i - 1] !== code);
}

/** The entry for `target` in the final `deadline` or `cancelled` line. */
function pendingEntry(o: Outcome, event: 'deadline' | 'cancelled', target: string): Record<string, unknown> | undefined {
  const line = o.lines.find((l) => l.event === event) as unknown as { pending?: Array<Record<string, unknown>> } | undefined;
  return line?.pending?.find((p) => p.target === target);
}

/** No secret in any output, and no stack trace (which would mean a bug). */
function expectClean(o: Outcome): void {
  expectNoSecret({ stdout: o.stdout, stderr: o.stderr }, SECRETS);
  expect(o.stderr, 'stderr').toBe('');
}

/**
 * The run gave up at the deadline, and in time (`ms`, when measured, within the deadline and 2 s), and `target`
 * failed every attempt (at least `attempts`) at one of `stage` with one of `code`, as the deadline line repeats.
 * Most faults allow exactly one of each.
 */
function expectGaveUp(
  o: Outcome & { ms?: number },
  target: string,
  stage: string | readonly string[],
  code: string | readonly string[],
  attempts = 2,
): void {
  const stages = [stage].flat();
  const codes = [code].flat();
  expect(o.code, o.stdout).toBe(ExitCode.Deadline);
  const seen = pairs(o, target);
  expect(seen.length, `not_ready lines of ${target}`).toBeGreaterThanOrEqual(attempts);
  const last = pendingEntry(o, 'deadline', target);
  for (const [s, c] of [...seen, [last?.stage, last?.code] as const]) {
    expect(stages, `${target} failed at ${String(s)}/${String(c)}`).toContain(s);
    expect(codes, `${target} failed at ${String(s)}/${String(c)}`).toContain(c);
  }
  const deadline = o.lines.find((l) => l.event === 'deadline');
  if (o.ms !== undefined) expect(o.ms, 'run time').toBeLessThan(Number(deadline?.deadline_ms) + 2000);
}

/** Every server a test starts in-process, closed when the file ends. */
const servers: Array<{ close(): Promise<void> }> = [];
function track<T extends { close(): Promise<void> }>(server: T): T {
  servers.push(server);
  return server;
}
async function faulty(fault: Fault, port?: number): Promise<FaultyServer> {
  return track(await startFaulty(fault, port));
}

/** One faulty server and three waiters on it: Redis with a password, Redis without one (db 3), core over http://. */
async function threeWaitersOn(fault: Fault): Promise<{ r: Awaited<ReturnType<typeof runCli>>; password: string; none: string; core: string }> {
  const server = await faulty(fault);
  const at = `127.0.0.1:${server.port}`;
  const r = await runCli([...QUICK, `redis://:${REDIS_PASSWORD}@${at}`, `redis://${at}/3`, '--harbor-core', `http://${at}`], CORE_ENV);
  const [password, none, core] = labels(r) as [string, string, string];
  return { r, password, none, core };
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

let certs: Certs;
beforeAll(async () => {
  certs = await makeCerts();
});

/** A Certs whose server certificate is another one signed by the same CA (for startRedis / startFakeCore). */
function withServerCert(cert: string, key: string): Certs {
  return { ...certs, serverCert: cert, serverKey: key };
}

describe.concurrent('a server that accepts the connection and then misbehaves', () => {
  it('never answers: each attempt ends at the attempt timeout in the stage it waited in, not at the deadline', async () => {
    const server = await faulty(silent);
    const at = `127.0.0.1:${server.port}`;
    const r = await runCli(
      [...QUICK, `redis://:${REDIS_PASSWORD}@${at}/1`, `redis://${at}`, `http://user:${HTTP_PASSWORD}@${at}/health`, '--harbor-core', `http://${at}`],
      CORE_ENV,
    );
    const [withPassword, withoutPassword, http, core] = labels(r) as [string, string, string, string];
    // With a password the first command is AUTH, so the attempt is cut short while waiting for its answer.
    expectGaveUp(r, withPassword, 'timeout', 'AUTH_TIMEOUT');
    expectGaveUp(r, withoutPassword, 'timeout', 'RESPONSE_TIMEOUT');
    expectGaveUp(r, http, 'timeout', 'RESPONSE_TIMEOUT');
    expectGaveUp(r, core, 'timeout', 'RESPONSE_TIMEOUT');
    expect(server.connections.length).toBeGreaterThanOrEqual(8);
    // One attempt in flight per target: a timed-out attempt closed its connection before the next one opened
    // (one more allowed, for a close and a connect seen in the same turn of the server's event loop).
    expect(server.peakOpen()).toBeLessThanOrEqual(4 + 1);
    await eventually(() => server.open() === 0);
    expectClean(r);
  });

  it('answers half a Redis reply ("+PO", no CRLF) and hangs: the attempt times out', async () => {
    const server = await faulty(halfReply('+PO'));
    const at = `127.0.0.1:${server.port}`;
    const r = await runCli([...QUICK, `redis://:${REDIS_PASSWORD}@${at}`, `redis://${ACL_USER}:${ACL_PASSWORD}@${at}/2`, `redis://${at}`]);
    const [password, acl, none] = labels(r) as [string, string, string];
    expectGaveUp(r, password, 'timeout', 'AUTH_TIMEOUT');
    expectGaveUp(r, acl, 'timeout', 'AUTH_TIMEOUT');
    expectGaveUp(r, none, 'timeout', 'RESPONSE_TIMEOUT');
    expect(server.peakOpen()).toBeLessThanOrEqual(3 + 1);
    await eventually(() => server.open() === 0);
    expectClean(r);
  });

  const unfinishedHeads: Array<[string, Fault]> = [
    ['answers a status line and part of the headers, then stops', halfReply('HTTP/1.1 200 OK\r\nContent-Type: application/js')],
    ['keeps sending header lines slowly and never ends them', endlessHeaders(50)],
  ];
  it.each(unfinishedHeads)('%s: the attempt times out waiting for the answer, not at the deadline', async (_, fault) => {
    const server = await faulty(fault);
    const at = `127.0.0.1:${server.port}`;
    const r = await runCli([...QUICK, `http://user:${HTTP_PASSWORD}@${at}/`, '--harbor-core', `http://${at}`], CORE_ENV);
    const [http, core] = labels(r) as [string, string];
    expectGaveUp(r, http, 'timeout', 'RESPONSE_TIMEOUT');
    expectGaveUp(r, core, 'timeout', 'RESPONSE_TIMEOUT');
    expect(server.peakOpen()).toBeLessThanOrEqual(2 + 1);
    await eventually(() => server.open() === 0);
    expectClean(r);
  });

  it('answers in another protocol (an SSH banner): NOT_REDIS and NOT_HTTP at once, quoting its first bytes, not at the timeout', async () => {
    const server = await faulty(halfReply('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
    const at = `127.0.0.1:${server.port}`;
    const r = await runCli([...QUICK, `redis://:${REDIS_PASSWORD}@${at}`, `http://user:${HTTP_PASSWORD}@${at}/`, '--harbor-core', `http://${at}`], CORE_ENV);
    const [redis, http, core] = labels(r) as [string, string, string];
    expectGaveUp(r, redis, 'auth', 'NOT_REDIS');
    expectGaveUp(r, http, 'response', 'NOT_HTTP');
    expectGaveUp(r, core, 'response', 'NOT_HTTP');
    for (const l of r.events('not_ready')) {
      expect(l.reason).toContain('beginning "SSH-2.0-OpenSSH_9.2p1 De"');
      expect(l.reason).toMatch(l.target === redis ? /use rediss:\/\// : /use https:\/\//);
    }
    await eventually(() => server.open() === 0);
    expectClean(r);
  });

  it('answers more than a check could need: an oversized Redis reply or response head fails the attempt at once', async () => {
    // Neither ever ends: a check that kept reading would buffer it all and then time out.
    const redisSide = await faulty(halfReply(`$99999999\r\n${'x'.repeat(1_100_000)}`));
    const httpSide = await faulty(halfReply(`HTTP/1.1 200 OK\r\nX-Pad: ${'a'.repeat(70_000)}`));
    const r = await runCli([...QUICK, `redis://127.0.0.1:${redisSide.port}`, `http://user:${HTTP_PASSWORD}@127.0.0.1:${httpSide.port}/`]);
    const [redis, http] = labels(r) as [string, string];
    expectGaveUp(r, redis, 'response', 'REPLY_TOO_LARGE');
    expectGaveUp(r, http, 'response', 'HEAD_TOO_LARGE');
    await eventually(() => redisSide.open() === 0 && httpSide.open() === 0);
    expectClean(r);
  });

  it('answers 200 and streams the body for ever: ready at once, the body left unread and the connection closed', async () => {
    // The body is what core's 200 holds: the database password, over and over.
    const chunk = Buffer.from(`{"postgresql_password":{"value":"${DB_PASSWORD}","editable":false}},`.repeat(1024));
    const server = await faulty(endlessBody(chunk));
    const at = `127.0.0.1:${server.port}`;
    // A third target, not up yet, keeps the process running: what closes the body's connections must be
    // harbor-wait itself, not its exit.
    const late = await freePort();
    const waiter = startCli(
      ['--deadline', '20s', '--log-level', 'debug', `http://user:${HTTP_PASSWORD}@${at}/`, `tcp://127.0.0.1:${late}`, '--harbor-core', `http://${at}`],
      CORE_ENV,
    );
    const [http, , core] = startTargets(await waiter.waitForEvent('start'));
    await waiter.waitForEvent('ready', (l) => l.target === http);
    await waiter.waitForEvent('ready', (l) => l.target === core);
    await eventually(() => server.open() === 0);
    expect(waiter.child.exitCode, 'still waiting for the third target').toBeNull();
    await faulty(silent, late);
    const r = await waiter.result;
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
    expect(r.events('ready')).toHaveLength(3);
    expect(pairs(r, http as string)).toEqual([]);
    expect(pairs(r, core as string)).toEqual([]);
    expect(r.ms).toBeLessThan(20_000);
    // One request per target; core's carried the secret.
    expect(server.connections).toHaveLength(2);
    const heads = server.connections.map((c) => c.received.toString('latin1').split('\r\n\r\n')[0] ?? '');
    expect(heads.filter((h) => new RegExp(`^authorization: Harbor-Secret ${HARBOR_SECRET}$`, 'im').test(h))).toHaveLength(1);
    // What was written is bounded by the socket buffers, not by how long the server would have gone on.
    for (const c of server.connections) expect(c.bytesOut).toBeLessThan(64 * 1024 * 1024);
    expectClean(r);
  });
});

describe.concurrent('connections reset or closed', () => {
  it('reset right after the TLS ClientHello (https:// and rediss://): tls stage, ECONNRESET', async () => {
    const server = await faulty(resetOnFirstData);
    const at = `127.0.0.1:${server.port}`;
    const r = await runCli([...QUICK, '--ca-file', certs.caCert, `rediss://:${REDIS_PASSWORD}@${at}`, '--harbor-core', `https://${at}`], CORE_ENV);
    const [rediss, core] = labels(r) as [string, string];
    expectGaveUp(r, rediss, 'tls', 'ECONNRESET');
    expectGaveUp(r, core, 'tls', 'ECONNRESET');
    expect(server.connections.every((c) => isClientHello(c.received))).toBe(true);
    expectClean(r);
  });

  it('reset right after accept (redis://, and core over http://): ECONNRESET', async () => {
    const { r, password, none, core } = await threeWaitersOn(resetOnAccept);
    // The kernel completed the TCP handshake before the server reset it: the reset reaches the client while it
    // sets the connection up or waits for its first answer, whichever it got to. Either way it is a reset.
    for (const target of [core, password, none]) expectGaveUp(r, target, ['connect', 'auth', 'response'], 'ECONNRESET');
    expectClean(r);
  });

  it('reset when the first command or request arrives (redis://, and core over http://): ECONNRESET', async () => {
    const { r, password, none, core } = await threeWaitersOn(resetOnFirstData);
    expectGaveUp(r, core, 'response', 'ECONNRESET');
    expectGaveUp(r, password, 'auth', 'ECONNRESET');
    expectGaveUp(r, none, 'response', 'ECONNRESET');
    expectClean(r);
  });

  it('closed without a word when the first command or request arrives (redis://, and core over http://): CONNECTION_CLOSED', async () => {
    const { r, password, none, core } = await threeWaitersOn(closeOnFirstData);
    expectGaveUp(r, password, 'auth', 'CONNECTION_CLOSED');
    expectGaveUp(r, none, 'response', 'CONNECTION_CLOSED');
    // The same fault is the same code whatever the protocol: not a code of the HTTP library's own.
    expectGaveUp(r, core, 'response', 'CONNECTION_CLOSED');
    expectClean(r);
  });
});

describe.concurrent('a server that refuses in words', () => {
  it('a Redis at maxclients greets with an error and closes: its words in the reason, whenever they came', async () => {
    const server = await faulty(greetAndClose('-ERR max number of clients reached\r\n'));
    const r = await runCli([...QUICK, `redis://:${REDIS_PASSWORD}@127.0.0.1:${server.port}/1`, `redis://127.0.0.1:${server.port}`]);
    const [password, none] = labels(r) as [string, string];
    // Read as the answer to the first command when it arrives after it was sent (ERR), or else the connection
    // closed before any answer, after those words.
    expectGaveUp(r, password, 'auth', ['ERR', 'CONNECTION_CLOSED']);
    expectGaveUp(r, none, 'response', ['ERR', 'CONNECTION_CLOSED']);
    for (const l of r.events('not_ready')) {
      expect(l.reason).toMatch(l.code === 'ERR' ? /answered (AUTH|PING) with "ERR max number of clients reached"/ : /after sending "-ERR max number of clien"/);
    }
    await eventually(() => server.open() === 0);
    expectClean(r);
  });
});

describe.concurrent('TLS and plain text mixed up', () => {
  it('rediss:// to a plain redis-server: the handshake fails or hangs in the tls stage', async () => {
    const plain = await startRedis({ args: ['--requirepass', REDIS_PASSWORD] });
    const r = await runCli([...QUICK, '--ca-file', certs.caCert, `rediss://:${REDIS_PASSWORD}@127.0.0.1:${plain.port}`]);
    const [target] = labels(r) as [string];
    // Redis reads a ClientHello as an inline command: it answers an error only when a newline byte happens
    // to be among the hello's random bytes, else it waits for one. Either way the failure is TLS's.
    expectGaveUp(r, target, ['timeout', 'tls'], ['TLS_TIMEOUT', 'NOT_TLS']);
    for (const [stage, code] of pairs(r, target)) expect(stage === 'tls').toBe(code === 'NOT_TLS');
    // Both ways, the reason says what is wrong: a plain port.
    for (const l of r.events('not_ready')) expect(l.reason).toMatch(/plain port/);
    expectClean(r);
    await plain.stop();
  });

  it('https:// to a plain HTTP core: tls stage, NOT_TLS, saying it is a plain port', async () => {
    const core = track(await startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD }));
    const r = await runCli([...QUICK, '--ca-file', certs.caCert, '--harbor-core', `https://127.0.0.1:${core.port}`], CORE_ENV);
    const [target] = labels(r) as [string];
    expectGaveUp(r, target, 'tls', 'NOT_TLS');
    expect(r.events('not_ready')[0]?.reason).toContain('plain port');
    expect(core.requests).toEqual([]); // the secret never went over the wire in clear
    expectClean(r);
  });

  it('redis:// to a TLS-only redis-server: the server closes or resets the connection, with a hint to use rediss://', async () => {
    const tlsRedis = await startRedis({ tls: certs, args: ACL_ARGS });
    const r = await runCli([...QUICK, `redis://${ACL_USER}:${ACL_PASSWORD}@127.0.0.1:${tlsRedis.port}`]);
    const [target] = labels(r) as [string];
    // Which one depends on whether our AUTH is still unread when the server drops the connection.
    expectGaveUp(r, target, 'auth', ['CONNECTION_CLOSED', 'ECONNRESET']);
    expect(r.events('not_ready')[0]?.reason).toContain('rediss://');
    expectClean(r);
    await tlsRedis.stop();
  });

  it('http:// to an https core: the server closes the connection while the answer is awaited', async () => {
    const core = track(await startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD, tls: certs }));
    const r = await runCli([...QUICK, '--harbor-core', `http://127.0.0.1:${core.port}`], CORE_ENV);
    const [target] = labels(r) as [string];
    expectGaveUp(r, target, 'response', 'CONNECTION_CLOSED');
    expectClean(r);
  });
});

describe.concurrent('certificates', () => {
  /** A TLS redis-server (ACL user) and a TLS core, both serving `cert`, waited for with or without the CA. */
  async function against(cert: string, key: string, trustCa: boolean): Promise<{ r: Awaited<ReturnType<typeof runCli>>; rediss: string; core: string }> {
    const tls = withServerCert(cert, key);
    const [redis, core] = await Promise.all([startRedis({ tls, args: ACL_ARGS }), startFakeCore({ secret: HARBOR_SECRET, dbPassword: DB_PASSWORD, tls })]);
    track(core);
    const r = await runCli(
      [...QUICK, ...(trustCa ? ['--ca-file', certs.caCert] : []), `rediss://${ACL_USER}:${ACL_PASSWORD}@127.0.0.1:${redis.port}/1`, '--harbor-core', `https://127.0.0.1:${core.port}`],
      CORE_ENV,
    );
    await redis.stop();
    expect(core.requests).toEqual([]);
    const [rediss, coreLabel] = labels(r) as [string, string];
    return { r, rediss, core: coreLabel };
  }

  it('an untrusted CA: tls stage, the verifier\'s code for it, pointing at --ca-file', async () => {
    const { r, rediss, core } = await against(certs.serverCert, certs.serverKey, false);
    // Which code depends on what the server sends: redis-server sends the CA along (SELF_SIGNED_CERT_IN_CHAIN),
    // Node's https server the leaf alone (UNABLE_TO_VERIFY_LEAF_SIGNATURE).
    const untrusted = ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'];
    expectGaveUp(r, rediss, 'tls', untrusted);
    expectGaveUp(r, core, 'tls', untrusted);
    for (const l of r.events('not_ready')) expect(l.reason).toContain('--ca-file');
    expectClean(r);
  });

  it('an expired certificate from a trusted CA: tls stage, CERT_HAS_EXPIRED', async () => {
    const expired = await makeExpiredCert();
    const { r, rediss, core } = await against(expired.cert, expired.key, true);
    expectGaveUp(r, rediss, 'tls', 'CERT_HAS_EXPIRED');
    expectGaveUp(r, core, 'tls', 'CERT_HAS_EXPIRED');
    expect(r.events('not_ready')[0]?.reason).toContain('expired');
    expectClean(r);
  });

  it('a certificate for another name: tls stage, HOSTNAME_MISMATCH', async () => {
    const { r, rediss, core } = await against(certs.wrongNameCert, certs.wrongNameKey, true);
    expectGaveUp(r, rediss, 'tls', 'HOSTNAME_MISMATCH');
    expectGaveUp(r, core, 'tls', 'HOSTNAME_MISMATCH');
    expectClean(r);
  });
});

describe.concurrent('dependencies that change during the wait', () => {
  it('Redis paused, then stopped, then started again on the same port: ready in the end', async () => {
    const port = await freePort();
    const dir = tempDir('harbor-wait-restart-');
    const args = ['--requirepass', REDIS_PASSWORD];
    const first = await startRedis({ port, dir, args, password: REDIS_PASSWORD });
    // Paused, it accepts connections and holds every command: AUTH gets no answer.
    await first.admin().call('CLIENT', 'PAUSE', '60000', 'ALL');
    const waiter = startCli(['--deadline', '30s', '--attempt-timeout', '1s', '--log-level', 'debug', `redis://:${REDIS_PASSWORD}@127.0.0.1:${port}/1`]);
    await waiter.waitForEvent('not_ready', (l) => l.code === 'AUTH_TIMEOUT');
    await first.stop();
    await waiter.waitForEvent('not_ready', (l) => l.code === 'ECONNREFUSED');
    const second = await startRedis({ port, dir, args, password: REDIS_PASSWORD });
    const r = await waiter.result;
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
    const [target] = labels(r) as [string];
    const sequence = codeSequence(r, target);
    expect(sequence[0]).toBe('AUTH_TIMEOUT');
    expect(sequence.at(-1)).toBe('ECONNREFUSED');
    // Stopping it may cut an attempt in flight: that one ends as a closed or reset connection.
    for (const code of sequence) expect(['AUTH_TIMEOUT', 'CONNECTION_CLOSED', 'ECONNRESET', 'ECONNREFUSED']).toContain(code);
    expect(r.events('ready')[0]).toMatchObject({ target, address: `127.0.0.1:${port}` });
    expectClean(r);
    await second.stop();
  });

  it('a sentinel failover while the master is down: ready at the promoted replica', async () => {
    const auth = ['--requirepass', REDIS_PASSWORD, '--masterauth', REDIS_PASSWORD];
    const master = await startRedis({ args: auth, password: REDIS_PASSWORD });
    const replica = await startRedis({ args: [...auth, '--replicaof', '127.0.0.1', String(master.port)], password: REDIS_PASSWORD });
    const replicaAdmin = replica.admin();
    await eventually(async () => /master_link_status:up/.test(await replicaAdmin.info('replication')), 10_000);
    const sentinel = await startSentinel('harbor', master.port, { password: REDIS_PASSWORD });
    const asker = new Redis({ host: '127.0.0.1', port: sentinel.port, retryStrategy: () => null, maxRetriesPerRequest: 1 });
    asker.on('error', () => {});
    try {
      // The sentinel finds the replica through the master's INFO.
      await eventually(async () => {
        const replicas = (await asker.call('SENTINEL', 'REPLICAS', 'harbor')) as string[][];
        return replicas.some((fields) => fields.includes(String(replica.port)));
      }, 15_000);
      await master.stop();
      const waiter = startCli(['--deadline', '30s', '--attempt-timeout', '1s', '--log-level', 'debug', `redis+sentinel://:${REDIS_PASSWORD}@127.0.0.1:${sentinel.port}/harbor/0`]);
      await waiter.waitForEvent('not_ready', (l) => l.code === 'ECONNREFUSED');
      // Asked by hand, as an operator would; retried while the sentinel has no replica it deems fit yet.
      await eventually(async () => {
        try {
          await asker.call('SENTINEL', 'FAILOVER', 'harbor');
          return true;
        } catch (err) {
          if (/NOGOODSLAVE/.test((err as Error).message)) return false;
          throw err;
        }
      }, 15_000);
      const r = await waiter.result;
      expect(r.code, r.stdout).toBe(ExitCode.Ready);
      const [target] = labels(r) as [string];
      expect(pairs(r, target)[0]).toEqual(['connect', 'ECONNREFUSED']);
      // While the replica is being promoted the sentinel may still name the old master, or already the
      // replica before it answers ROLE master.
      for (const code of codeSequence(r, target)) expect(['ECONNREFUSED', 'NOT_MASTER']).toContain(code);
      expect(r.events('ready')[0]).toMatchObject({ target, address: `127.0.0.1:${replica.port}` });
      expectClean(r);
    } finally {
      asker.disconnect();
      await sentinel.stop();
      await replica.stop();
    }
  });

  it('core answers 401, then 500, then 200: each is logged in turn, then ready', async () => {
    const core = track(await startFakeCore({ secret: CORE_OLD_SECRET, dbPassword: DB_PASSWORD }));
    const waiter = startCli(['--deadline', '30s', '--backoff-max', '200ms', '--log-level', 'debug', '--harbor-core', core.url], CORE_ENV);
    await waiter.waitForEvent('not_ready', (l) => l.code === 'HTTP_401');
    // The secret rotated to the waiter's, but core's database is not there yet.
    core.secret = HARBOR_SECRET;
    core.mode = 'db-down';
    await waiter.waitForEvent('not_ready', (l) => l.code === 'HTTP_500');
    core.mode = 'ok';
    const r = await waiter.result;
    expect(r.code, r.stdout).toBe(ExitCode.Ready);
    const [target] = labels(r) as [string];
    expect(codeSequence(r, target)).toEqual(['HTTP_401', 'HTTP_500']);
    expect(new Set(pairs(r, target).map((p) => p.join('/')))).toEqual(new Set(['auth/HTTP_401', 'response/HTTP_500']));
    expect(r.events('ready')).toHaveLength(1);
    expect(new Set(core.requests.map((q) => q.authorization))).toEqual(new Set([`Harbor-Secret ${HARBOR_SECRET}`]));
    await eventually(() => core.openConnections() === 0);
    expectClean(r);
  });
});

/**
 * Sends `signal` and measures from the send to the process's exit (not to the pipes' close), then waits for
 * the whole result.
 */
async function stopWith(waiter: Running, signal: 'SIGTERM' | 'SIGINT') {
  const exited = new Promise<number>((resolve) => waiter.child.once('exit', () => resolve(performance.now())));
  const sent = performance.now();
  waiter.child.kill(signal);
  const exitMs = (await exited) - sent;
  return { r: await waiter.result, exitMs };
}

const EXIT_ON: Record<'SIGTERM' | 'SIGINT', ExitCode> = { SIGTERM: ExitCode.Sigterm, SIGINT: ExitCode.Sigint };

/** Attempts cut short fast, the next one at once: after the first timeout, the next attempt is in the same stage. */
const SIGNAL_ARGS = ['--deadline', '60s', '--attempt-timeout', '500ms', '--backoff-initial', '1ms', '--backoff-max', '1ms', '--log-level', 'debug'];

// Not concurrent: the 500 ms bound is measured on a machine that is not also busy with other waiters.
describe('a signal in each stage: exit at once, nothing left open', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const code = EXIT_ON[signal];

    it(`${signal} during a TCP connect that hangs (SYN dropped): exits ${code} within 500 ms`, async () => {
      const listener = await startUnaccepting();
      try {
        const waiter = startCli([...SIGNAL_ARGS, `redis://:${REDIS_PASSWORD}@127.0.0.1:${listener.port}`]);
        await waiter.waitForEvent('not_ready', (l) => l.code === 'CONNECT_TIMEOUT');
        const mine = () => socketsTo(listener.port).filter((s) => !listener.fillerPorts.includes(s.localPort));
        await eventually(() => mine().some((s) => s.state === 'SYN_SENT')); // the next attempt is connecting
        const { r, exitMs } = await stopWith(waiter, signal);
        expect(r.code, r.stdout).toBe(code);
        expect(exitMs).toBeLessThan(500);
        const [target] = labels(r) as [string];
        expect(r.events('cancelled')[0]).toMatchObject({ signal });
        expect(pendingEntry(r, 'cancelled', target)).toMatchObject({ stage: 'timeout', code: 'CONNECT_TIMEOUT' });
        await eventually(() => mine().length === 0, 2000);
        expectClean(r);
      } finally {
        await listener.stop();
      }
    });

    for (const scheme of ['rediss', 'https'] as const) {
      it(`${signal} during a TLS handshake that gets no answer (${scheme}://): exits ${code} within 500 ms`, async () => {
        const server = await faulty(silent);
        const at = `127.0.0.1:${server.port}`;
        const target = scheme === 'rediss' ? [`rediss://:${REDIS_PASSWORD}@${at}`] : ['--harbor-core', `https://${at}`];
        const waiter = startCli([...SIGNAL_ARGS, '--ca-file', certs.caCert, ...target], CORE_ENV);
        await waiter.waitForEvent('not_ready', (l) => l.code === 'TLS_TIMEOUT');
        // The next attempt has sent its ClientHello and waits for the server's.
        await eventually(() => server.connections.some((c, i) => i > 0 && !c.closed && isClientHello(c.received)));
        const { r, exitMs } = await stopWith(waiter, signal);
        expect(r.code, r.stdout).toBe(code);
        expect(exitMs).toBeLessThan(500);
        expect(pendingEntry(r, 'cancelled', labels(r)[0] as string)).toMatchObject({ stage: 'timeout', code: 'TLS_TIMEOUT' });
        await eventually(() => server.open() === 0, 2000);
        expect(socketsTo(server.port)).toEqual([]);
        expectClean(r);
      });
    }

    it(`${signal} while core's answer is awaited: exits ${code} within 500 ms`, async () => {
      const server = await faulty(silent);
      const waiter = startCli([...SIGNAL_ARGS, '--harbor-core', `http://127.0.0.1:${server.port}`], CORE_ENV);
      await waiter.waitForEvent('not_ready', (l) => l.code === 'RESPONSE_TIMEOUT');
      await eventually(() => server.connections.some((c, i) => i > 0 && !c.closed && c.received.includes('\r\n\r\n')));
      const { r, exitMs } = await stopWith(waiter, signal);
      expect(r.code, r.stdout).toBe(code);
      expect(exitMs).toBeLessThan(500);
      expect(pendingEntry(r, 'cancelled', labels(r)[0] as string)).toMatchObject({ stage: 'timeout', code: 'RESPONSE_TIMEOUT' });
      await eventually(() => server.open() === 0, 2000);
      expect(socketsTo(server.port)).toEqual([]);
      expectClean(r);
    });

    it(`${signal} while waiting out a long backoff after a refused connect: exits ${code} within 500 ms`, async () => {
      const port = await freePort();
      const waiter = startCli(['--deadline', '60s', '--backoff-initial', '30s', '--log-level', 'debug', `redis://:${REDIS_PASSWORD}@127.0.0.1:${port}`]);
      const refused = await waiter.waitForEvent('not_ready', (l) => l.code === 'ECONNREFUSED');
      expect(refused.retry_in_ms).toBeGreaterThanOrEqual(10_000);
      const { r, exitMs } = await stopWith(waiter, signal);
      expect(r.code, r.stdout).toBe(code);
      expect(exitMs).toBeLessThan(500);
      expect(r.events('not_ready')).toHaveLength(1);
      expect(pendingEntry(r, 'cancelled', labels(r)[0] as string)).toMatchObject({ stage: 'connect', code: 'ECONNREFUSED' });
      expect(socketsTo(port)).toEqual([]);
      expectClean(r);
    });
  }
});

/** Runs harbor-wait in this process with `lookup` as its only resolver, until it returns or `signal` stops it. */
async function runInProcess(
  argv: readonly string[],
  lookup: Lookup,
  signal: AbortSignal = new AbortController().signal,
): Promise<Outcome & { ms: number }> {
  let stdout = '';
  let stderr = '';
  const started = performance.now();
  const code = await run({ argv, env: CORE_ENV, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), signal, lookup });
  const lines = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
  return { code, stdout, stderr, lines, ms: performance.now() - started };
}

/** A resolver that fails every name with `code`, as getaddrinfo does, and records what it was asked. */
function failingLookup(code: string, asked: string[]): Lookup {
  return async (hostname) => {
    asked.push(hostname);
    throw Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, hostname, syscall: 'getaddrinfo' });
  };
}

/** A resolver that never answers; `asked` grows by one for each lookup started. */
function silentLookup(asked: string[]): Lookup {
  return (hostname) => {
    asked.push(hostname);
    return new Promise(() => {});
  };
}

/** Names no DNS server is ever asked about: the injected resolver is the only one these runs can use. */
const NAMED = [`redis://:${REDIS_PASSWORD}@harbor-redis.harbor.svc:6379/1`, '--harbor-core', 'http://harbor-core.harbor.svc:80'];
const NAMES = ['harbor-redis.harbor.svc', 'harbor-core.harbor.svc'];

describe.concurrent('name resolution (in-process, injected resolver)', () => {
  for (const code of ['ENOTFOUND', 'EAI_AGAIN']) {
    it(`a resolver failing with ${code}: dns stage, ${code}, until the deadline`, async () => {
      const asked: string[] = [];
      const r = await runInProcess(['--deadline', '1s', '--attempt-timeout', '1s', '--log-level', 'debug', ...NAMED], failingLookup(code, asked));
      for (const target of labels(r)) expectGaveUp(r, target, 'dns', code);
      expect(new Set(asked)).toEqual(new Set(NAMES));
      expectClean(r);
    });
  }

  it('a resolver that never answers: each attempt ends as DNS_TIMEOUT', async () => {
    const asked: string[] = [];
    const r = await runInProcess(['--deadline', '1500ms', '--attempt-timeout', '300ms', '--log-level', 'debug', ...NAMED], silentLookup(asked));
    for (const target of labels(r)) expectGaveUp(r, target, 'timeout', 'DNS_TIMEOUT');
    expect(new Set(asked)).toEqual(new Set(NAMES));
    expectClean(r);
  });

  for (const [name, code] of [['SIGTERM', ExitCode.Sigterm], ['SIGINT', ExitCode.Sigint]] as const) {
    it(`${name} while a lookup hangs: ${code} at once, the dns stage named in the cancelled line`, async () => {
      const asked: string[] = [];
      const stop = new AbortController();
      const lookup = silentLookup(asked);
      let scheduled = false;
      let abortedAt = 0;
      // Stop once every name is being looked up a second time, i.e. after one DNS_TIMEOUT per target.
      const watching: Lookup = (hostname) => {
        const pending = lookup(hostname);
        if (!scheduled && NAMES.every((n) => asked.filter((a) => a === n).length >= 2)) {
          scheduled = true;
          setTimeout(() => {
            abortedAt = performance.now();
            stop.abort(new Shutdown(name));
          }, 20);
        }
        return pending;
      };
      const r = await runInProcess(['--deadline', '30s', '--attempt-timeout', '300ms', '--log-level', 'debug', ...NAMED], watching, stop.signal);
      expect(r.code).toBe(code);
      expect(performance.now() - abortedAt).toBeLessThan(500);
      expect(r.lines.find((l) => l.event === 'cancelled')).toMatchObject({ signal: name });
      for (const target of labels(r)) {
        expect(pendingEntry(r, 'cancelled', target)).toMatchObject({ stage: 'timeout', code: 'DNS_TIMEOUT' });
      }
      expectClean(r);
    });
  }
});
