/**
 * `harbor-wait lint`'s input, through the built entry file copied alone (and in this process for the property
 * tests): what is not a stream of manifests is exit 2 with one line on stderr that names the input and the YAML
 * position and quotes nothing of the stream; aliases are expanded as far as an ordinary manifest needs and an
 * alias bomb is refused; a stream over MAX_STREAM_BYTES is refused and a large allowed one is read in bounded
 * time; FILE, DIR (helm template --output-dir) and - read alike; and for any text, or any structured manifests,
 * the outcome is exit 0, 1 or 2, never a bug, and a Redis password planted in a URL never reaches the output.
 * lint reads files only: nothing here sends any traffic.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import fc from 'fast-check';
import { isPair, isScalar, parseAllDocuments, stringify, visit, type Document, type Node, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/basics/exit-codes.ts';
import type { Io } from '../src/commands/io.ts';
import { MAX_STREAM_BYTES, runLint } from '../src/commands/lint.ts';
import { startCli, type CliResult } from './helpers/cli.ts';
import { renderChartText } from './helpers/helm.ts';
import { tempDir } from './helpers/processes.ts';
import { expectNoSecret, markedSecret } from './helpers/secrets.ts';

const dir = tempDir('harbor-wait-lint-input-');
let fileCount = 0;
/** A fresh file in this test file's temporary directory. */
function file(content: string | Uint8Array, name = 'manifests.yaml'): string {
  const path = join(dir, `${fileCount++}-${name}`);
  writeFileSync(path, content);
  return path;
}

interface LintRun {
  readonly input?: string | Buffer;
  /** Kill the process after this long (the test then fails on its exit code): a hang must not hold the suite. */
  readonly killAfterMs?: number;
}

/** `harbor-wait lint <args>`, the lone copy of the entry, `input` on standard input. */
async function lint(args: readonly string[], o: LintRun = {}): Promise<CliResult> {
  const running = startCli(['lint', ...args], {}, o.input === undefined ? {} : { input: o.input });
  const timer = o.killAfterMs === undefined ? undefined : setTimeout(() => running.child.kill('SIGKILL'), o.killAfterMs);
  try {
    return await running.result;
  } finally {
    clearTimeout(timer);
  }
}

/** Never a bug's answer: no "internal error", no stack trace, whatever the exit code. */
function expectNoBug(r: CliResult): void {
  expect(r.signal, `killed: ${r.stderr}`).toBeNull();
  expect(r.stderr).not.toContain('internal error');
  expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
}

/** Exit 2, nothing on stdout, one line on stderr naming the input first and saying `problem`; no stack trace. */
function expectRefused(r: CliResult, input: string, problem: RegExp): void {
  expectNoBug(r);
  expect(r.code, r.stderr).toBe(ExitCode.ConfigError);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]!.startsWith(`harbor-wait lint: ${input}: `), lines[0]).toBe(true);
  expect(lines[0]).toMatch(problem);
}

/** `helm template harbor` of the chart, as text (what an operator pipes into lint). */
function helmTemplate(extra: readonly string[] = []): Promise<string> {
  return renderChartText({ release: 'harbor', values: [], args: extra });
}

/** Every object of a stream, aliases expanded (within the bound lint uses). */
function objectsOf(text: string): unknown[] {
  return parseAllDocuments(text).map((d) => d.toJS({ maxAliasCount: 100 }) as unknown).filter((v) => v !== null && v !== undefined);
}

/** Objects written back as a stream, one document each, without anchors. */
function streamOf(objects: readonly unknown[]): string {
  return objects.map((o) => stringify(o, { aliasDuplicateObjects: false, lineWidth: 0 })).join('---\n');
}

/**
 * The stream with the anchors and aliases a person would write: within each document, a mapping or list of
 * scalars that repeats (the pod template's labels, a probe's httpGet) and a string that repeats become aliases
 * of the first one, each anchor used at most `maxUses` times. Nothing it aliases holds an alias itself, so
 * each use counts once against the library's bound. The objects it describes are the same.
 */
function withAliases(text: string, maxUses = 50): { text: string; aliases: number } {
  const docs: string[] = [];
  let aliases = 0;
  for (const doc of parseAllDocuments(text)) {
    if (doc.contents === null) continue;
    const seen = new Map<string, { node: Node; uses: number }>();
    const reuse = (key: string, node: Node) => {
      const first = seen.get(key);
      if (!first) {
        seen.set(key, { node, uses: 0 });
        return undefined;
      }
      if (first.uses >= maxUses) return undefined;
      first.uses++;
      aliases++;
      return (doc as Document).createAlias(first.node as Scalar);
    };
    const ofScalars = (n: YAMLMap | YAMLSeq) => n.items.length > 1 && n.items.every((i) => isScalar(i) || (isPair(i) && isScalar(i.key) && isScalar(i.value)));
    const collection = (key: unknown, node: YAMLMap | YAMLSeq) => (key === 'key' || !ofScalars(node) ? undefined : (reuse(`c${JSON.stringify(node.toJSON())}`, node) ?? visit.SKIP));
    visit(doc, { Map: collection, Seq: collection });
    const anchored = (_key: unknown, node: YAMLMap | YAMLSeq) => (node.anchor ? visit.SKIP : undefined);
    const scalar = (key: unknown, node: Scalar) => (key === 'key' || typeof node.value !== 'string' || node.value.length < 4 ? undefined : reuse(`s${JSON.stringify(node.value)}`, node));
    visit(doc, { Map: anchored, Seq: anchored, Scalar: scalar });
    const out = doc.toString({ lineWidth: 0 });
    docs.push(out.startsWith('---') ? out : `---\n${out}`);
  }
  return { text: docs.join(''), aliases };
}

/** `count` small ConfigMaps nobody refers to, each about `size` bytes. */
function extraConfigMaps(count: number, size: number): string {
  const pad = 'x'.repeat(Math.max(0, size - 110));
  let out = '';
  for (let i = 0; i < count; i++) out += `---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra-${i}\n  namespace: harbor\ndata:\n  key: value-${i}-${pad}\n`;
  return out;
}

/** A repeatable source of random bytes (mulberry32). */
function randomBytesFrom(seed: number, length: number): Buffer {
  let a = seed >>> 0;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

/** A nested billion-laughs bomb in a ConfigMap: `levels` anchors of `width` aliases each, on `leaf`. */
function aliasBomb(leaf: string, levels = 9, width = 10): string {
  const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: laughs', 'data:', `  a0: &a0 ${leaf}`];
  for (let i = 1; i <= levels; i++) lines.push(`  a${i}: &a${i} [${Array.from({ length: width }, () => `*a${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

let render: string;
beforeAll(async () => {
  render = await helmTemplate();
});

// ---------------------------------------------------------------------------------------------------------
// 1. Streams that are not manifests
// ---------------------------------------------------------------------------------------------------------

describe('a stream that is not manifests is exit 2, naming the input and the position, quoting nothing', () => {
  const secret = markedSecret('lint');
  const S = secret;
  const cases: ReadonlyArray<readonly [what: string, text: string | Buffer, problem: RegExp]> = [
    ['an unclosed flow sequence', `apiVersion: v1\nkind: Secret\nmetadata:\n  name: harbor-core\nstringData:\n  secret: [${S}, b\n`, /is not valid YAML \(line \d+, column \d+\): [A-Z_]+$/],
    ['a flow mapping left open before the next document', `apiVersion: v1\nkind: Secret\nmetadata: {name: harbor-core\nstringData: {secret: ${S}}\n---\napiVersion: v1\n`, /is not valid YAML \(line \d+, column \d+\): [A-Z_]+$/],
    ['a tab as indentation', `apiVersion: v1\nkind: Secret\nmetadata:\n\tname: ${S}\n`, /is not valid YAML \(line 4, column 1\): TAB_AS_INDENT$/],
    ['a document that is a scalar', `${S} and some words\n`, /document at line 1 is a string, not a Kubernetes object/],
    ['a list at the top level', `- apiVersion: v1\n  kind: Secret\n  metadata: {name: harbor-core}\n  stringData: {secret: ${S}}\n`, /document at line 1 is a list, not a Kubernetes object/],
    ['an object without kind', `apiVersion: v1\nmetadata: {name: harbor-core}\nstringData: {secret: ${S}}\n`, /document at line 1 has no apiVersion, kind and metadata.name/],
    ['an object without metadata.name', `apiVersion: v1\nkind: Secret\nmetadata: {namespace: harbor}\nstringData: {secret: ${S}}\n`, /document at line 1 has no apiVersion, kind and metadata.name/],
    ['a scalar in the second document, at the line of its ---', `apiVersion: v1\nkind: Secret\nmetadata: {name: harbor-core}\nstringData: {secret: ${S}}\n---\n${S}\n`, /document at line 5 is a string/],
    ...[1, 2, 3, 4, 5].map((seed) => [`binary garbage (seed ${seed})`, Buffer.concat([randomBytesFrom(seed, 3000), Buffer.from(` ${S} `), randomBytesFrom(seed + 100, 3000)]), /line \d+/] as const),
  ];

  it.each(cases)('%s, on standard input', async (_what, text, problem) => {
    const r = await lint(['-'], { input: text });
    expectRefused(r, '-', problem);
    expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, [secret]);
  });

  it.each(cases)('%s, as a FILE', async (_what, text, problem) => {
    const path = file(text);
    const r = await lint([path], {});
    expectRefused(r, path, problem);
    expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, [secret]);
  });

  it.each([
    ['an empty stream', ''],
    ['documents that are all empty', '---\n---\n# a comment\n...\n---\n'],
    ['only a comment', `# ${'nothing here'}\n`],
  ])('%s holds no Kubernetes objects', async (_what, text) => {
    const r = await lint(['-'], { input: text });
    expectRefused(r, '-', /: holds no Kubernetes objects$/);
  });

  it('a valid stream with no Harbor component (only a ConfigMap) is exit 2 naming "no Harbor component"', async () => {
    const r = await lint(['-'], { input: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: harbor-core\ndata:\n  _REDIS_URL_CORE: redis://:${secret}@redis:6379/0\n` });
    expectRefused(r, '-', /holds no Harbor component \(core, jobservice, registry, trivy, exporter\)/);
    expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, [secret]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 2. Aliases
// ---------------------------------------------------------------------------------------------------------

describe('aliases: an ordinary use is read, a bomb is refused', () => {
  it('a real render written with anchors and aliases (labels, probes, repeated strings; one anchor used 50 times) lints like the plain one', async () => {
    // By hand: an annotation of core's pod template anchored and reused 50 times (50 of the bound's 100).
    const copies = Array.from({ length: 50 }, (_, i) => `        harbor-wait.test/copy-${i}: *origin\n`).join('');
    const annotated = render.replace(/(# Source: harbor\/templates\/core\/core-dpl\.yaml\n[^]*?\n {6}annotations:\n)/, `$1        harbor-wait.test/origin: &origin "written once"\n${copies}`);
    expect(annotated).not.toBe(render);
    // Then every leaf mapping or list and every string that repeats in a document, as an alias of its first.
    const { text, aliases } = withAliases(annotated);
    expect(aliases, 'aliases made from the render').toBeGreaterThanOrEqual(100);
    expect(text.match(/^ {6}labels: \*\w+$/gm)?.length, "pod templates' labels as aliases of the objects' labels").toBeGreaterThanOrEqual(3);
    expect(text.match(/: \*origin$/gm)).toHaveLength(50);
    // The same objects, written without a single alias.
    const objects = objectsOf(text);
    const plain = streamOf(objects);
    expect(plain).not.toMatch(/(^|\s)[*&]\w/m);
    expect(objectsOf(plain)).toEqual(objects);

    for (const format of ['json', 'pretty']) {
      const [a, p] = await Promise.all([lint(['--log-format', format, '-'], { input: text }), lint(['--log-format', format, '-'], { input: plain })]);
      expectNoBug(a);
      expect(a.code, a.stderr).toBe(ExitCode.Ready);
      expect(a.code).toBe(p.code);
      expect(a.stderr).toBe('');
      expect(a.stdout).toBe(p.stdout);
      expect(a.stdout).toMatch(/core/);
    }
  });

  it('a billion-laughs bomb (9 levels of 10 aliases of "lol") is refused quickly, saying aliases', async () => {
    const r = await lint(['-'], { input: aliasBomb('"lol"'), killAfterMs: 40_000 });
    expectRefused(r, '-', /alias/);
    expect(r.ms).toBeLessThan(20_000);
  });

  // yaml's maxAliasCount counts nothing for an anchor on an empty collection, so the library expands this one;
  // an alias is the same object, not a copy, and lint never flattens a value that is not a string (the API
  // server refuses those in data), so the bomb costs nothing: the stream is read, and found to hold no Harbor.
  it('the same bomb on an empty list ([]) is read quickly, nothing of it expanded into text', { timeout: 60_000 }, async () => {
    const r = await lint(['-'], { input: aliasBomb('[]'), killAfterMs: 30_000 });
    expectRefused(r, '-', /holds no Harbor component/);
    expect(r.ms).toBeLessThan(20_000);
  });

  it('an alias to an anchor the document never sets is exit 2', async () => {
    const secret = markedSecret('anch');
    const r = await lint(['-'], { input: `apiVersion: v1\nkind: Secret\nmetadata:\n  name: harbor-core\nstringData:\n  secret: *${secret}\n` });
    expectRefused(r, '-', /document at line 1/);
    expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, [secret]);
  });

  // The library throws a ReferenceError for both; only an expansion past its bound is an alias bomb.
  it('an alias to an unknown anchor is not called an alias bomb', async () => {
    const r = await lint(['-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: *nowhere\n' });
    expect(r.code).toBe(ExitCode.ConfigError);
    expect(r.stderr).not.toMatch(/bomb|far beyond/);
  });

  it('an ordinary merge key (%YAML 1.1, <<: *labels) is read, and lints like the merged object', async () => {
    // The document's own YAML version: the one before it ended by "...", this one begun by a directive.
    const merged = render.replace(/^---\n(# Source: harbor\/templates\/core\/core-dpl\.yaml\n)/m, '...\n%YAML 1.1\n---\n$1');
    expect(merged).not.toBe(render);
    const text = merged.replace(/(# Source: harbor\/templates\/core\/core-dpl\.yaml\n[^]*?\n  labels:)\n((?: {4}.*\n)+)([^]*?\n {6}labels:\n)(?: {8}.*\n)+/, (_m, head: string, labels: string, middle: string) => `${head} &labels\n${labels}${middle}        <<: *labels\n`);
    expect(text).toMatch(/<<: \*labels\n/);
    const [a, p] = await Promise.all([lint(['--log-format', 'json', '-'], { input: text }), lint(['--log-format', 'json', '-'], { input: render })]);
    expectNoBug(a);
    expect(a.code, a.stderr).toBe(ExitCode.Ready);
    expect(a.stdout).toBe(p.stdout);
  });

  // The yaml library throws a plain Error ("Merge sources must be maps or map aliases") from toJS for a merge key
  // whose value is not a mapping: input that is not manifests, not a bug.
  it.each([
    ['a !!merge key on a scalar', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  !!merge <<: x\n'],
    ['a <<: merge of a list of scalars under %YAML 1.1', '%YAML 1.1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  <<: [1, 2]\n'],
    ['a !!merge key with an empty value', '? !!merge\n'],
  ])('%s is exit 2, not a bug', async (_what, text) => {
    const r = await lint(['-'], { input: text });
    expectRefused(r, '-', /line \d+/);
  });

  // Within the bound (99 uses of one scalar), a list of aliases in a ConfigMap's data: flattened into text it would
  // be 594 MB, past V8's longest string; a value that is not a string is left out instead (the API server refuses it).
  it('a ConfigMap value that lists one large scalar 99 times is no bug', async () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wide\ndata:\n  a: &a "${'x'.repeat(6_000_000)}"\n  k: [${Array.from({ length: 99 }, () => '*a').join(', ')}]\n`;
    const r = await lint(['-'], { input: text, killAfterMs: 40_000 });
    expectRefused(r, '-', /./);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 3. Huge streams
// ---------------------------------------------------------------------------------------------------------

describe('the size bound: a stream over 8 MiB is refused, a large allowed one is read in bounded time', () => {
  /** Small ConfigMaps repeated past `bytes`, then cut at exactly `bytes`. */
  function oversized(bytes: number): Buffer {
    const unit = Buffer.from(extraConfigMaps(1000, 200));
    return Buffer.concat(Array.from({ length: Math.ceil(bytes / unit.length) }, () => unit)).subarray(0, bytes);
  }

  it('a stream of MAX_STREAM_BYTES + 1 bytes on standard input is exit 2, "larger than 8 MiB"', async () => {
    expect(MAX_STREAM_BYTES).toBe(8 * 1024 * 1024);
    const r = await lint(['-'], { input: oversized(MAX_STREAM_BYTES + 1) });
    expectRefused(r, '-', /is larger than 8 MiB: not one release's manifests$/);
  });

  it('a FILE of MAX_STREAM_BYTES + 1 bytes is exit 2 naming the file', async () => {
    const path = file(oversized(MAX_STREAM_BYTES + 1));
    const r = await lint([path]);
    expectRefused(r, path, /is larger than 8 MiB/);
  });

  it('a DIR whose files are each under the bound but together over it is exit 2', async () => {
    const d = join(dir, 'two-halves');
    mkdirSync(d);
    const half = oversized(MAX_STREAM_BYTES / 2 + 1024);
    writeFileSync(join(d, 'a.yaml'), half);
    writeFileSync(join(d, 'b.yaml'), half);
    const r = await lint([d]);
    expectRefused(r, join(d, 'b.yaml'), /is larger than 8 MiB/);
  });

  it('a stream of exactly MAX_STREAM_BYTES (a render and one padded ConfigMap) is read: the bound is inclusive', async () => {
    const head = '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: padding\ndata:\n  pad: ';
    const fill = MAX_STREAM_BYTES - Buffer.byteLength(render) - Buffer.byteLength(head) - 1;
    const text = `${render}${head}${'x'.repeat(fill)}\n`;
    expect(Buffer.byteLength(text)).toBe(MAX_STREAM_BYTES);
    const r = await lint(['--log-format', 'json', '-'], { input: text, killAfterMs: 50_000 });
    expectNoBug(r);
    expect(r.code, r.stderr).toBe(ExitCode.Ready);
  });

  it('a render plus 5000 small ConfigMaps (about 3 MiB) lints with exit 0, the report the render\'s, within 30 s', async () => {
    const extra = extraConfigMaps(5000, 600);
    const text = `${render}${extra}`;
    expect(Buffer.byteLength(text)).toBeGreaterThan(2.5 * 1024 * 1024);
    const [r, plain] = await Promise.all([
      lint(['--log-format', 'json', '-'], { input: text, killAfterMs: 50_000 }),
      lint(['--log-format', 'json', '-'], { input: render }),
    ]);
    expectNoBug(r);
    expect(r.code, r.stderr).toBe(ExitCode.Ready);
    expect(r.stdout).toBe(plain.stdout);
    expect(r.ms).toBeLessThan(30_000);
  });

  // Reading is linear in the number of documents (their lines come from the parser's line counter).
  it('a stream of half the bound (4 MiB, about 7000 small objects) lints within 30 s', { timeout: 60_000 }, async () => {
    const text = `${render}${extraConfigMaps(7_200, 600)}`;
    expect(Buffer.byteLength(text)).toBeGreaterThan(4 * 1024 * 1024);
    expect(Buffer.byteLength(text)).toBeLessThan(MAX_STREAM_BYTES);
    const r = await lint(['--log-format', 'json', '-'], { input: text, killAfterMs: 30_000 });
    expectNoBug(r);
    expect(r.code, r.stderr).toBe(ExitCode.Ready);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 4. Inputs and options
// ---------------------------------------------------------------------------------------------------------

describe('inputs and options', () => {
  it('a FILE gives the report standard input gives; the title names the file', async () => {
    const path = file(render);
    const [f, s] = await Promise.all([lint(['--log-format', 'json', path]), lint(['--log-format', 'json', '-'], { input: render })]);
    expect(f.code, f.stderr).toBe(ExitCode.Ready);
    expect(f.stdout).toBe(s.stdout);
    const [pf, ps] = await Promise.all([lint([path]), lint(['-'], { input: render })]);
    expect(pf.code).toBe(ExitCode.Ready);
    expect(pf.stdout.split('\n')[0]).toMatch(new RegExp(`^harbor-wait \\S+ lint: \\d+ objects from ${path.replaceAll('.', '\\.')}; core, jobservice, registry, trivy adapter$`));
    expect(ps.stdout.split('\n')[0]).toMatch(/ objects from standard input; /);
    expect(pf.stdout.split('\n').slice(1)).toEqual(ps.stdout.split('\n').slice(1));
  });

  it('a DIR written by helm template --output-dir (nested folders) gives the report of the stream', async () => {
    const out = join(dir, 'output-dir');
    await helmTemplate(['--output-dir', out]);
    const files = readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files.length).toBeGreaterThan(10);
    expect(files.every((e) => relative(out, e.parentPath).split(sep).length >= 3), 'files under harbor/templates/<component>/').toBe(true);
    const [d, s] = await Promise.all([lint(['--log-format', 'json', out]), lint(['--log-format', 'json', '-'], { input: render })]);
    expect(d.code, d.stderr).toBe(ExitCode.Ready);
    expect(d.stderr).toBe('');
    // Two renders: the chart's random secrets differ, but the report describes them by length only.
    expect(JSON.parse(d.stdout)).toEqual(JSON.parse(s.stdout));
    const [pd, ps] = await Promise.all([lint([out]), lint(['-'], { input: render })]);
    const count = (r: CliResult) => / (\d+) objects from /.exec(r.stdout)?.[1];
    expect(count(pd)).toBe(count(ps));
    expect(pd.stdout.split('\n')[0]).toContain(`objects from ${out}; `);
    expect(pd.stdout.split('\n').slice(1)).toEqual(ps.stdout.split('\n').slice(1));
  });

  it('a DIR with no manifest file (a text file, an empty folder) is exit 2', async () => {
    const d = join(dir, 'no-manifests');
    mkdirSync(join(d, 'empty', 'deeper'), { recursive: true });
    writeFileSync(join(d, 'NOTES.txt'), 'apiVersion: v1\n');
    writeFileSync(join(d, 'yaml'), 'apiVersion: v1\n');
    const r = await lint([d]);
    expectRefused(r, d, /holds no \.yaml, \.yml or \.json file$/);
  });

  it('a missing FILE is exit 2 naming it and ENOENT', async () => {
    const path = join(dir, 'no-such-file.yaml');
    const r = await lint([path]);
    expectRefused(r, path, /cannot be read \(ENOENT\)$/);
  });

  it('no input is exit 2 naming FILE', async () => {
    const r = await lint([]);
    expectRefused(r, 'FILE', /missing: give the rendered manifests as FILE, DIR, or -/);
  });

  it.each([
    [['a.yaml', 'b.yaml'], 'FILE'],
    [['-', '-'], '-'],
    [['-', 'b.yaml'], 'FILE'],
  ])('two inputs %j are exit 2: lint reads one stream', async (args, input) => {
    const r = await lint(args, { input: render });
    expectRefused(r, input, /lint reads one stream/);
  });

  it.each(['--strict', '--output=json', '-x', '--log-formats'])('an unknown option %s is exit 2 naming it', async (option) => {
    const r = await lint([option, '-'], { input: render });
    expectRefused(r, option.split('=')[0]!, /not an option of lint/);
  });

  it.each(['abc', '0', '262144', '1e3', '', '-1', '12.5'])('--max-connections %j is exit 2 naming the option', async (value) => {
    const r = await lint(['--max-connections', value, '-'], { input: render });
    expectRefused(r, '--max-connections', /is not a max_connections \(1-262143\)$/);
  });

  it.each([['--log-format', 'xml'], ['--log-level', 'loud']])('%s %s is exit 2 naming the option', async (option, value) => {
    const r = await lint([option, value, '-'], { input: render });
    expectRefused(r, option, /is not one of/);
  });

  it('--help and -h are exit 0 with the usage, wherever they are given', async () => {
    for (const args of [['--help'], ['-h'], ['-', '--help'], ['--log-format', 'json', '-h'], ['--help', '--bogus']]) {
      const r = await lint(args);
      expect(r.code, args.join(' ')).toBe(ExitCode.Ready);
      expect(r.stderr).toBe('');
      expect(r.stdout.startsWith('Usage: harbor-wait lint [options] FILE|DIR|-\n')).toBe(true);
      expect(r.stdout).toContain('--max-connections N');
      expect(r.stdout).toContain('Exit: 0 no failure, 1 a check failed, 2 bad options');
    }
  });

  it('--log-format json with a malformed stream is exit 2 with one JSON line on stdout, ok false, and the line on stderr', async () => {
    const secret = markedSecret('json');
    for (const args of [['--log-format', 'json', '-'], ['--log-format=json', '-'], ['-', '--log-format', 'json']]) {
      const r = await lint(args, { input: `apiVersion: v1\nkind: Secret\nmetadata:\n\tname: ${secret}\n` });
      expectNoBug(r);
      expect(r.code).toBe(ExitCode.ConfigError);
      const lines = r.stdout.split('\n').filter(Boolean);
      expect(lines, r.stdout).toHaveLength(1);
      const parsed = JSON.parse(lines[0]!) as { ok: boolean; error: { input: string; message: string } };
      expect(parsed).toEqual({ ok: false, error: { input: '-', message: '-: is not valid YAML (line 4, column 1): TAB_AS_INDENT' } });
      expect(r.stderr).toBe('harbor-wait lint: -: is not valid YAML (line 4, column 1): TAB_AS_INDENT\n');
      expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, [secret]);
    }
  });

  // A URL pasted into database.external.host: the error quoting the host must hide its user info.
  it('a database.external.host written as a URL with a password: the report does not show the password', async () => {
    const secret = markedSecret('dbpw');
    const text = await helmTemplate(['--set', 'database.type=external', '--set-string', `database.external.host=postgres://harbor:${secret}@db.example:5432/registry`]);
    expect(text).toContain(secret);
    for (const format of ['pretty', 'json']) {
      const r = await lint(['--log-format', format, '-'], { input: text });
      expectNoBug(r);
      expect(r.code, r.stderr).toBe(ExitCode.Failure);
      expect(r.stdout).toMatch(/POSTGRESQL_HOST/);
      expectNoSecret({ stdout: r.stdout, stderr: r.stderr }, [secret]);
    }
  });

  it('--log-format json with a bad option is answered in JSON too', async () => {
    const r = await lint(['--log-format', 'json', '--max-connections', 'abc', '-'], { input: render });
    expect(r.code).toBe(ExitCode.ConfigError);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ ok: false, error: { input: '--max-connections' } });
  });
});

// ---------------------------------------------------------------------------------------------------------
// 5. Properties, in this process: exit 0, 1 or 2 for anything, never a throw, never a planted password
// ---------------------------------------------------------------------------------------------------------

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** runLint on `text` as standard input, delivered as one chunk. Rejects only when lint throws (a bug). */
async function lintInProcess(text: string | Uint8Array, args: readonly string[] = ['-']): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const io: Io = {
    argv: ['lint', ...args],
    env: {},
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    signal: new AbortController().signal,
    stdin: () => (async function* () {
      yield bytes;
    })(),
  };
  const code = await runLint(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** The only outcomes: 0 or 1 with a report and nothing on stderr, or 2 with one line on stderr naming standard input. */
function expectOutcome(o: Outcome): void {
  expect([0, 1, 2]).toContain(o.code);
  if (o.code === ExitCode.ConfigError) {
    const lines = o.stderr.split('\n').filter(Boolean);
    expect(lines, o.stderr).toHaveLength(1);
    expect(lines[0]!.startsWith('harbor-wait lint: -: ')).toBe(true);
  } else {
    expect(o.stderr).toBe('');
    expect(o.stdout).not.toBe('');
  }
}

const RUNS = { numRuns: 200 };

const FRAGMENTS = [
  'apiVersion', 'kind', 'metadata', 'name', 'namespace', 'labels', 'component', 'data', 'stringData', 'spec', 'template', 'containers',
  'initContainers', 'env', 'envFrom', 'configMapRef', 'secretRef', 'valueFrom', 'secretKeyRef', 'key', 'value', 'items', 'volumes', 'configMap',
  'replicas', 'image', 'args', 'restartPolicy', 'resources', 'v1', 'apps/v1', 'Deployment', 'StatefulSet', 'CronJob', 'ConfigMap', 'Secret', 'List',
  'core', 'jobservice', 'registry', 'trivy', 'exporter', 'database', 'redis', 'harbor-core', '_REDIS_URL_CORE', '_REDIS_URL_REG', 'CORE_SECRET',
  'POSTGRESQL_MAX_OPEN_CONNS', 'config.yml', 'redis://', 'rediss://', ':@', 'h:6379/0', '%!s(<nil>)', ': ', ':', '\n', '\n  ', '\n    ', '\n      ',
  '- ', '---\n', '...\n', '&a ', '*a', '&b ', '*b', '<<: ', '<<: *a', '!!merge <<: ', '? !!merge ', '!!binary ', '!!str ', '!!map ', '!!seq ', '!!int ', '!!merge ', '!x ',
  '"', "'", '\\', '\\u0000', '\t', '{', '}', '[', ']', ', ', '#', '|', '|-', '>', '? ', '%YAML 1.1\n', '%YAML 1.1\n---\n', '%TAG ! tag:x,2000:\n', 'null', '~', 'true',
  'no', '0', '-1', '1e9', '0x1F', '9999999999999999999', '.inf', 'é', '中', '😀', '\u0000', '\u0085', '\u2028', '\ufeff', '\ud800', ' ',
];

/** Beginnings that put the fragments deep inside a manifest: a ConfigMap's data, a Deployment's container. */
const HEADERS = [
  '',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: harbor-core\ndata:\n  ',
  'apiVersion: v1\nkind: Secret\nmetadata:\n  name: harbor-core\nstringData:\n  ',
  'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: harbor-core\nspec:\n  template:\n    metadata:\n      labels:\n        component: core\n    spec:\n      containers:\n      - name: core\n        ',
  'apiVersion: v1\nkind: List\nitems:\n- ',
];

const yamlish = fc
  .tuple(
    fc.constantFrom(...HEADERS),
    fc.array(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...FRAGMENTS) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) }), { maxLength: 40 }),
  )
  .map(([header, parts]) => header + parts.join(''));

describe('in this process: reading a stream makes the yaml library print nothing', () => {
  // With the library's default logLevel ('warn'), a mapping used as a key makes it call process.emitWarning with up
  // to 36 characters of the key's text ("Keys with collection values will be stringified ..."), which Node would
  // print on stderr: the stream's text. lint parses with logLevel 'error'.
  it('a mapping as a key in a ConfigMap: no process warning, none quoting the stream', async () => {
    const secret = markedSecret('key');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const o = await lintInProcess(`${render}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata:\n  ? {password: ${secret}}\n  : x\n`);
      expectOutcome(o);
      await new Promise((resolve) => setImmediate(resolve));
      expectNoSecret({ warnings: warnings.join('\n') }, [secret]);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('property: any text is exit 0, 1 or 2, never a throw', () => {
  it('random YAML-ish text from fragments (keys, values, ---, anchors, aliases, merge keys, tags, quotes, tabs, unicode)', async () => {
    await fc.assert(
      fc.asyncProperty(yamlish, async (text) => {
        expectOutcome(await lintInProcess(text));
      }),
      RUNS,
    );
  });

  it('the same text after a real render (so that every component is there to be checked)', async () => {
    await fc.assert(
      fc.asyncProperty(yamlish, async (text) => {
        expectOutcome(await lintInProcess(`${render}---\n${text}`));
      }),
      RUNS,
    );
  });

  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        expectOutcome(await lintInProcess(bytes));
      }),
      RUNS,
    );
  });
});

describe('property: structured manifests are exit 0, 1 or 2, and a password in a Redis URL never reaches the output', () => {
  const password = markedSecret('pw');

  /** A Redis-URL-like string whose userinfo holds the password (with bits around it that stay inside the userinfo). */
  const redisUrl = fc
    .tuple(
      fc.constantFrom('redis', 'rediss', 'redis+sentinel', 'rediss+sentinel', 'unix', 'tcp', 'http', 'REDIS', ''),
      fc.constantFrom('', 'default', 'user', 'u%40x', 'a:b', '%zz'),
      fc.constantFrom('', '%20', '+', '%2525', '%', '%41', ' ', '!', '$', ':', 'é'),
      fc.constantFrom('', '%20', '+', '%25', ':', '\t', '%zz'),
      fc.constantFrom('harbor-redis', 'redis.example', '127.0.0.1', '[::1]', 'a,b,c', 'x.redis.cache.windows.net', '', '@', 'h@h', '%!s(<nil>)'),
      fc.constantFrom('', ':6379', ':26379', ':6380', ':0', ':99999', ':x', ':'),
      fc.constantFrom('', '/0', '/2', '/%!s(<nil>)', '/-1', '/99', '/mymaster', '/mymaster/1', '/x/y/z'),
      fc.constantFrom('', '?idle_timeout_seconds=30', '?db=3', '?password=x', '?skip_verify=true', '#frag', '?&&=', '?%zz'),
    )
    .map(([scheme, user, before, after, host, port, path, query]) => `${scheme}://${user}:${before}${password}${after}@${host}${port}${path}${query}`);

  const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', ' ', '0', '-1', '100', '900', '262144', 'true', 'disable', 'verify-full', '%!s(<nil>)'));
  const envName = fc.constantFrom(
    '_REDIS_URL_CORE', '_REDIS_URL_REG', '_REDIS_URL_HARBOR', '_REDIS_URL_CACHE_LAYER', 'CORE_SECRET', 'JOBSERVICE_SECRET', 'POSTGRESQL_HOST', 'POSTGRESQL_PASSWORD',
    'POSTGRESQL_SSLMODE', 'POSTGRESQL_MAX_OPEN_CONNS', 'POSTGRESQL_USERNAME', 'POSTGRESQL_DATABASE', 'JOB_SERVICE_POOL_REDIS_URL', 'SCANNER_REDIS_URL',
    'HARBOR_REDIS_URL', 'REGISTRY_REDIS_PASSWORD', 'HARBOR_DATABASE_MAX_OPEN_CONNS', 'INTERNAL_TLS_ENABLED', 'X',
  );
  const envEntry = fc.oneof(
    { weight: 4, arbitrary: fc.record({ name: envName, value: fc.oneof(text, redisUrl) }) },
    { weight: 1, arbitrary: fc.record({ name: envName, valueFrom: fc.record({ secretKeyRef: fc.record({ name: fc.constantFrom('harbor-core', 'harbor-jobservice', 'elsewhere'), key: fc.constantFrom('secret', 'JOBSERVICE_SECRET', 'nope'), optional: fc.boolean() }) }) }) },
    { weight: 1, arbitrary: fc.record({ name: envName, valueFrom: fc.record({ fieldRef: fc.record({ fieldPath: fc.constant('metadata.name') }) }) }) },
  );

  const component = fc.constantFrom('core', 'jobservice', 'registry', 'trivy', 'exporter', 'database', 'redis', 'portal');
  const workload = fc.record({
    kind: fc.constantFrom('Deployment', 'StatefulSet', 'CronJob', 'Job'),
    component,
    name: fc.constantFrom('harbor-core', 'harbor-jobservice', 'harbor-registry', 'harbor-trivy', 'harbor-exporter', 'harbor-database', 'x'),
    replicas: fc.option(fc.integer({ min: -3, max: 50 }), { nil: undefined }),
    image: fc.constantFrom('goharbor/harbor-core:v2.15.1', 'goharbor/harbor-core:v2.10.0', 'goharbor/harbor-wait:0.1.0', 'x', ''),
    env: fc.array(envEntry, { maxLength: 6 }),
    envFrom: fc.array(fc.constantFrom('harbor-core', 'harbor-jobservice-env', 'elsewhere'), { maxLength: 2 }),
    init: fc.boolean(),
    volume: fc.option(fc.constantFrom('harbor-registry', 'harbor-jobservice', 'elsewhere'), { nil: undefined }),
  });

  interface WorkloadSpec {
    readonly kind: string;
    readonly component: string;
    readonly name: string;
    readonly replicas: number | undefined;
    readonly image: string;
    readonly env: readonly unknown[];
    readonly envFrom: readonly string[];
    readonly init: boolean;
    readonly volume: string | undefined;
  }

  /** A workload as the chart writes one: the component label on it and on its pod template, a main container named after it. */
  function deployment(w: WorkloadSpec): object {
    const container = { name: w.component, image: w.image, env: w.env, envFrom: w.envFrom.map((name) => ({ configMapRef: { name } })) };
    const podSpec = {
      ...(w.init ? { initContainers: [{ name: 'wait', image: 'goharbor/harbor-wait:0.1.0', args: ['--preset', w.component], env: w.env }] } : {}),
      containers: [container],
      ...(w.volume ? { volumes: [{ name: w.component === 'registry' ? 'registry-config' : 'jobservice-config', configMap: { name: w.volume } }] } : {}),
    };
    const template = { metadata: { labels: { component: w.component } }, spec: podSpec };
    const spec = w.kind === 'CronJob' ? { jobTemplate: { spec: { template } } } : { ...(w.replicas !== undefined ? { replicas: w.replicas } : {}), template };
    return { apiVersion: 'apps/v1', kind: w.kind, metadata: { name: w.name, labels: { component: w.component } }, spec };
  }

  const coreConfigMap = fc
    .record({
      core: redisUrl,
      reg: fc.option(redisUrl, { nil: undefined }),
      harbor: fc.option(redisUrl, { nil: undefined }),
      other: fc.dictionary(fc.constantFrom('POSTGRESQL_HOST', 'POSTGRESQL_SSLMODE', 'POSTGRESQL_MAX_OPEN_CONNS', 'DATABASE_TYPE', 'EXT_ENDPOINT'), text, { maxKeys: 4 }),
    })
    .map(({ core, reg, harbor, other }) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'harbor-core' },
      data: { ...other, _REDIS_URL_CORE: core, ...(reg !== undefined ? { _REDIS_URL_REG: reg } : {}), ...(harbor !== undefined ? { _REDIS_URL_HARBOR: harbor } : {}) },
    }));

  /** The jobservice's and the registry's config.yml, their Redis settings holding the password too. */
  const configFiles = fc.record({ jobUrl: redisUrl, addr: fc.constantFrom('harbor-redis:6379', 'a:26379,b:26379', '', '127.0.0.1:6379'), db: fc.constantFrom(0, 2, '2', 'x'), tls: fc.boolean() }).map(({ jobUrl, addr, db, tls }) => [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'harbor-jobservice' }, data: { 'config.yml': stringify({ worker_pool: { workers: 10, backend: 'redis', redis_pool: { redis_url: jobUrl, namespace: 'harbor_job_service_namespace' } } }) } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'harbor-registry' }, data: { 'config.yml': stringify({ version: 0.1, redis: { addr, db, enableTLS: tls, password } }) } },
  ]);

  const release = fc
    .record({
      core: workload.map((w) => ({ ...w, component: 'core', name: 'harbor-core', volume: undefined, envFrom: ['harbor-core', ...w.envFrom] })),
      others: fc.array(workload, { maxLength: 4 }),
      configMap: coreConfigMap,
      files: configFiles,
      secrets: fc.boolean(),
    })
    .map(({ core, others, configMap, files, secrets }) => [
      configMap,
      ...files,
      ...(secrets ? [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'harbor-core' }, data: { secret: Buffer.from('0123456789abcdef').toString('base64') }, stringData: { REGISTRY_REDIS_PASSWORD: password } }] : []),
      deployment(core),
      ...others.map(deployment),
    ]);

  it('a core Deployment (component: core) reading a harbor-core ConfigMap of random Redis URLs, and other workloads with random env', async () => {
    await fc.assert(
      fc.asyncProperty(release, fc.constantFrom('pretty', 'json'), fc.constantFrom('info', 'warn', 'error'), async (objects, format, level) => {
        const o = await lintInProcess(streamOf(objects), ['--log-format', format, '--log-level', level, '-']);
        expectOutcome(o);
        expectNoSecret({ stdout: o.stdout, stderr: o.stderr }, [password]);
      }),
      RUNS,
    );
  });

  it('the same, written as a kind: List', async () => {
    await fc.assert(
      fc.asyncProperty(release, async (objects) => {
        const o = await lintInProcess(stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
        expectOutcome(o);
        expectNoSecret({ stdout: o.stdout, stderr: o.stderr }, [password]);
      }),
      RUNS,
    );
  });

  // String() of a mapping with a key named toString or valueOf throws ("TypeError: Cannot convert object to
  // primitive value"): values that are not strings, numbers or booleans are never turned into text.
  it('ConfigMap data, Secret stringData and container args of any YAML type (mappings, lists, numbers, nulls)', async () => {
    const key = fc.constantFrom('a', 'toString', 'valueOf', 'constructor', 'length', '0');
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(key, tie('value'), { maxKeys: 3 })),
    }));
    await fc.assert(
      fc.asyncProperty(release, fc.dictionary(fc.constantFrom('_REDIS_URL_REG', 'config.yml', 'k'), value, { maxKeys: 2 }), fc.array(value, { maxLength: 2 }), async (objects, data, args) => {
        const [configMap, ...rest] = objects as Array<Record<string, unknown>>;
        const withValues = [
          { ...configMap, data: { ...(configMap!.data as object), ...data } },
          { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'harbor-jobservice' }, stringData: data },
          ...rest.map((o) => (o.kind === 'Deployment' ? { ...o, spec: { ...(o.spec as object), template: { ...((o.spec as { template?: object }).template ?? {}), spec: { containers: [{ name: 'core', image: 'x', args }], initContainers: [{ name: 'wait', image: 'x', command: args }] } } } } : o)),
        ];
        expectOutcome(await lintInProcess(streamOf(withValues)));
      }),
      RUNS,
    );
  });
});
