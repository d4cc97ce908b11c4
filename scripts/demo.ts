/**
 * The demo: harbor-wait waits for a real Redis that starts late, a real PostgreSQL that starts late without
 * core's database (created a moment later), and an imitation of Harbor core's config API that first refuses
 * connections, then answers 401 (wrong secret), then 200. Everything runs on loopback, on free ports, and is
 * stopped at the end.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILT as BUNDLE } from '../test/helpers/cli.ts';
import { healthyComponents, startFakeCore, type FakeCore } from '../test/helpers/core.ts';
import { startPostgres } from '../test/helpers/postgres.ts';
import { freePort, stopAll, tempDir } from '../test/helpers/processes.ts';
import { startRedis } from '../test/helpers/redis.ts';

const say = (text: string) => process.stdout.write(`\x1b[2m# demo: ${text}\x1b[0m\n`);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const secret = randomBytes(16).toString('hex');
const secretFile = join(tempDir(), 'jobservice-secret');
writeFileSync(secretFile, secret, { mode: 0o600 });
const dbPassword = randomBytes(16).toString('hex');
const [redisPort, corePort, pgPort] = [await freePort(), await freePort(), await freePort()];
let core: FakeCore | undefined;

say(`nothing is up yet: Redis will start on 127.0.0.1:${redisPort}, PostgreSQL on 127.0.0.1:${pgPort}, core's config API on 127.0.0.1:${corePort}`);
const targets = ['--harbor-core', `http://127.0.0.1:${corePort}`, '--harbor-secret-file', secretFile, `redis://127.0.0.1:${redisPort}/1`, `postgres://harbor:${dbPassword}@127.0.0.1:${pgPort}/registry?sslmode=disable`];
const waiter = spawn(process.execPath, [BUNDLE, '--log-format', 'pretty', '--deadline', '1m', ...targets], { stdio: ['ignore', 'inherit', 'inherit'] });
const exited = new Promise<number | null>((resolve) => waiter.on('exit', (code) => resolve(code)));

try {
  await pause(2500);
  say('core starts, but does not share the jobservice secret yet: it answers 401');
  core = await startFakeCore({ secret: randomBytes(16).toString('hex'), dbPassword: randomBytes(8).toString('hex'), port: corePort });
  await pause(2500);
  say('Redis starts (a real redis-server), and PostgreSQL, without the database core uses yet');
  const redis = await startRedis({ port: redisPort });
  const postgres = await startPostgres({ port: pgPort });
  await postgres.sql(`CREATE ROLE harbor LOGIN PASSWORD '${dbPassword}'`);
  await pause(2000);
  say('the database is created');
  await postgres.sql('CREATE DATABASE registry OWNER harbor');
  await pause(1000);
  say("core now has the jobservice secret: it answers 200");
  core.secret = secret;
  const code = await exited;
  say(`harbor-wait exited ${code}: the pod's next container could start now`);
  process.exitCode = code ?? 1;

  // Redis is given a memory limit its data nearly fills, and core says its database is unhealthy.
  const admin = redis.admin();
  const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
  await admin.config('SET', 'maxmemory-policy', 'noeviction');
  await admin.config('SET', 'maxmemory', String(Math.round(used / 0.93)));
  core.components = healthyComponents().map((c) => (c.name === 'jobservice' ? { ...c, status: 'unhealthy' as const, error: 'dial tcp 10.0.0.7:8080: connect: connection refused' } : c));
  say('Redis is now near its memory limit, and jobservice is down; harbor-wait diagnose, the same targets:');
  const diagnose = spawn(process.execPath, [BUNDLE, 'diagnose', ...targets], { stdio: ['ignore', 'inherit', 'inherit'] });
  const diagnosed = await new Promise<number | null>((resolve) => diagnose.on('exit', (c) => resolve(c)));
  say(`harbor-wait diagnose exited ${diagnosed}: warnings only`);
} finally {
  if (waiter.exitCode === null) waiter.kill('SIGTERM');
  await core?.close();
  await stopAll();
}
