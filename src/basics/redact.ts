/**
 * The safety net for text that comes from outside: a server's reply or error message, a peer's first bytes, a
 * library's error message, core's health errors. Secrets harbor-wait knows are redacted structurally where
 * they are known (a URL's password becomes `***` in its label, a header is never shown); what no structure
 * can cover is a server echoing a secret back in its own words. So every piece of outside text passes through
 * scrubText() where it enters a reason or a finding, and nothing else does: keys, JSON syntax, numbers and
 * the values harbor-wait composes from redacted parts are never searched, so no secret, however short or
 * common, can damage a log line or reveal itself by the pattern of its stars.
 *
 * The secrets are registered once, when the configuration is loaded (config/options.ts), for the whole process.
 */

/**
 * A secret shorter than this is not searched for in outside text. A string of one to five characters (`e`,
 * `1`, `:`, `redis`, `6379`) turns up by chance in ordinary server words, addresses and numbers, so masking it
 * would damage what the server said and, by where the stars fall, give the secret away; a secret that short
 * is guessed in moments anyway. Such a secret is still never shown where harbor-wait itself places it (URLs,
 * headers, connection strings): config/options.ts warns at start that a server echoing it would not be masked.
 */
export const MIN_SCRUBBED_LENGTH = 6;

const MASK = '***';

/** The case-folded forms, and the exact ones; null when there is nothing to mask. */
let patterns: { folded: RegExp | null; exact: RegExp | null } = { folded: null, exact: null };

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The forms of a secret that may appear in outside text, each matched as it is, case aside. */
function forms(secret: string): { folded: string[]; exact: string[] } {
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  const base64url = Buffer.from(secret, 'utf8').toString('base64url');
  return {
    // Case-folded: a peer that upper-cases what it echoes; percent-escapes in either hex case.
    folded: [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)],
    // Base64 is case-sensitive: only as written.
    exact: [base64, base64.replace(/=+$/, ''), base64url],
  };
}

/** Whether a secret is long enough to be searched for in outside text. */
export function isScrubbable(secret: string): boolean {
  return [...secret].length >= MIN_SCRUBBED_LENGTH;
}

/** Registers the secrets to mask in outside text, replacing any registered before. Short ones are left out. */
export function registerSecrets(secrets: readonly string[]): void {
  const folded = new Set<string>();
  const exact = new Set<string>();
  for (const secret of secrets) {
    if (!isScrubbable(secret)) continue;
    const f = forms(secret);
    for (const s of f.folded) folded.add(s);
    for (const s of f.exact) if (isScrubbable(s)) exact.add(s);
  }
  // Longest first, so that a secret inside another is not masked before the one that holds it.
  const build = (set: Set<string>, flags: string) =>
    set.size === 0 ? null : new RegExp([...set].sort((a, b) => b.length - a.length).map(escape).join('|'), flags);
  patterns = { folded: build(folded, 'giu'), exact: build(exact, 'gu') };
}

/** `text` (from a server, a peer or a library) with every registered secret, in every spelling, replaced by `***`. */
export function scrubText(text: string): string {
  let out = text;
  if (patterns.exact) out = out.replace(patterns.exact, MASK);
  if (patterns.folded) out = out.replace(patterns.folded, MASK);
  return out;
}
