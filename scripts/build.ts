/** Bundles src/main.ts and its dependencies into one file that runs with plain `node`: dist/harbor-wait.mjs. */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string };

export const BUNDLE = `${root}/dist/harbor-wait.mjs`;

export async function buildBundle(): Promise<void> {
  await build({
    entryPoints: [`${root}/src/main.ts`],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: { __HARBOR_WAIT_VERSION__: JSON.stringify(pkg.version) },
    // The CommonJS dependencies (ioredis, pino) call require() for Node's built-ins.
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildBundle();
