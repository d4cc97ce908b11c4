/**
 * The entry point, dist/harbor-wait.cjs: one file holding the whole program. The build appends the
 * program's source after this code as line comments, every line behind `//` after the marker line, so that
 * Node's own compile of this file only skips comments (a string literal of the same text took 10 ms to
 * scan); this reads the file back, takes the program out, and compiles and runs it with the V8 code cache
 * that lies beside the file when there is one. The cache is made after a run (warm.ts), so it holds every
 * function that run compiled, not only the top level that Node's own compile cache keeps, and it is one file
 * for every uid. Missing, truncated, garbage, for another build of harbor-wait (its first line says which) or
 * from another Node build (V8 rejects it), it only costs the compile.
 *
 * Required rather than run (by the warm-up), it runs nothing and hands over the program's source instead.
 */
import { CODE_CACHE, cachedDataFor, compileProgram, programIn, runProgram } from './program.ts';

const fs = process.getBuiltinModule('node:fs');
const { source, id } = programIn(fs.readFileSync(__filename, 'latin1'));

if (require.main === module) {
  let cachedData: Buffer | undefined;
  try {
    cachedData = cachedDataFor(id, fs.readFileSync(`${__dirname}/${CODE_CACHE}`));
  } catch {
    // No cache: compile from source.
  }
  runProgram(compileProgram(source, __filename, cachedData), __filename, __dirname, require);
} else {
  module.exports = { source, id };
}
