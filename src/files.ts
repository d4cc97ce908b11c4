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

/** A PEM file (certificate or key): its text and path, or undefined when none is named. */
export function readPem(picked: { text: string; input: string } | undefined, what: string): { pem: string; path: string } | undefined {
  if (!picked) return undefined;
  const pem = readText(picked, what);
  if (!pem.includes('-----BEGIN ')) throw new ConfigError(picked.input, `"${picked.text}" holds no PEM ${what}`);
  return { pem, path: picked.text };
}
