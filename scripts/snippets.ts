/**
 * Writes helm-snippet/: `harbor-wait helm-values` for the default release `harbor`, from the bundle as built, one
 * file per variant (test/helm-values.test.ts fails when the files and the generator differ).
 *
 *   npm run snippets
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { BUNDLE, buildBundle } from './build.ts';

/** Each committed file, and the generator's options that make it. */
export const SNIPPETS: Readonly<Record<string, readonly string[]>> = {
  'values-init.yaml': [],
  'values-sidecar.yaml': ['--mode', 'sidecar'],
  'values-internal-tls.yaml': ['--internal-tls'],
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await buildBundle();
  for (const [file, args] of Object.entries(SNIPPETS)) {
    const text = execFileSync(process.execPath, [BUNDLE, 'helm-values', ...args], { encoding: 'utf8' });
    writeFileSync(new URL(`../helm-snippet/${file}`, import.meta.url), text);
    console.log(`helm-snippet/${file}`);
  }
}
