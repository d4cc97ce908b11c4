/**
 * Builds dist/:
 *   harbor-wait.cjs         the entry, self-contained: the whole program and every library it loads, in one
 *                           file that runs with plain `node` (no node_modules, nothing beside it needed)
 *   harbor-wait.code-cache  V8's code for the program, made by a warm-up run with this node: optional, it
 *                           only makes start-up faster (src/launch/)
 *   harbor-wait-warm.cjs    the warm-up, a build tool: the image runs it again with its own node
 * How the program is bundled is about start-up time, measured with `npm run bench` against `node -e 0`:
 * - CommonJS, one file, each library in esbuild's lazy module wrappers: a library is parsed and run only
 *   when a target first imports it (ioredis for Redis, undici for HTTP, prom-client with --serve, yaml for
 *   the jobservice preset, pino-pretty for --log-format pretty).
 * - Deep imports of the libraries' own files where their packages allow it (see each protocol's check.ts under src/protocols/), and
 *   stubs for the modules on paths harbor-wait never takes (scripts/stubs.ts).
 * - `esbuildDetection`: undici's own switch for bundles, which leaves out its experimental Milo parser.
 * - The program inside the entry in line comments (cheap for Node to skip), compiled through node:vm with
 *   the code cache.
 */
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { programAsComments } from '../src/launch/program.ts';
import { stubPlugin } from './stubs.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string };

export const DIST = `${root}/dist`;
/** What users run: `node dist/harbor-wait.cjs`. */
export const BUNDLE = `${DIST}/harbor-wait.cjs`;
export const CODE_CACHE_FILE = `${DIST}/harbor-wait.code-cache`;
export const WARM = `${DIST}/harbor-wait-warm.cjs`;
/**
 * dist/ as the image carries it: the entry, its code cache, and the warm-up that the image's warm stage runs
 * to remake the cache with the image's own node. Only the entry is needed to run.
 */
export const SHIPPED = ['harbor-wait.cjs', 'harbor-wait.code-cache', 'harbor-wait-warm.cjs'];

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  minify: true,
  legalComments: 'none',
  // Escape every character beyond ASCII: the entry file carries the program in line comments (src/launch/).
  charset: 'ascii',
  logLevel: 'warning',
  write: false,
};

/** The program: src/main.ts and every library it imports, as CommonJS source. */
export async function bundleProgram(o: { engineered: boolean }): Promise<{ code: string; metafile: Metafile }> {
  const result = await build({
    ...common,
    ...(o.engineered
      ? { entryPoints: [`${root}/src/main.ts`] }
      : { stdin: { contents: `${NAIVE_IMPORTS.map((m) => `import '${m}';`).join('\n')}\nimport './main.ts';`, resolveDir: `${root}/src`, sourcefile: 'naive.ts', loader: 'ts' } }),
    define: {
      __HARBOR_WAIT_VERSION__: JSON.stringify(pkg.version),
      ...(o.engineered ? { esbuildDetection: 'true' } : {}),
    },
    plugins: o.engineered ? [stubPlugin()] : [],
    metafile: true,
  });
  return { code: result.outputFiles?.[0]?.text ?? '', metafile: result.metafile };
}

/** The entry file's text: the launcher, then the program's source in line comments. */
async function entryText(program: string): Promise<string> {
  // launch.ts is CommonJS on purpose (it reads require.main and sets module.exports).
  const launcher = await build({ ...common, entryPoints: [`${root}/src/launch/launch.ts`], logOverride: { 'commonjs-variable-in-esm': 'silent' } });
  const wrapped = Module.wrap(program.replace(/\n$/, ''));
  const id = createHash('sha256').update(wrapped).digest('hex').slice(0, 16);
  return `#!/usr/bin/env node\n${launcher.outputFiles?.[0]?.text ?? ''}${programAsComments(wrapped, id)}\n`;
}

export async function buildBundle(): Promise<void> {
  rmSync(DIST, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
  const [{ code }, warm] = await Promise.all([bundleProgram({ engineered: true }), build({ ...common, entryPoints: [`${root}/src/launch/warm.ts`] })]);
  writeFileSync(BUNDLE, await entryText(code));
  chmodSync(BUNDLE, 0o755);
  writeFileSync(WARM, warm.outputFiles?.[0]?.text ?? '');
  // The warm-up dials 127.0.0.1:1, where nothing listens: no traffic leaves the machine.
  execFileSync(process.execPath, [WARM], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** What a program that imports its libraries the plain way, at the top, loads at start. */
const NAIVE_IMPORTS = ['ioredis', 'undici', 'p-retry', 'pino', 'pino-pretty', 'prom-client', 'yaml'];

/**
 * For the benchmark: the same program bundled naively — one plain esbuild bundle with every library imported
 * from its package index at the top, as `import Redis from 'ioredis'` would: no lazy loading, no deep imports,
 * no stubs, no code cache, no launcher.
 */
export async function buildNaive(outfile: string): Promise<void> {
  const { code } = await bundleProgram({ engineered: false });
  writeFileSync(outfile, code);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildBundle();
