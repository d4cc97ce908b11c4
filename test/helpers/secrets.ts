/**
 * Marked secrets and the check that none of them leaks. A marked secret is long, random and made of
 * characters that log lines rarely hold together, so any fragment of it found in an output is a leak.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';

/** Shortest fragment of a secret counted as a leak: shorter runs of letters occur by chance. */
const FRAGMENT = 8;

/** A fresh secret: `kind` (at most 4 letters, to read test failures by), then 26 random characters. */
export function markedSecret(kind: string): string {
  if (!/^[a-z]{1,4}$/i.test(kind)) throw new Error(`markedSecret: kind "${kind}" must be 1 to 4 letters`);
  return `${kind}Zq${randomBytes(18).toString('base64url')}`;
}

/** The spellings a secret could take on its way out: raw, URL-encoded, JSON-escaped, base64 (Basic auth). */
function spellings(secret: string): string[] {
  return [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)];
}

/** Every fragment of FRAGMENT characters of every spelling of `secret`. */
function fragments(secret: string): Set<string> {
  const out = new Set<string>();
  for (const s of spellings(secret)) {
    if (s.length <= FRAGMENT) out.add(s);
    for (let i = 0; i + FRAGMENT <= s.length; i++) out.add(s.slice(i, i + FRAGMENT));
  }
  return out;
}

/** The first leak found in `text`, described without repeating the secret; undefined when there is none. */
export function findLeak(text: string, secrets: readonly string[], basicAuth: readonly string[] = []): string | undefined {
  for (const [i, secret] of secrets.entries()) {
    for (const fragment of fragments(secret)) {
      const at = text.indexOf(fragment);
      if (at >= 0) return `secret #${i} (${secret.slice(0, 4)}…): a fragment of it at offset ${at}`;
    }
  }
  for (const [i, pair] of basicAuth.entries()) {
    if (text.includes(Buffer.from(pair).toString('base64'))) return `Basic credentials #${i}, base64-encoded`;
  }
  return undefined;
}

/**
 * Fails the test when any output holds any fragment of any secret. `outputs` names each text
 * (`stdout`, `/readyz`, ...), so a failure says where the leak is. `basicAuth` lists `user:password`
 * pairs whose base64 form must not appear either.
 */
export function expectNoSecret(
  outputs: Record<string, string>,
  secrets: readonly string[],
  basicAuth: readonly string[] = [],
): void {
  for (const [where, text] of Object.entries(outputs)) {
    const leak = findLeak(text, secrets, basicAuth);
    expect(leak, `${where} leaks ${leak}`).toBeUndefined();
  }
}
