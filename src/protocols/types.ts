/**
 * What every protocol implements, and what the layers above know of one: a Target (parsed, redacted, able to
 * build its check and run its diagnosis, loading its protocol's code only then), a Check (one attempt), and the
 * contexts both run in. The registry (registry.ts) maps each scheme to its protocol's folder.
 */
import type { Progress } from '../basics/errors.ts';
import type { Lookup, TlsSettings } from '../net/dial.ts';
import type { Report, StepContext, TargetReport } from '../net/report.ts';
import type { StatusSet } from '../basics/status-set.ts';

/** What an attempt reached. */
export interface Ready {
  /** `ip:port` actually connected, so that DNS answers can be checked in the logs. */
  readonly address: string;
  /** What the server said about itself (PostgreSQL): for the `ready` line. */
  readonly server?: { readonly version: string; readonly primary: boolean };
  /** Ready, but with a doubt worth a word on the `ready` line (a Redis whose role could not be confirmed). */
  readonly warning?: string;
}

/** One dependency to wait for. A check knows its protocol and nothing about retries. */
export interface Check {
  /** Credential-free label, e.g. `redis+sentinel://:***@s1:26379,s2:26379/mymaster/0`. */
  readonly target: string;
  /**
   * Resolves when the dependency is ready; rejects with NotReady (stage, code, reason) when it is not.
   * Stops promptly when `signal` aborts and releases everything it opened, on every path.
   */
  attempt(signal: AbortSignal, progress: Progress): Promise<Ready>;
}

/** What a check needs from the configuration. */
export interface CheckContext {
  readonly tls: TlsSettings;
  readonly expectStatus: StatusSet;
  readonly lookup: Lookup;
  readonly userAgent: string;
}

/** A parsed target: validated, redacted, and able to build its check (loading its protocol only then). */
export interface Target {
  /** Redacted, safe to log. */
  readonly label: string;
  /** Where it came from: `argument`, `WAIT_TARGETS`, `--harbor-core`, ... */
  readonly from: string;
  /** Secret strings this target carries (passwords, in every spelling): masked in outside text (redact.ts). */
  readonly secrets: readonly string[];
  /**
   * What decides the connection and the credentials, secrets included: two targets are the same only when
   * their identities are equal. Never shown.
   */
  readonly identity: string;
  /** Settings the environment left unset, with the default used for each (core's database): for the start line. */
  readonly defaults?: Readonly<Record<string, string>>;
  /** Start-up warnings about the URL itself (a Redis URL with an empty password), each a sentence naming it. */
  readonly warnings?: readonly string[];
  /** Set when the URL itself turns certificate verification off (Harbor's `skip_verify=true`). */
  readonly skipsVerify?: boolean;
  /**
   * Set when the target's own settings ask for certificate verification, which --insecure-skip-verify does not
   * turn off (a PostgreSQL sslmode, as libpq and pgx have no such switch): what they ask, e.g. `sslmode=verify-full`.
   */
  readonly verifiesItself?: string;
  createCheck(ctx: CheckContext): Promise<Check>;
  /** One pass of `harbor-wait diagnose` over this target (loading its protocol only then). */
  diagnose(ctx: DiagnoseContext): Promise<TargetReport>;
  /** The same target shown by another label (to tell apart targets whose labels collide). */
  named(label: string): Target;
}

/** What a target's diagnosis needs: a check's context, and the resolver, the step timeout and the run's signal. */
export interface DiagnoseContext extends CheckContext, StepContext {}

/** The Report a protocol's diagnosis fills: its context is a DiagnoseContext. */
export type DiagnosisReport = Report<DiagnoseContext>;

/** A protocol as the registry knows it: the schemes it takes, and how a URL of one becomes a Target. */
export interface Protocol {
  /** Lower-case, in the order error messages list them. */
  readonly schemes: readonly string[];
  /** Parses and validates `raw` (throws ConfigError naming it); loads nothing of the protocol's own code. */
  target(raw: string, from: string): Target;
}
