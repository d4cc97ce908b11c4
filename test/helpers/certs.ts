/** A throw-away CA and server certificates, made with the openssl command for each test file. */
import { execFile } from 'node:child_process';
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
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw missingBinary('openssl');
    throw err;
  }
}

async function serverCert(dir: string, name: string, san: string): Promise<void> {
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', ext], dir);
}

let cached: Promise<Certs> | undefined;

export function makeCerts(): Promise<Certs> {
  cached ??= (async () => {
    const dir = tempDir('harbor-wait-certs-');
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=harbor-wait test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    await serverCert(dir, 'server', 'DNS:localhost,IP:127.0.0.1');
    await serverCert(dir, 'wrongname', 'DNS:other.invalid');
    return {
      dir,
      caCert: join(dir, 'ca.crt'),
      caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
      serverCert: join(dir, 'server.crt'),
      serverKey: join(dir, 'server.key'),
      wrongNameCert: join(dir, 'wrongname.crt'),
      wrongNameKey: join(dir, 'wrongname.key'),
    };
  })();
  return cached;
}

let expired: Promise<{ cert: string; key: string }> | undefined;

/**
 * A server certificate for localhost and 127.0.0.1, signed by makeCerts()'s CA, that expired long ago.
 * `openssl x509 -req` (OpenSSL 3.0) cannot set past dates, so `openssl ca` signs it with -startdate and
 * -enddate, from a minimal configuration written beside the CA.
 */
export function makeExpiredCert(): Promise<{ cert: string; key: string }> {
  expired ??= (async () => {
    const { dir } = await makeCerts();
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'expired.srl'), '1000\n');
    writeFileSync(
      join(dir, 'ca.cnf'),
      [
        '[ca]',
        'default_ca = test_ca',
        '[test_ca]',
        `database = ${join(dir, 'index.txt')}`,
        `new_certs_dir = ${dir}`,
        `serial = ${join(dir, 'expired.srl')}`,
        `certificate = ${join(dir, 'ca.crt')}`,
        `private_key = ${join(dir, 'ca.key')}`,
        'default_md = sha256',
        'policy = any_name',
        'unique_subject = no',
        '[any_name]',
        'commonName = supplied',
        '[server_ext]',
        'subjectAltName = DNS:localhost,IP:127.0.0.1',
        'extendedKeyUsage = serverAuth',
        'basicConstraints = CA:FALSE',
        '',
      ].join('\n'),
    );
    await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'expired.key', '-out', 'expired.csr', '-subj', '/CN=expired'], dir);
    await openssl(['ca', '-batch', '-config', 'ca.cnf', '-extensions', 'server_ext', '-notext', '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-in', 'expired.csr', '-out', 'expired.crt'], dir);
    return { cert: join(dir, 'expired.crt'), key: join(dir, 'expired.key') };
  })();
  return expired;
}
