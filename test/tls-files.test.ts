/**
 * Local TLS mistakes are configuration errors (exit 2 at start, naming the input and the file, nothing
 * contacted): a client key that does not belong to its certificate, a CA file holding no certificate, a
 * certificate file holding a key and the reverse, an encrypted key, a damaged certificate, garbage. The same
 * for the TLS files of a postgres:// URL and of a preset. Through the built entry; the key's text is never printed.
 */
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { makeCerts, makeUntrustedCerts, type Certs } from './helpers/certs.ts';
import { runCli, type CliResult } from './helpers/cli.ts';
import { silent, startFaulty, type FaultyServer } from './helpers/faulty.ts';
import { tempDir } from './helpers/processes.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';

const PASSPHRASE = markedSecret('pass');

let certs: Certs;
let other: Certs;
let server: FaultyServer;
const files: Record<string, string> = {};

beforeAll(async () => {
  [certs, other] = await Promise.all([makeCerts(), makeUntrustedCerts()]);
  server = await startFaulty(silent);
  const dir = tempDir('harbor-wait-tls-files-');
  const write = (name: string, text: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  files.encryptedPkcs8 = write('encrypted-pkcs8.key', openssl(['pkcs8', '-topk8', '-in', certs.clientKey, '-passout', `pass:${PASSPHRASE}`, '-v2', 'aes-256-cbc']));
  files.encryptedTraditional = write('encrypted-traditional.key', openssl(['ec', '-in', certs.clientKey, '-aes256', '-passout', `pass:${PASSPHRASE}`]));
  files.csr = write('request.csr', openssl(['req', '-new', '-key', certs.clientKey, '-subj', '/CN=x']));
  files.damaged = write('damaged.crt', '-----BEGIN CERTIFICATE-----\nMIIBnotbase64atall!!\n-----END CERTIFICATE-----\n');
  const ca = readFileSync(certs.caCert, 'utf8');
  files.secondDamaged = write('bundle.crt', `${ca}${ca.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA')}`);
  files.noBlock = write('words.txt', 'this is not a certificate\n');
  files.binary = write('binary', Buffer.from([0x30, 0x82, 0x01, 0x0a, 0x00, 0xff]));
  files.keyTwice = write('two.key', `${readFileSync(certs.clientKey, 'utf8')}${readFileSync(certs.serverKey, 'utf8')}`);
  files.bundleWithText = write('with-text.crt', `Certificate:\n    Data: (openssl x509 -text output)\n${ca}`);
});
afterAll(() => server.close());

const target = () => `https://localhost:${server.port}/`;

/** Exit 2, one config_error naming `input`, its message holding each of `says`; nothing contacted; no key text. */
function expectConfigError(r: CliResult, input: string, says: readonly string[]): void {
  expect(r.code, r.stdout + r.stderr).toBe(ExitCode.ConfigError);
  const [line] = r.events('config_error');
  expect(line).toMatchObject({ input });
  for (const text of says) expect(line?.msg).toContain(text);
  expect(r.stderr).toBe('');
  expect(r.stdout).not.toMatch(/ at .*\.(c|m)?js:\d+/); // no stack trace
  const keyLines = readFileSync(certs.clientKey, 'utf8').split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
  for (const l of keyLines) expect(r.stdout).not.toContain(l);
  expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, [PASSPHRASE]);
}

// Not concurrent: its tests count the connections the shared server sees, and one of them connects.
describe('a client key and certificate', () => {
  it('a key that does not belong to the certificate: exit 2 at start naming --key-file and both files, nothing contacted', async () => {
    const before = server.connections.length;
    const r = await runCli(['--ca-file', certs.caCert, '--cert-file', certs.clientCert, '--key-file', certs.serverKey, target()]);
    expectConfigError(r, '--key-file', [`the private key in "${certs.serverKey}" does not belong to the certificate in "${certs.clientCert}"`]);
    expect(server.connections.length).toBe(before);
  });

  it('the same from the environment names WAIT_KEY_FILE; a key of another CA is refused the same way', async () => {
    const r = await runCli([target()], { WAIT_CA_FILE: certs.caCert, WAIT_CERT_FILE: certs.clientCert, WAIT_KEY_FILE: other.clientKey });
    expectConfigError(r, 'WAIT_KEY_FILE', ['does not belong to the certificate']);
  });

  it('the same in diagnose: exit 2 before any check', async () => {
    const r = await runCli(['diagnose', '--log-format', 'json', '--cert-file', certs.clientCert, '--key-file', certs.serverKey, target()]);
    expectConfigError(r, '--key-file', ['does not belong to the certificate']);
  });

  it('a certificate file that holds a key, and a key file that holds a certificate', async () => {
    const swapped = await runCli(['--cert-file', certs.clientKey, '--key-file', certs.clientCert, target()]);
    expectConfigError(swapped, '--cert-file', [`"${certs.clientKey}" holds a private key, not a certificate: is it the key file?`]);
    const keyIsCert = await runCli(['--cert-file', certs.clientCert, '--key-file', certs.clientCert, target()]);
    expectConfigError(keyIsCert, '--key-file', [`"${certs.clientCert}" holds a certificate, not a private key: is it the certificate file?`]);
  });

  it('an encrypted key, in PKCS#8 and in the traditional form: exit 2, saying it must be given decrypted', async () => {
    for (const key of [files.encryptedPkcs8, files.encryptedTraditional] as string[]) {
      const r = await runCli(['--cert-file', certs.clientCert, '--key-file', key, target()]);
      expectConfigError(r, '--key-file', [`"${key}" holds an encrypted private key`, 'give the key decrypted']);
    }
  });

  it('two keys in one file, garbage, words, a certificate request', async () => {
    expectConfigError(await runCli(['--cert-file', certs.clientCert, '--key-file', files.keyTwice as string, target()]), '--key-file', ['holds 2 private keys']);
    expectConfigError(await runCli(['--cert-file', certs.clientCert, '--key-file', files.binary as string, target()]), '--key-file', ['holds no PEM private key']);
    expectConfigError(await runCli(['--cert-file', files.noBlock as string, '--key-file', certs.clientKey, target()]), '--cert-file', ['holds no PEM certificate']);
    expectConfigError(await runCli(['--cert-file', files.csr as string, '--key-file', certs.clientKey, target()]), '--cert-file', ['holds a certificate signing request, not a certificate']);
  });

  it('a matching pair is accepted (the target is then tried)', async () => {
    const r = await runCli(['--once', '--attempt-timeout', '300ms', '--ca-file', certs.caCert, '--cert-file', certs.clientCert, '--key-file', certs.clientKey, target()]);
    expect(r.code).toBe(ExitCode.Failure);
    expect(r.events('config_error')).toEqual([]);
  });
});

describe.concurrent('a CA file', () => {
  it('holding a private key: exit 2 naming --ca-file', async () => {
    const r = await runCli(['--ca-file', certs.caCert.replace(/ca\.crt$/, 'ca.key'), target()]);
    expectConfigError(r, '--ca-file', ['holds a private key, not a certificate']);
  });

  it('holding no PEM block, or a damaged certificate, or a bundle whose second certificate is damaged', async () => {
    expectConfigError(await runCli(['--ca-file', files.noBlock as string, target()]), '--ca-file', ['holds no PEM certificate']);
    expectConfigError(await runCli([target()], { WAIT_CA_FILE: files.damaged as string }), 'WAIT_CA_FILE', [`the certificate in "${files.damaged}" cannot be read: it is damaged or cut short`]);
    expectConfigError(await runCli(['--ca-file', files.secondDamaged as string, target()]), '--ca-file', ['certificate 2 of 2 in']);
  });

  it('a bundle with text around its certificates is accepted', async () => {
    const r = await runCli(['--once', '--attempt-timeout', '300ms', '--ca-file', files.bundleWithText as string, target()]);
    expect(r.events('config_error')).toEqual([]);
  });

  it("a preset's CA (INTERNAL_TLS_TRUST_CA_PATH) holding no certificate: exit 2 naming it", async () => {
    const r = await runCli(['--preset', 'jobservice'], {
      CORE_URL: `https://localhost:${server.port}`,
      JOBSERVICE_SECRET: markedSecret('job'),
      INTERNAL_TLS_ENABLED: 'true',
      INTERNAL_TLS_TRUST_CA_PATH: certs.serverKey,
      JOB_SERVICE_POOL_REDIS_URL: 'redis://localhost:1/1',
    });
    expectConfigError(r, 'INTERNAL_TLS_TRUST_CA_PATH', ['holds a private key, not a certificate']);
  });
});

describe.concurrent('the TLS files of a postgres:// URL', () => {
  it('sslrootcert holding a key, sslkey holding a certificate, an encrypted sslkey: exit 2 naming the parameter', async () => {
    const enc = encodeURIComponent;
    const url = (query: string) => `postgres://harbor@localhost:${server.port}/registry?sslmode=verify-full&${query}`;
    const root = await runCli([url(`sslrootcert=${enc(certs.serverKey)}`)]);
    expect(root.code).toBe(ExitCode.ConfigError);
    expect(root.events('config_error')[0]?.msg).toContain('holds a private key, not a certificate');
    const key = await runCli([url(`sslrootcert=${enc(certs.caCert)}&sslcert=${enc(certs.clientCert)}&sslkey=${enc(certs.clientCert)}`)]);
    expect(key.code).toBe(ExitCode.ConfigError);
    expect(key.events('config_error')[0]?.msg).toContain('holds a certificate, not a private key');
    const encrypted = await runCli([url(`sslcert=${enc(certs.clientCert)}&sslkey=${enc(files.encryptedPkcs8 as string)}`)]);
    expect(encrypted.code).toBe(ExitCode.ConfigError);
    expect(encrypted.events('config_error')[0]?.msg).toContain('holds an encrypted private key');
    expectNoSecret({ stdout: root.stdout + key.stdout + encrypted.stdout }, [PASSPHRASE]);
  });

  it('an sslkey that does not belong to the sslcert: exit 2 naming sslkey and both files, nothing contacted', async () => {
    // A listener of its own, so that the other tests running beside this one cannot be counted.
    let contacted = 0;
    const own = net.createServer((socket) => {
      contacted++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    try {
      const port = (own.address() as net.AddressInfo).port;
      const enc = encodeURIComponent;
      const r = await runCli([`postgres://harbor@127.0.0.1:${port}/registry?sslmode=verify-full&sslrootcert=${enc(certs.caCert)}&sslcert=${enc(certs.clientCert)}&sslkey=${enc(certs.serverKey)}`]);
      expect(r.code).toBe(ExitCode.ConfigError);
      const line = r.events('config_error')[0];
      expect(line?.input).toMatch(/sslkey/);
      expect(line?.msg).toContain(`the private key in "${certs.serverKey}" does not belong to the certificate in "${certs.clientCert}"`);
      expect(contacted).toBe(0);
    } finally {
      await new Promise<void>((resolve) => own.close(() => resolve()));
    }
  });
});
