/** Builds the bundle once before the tests: CLI tests spawn the built file, as users run it. */
import { buildBundle } from '../../scripts/build.ts';

export default async function setup(): Promise<void> {
  await buildBundle();
}
