/**
 * One closed list of codes (src/protocols/codes.ts): every code the source can give a NotReady is in it, the docs'
 * table (docs/logs.md) lists exactly it, and a peer that varies its replies cannot grow the number of /metrics
 * series.
 */
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODES, FAMILIES, isKnownCode, knownCode } from '../src/protocols/codes.ts';
import { startCli } from './helpers/cli.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The README and every page of docs/, as one text. */
function docsText(): string {
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
  return ['README.md', ...docs.map((f) => join('docs', f))].map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
}

/** The rows of the table under `### Codes` in docs/logs.md: the first column's code or family name. */
function readmeCodes(): string[] {
  const readme = readFileSync(join(ROOT, 'docs', 'logs.md'), 'utf8');
  const start = readme.indexOf('\n### Codes\n');
  expect(start, 'docs/logs.md has a "### Codes" section').toBeGreaterThan(0);
  const section = readme.slice(start + 1).split(/\n#{2,3} /)[0] as string;
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => /^\| `([^`]+)`/.exec(l)?.[1] as string);
}

describe('the one list of codes', () => {
  it('the docs list every code and family, and nothing else', () => {
    expect(readmeCodes().sort()).toEqual([...Object.keys(CODES), ...FAMILIES.map((f) => f.name)].sort());
  });

  it('every code the README and the docs name in their other tables and lists is in the list', () => {
    const readme = docsText();
    // The code column of the PostgreSQL table, and `code`-shaped words given as examples of codes.
    const named = [...readme.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{5,})`/g)].map((m) => m[1] as string);
    // Environment variables, and the library codes the README names as never printed.
    const envLike = /^(PG|WAIT_|POSTGRESQL_|INTERNAL_TLS_|JOB_|CORE_|NODE_|REDIS_|DATABASE_|BENCH_|ERR_|UND_ERR_|EPROTO$)/;
    const codeLike = named.filter((c) => !envLike.test(c) && /(_TIMEOUT|^NOT_|^E[A-Z]+$|^HTTP_\d{3}$|_REPLY$|_CLOSED$|^CERT_|^UNABLE_TO)/.test(c));
    for (const code of codeLike) expect(isKnownCode(code), code).toBe(true);
  });

  it('every code the source gives a NotReady literally is in the list', () => {
    const found: string[] = [];
    for (const file of sources(join(ROOT, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new NotReady\(\s*(?:'[a-z]+'|[A-Za-z.]+)\s*,\s*'([A-Z0-9_]+)'/g)) found.push(m[1] as string);
    }
    expect(found.length).toBeGreaterThan(10);
    for (const code of found) expect(isKnownCode(code), code).toBe(true);
  });

  it('knownCode keeps a documented code and makes anything else UNKNOWN', () => {
    for (const code of ['ECONNREFUSED', 'HTTP_503', 'CONNECT_TIMEOUT', 'LOADING', 'INVALID_PASSWORD', 'NOT_POSTGRES']) {
      expect(knownCode(code)).toBe(code);
    }
    for (const code of ['UND_ERR_SOCKET', 'ERR_SOCKET_BAD_PORT', 'ERR_OSSL_EVP_BAD_DECRYPT', 'HTTP_999', 'TIMEOUT_TIMEOUT', 'WEIRD1', '']) {
      expect(knownCode(code)).toBe('UNKNOWN');
    }
  });
});

describe('bounded /metrics', () => {
  let peer: net.Server;
  let port: number;
  let replies = 0;

  beforeAll(async () => {
    // A "Redis" behind a proxy that words every refusal differently: a new first word each time.
    peer = net.createServer((socket) => {
      socket.on('data', () => socket.write(`-PROXY${++replies}X upstream ${replies} is not there\r\n`));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    port = (peer.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => peer.close(() => resolve())));

  it('a peer that varies its replies makes one series, with a documented code', async () => {
    const target = `redis://127.0.0.1:${port}`;
    const cli = startCli(['--serve', '127.0.0.1:0', '--serve-interval', '20ms', '--backoff-initial', '10ms', '--backoff-max', '20ms', target]);
    try {
      const serving = await cli.waitForEvent('serving');
      const origin = `http://${String(serving.address)}`;
      let metrics = '';
      for (let i = 0; i < 200 && replies < 30; i++) await new Promise((r) => setTimeout(r, 50));
      expect(replies).toBeGreaterThanOrEqual(30);
      metrics = await (await fetch(`${origin}/metrics`)).text();
      const series = metrics.split('\n').filter((l) => l.startsWith('harbor_wait_failures_total{'));
      expect(series).toHaveLength(1);
      const code = /code="([^"]+)"/.exec(series[0] as string)?.[1] as string;
      expect(isKnownCode(code), code).toBe(true);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.result;
    }
  });
});
