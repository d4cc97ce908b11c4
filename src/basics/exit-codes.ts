/** Exit codes are public API: mirrored in the README table and locked by test/cli.test.ts. */
export const ExitCode = {
  /** Every target is ready. */
  Ready: 0,
  /** Anything else: a bug, or "not ready" after a single `--once` attempt. */
  Failure: 1,
  /** Bad flag, environment variable, URL, duration or unreadable file. Nothing was contacted. */
  ConfigError: 2,
  /** The deadline passed before every target was ready (as timeout(1) does). */
  Deadline: 124,
  /** Stopped by SIGINT (128 + 2). */
  Sigint: 130,
  /** Stopped by SIGTERM (128 + 15), what the kubelet sends. */
  Sigterm: 143,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
