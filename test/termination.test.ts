/**
 * The termination message (src/engine/termination.ts): what `kubectl describe pod` shows when a wait container does
 * not succeed. Through the built entry file, with a file standing in for the kubelet's /dev/termination-log.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { bounded, MAX_TERMINATION_BYTES, terminationText } from '../src/engine/termination.ts';
import { runCli, startCli } from './helpers/cli.ts';
import { freePort, tempDir } from './helpers/processes.ts';
import { startRedis } from './helpers/redis.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';

const dir = tempDir('harbor-wait-termination-');
let n = 0;
/** An empty file where the kubelet would mount /dev/termination-log. */
function logFile(): string {
  const path = join(dir, `termination-log-${++n}`);
  writeFileSync(path, '');
  return path;
}

describe('terminationText and bounded', () => {
  it('one line for the outcome, then one per pending target', () => {
    const text = terminationText('gave up after the 10m deadline', [
      { target: 'redis://harbor-redis:6379', attempts: 3, stage: 'response', code: 'LOADING', reason: 'harbor-redis:6379 is loading its dataset into memory' },
      { target: 'tcp://db:5432', attempts: 1, stage: null, code: null, reason: 'no attempt has finished yet' },
    ]);
    expect(text).toBe(
      'harbor-wait: gave up after the 10m deadline; not ready:\n' +
        'redis://harbor-redis:6379 (response, LOADING): harbor-redis:6379 is loading its dataset into memory\n' +
        'tcp://db:5432 (-, -): no attempt has finished yet\n',
    );
    expect(terminationText('configuration error: --deadline: "5x" is not a duration')).toBe('harbor-wait: configuration error: --deadline: "5x" is not a duration\n');
  });

  it('cuts at 4096 bytes of UTF-8 with a marker, never inside a character', () => {
    expect(bounded('short')).toBe('short');
    const long = bounded('é'.repeat(5000));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_TERMINATION_BYTES);
    expect(long).toMatch(/é\n\[cut at 4096 bytes\]\n$/);
    expect(long).not.toContain('\uFFFD');
  });
});

describe('the termination message, through the entry file', () => {
  it('the deadline: the outcome and each pending target with stage, code and reason', async () => {
    const path = logFile();
    const port = await freePort();
    const r = await runCli(['--deadline', '1s', '--termination-log', path, `tcp://127.0.0.1:${port}`]);
    expect(r.code).toBe(ExitCode.Deadline);
    expect(r.events('start')[0]).toMatchObject({ settings: { termination_log: path } });
    expect(readFileSync(path, 'utf8')).toBe(
      `harbor-wait: gave up after the 1s deadline; not ready:\ntcp://127.0.0.1:${port} (connect, ECONNREFUSED): connection to 127.0.0.1:${port} refused: nothing listens there yet\n`,
    );
  });

  it('a sidecar stopped by SIGTERM says so', async () => {
    const path = logFile();
    const redis = await startRedis();
    const sidecar = startCli(['--serve', '127.0.0.1:0', '--termination-log', path, `redis://127.0.0.1:${redis.port}`]);
    await sidecar.waitForEvent('ready');
    sidecar.child.kill('SIGTERM');
    expect((await sidecar.result).code).toBe(ExitCode.Sigterm);
    expect(readFileSync(path, 'utf8')).toBe('harbor-wait: sidecar stopped by SIGTERM\n');
    await redis.stop();
  });

  it('success writes nothing', async () => {
    const redis = await startRedis();
    const path = logFile();
    const r = await runCli(['--termination-log', path, `redis://127.0.0.1:${redis.port}`]);
    expect(r.code).toBe(ExitCode.Ready);
    expect(readFileSync(path, 'utf8')).toBe('');
    await redis.stop();
  });

  it('--once not ready, and a configuration error (from WAIT_TERMINATION_LOG)', async () => {
    const path = logFile();
    const port = await freePort();
    const once = await runCli(['--once', `tcp://127.0.0.1:${port}`], { WAIT_TERMINATION_LOG: path });
    expect(once.code).toBe(ExitCode.Failure);
    expect(readFileSync(path, 'utf8')).toMatch(/^harbor-wait: not ready after one attempt; not ready:\ntcp:\/\/127\.0\.0\.1:\d+ \(connect, ECONNREFUSED\)/);
    const config = await runCli(['--deadline', '5x', `tcp://127.0.0.1:${port}`], { WAIT_TERMINATION_LOG: path });
    expect(config.code).toBe(ExitCode.ConfigError);
    // Replaced, not appended to.
    expect(readFileSync(path, 'utf8')).toBe(`harbor-wait: configuration error: ${config.lines[0]?.msg}\n`);
  });

  it('no secret in it: the password of a target is scrubbed like every log line', async () => {
    const password = markedSecret('term');
    const redis = await startRedis({ args: ['--requirepass', markedSecret('othr')] });
    const path = logFile();
    const r = await runCli(['--once', '--termination-log', path, `redis://:${encodeURIComponent(password)}@127.0.0.1:${redis.port}`]);
    expect(r.code).toBe(ExitCode.Failure);
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/WRONGPASS/);
    expectNoSecret({ 'termination log': text }, [password]);
    await redis.stop();
  });

  it('is cut at 4096 bytes with a marker when many targets are pending', async () => {
    const path = logFile();
    const ports = await Promise.all(Array.from({ length: 60 }, () => freePort()));
    const r = await runCli(['--once', '--termination-log', path, ...ports.map((p) => `tcp://127.0.0.1:${p}`)]);
    expect(r.code).toBe(ExitCode.Failure);
    const text = readFileSync(path, 'utf8');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(4096);
    expect(text).toMatch(/\n\[cut at 4096 bytes\]\n$/);
  });

  it('an empty WAIT_TERMINATION_LOG turns it off; a path that does not exist is not created', async () => {
    const path = logFile();
    const port = await freePort();
    const off = await runCli(['--once', `tcp://127.0.0.1:${port}`], { WAIT_TERMINATION_LOG: '' });
    expect(off.code).toBe(ExitCode.Failure);
    expect(off.events('start')[0]).toMatchObject({ settings: { termination_log: null } });
    const flagOff = await runCli(['--once', '--termination-log=', `tcp://127.0.0.1:${port}`], { WAIT_TERMINATION_LOG: path });
    expect(flagOff.code).toBe(ExitCode.Failure);
    expect(readFileSync(path, 'utf8')).toBe('');
    const absent = join(dir, 'no-such-file');
    const r = await runCli(['--once', '--termination-log', absent, `tcp://127.0.0.1:${port}`]);
    expect(r.code).toBe(ExitCode.Failure);
    expect(existsSync(absent)).toBe(false);
  });

  it('a file that cannot be written is a debug line, and the exit code stays the outcome', async () => {
    const directory = join(dir, 'a-directory');
    mkdirSync(directory);
    const port = await freePort();
    const r = await runCli(['--once', '--log-level', 'debug', '--termination-log', directory, `tcp://127.0.0.1:${port}`]);
    expect(r.code).toBe(ExitCode.Failure);
    expect(r.events('termination_log')).toEqual([expect.objectContaining({ level: 'debug', path: directory, code: 'EISDIR' })]);
    expect(statSync(directory).isDirectory()).toBe(true);
    expect(r.stderr).toBe('');
  });
});
