/**
 * Compiling and running the program file (dist/harbor-wait-main.cjs) through node:vm, so that a V8 code
 * cache can be given to the compiler. Shared by the launcher (launch.ts) and the warm-up (warm.ts), which
 * must compile the same source the same way for V8 to accept the cache.
 */
import type { Script } from 'node:vm';

export const PROGRAM = 'harbor-wait-main.cjs';
export const CODE_CACHE = 'harbor-wait-main.code-cache';

/** Compiles the program in `dir`, with `cachedData` when there is one (V8 ignores a cache it cannot use). */
export function compileProgram(dir: string, cachedData: Buffer | undefined): Script {
  const { readFileSync } = process.getBuiltinModule('node:fs');
  const { Script } = process.getBuiltinModule('node:vm');
  const { wrap } = process.getBuiltinModule('node:module');
  const filename = `${dir}/${PROGRAM}`;
  // The program holds no import() (the build turns its one into a require), so it needs no loader hook.
  return new Script(wrap(readFileSync(filename, 'utf8')), { filename, ...(cachedData ? { cachedData } : {}) });
}

/** Runs a compiled program as Node runs a CommonJS module; its require() resolves beside the launcher, in dist/. */
export function runProgram(script: Script, dir: string, require: NodeJS.Require): void {
  const module = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(module.exports, require, module, `${dir}/${PROGRAM}`, dir);
}
