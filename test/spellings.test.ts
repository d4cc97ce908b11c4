/**
 * Secrets in other spellings: a peer that echoes a secret percent-encoded (either hex case), in base64 or
 * upper-cased is still scrubbed wherever its text is shown — core's health errors in diagnose, a Redis error
 * reply in the waiter's reason — through the built entry, with the rest of the text left as the peer sent it.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { runCli } from './helpers/cli.ts';
import { healthyComponents, startFakeCore, type FakeCore } from './helpers/core.ts';
import { findCheck, parseReport } from './helpers/diagnose.ts';

const SECRET = 'Jobsvc/Secret+Mark=9';
const PASSWORD = 'redis-Echo-Pass/7';

function spellings(secret: string): string[] {
  const pct = encodeURIComponent(secret);
  return [secret, pct, pct.toLowerCase(), Buffer.from(secret).toString('base64'), secret.toUpperCase(), secret.toLowerCase()];
}

function expectNone(text: string, secret: string): void {
  for (const form of spellings(secret)) expect(text, `holds ${form}`).not.toContain(form);
  expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
}

let core: FakeCore;
let echo: net.Server;
let echoPort: number;

beforeAll(async () => {
  core = await startFakeCore({ secret: SECRET, dbPassword: 'db-Spelling-Pass-1' });
  // A Redis stand-in that refuses AUTH by quoting the password back, upper-cased and percent-encoded.
  echo = net.createServer((socket) => {
    socket.on('data', () => socket.write(`-ERR AUTH ${PASSWORD.toUpperCase()} / ${encodeURIComponent(PASSWORD).toLowerCase()} refused by proxy\r\n`));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await core.close();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

describe('a secret in another spelling is scrubbed from what a peer says', () => {
  it('diagnose: core\'s health errors holding the jobservice secret percent-encoded, in base64 and upper-cased', async () => {
    const pct = encodeURIComponent(SECRET);
    core.components = healthyComponents().map((c) =>
      c.name === 'jobservice'
        ? { name: 'jobservice', status: 'unhealthy', error: `secret ${pct} / ${pct.toLowerCase()} rejected` }
        : c.name === 'registry'
          ? { name: 'registry', status: 'unhealthy', error: `auth ${Buffer.from(SECRET).toString('base64')} or ${SECRET.toUpperCase()} failed` }
          : c,
    );
    try {
      const r = await runCli(['diagnose', '--log-format', 'json', '--harbor-core', core.url], { JOBSERVICE_SECRET: SECRET });
      // Unhealthy components are warnings: the config API answers, so nothing failed.
      expect(r.code, r.stdout).toBe(ExitCode.Ready);
      expectNone(r.stdout + r.stderr, SECRET);
      const report = parseReport(r.stdout, r.stderr);
      expect(findCheck(report, core.url, 'health jobservice').value).toBe('unhealthy: secret *** / *** rejected');
      expect(findCheck(report, core.url, 'health registry').value).toBe('unhealthy: auth *** or *** failed');
    } finally {
      core.components = healthyComponents();
    }
  });

  it('the waiter: a Redis reply quoting the password upper-cased and percent-encoded', async () => {
    const r = await runCli(['--once', `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${echoPort}`]);
    expect(r.code, r.stdout).toBe(ExitCode.Failure);
    expectNone(r.stdout + r.stderr, PASSWORD);
    const line = r.events('not_ready')[0];
    expect(line?.reason).toContain('"ERR AUTH *** / *** refused by proxy"');
  });
});
