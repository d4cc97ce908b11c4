/** The package version, put in by the bundler (scripts/build.ts); `0.0.0-dev` when running from source. */
declare const __HARBOR_WAIT_VERSION__: string | undefined;

export const VERSION: string =
  typeof __HARBOR_WAIT_VERSION__ === 'string' ? __HARBOR_WAIT_VERSION__ : '0.0.0-dev';
