/**
 * The program (src/main.ts and every library it loads, bundled) travels inside the entry file, and is
 * compiled here with node:vm so that a V8 code cache can be handed to the compiler. Shared by the
 * entry (launch.ts) and the warm-up that makes the cache (warm.ts): V8 accepts a cache only for the same
 * source compiled the same way, by the same Node build.
 */
import type { Script } from 'node:vm';

/** The line after which the entry file holds the program, each of its lines behind `//`. */
export const PROGRAM_MARKER = '\n//# harbor-wait program, one line comment per line\n//';

/** The program's source, out of the entry file's text (ASCII: the build makes sure). */
export function programIn(entry: string): string {
  const at = entry.lastIndexOf(PROGRAM_MARKER); // the last: this code holds the marker too, before it
  if (at < 0) throw new Error('harbor-wait: this file holds no program: it is not a harbor-wait build');
  return entry.slice(at + PROGRAM_MARKER.length).replaceAll('\n//', '\n');
}

/** The program's source as the entry file holds it: the marker, then each line behind `//`. */
export function programAsComments(program: string): string {
  // Anything a line comment would end at (CR; LS and PS are not ASCII), or a byte latin1 would read
  // otherwise, would break the round trip.
  if (/[^\x00-\x7f]|\r/.test(program)) throw new Error('the bundled program holds a carriage return or a character beyond ASCII');
  return `${PROGRAM_MARKER}${program.replaceAll('\n', '\n//')}`;
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
