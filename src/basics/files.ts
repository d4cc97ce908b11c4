/** Reading the small files a configuration names (secrets, certificates, keys, config.yml), bounded in size. */
import { builtin } from './builtin.ts';
import { ConfigError } from './errors.ts';

/**
 * The file's bytes, at most `max` of them: undefined when there are more. Read in pieces, so that a wrong
 * path such as /dev/zero or a huge file fails at once instead of filling the memory. Opened without blocking,
 * so that a named pipe (which nobody may ever write) is refused at once instead of hanging the start for good.
 */
export function readBounded(path: string, max: number): Buffer | undefined {
  const { closeSync, constants, fstatSync, openSync, readSync } = builtin('node:fs');
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (stat.isFIFO() || stat.isSocket()) throw Object.assign(new Error('not a file'), { code: NOT_A_FILE });
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) return Buffer.concat(chunks, length);
      chunks.push(chunk.subarray(0, n));
      length += n;
      if (length > max) return undefined;
    }
  } finally {
    closeSync(fd);
  }
}

/** The code readBounded throws with for a named pipe or socket. */
const NOT_A_FILE = 'a named pipe or socket, not a file';

/** The code of an error from reading a file (ENOENT, EISDIR, ...), for a configuration error's words. */
export function fileErrorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'error';
}

/** Secret, CA and key files are small: a larger one is the wrong file (or /dev/zero), refused before it fills the memory. */
const MAX_FILE_BYTES = 1024 * 1024;

/** A file named by `input` (a flag, variable or URL parameter), as text; `what` says what it should hold. */
export function readText(picked: { text: string; input: string }, what: string): string {
  let bytes: Buffer | undefined;
  try {
    bytes = readBounded(picked.text, MAX_FILE_BYTES);
  } catch (err) {
    throw new ConfigError(picked.input, `cannot read ${what} "${picked.text}" (${fileErrorCode(err)})`);
  }
  if (bytes === undefined) throw new ConfigError(picked.input, `${what} "${picked.text}" is larger than 1 MiB: is it the right file?`);
  return bytes.toString('utf8');
}

/** One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, ...), its whole text, and whether its headers say it is encrypted. */
interface PemBlock {
  readonly label: string;
  readonly text: string;
  readonly encrypted: boolean;
}

/** The PEM blocks of a file, in order (text between them, such as `openssl x509 -text` output, is allowed). */
export function pemBlocks(pem: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of pem.matchAll(/-----BEGIN ([A-Z0-9 ]{1,40})-----[^\S\n]*\r?\n([\s\S]*?)-----END \1-----/g)) {
    const label = m[1] as string;
    blocks.push({ label, text: m[0], encrypted: label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type:\s*4,\s*ENCRYPTED/m.test(m[2] as string) });
  }
  return blocks;
}

const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'TRUSTED CERTIFICATE', 'X509 CERTIFICATE']);
const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);

/** What a file holds instead of what was asked for, in words, from the labels of its blocks. */
function holdsInstead(blocks: readonly PemBlock[]): string | undefined {
  const labels = new Set(blocks.map((b) => b.label));
  if ([...labels].some((l) => KEY_LABELS.has(l))) return 'a private key';
  if ([...labels].some((l) => CERTIFICATE_LABELS.has(l))) return 'a certificate';
  if (labels.has('CERTIFICATE REQUEST') || labels.has('NEW CERTIFICATE REQUEST')) return 'a certificate signing request';
  if (labels.has('PUBLIC KEY') || labels.has('RSA PUBLIC KEY')) return 'a public key';
  return undefined;
}

/**
 * A file of certificates (a CA bundle, a client certificate and its chain): at least one, each one readable
 * as X.509. node:crypto is loaded only here, when such a file is named.
 */
function checkCertificates(picked: { text: string; input: string }, blocks: readonly PemBlock[], what: string): void {
  const certs = blocks.filter((b) => CERTIFICATE_LABELS.has(b.label));
  if (certs.length === 0) {
    const instead = holdsInstead(blocks);
    const hint = instead === 'a private key' ? ': is it the key file?' : '';
    throw new ConfigError(picked.input, instead ? `"${picked.text}" holds ${instead}, not a ${what}${hint}` : `"${picked.text}" holds no PEM ${what}`);
  }
  const { X509Certificate } = builtin('node:crypto');
  for (const [i, block] of certs.entries()) {
    try {
      new X509Certificate(block.text);
    } catch {
      const which = certs.length > 1 ? `certificate ${i + 1} of ${certs.length} in` : 'the certificate in';
      throw new ConfigError(picked.input, `${which} "${picked.text}" cannot be read: it is damaged or cut short (not valid base64-encoded DER)`);
    }
  }
}

/** A private key file: exactly one key, unencrypted and readable. */
function checkPrivateKey(picked: { text: string; input: string }, blocks: readonly PemBlock[]): void {
  const keys = blocks.filter((b) => KEY_LABELS.has(b.label));
  if (keys.length === 0) {
    const instead = holdsInstead(blocks);
    const hint = instead === 'a certificate' ? ': is it the certificate file?' : '';
    throw new ConfigError(picked.input, instead ? `"${picked.text}" holds ${instead}, not a private key${hint}` : `"${picked.text}" holds no PEM private key`);
  }
  if (keys.length > 1) throw new ConfigError(picked.input, `"${picked.text}" holds ${keys.length} private keys: give the one of the certificate alone`);
  const key = keys[0] as PemBlock;
  if (key.encrypted) {
    throw new ConfigError(picked.input, `"${picked.text}" holds an encrypted private key: harbor-wait cannot ask for its passphrase; give the key decrypted (openssl pkey -in KEY -out KEY.plain), in a Secret`);
  }
  try {
    builtin('node:crypto').createPrivateKey(key.text);
  } catch {
    throw new ConfigError(picked.input, `the private key in "${picked.text}" cannot be read: it is damaged, cut short, or of a type OpenSSL does not know`);
  }
}

/**
 * A PEM file: its text and path, or undefined when none is named. `what` says what it must hold, and is
 * checked here, at start, so that a wrong file is a configuration error naming it rather than a handshake
 * failing at every attempt: a `certificate` file (a CA bundle, or a client certificate and its chain) holds
 * at least one readable certificate; a `private key` file one readable, unencrypted key.
 */
export function readPem(picked: { text: string; input: string } | undefined, what: 'certificate' | 'private key'): { pem: string; path: string } | undefined {
  if (!picked) return undefined;
  const pem = readText(picked, what);
  if (!pem.includes('-----BEGIN ')) throw new ConfigError(picked.input, `"${picked.text}" holds no PEM ${what}`);
  const blocks = pemBlocks(pem);
  if (what === 'certificate') checkCertificates(picked, blocks, what);
  else checkPrivateKey(picked, blocks);
  return { pem, path: picked.text };
}

/**
 * Refuses a client key that does not belong to its certificate (the first one in the certificate file),
 * naming both files: TLS would fail at every attempt (OpenSSL's "key values mismatch").
 */
export function checkKeyPair(cert: { pem: string; path: string }, key: { pem: string; path: string }, keyInput: string): void {
  const { createPrivateKey, X509Certificate } = builtin('node:crypto');
  const first = pemBlocks(cert.pem).find((b) => CERTIFICATE_LABELS.has(b.label));
  const keyBlock = pemBlocks(key.pem).find((b) => KEY_LABELS.has(b.label));
  if (!first || !keyBlock) return; // readPem has refused such files already
  let matches: boolean;
  try {
    matches = new X509Certificate(first.text).checkPrivateKey(createPrivateKey(keyBlock.text));
  } catch {
    matches = false;
  }
  if (!matches) {
    throw new ConfigError(keyInput, `the private key in "${key.path}" does not belong to the certificate in "${cert.path}" (their public keys differ): give the key the certificate was issued for`);
  }
}
