/**
 * A strict reader of the Prometheus text format (0.0.4) for the tests: every line must be a HELP, a TYPE or a
 * sample of a family declared before it, with well-formed names, labels and values, or it throws; blank lines,
 * which the format ignores, may come between (prom-client writes one between families). (The npm parsers tried
 * drop the labels of histogram samples.)
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SUFFIXES: Record<string, readonly string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new Error(`bad labels in: ${line}`);
    labels[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    at = re.lastIndex;
  }
  return labels;
}

export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  const families = new Map<string, Family>();
  const help = new Map<string, string>();
  for (const line of text.slice(0, -1).split('\n')) {
    let m: RegExpExecArray | null;
    if (line === '') {
      continue;
    } else if ((m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line))) {
      help.set(m[1] as string, m[2] as string);
    } else if ((m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line))) {
      const name = m[1] as string;
      if (families.has(name)) throw new Error(`TYPE given twice for ${name}`);
      families.set(name, { name, type: m[2] as string, help: help.get(name) ?? '', samples: [] });
    } else if ((m = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (-?[0-9.eE+-]+|[+-]Inf|NaN)$`).exec(line))) {
      const name = m[1] as string;
      const family = [...families.values()].find((f) => (SUFFIXES[f.type] ?? ['']).some((s) => `${f.name}${s}` === name));
      if (!family) throw new Error(`sample of an undeclared family: ${line}`);
      if (family !== [...families.values()].at(-1)) throw new Error(`sample away from its family: ${line}`);
      const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
      family.samples.push({ name, labels: parseLabels(m[2] ?? '', line), value });
    } else {
      throw new Error(`not a line of the text format: ${JSON.stringify(line)}`);
    }
  }
  return families;
}

/** The family `name`; throws when it is missing. */
export function family(text: string, name: string): Family {
  const f = parsePrometheus(text).get(name);
  if (!f) throw new Error(`no metric family ${name} in:\n${text}`);
  return f;
}
