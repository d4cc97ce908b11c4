/**
 * Bundles src/main.ts into dist/harbor-wait.cjs, one file that runs with plain `node`, and the YAML parser
 * into dist/harbor-wait-yaml.cjs beside it. Both files ship together; the second is loaded only by the
 * jobservice preset when it reads config.yml. Kept apart because the parser is two thirds of the code and
 * every run would otherwise read and compile it: about 3 ms of start-up (hyperfine, compile cache on).
 */
import { build, type Plugin } from 'esbuild';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string };

export const BUNDLE = `${root}/dist/harbor-wait.cjs`;
export const YAML_BUNDLE = `${root}/dist/harbor-wait-yaml.cjs`;

/** `import('yaml')` in the main bundle becomes a require of the file beside it. */
const yamlBeside: Plugin = {
  name: 'yaml-beside',
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, () => ({ path: './harbor-wait-yaml.cjs', external: true }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  // CommonJS loads 2.5 ms faster than an ES module of the same code (Node's ESM loader resolves, decodes
  // and links; measured with hyperfine, compile cache on for both).
  format: 'cjs',
  target: 'node22',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
} as const;

export async function buildBundle(): Promise<void> {
  await Promise.all([
    build({
      ...common,
      entryPoints: [`${root}/src/main.ts`],
      outfile: BUNDLE,
      define: { __HARBOR_WAIT_VERSION__: JSON.stringify(pkg.version) },
      plugins: [yamlBeside],
    }),
    build({ ...common, entryPoints: [createRequire(import.meta.url).resolve('yaml')], outfile: YAML_BUNDLE }),
  ]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildBundle();
