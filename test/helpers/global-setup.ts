/**
 * Builds the bundle once before the tests, then lays the entry file out as a user gets it: copied alone into
 * an empty directory that nobody can write to (no code cache, no node_modules near it). CLI tests spawn that
 * copy (helpers/cli.ts); the cache tests and the image tests use dist/ as built.
 */
import { chmodSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { BUNDLE as BUILT, buildBundle } from '../../scripts/build.ts';
import { ALONE } from './cli.ts';

export default async function setup(): Promise<() => void> {
  await buildBundle();
  const dir = dirname(ALONE);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(BUILT, ALONE);
  chmodSync(ALONE, 0o555);
  chmodSync(dir, 0o555);
  return () => {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  };
}
