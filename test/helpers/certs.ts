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
