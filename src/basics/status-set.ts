/** Accepted HTTP statuses: `200`, `200,204`, `200-299,304`. */

export interface StatusSet {
  has(status: number): boolean;
  /** The canonical text, e.g. `200-299`. */
  readonly text: string;
}

export const DEFAULT_EXPECT_STATUS = '200-299';

/** Parses a status list, or explains what is wrong with it. */
export function parseStatusSet(text: string): StatusSet | { problem: string } {
  const ranges: Array<[number, number]> = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    if (!m) return { problem: `"${part}" is not a status or a range like 200-299` };
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 100 || hi > 599) return { problem: `"${part}" is outside 100-599` };
    if (lo > hi) return { problem: `"${part}" is an empty range` };
    ranges.push([lo, hi]);
  }
  return {
    has: (status) => ranges.some(([lo, hi]) => status >= lo && status <= hi),
    text: ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(','),
  };
}
