/**
 * The pretty report puts consecutive skips with one cause on one line (names by layer, then the cause), and
 * changes nothing else: a lone skip, a "cut short" mark, the other lines, the level filter and the summary's
 * counts print as before, and the JSON report still lists every check. Proved on synthetic groups, then
 * through the built entry against a real redis-server given a wrong password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderJson, renderPretty, type Group } from '../src/engine/diagnosis-render.ts';
import type { Finding, Layer } from '../src/net/report.ts';
import { runCli } from './helpers/cli.ts';
import { parseReport } from './helpers/diagnose.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';

const LOGIN = 'the login failed';

function skip(layer: Layer, name: string, hint: string | undefined = LOGIN, value = `INFO ${name}`): Finding {
  return { layer, name, status: 'skip', value, ...(hint !== undefined ? { hint } : {}) };
}

const url: Finding = { layer: 'url', name: 'url', status: 'ok', value: 'redis (plain text)', ms: 0.4 };
const auth: Finding = { layer: 'auth', name: 'auth', status: 'fail', value: 'AUTH: WRONGPASS', hint: 'check the password', ms: 1.3 };
const settings: Group = { target: "this pod's settings", from: 'options', findings: [{ layer: 'settings', name: 'deadline', status: 'ok', value: '5m' }] };

/** The pretty report of one target with these findings (and the pod's settings), at `level`. */
function pretty(findings: readonly Finding[], level: 'debug' | 'info' | 'warn' | 'error' = 'info'): string {
  return renderPretty([{ target: 'redis://127.0.0.1:6379', from: 'argument', findings }, settings], { version: '1.2.3', level, stepTimeoutMs: 5000 });
}

/** The target's lines: between its header and the blank line before the next group. */
function targetLines(out: string): string[] {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.startsWith('redis://127.0.0.1:6379  (argument)'));
  return lines.slice(start + 1, lines.indexOf('', start + 1));
}

describe('renderPretty: skips with one cause', () => {
  it('a run of same-cause skips is one line naming them in order, then the cause; the whole report otherwise as before', () => {
    const out = pretty([url, auth, skip('server', 'version'), skip('server', 'role'), skip('server', 'loading'), skip('server', 'memory')]);
    expect(out).toBe([
      'harbor-wait 1.2.3 diagnose: 1 target, one pass, each step within 5.0 s',
      '',
      'redis://127.0.0.1:6379  (argument) - FAILED',
      '  [ok]   url      url      redis (plain text)',
      '  [FAIL] auth     auth     AUTH: WRONGPASS',
      '                  hint: check the password',
      '  [skip] server   version, role, loading, memory - the login failed',
      '',
      "this pod's settings  (options) - ok",
      '  [ok]   settings deadline  5m',
      '',
      'diagnose: found problems in 1 of 2 groups: 1 failure, 0 warnings (2 ok, 4 skipped)',
      '',
    ].join('\n'));
  });

  it('across layers: the first layer\'s names, then "; layer names" for each next layer', () => {
    const lines = targetLines(pretty([auth, skip('server', 'version'), skip('server', 'role'), skip('limits', 'maxclients'), skip('limits', 'maxmemory')]));
    expect(lines.slice(2)).toEqual(['  [skip] server   version, role; limits maxclients, maxmemory - the login failed']);
  });

  it('two runs with different causes stay two lines', () => {
    const lines = targetLines(pretty([skip('server', 'ping'), skip('server', 'version'), skip('limits', 'memory', 'INFO was refused'), skip('limits', 'clients', 'INFO was refused')]));
    expect(lines).toEqual([
      '  [skip] server   ping, version - the login failed',
      '  [skip] limits   memory, clients - INFO was refused',
    ]);
  });

  it('a skip separated from another by a shown non-skip does not join it: each prints as a lone skip', () => {
    const ok: Finding = { layer: 'server', name: 'ping', status: 'ok', value: 'PONG' };
    const lines = targetLines(pretty([skip('server', 'version'), ok, skip('server', 'role')]));
    expect(lines).toEqual([
      '  [skip] server   version  INFO version',
      '                  skipped: the login failed',
      '  [ok]   server   ping     PONG',
      '  [skip] server   role     INFO role',
      '                  skipped: the login failed',
    ]);
  });

  it('a single skip prints as before: its line with its value, then its skipped: line', () => {
    const lookup = skip('dns', 'lookup', 'an IP address: nothing to resolve', '127.0.0.1');
    const lines = targetLines(pretty([url, lookup, auth, skip('server', 'ping')]));
    expect(lines).toEqual([
      '  [ok]   url      url     redis (plain text)',
      '  [skip] dns      lookup  127.0.0.1',
      '                  skipped: an IP address: nothing to resolve',
      '  [FAIL] auth     auth    AUTH: WRONGPASS',
      '                  hint: check the password',
      '  [skip] server   ping    INFO ping',
      '                  skipped: the login failed',
    ]);
  });

  it('"cut short" skips never collapse, with each other or with skips of the same cause around them', () => {
    const cause = 'cut short by SIGTERM: run diagnose again to the end';
    const lines = targetLines(pretty([
      skip('auth', 'cut short', cause, 'stopped during the login after 3.0 s'),
      skip('server', 'cut short', cause, 'stopped during the wait for an answer after 2.0 s'),
      skip('server', 'version', cause),
    ]));
    expect(lines).toEqual([
      '  [skip] auth     cut short  stopped during the login after 3.0 s',
      `                  skipped: ${cause}`,
      '  [skip] server   cut short  stopped during the wait for an answer after 2.0 s',
      `                  skipped: ${cause}`,
      '  [skip] server   version    INFO version',
      `                  skipped: ${cause}`,
    ]);
  });

  it('at --log-level warn no skip is shown at all, and the summary still counts them', () => {
    const out = pretty([url, auth, skip('server', 'version'), skip('server', 'role'), skip('limits', 'memory')], 'warn');
    expect(out).not.toContain('[skip]');
    expect(out).not.toContain('skipped:');
    expect(targetLines(out)).toEqual(['  [FAIL] auth     auth     AUTH: WRONGPASS', '                  hint: check the password']);
    expect(out).toMatch(/\ndiagnose: found problems in 1 of 2 groups: 1 failure, 0 warnings \(2 ok, 3 skipped\)\n$/);
  });

  it('--log-level debug: the times on the other lines as before; the collapsed line as at info', () => {
    const lines = targetLines(pretty([url, auth, skip('server', 'version'), skip('server', 'role')], 'debug'));
    expect(lines).toEqual([
      '  [ok]   url      url      redis (plain text)  (0.4 ms)',
      '  [FAIL] auth     auth     AUTH: WRONGPASS  (1.3 ms)',
      '                  hint: check the password',
      '  [skip] server   version, role - the login failed',
    ]);
  });

  it('the summary counts every finding, each skip of a collapsed line among them', () => {
    const findings = [url, skip('server', 'a'), skip('server', 'b'), skip('limits', 'c'), skip('limits', 'd'), skip('limits', 'e', 'other'), skip('limits', 'f', 'other')];
    const out = pretty(findings);
    expect(out.split('\n').filter((l) => l.includes('[skip]'))).toHaveLength(2);
    expect(out).toMatch(/\ndiagnose: no problems found \(2 ok, 6 skipped\)\n$/);
  });
});

describe('renderJson: every check, collapsed or not in the pretty report', () => {
  it('lists every finding of the groups, in layer order, each with its own value and hint', () => {
    const findings = [skip('limits', 'memory'), url, auth, skip('server', 'version'), skip('server', 'role'), skip('auth', 'cut short', 'cut short by SIGTERM')];
    const report = JSON.parse(renderJson([{ target: 'redis://127.0.0.1:6379', from: 'argument', findings }, settings], false)) as { targets: Array<{ checks: unknown[] }> };
    expect(report.targets.map((t) => t.checks)).toEqual([
      [
        { layer: 'url', name: 'url', status: 'ok', value: 'redis (plain text)' },
        { layer: 'auth', name: 'auth', status: 'fail', value: 'AUTH: WRONGPASS', hint: 'check the password' },
        { layer: 'auth', name: 'cut short', status: 'skip', value: 'INFO cut short', hint: 'cut short by SIGTERM' },
        { layer: 'server', name: 'version', status: 'skip', value: 'INFO version', hint: LOGIN },
        { layer: 'server', name: 'role', status: 'skip', value: 'INFO role', hint: LOGIN },
        { layer: 'limits', name: 'memory', status: 'skip', value: 'INFO memory', hint: LOGIN },
      ],
      [{ layer: 'settings', name: 'deadline', status: 'ok', value: '5m' }],
    ]);
  });
});

describe('through the built entry: a real redis-server given a wrong password', () => {
  const password = markedSecret('rpw');
  const wrong = markedSecret('bad');
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ args: ['--requirepass', password], password });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('pretty: one [skip] line names every check the failed login skipped, then the cause; JSON: each check on its own', async () => {
    const target = `redis://:${encodeURIComponent(wrong)}@127.0.0.1:${server.port}`;
    const cause = 'the login (AUTH) failed';
    const json = await runCli(['diagnose', '--log-format', 'json', target]);
    const text = await runCli(['diagnose', target]);
    for (const r of [json, text]) {
      expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, [password, wrong]);
      expect(r.code).toBe(1);
    }

    const checks = parseReport(json.stdout, json.stderr).targets[0]?.checks ?? [];
    expect(checks.find((c) => c.name === 'auth')).toMatchObject({ status: 'fail', value: expect.stringMatching(/^AUTH as the default user: "WRONGPASS /) });
    const skipped = checks.filter((c) => c.hint === cause);
    expect(skipped.map((c) => [c.layer, c.name, c.status])).toEqual([
      ...['ping', 'version', 'role', 'loading', 'last save'].map((name) => ['server', name, 'skip']),
      ...['memory', 'clients', 'rejected connections', 'evicted keys', 'errors'].map((name) => ['limits', name, 'skip']),
    ]);

    const lines = text.stdout.split('\n');
    expect(lines.filter((l) => l.endsWith(` - ${cause}`))).toEqual([
      `  [skip] server   ping, version, role, loading, last save; limits memory, clients, rejected connections, evicted keys, errors - ${cause}`,
    ]);
    expect(text.stdout).not.toContain(`skipped: ${cause}`);
    // The other skip of the run (the lookup of an IP address) has its own cause and prints as before.
    expect(lines.filter((l) => l.includes('[skip]'))).toHaveLength(2);
    expect(text.stdout).toMatch(/\n {2}\[skip\] dns {6}lookup +127\.0\.0\.1\n {18}skipped: an IP address: nothing to resolve\n/);
    expect(lines.at(-2)).toMatch(new RegExp(`^diagnose: found problems in 1 of 2 groups: 1 failure, 0 warnings \\(\\d+ ok, ${skipped.length + 1} skipped\\)$`));
  });
});
