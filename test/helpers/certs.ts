/** A throw-away CA and server certificates, made with the openssl command for each test file. */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { missingBinary, tempDir } from './processes.ts';

const run = promisify(execFile);

export interface Certs {
  readonly dir: string;
  readonly caCert: string;
  readonly caPem: string;
  /** Valid for localhost and 127.0.0.1, signed by the CA. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** Signed by the CA, but only for other.invalid. */
  readonly wrongNameCert: string;
  readonly wrongNameKey: string;
  /** A client certificate (extendedKeyUsage clientAuth), signed by the CA, and its key. */
  readonly clientCert: string;
  readonly clientKey: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw missingBinary('openssl');
    throw err;
  }
}

/** How long the test CA and its server certificates are valid: well over the 14 days diagnose warns under. */
const VALID_DAYS = '30';

async function serverCert(dir: string, name: string, san: string, usage = 'serverAuth'): Promise<void> {
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`);
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', VALID_DAYS, '-extfile', ext], dir);
}

/** A CA (`caName` its CN) with a server certificate for localhost / 127.0.0.1 and one for other.invalid. */
async function createCerts(caName: string): Promise<Certs> {
  const dir = tempDir('harbor-wait-certs-');
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', VALID_DAYS, '-subj', `/CN=${caName}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  await serverCert(dir, 'server', 'DNS:localhost,IP:127.0.0.1');
  await serverCert(dir, 'wrongname', 'DNS:other.invalid');
  await serverCert(dir, 'client', 'DNS:harbor-wait.client', 'clientAuth');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    wrongNameCert: join(dir, 'wrongname.crt'),
    wrongNameKey: join(dir, 'wrongname.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
  };
}

let cached: Promise<Certs> | undefined;

export function makeCerts(): Promise<Certs> {
  cached ??= createCerts('harbor-wait test CA');
  return cached;
}

let untrusted: Promise<Certs> | undefined;

/** A second, unrelated CA and its certificates: not trusted by anyone who trusts makeCerts()'s CA. */
export function makeUntrustedCerts(): Promise<Certs> {
  untrusted ??= createCerts('harbor-wait untrusted CA');
  return untrusted;
}

let caConfig: Promise<string> | undefined;

/**
 * `openssl ca`'s minimal configuration in `dir`: its database, its serial file (starting at `first`), the CA's
 * certificate and key, any subject, and the extension sections given.
 */
function writeCaConfig(dir: string, ca: { serial: string; first: string; cert: string; key: string }, extensions: readonly string[]): void {
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, ca.serial), `${ca.first}\n`);
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      `database = ${join(dir, 'index.txt')}`,
      `new_certs_dir = ${dir}`,
      `serial = ${join(dir, ca.serial)}`,
      `certificate = ${join(dir, ca.cert)}`,
      `private_key = ${join(dir, ca.key)}`,
      'default_md = sha256',
      'policy = any_name',
      'unique_subject = no',
      '[any_name]',
      'commonName = supplied',
      ...extensions,
      '',
    ].join('\n'),
  );
}

/**
 * `openssl ca`'s minimal configuration beside makeCerts()'s CA, written once: `openssl x509 -req` (OpenSSL
 * 3.0) cannot set dates, `openssl ca` signs with -startdate and -enddate. Resolves with the CA's directory.
 */
function signingCa(): Promise<string> {
  caConfig ??= (async () => {
    const { dir } = await makeCerts();
    writeCaConfig(dir, { serial: 'expired.srl', first: '1000', cert: 'ca.crt', key: 'ca.key' }, [
      '[server_ext]',
      'subjectAltName = DNS:localhost,IP:127.0.0.1',
      'extendedKeyUsage = serverAuth',
      'basicConstraints = CA:FALSE',
    ]);
    return dir;
  })();
  return caConfig;
}

/** openssl's date form, YYYYMMDDHHMMSSZ. */
function opensslDate(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/** One signing at a time: `openssl ca` rewrites its database and serial file. */
let signing: Promise<unknown> = Promise.resolve();

/** A certificate for localhost and 127.0.0.1, signed by makeCerts()'s CA, valid from `start` to `end` (ms since the epoch). */
function signedWithDates(name: string, start: number, end: number): Promise<{ cert: string; key: string }> {
  const made = signing.catch(() => {}).then(() => sign(name, start, end));
  signing = made;
  return made;
}

async function sign(name: string, start: number, end: number): Promise<{ cert: string; key: string }> {
  const dir = await signingCa();
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  await openssl(['ca', '-batch', '-config', 'ca.cnf', '-extensions', 'server_ext', '-notext', '-startdate', opensslDate(start), '-enddate', opensslDate(end), '-in', `${name}.csr`, '-out', `${name}.crt`], dir);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

const DAY_MS = 24 * 60 * 60 * 1000;
const soon = new Map<number, Promise<{ cert: string; key: string }>>();

/**
 * A server certificate for localhost and 127.0.0.1, signed by makeCerts()'s CA, issued a day ago, that
 * expires in `days` days (and an hour, so that "N days left" reads N for the length of a test run).
 */
export function makeCertExpiringIn(days: number): Promise<{ cert: string; key: string }> {
  let made = soon.get(days);
  if (!made) {
    const now = Date.now();
    made = signedWithDates(`expires-in-${days}d`, now - DAY_MS, now + days * DAY_MS + 60 * 60 * 1000);
    soon.set(days, made);
  }
  return made;
}

let expired: Promise<{ cert: string; key: string }> | undefined;

/** A server certificate for localhost and 127.0.0.1, signed by makeCerts()'s CA, that expired long ago (2020-01-02). */
export function makeExpiredCert(): Promise<{ cert: string; key: string }> {
  expired ??= signedWithDates('expired', Date.UTC(2020, 0, 1), Date.UTC(2020, 0, 2));
  return expired;
}

/**
 * A self-signed certificate and its key, made at once (for fixtures built when a test file loads): `name`.crt
 * and `name`.key in `dir`. Good as a CA file, and as a client certificate with its key.
 */
export function makeSelfSignedSync(dir: string, name: string): { cert: string; key: string; pem: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', VALID_DAYS, '-subj', `/CN=${name}`], { stdio: 'ignore' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw missingBinary('openssl');
    throw err;
  }
  return { cert, key, pem: readFileSync(cert, 'utf8') };
}

/** A root CA, an intermediate CA under it, and server certificates issued by the intermediate. */
export interface Chain {
  /** The root CA: what a client trusts (--ca-file). */
  readonly rootCert: string;
  readonly intermediateCert: string;
  /** For localhost and 127.0.0.1, issued by the intermediate (valid 30 days), and its key. */
  readonly leafCert: string;
  readonly leafKey: string;
  /** The leaf, then the intermediate: what a server must send. */
  readonly fullChain: string;
  /** An intermediate under the same root that expired on 2020-01-02, a leaf it issued (valid now), and the two together. */
  readonly expiredIntermediateCert: string;
  readonly expiredLeafKey: string;
  readonly expiredFullChain: string;
}

let chain: Promise<Chain> | undefined;

/** The test chain: root "harbor-wait test root CA", intermediates "harbor-wait test intermediate CA" and "... expired intermediate CA". */
export function makeChain(): Promise<Chain> {
  chain ??= (async () => {
    const dir = tempDir('harbor-wait-chain-');
    writeCaConfig(dir, { serial: 'serial', first: '2000', cert: 'root.crt', key: 'root.key' }, [
      '[intermediate_ext]',
      'basicConstraints = critical,CA:TRUE,pathlen:0',
      'keyUsage = critical,keyCertSign,cRLSign',
    ]);
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'root.key', '-out', 'root.crt', '-days', VALID_DAYS, '-subj', '/CN=harbor-wait test root CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    const now = Date.now();
    const intermediate = async (name: string, cn: string, start: number, end: number) => {
      await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
      await openssl(['ca', '-batch', '-config', 'ca.cnf', '-extensions', 'intermediate_ext', '-notext', '-startdate', opensslDate(start), '-enddate', opensslDate(end), '-in', `${name}.csr`, '-out', `${name}.crt`], dir);
    };
    await intermediate('intermediate', 'harbor-wait test intermediate CA', now - DAY_MS, now + 30 * DAY_MS);
    await intermediate('expired-intermediate', 'harbor-wait test expired intermediate CA', Date.UTC(2020, 0, 1), Date.UTC(2020, 0, 2));
    const leaf = async (name: string, issuer: string) => {
      writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
      await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
      await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', VALID_DAYS, '-extfile', `${name}.ext`], dir);
      writeFileSync(join(dir, `${name}-chain.crt`), readFileSync(join(dir, `${name}.crt`), 'utf8') + readFileSync(join(dir, `${issuer}.crt`), 'utf8'));
    };
    await leaf('leaf', 'intermediate');
    await leaf('leaf-of-expired', 'expired-intermediate');
    return {
      rootCert: join(dir, 'root.crt'),
      intermediateCert: join(dir, 'intermediate.crt'),
      leafCert: join(dir, 'leaf.crt'),
      leafKey: join(dir, 'leaf.key'),
      fullChain: join(dir, 'leaf-chain.crt'),
      expiredIntermediateCert: join(dir, 'expired-intermediate.crt'),
      expiredLeafKey: join(dir, 'leaf-of-expired.key'),
      expiredFullChain: join(dir, 'leaf-of-expired-chain.crt'),
    };
  })();
  return chain;
}
