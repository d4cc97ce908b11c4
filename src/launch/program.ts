/**
 * The program (src/main.ts and every library it loads, bundled) travels inside the entry file, and is
 * compiled here with node:vm so that a V8 code cache can be handed to the compiler. Shared by the
 * entry (launch.ts) and the warm-up that makes the cache (warm.ts): V8 accepts a cache only for the same
 * source compiled the same way, by the same Node build.
 */
import type { Script } from 'node:vm';

/**
 * The line after which the entry file holds the program, each of its lines behind `//`. The rest of the
 * line is the build's id: a hash of the program, which the code cache names too.
 */
export const PROGRAM_MARKER = '\n//# harbor-wait program ';

/** The program's source and its build id, out of the entry file's text (ASCII: the build makes sure). */
export function programIn(entry: string): { source: string; id: string } {
  const at = entry.lastIndexOf(PROGRAM_MARKER); // the last: this code holds the marker too, before it
  const eol = entry.indexOf('\n//', at + 1);
  if (at < 0 || eol < 0) throw new Error('harbor-wait: this file holds no program: it is not a harbor-wait build');
  return { id: entry.slice(at + PROGRAM_MARKER.length, eol), source: entry.slice(eol + 3).replaceAll('\n//', '\n') };
}

/** The program's source as the entry file holds it: the marker with the build id, then each line behind `//`. */
export function programAsComments(program: string, id: string): string {
  // Anything a line comment would end at (CR; LS and PS are not ASCII), or a byte latin1 would read
  // otherwise, would break the round trip.
  if (/[^\x00-\x7f]|\r/.test(program)) throw new Error('the bundled program holds a carriage return or a character beyond ASCII');
  if (!/^[0-9a-f]+$/.test(id)) throw new Error(`the build id ${id} is not a hex hash`);
  return `${PROGRAM_MARKER}${id}\n//${program.replaceAll('\n', '\n//')}`;
}

/**
 * The code cache file: a line naming the build it is for, then V8's data. V8 checks its data against the
 * source's length only (and its own version and flags), so a cache left beside a newer entry whose program
 * happens to have the same length would be taken for it: the line tells them apart.
 */
function cacheHeader(id: string): Buffer {
  return Buffer.from(`harbor-wait code cache ${id}\n`, 'latin1');
}

export function codeCacheFile(id: string, data: Buffer): Buffer {
  return Buffer.concat([cacheHeader(id), data]);
}

/** V8's data in a code cache file, when the file is for build `id`; undefined otherwise. */
export function cachedDataFor(id: string, file: Buffer): Buffer | undefined {
  const header = cacheHeader(id);
  return file.subarray(0, header.length).equals(header) ? file.subarray(header.length) : undefined;
}

/** Beside the entry file; made by the warm-up. Optional: without it (or with one V8 rejects) the program compiles as usual. */
export const CODE_CACHE = 'harbor-wait.code-cache';

/**
 * Compiles `source` (the program already inside CommonJS's function wrapper: the build put it there, so that
 * no copy of it is made here), with `cachedData` when there is one (V8 rejects a cache that is not for this
 * source and build).
 */
export function compileProgram(source: string, filename: string, cachedData: Buffer | undefined): Script {
  const { Script } = process.getBuiltinModule('node:vm');
  return new Script(source, { filename, ...(cachedData ? { cachedData } : {}) });
}

/** Runs a compiled program as Node runs a CommonJS module, with the entry file's own require. */
export function runProgram(script: Script, filename: string, dirname: string, require: NodeJS.Require): void {
  const module = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(module.exports, require, module, filename, dirname);
}
