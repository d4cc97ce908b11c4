/**
 * Builds dist/, the files that ship together and run with plain `node` (no node_modules):
 *   harbor-wait.cjs             the entry: runs the program with the code cache when there is one (src/launch/)
 *   harbor-wait-main.cjs        the program, src/main.ts and everything it imports
 *   harbor-wait-yaml.cjs        the YAML parser, loaded only by the jobservice preset to read config.yml
 *   harbor-wait-warm.cjs        makes the code cache: run it once with the node that will run harbor-wait
 *   harbor-wait-main.code-cache V8's code for the program, made by that warm-up (here, with this node)
 * Every choice here is about start-up time, measured with hyperfine against `node -e 0`:
 * - CommonJS: loads 2.5 ms faster than an ES module of the same code (Node's ESM loader resolves, decodes
 *   and links).
 * - The YAML parser apart: it is two thirds of the code, and every run would read and compile it (3 ms).
 * - The code cache, made after a run, holds every function that run compiled (3–4 ms).
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string };

export const DIST = `${root}/dist`;
/** What users run: `node dist/harbor-wait.cjs`. */
export const BUNDLE = `${DIST}/harbor-wait.cjs`;
/** Every file that ships; the image copies exactly these. */
export const SHIPPED = ['harbor-wait.cjs', 'harbor-wait-main.cjs', 'harbor-wait-yaml.cjs', 'harbor-wait-warm.cjs', 'harbor-wait-main.code-cache'];

/** `import('yaml')` in the program becomes an import of the file beside it. */
const yamlBeside: Plugin = {
  name: 'yaml-beside',
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, () => ({ path: './harbor-wait-yaml.cjs', external: true }));
  },
};

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
};

export async function buildBundle(): Promise<void> {
  await Promise.all([
    build({
      ...common,
      entryPoints: [`${root}/src/main.ts`],
      outfile: `${DIST}/harbor-wait-main.cjs`,
      define: { __HARBOR_WAIT_VERSION__: JSON.stringify(pkg.version) },
      plugins: [yamlBeside],
      // import('yaml') becomes require('./harbor-wait-yaml.cjs'): an import() inside the program, which the
      // launcher compiles with node:vm, would need vm's experimental loader hook and print a warning.
      supported: { 'dynamic-import': false },
    }),
    build({ ...common, entryPoints: [`${root}/src/launch/launch.ts`], outfile: BUNDLE, banner: { js: '#!/usr/bin/env node' } }),
    build({ ...common, entryPoints: [`${root}/src/launch/warm.ts`], outfile: `${DIST}/harbor-wait-warm.cjs` }),
    build({ ...common, entryPoints: [createRequire(import.meta.url).resolve('yaml')], outfile: `${DIST}/harbor-wait-yaml.cjs` }),
  ]);
  // The warm-up dials 127.0.0.1:1, where nothing listens: no traffic leaves the machine.
  execFileSync(process.execPath, [`${DIST}/harbor-wait-warm.cjs`], { stdio: ['ignore', 'ignore', 'inherit'] });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildBundle();
