/** Durations in the Go / Kubernetes style: `250ms`, `5s`, `1m30s`, `1.5h`. Inside the program, milliseconds. */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/y;

/** The longest a timer can wait (about 24.8 days); a longer duration would fire at once. */
export const MAX_DURATION_MS = 2_147_483_647;

/**
 * Parses a Go duration (`1m30s`, `250ms`, `-2s`) into milliseconds, rounded up to a whole millisecond
 * so that a tiny positive duration never becomes 0. Returns undefined when the text is not one.
 */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < rest.length) {
    const start = PART.lastIndex;
    const m = PART.exec(rest);
    if (!m || m.index !== start) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  // Whole nanoseconds first (as Go counts), so that float residue such as 1.1h = 3960000.0000000005 ms
  // is not rounded up to an extra millisecond.
  return sign * Math.ceil(Math.round(total * 1e6) / 1e6);
}

/**
 * Parses a duration option: a Go duration or a bare integer meaning seconds. Negative durations are
 * refused; so are durations a timer cannot hold. Returns milliseconds, or an explanation of the problem.
 */
export function parseDuration(text: string): { ms: number } | { problem: string } {
  const trimmed = text.trim();
  let ms: number | undefined;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else ms = parseGoDuration(trimmed);
  if (ms === undefined) {
    return { problem: `"${text}" is not a duration (use 250ms, 5s, 1m30s, 2h, or a whole number of seconds)` };
  }
  if (ms < 0) return { problem: `"${text}" is negative` };
  if (ms > MAX_DURATION_MS) return { problem: `"${text}" is too long (at most 596h)` };
  return { ms };
}

/** Formats milliseconds the way they are written on the command line: `250ms`, `5s`, `1m30s`, `2h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 100) / 10; // seconds, one decimal
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest = Math.round((rest - m * 60) * 10) / 10;
  return (h ? `${h}h` : '') + (m ? `${m}m` : '') + (rest || (!h && !m) ? `${rest}s` : '');
}
