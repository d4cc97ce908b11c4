/**
 * The source's one direction, read from the imports of src/ (static, dynamic and type-only alike): entry →
 * commands → lint → config → engine → protocols → net → basics. A file imports only from its own layer or one below
 * it, no files import each other in a circle, the commands and the engine know protocols only through the
 * registry (registry.ts, types.ts, codes.ts), and a protocol's folder never reaches into another's. The rules
 * are checked on the real tree and, so that a broken checker cannot pass, on small trees that break each one.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

/** The layers, top first; a file's layer is the first whose test matches its path under src/. */
const LAYERS: ReadonlyArray<readonly [name: string, matches: (path: string) => boolean]> = [
  ['entry', (p) => p === 'main.ts' || p.startsWith('launch/')],
  ['commands', (p) => p.startsWith('commands/')],
  ['lint', (p) => p.startsWith('lint/')],
  ['config', (p) => p.startsWith('config/')],
  ['engine', (p) => p.startsWith('engine/')],
  ['protocols', (p) => p.startsWith('protocols/')],
  ['net', (p) => p.startsWith('net/')],
  ['basics', (p) => p.startsWith('basics/')],
];

/** What the layers above the protocols may import of them: the registry and what it is made of. */
const PROTOCOLS_FACE = new Set(['protocols/registry.ts', 'protocols/types.ts', 'protocols/codes.ts']);

/** A tree's imports: each file (a path under src/) and the relative specifiers it imports. */
export type Imports = ReadonlyMap<string, readonly string[]>;

/** The relative specifiers a module imports: `import … from`, `export … from`, `import '…'` and `import('…')`. */
export function specifiers(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gm)) out.push(m[1] as string);
  for (const m of source.matchAll(/^\s*import\s+'([^']+)'/gm)) out.push(m[1] as string);
  for (const m of source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) out.push(m[1] as string);
  return out.filter((s) => s.startsWith('.'));
}

function layerOf(path: string): number {
  return LAYERS.findIndex(([, matches]) => matches(path));
}

/** The protocol folder a file is in (`redis` for protocols/redis/check.ts), or undefined. */
function protocolFolder(path: string): string | undefined {
  return /^protocols\/([^/]+)\//.exec(path)?.[1];
}

/** Every broken rule, one sentence each; empty when the tree keeps them all. */
export function violations(tree: Imports): string[] {
  const out: string[] = [];
  const edges = new Map<string, string[]>();
  for (const [file, specs] of tree) {
    if (layerOf(file) < 0) out.push(`${file} is in no layer`);
    const targets: string[] = [];
    for (const spec of specs) {
      const target = relative('/', resolve('/', dirname(file), spec));
      if (!tree.has(target)) {
        out.push(`${file} imports ${spec}, which is not a module of src/`);
        continue;
      }
      targets.push(target);
      const [from, to] = [layerOf(file), layerOf(target)];
      if (from >= 0 && to >= 0 && to < from) {
        out.push(`${file} (${LAYERS[from]?.[0]}) imports ${target} (${LAYERS[to]?.[0]}), against the direction`);
      }
      const above = LAYERS[from]?.[0] === 'commands' || LAYERS[from]?.[0] === 'engine';
      if (above && target.startsWith('protocols/') && !PROTOCOLS_FACE.has(target)) {
        out.push(`${file} imports ${target}: above the protocols, only ${[...PROTOCOLS_FACE].join(', ')} may be imported`);
      }
      const [mine, theirs] = [protocolFolder(file), protocolFolder(target)];
      if (file.startsWith('protocols/') && theirs !== undefined && mine !== theirs && file !== 'protocols/registry.ts' && file !== 'protocols/codes.ts') {
        out.push(`${file} imports ${target}: only the registry and the list of codes reach into a protocol's folder`);
      }
    }
    edges.set(file, targets);
  }
  for (const circle of circles(edges)) out.push(`import circle: ${[...circle, circle[0]].join(' → ')}`);
  return out;
}

/** Each circle of the graph once (Tarjan's strongly connected components of more than one file, or a file importing itself). */
function circles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.reverse());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** The imports of every module under `dir` (declaration files declare libraries' modules and import nothing). */
function readTree(dir: string): Map<string, string[]> {
  const tree = new Map<string, string[]>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) tree.set(relative(dir, path), specifiers(readFileSync(path, 'utf8')));
    }
  };
  walk(dir);
  return tree;
}

describe('the direction of imports in src/', () => {
  it('every module is in a layer, imports only modules of src/, down or across, and no circle', () => {
    const tree = readTree(SRC);
    expect(tree.size).toBeGreaterThan(40);
    expect(violations(tree)).toEqual([]);
  });

  it('a folder per protocol, each with its URL parser, its check and its diagnosis', () => {
    for (const protocol of ['redis', 'postgres', 'http', 'tcp']) {
      for (const file of ['target.ts', 'check.ts', 'diagnosis.ts']) {
        expect(existsSync(join(SRC, 'protocols', protocol, file)), `src/protocols/${protocol}/${file}`).toBe(true);
      }
    }
    for (const protocol of ['redis', 'postgres', 'http']) expect(existsSync(join(SRC, 'protocols', protocol, 'url.ts')), `src/protocols/${protocol}/url.ts`).toBe(true);
  });

  it('every module opens with a comment saying its job', () => {
    for (const file of readTree(SRC).keys()) {
      expect(readFileSync(join(SRC, file), 'utf8'), file).toMatch(/^\/\*\*?\s/);
    }
  });
});

describe('the checker itself', () => {
  const tree = (entries: Record<string, string[]>): Imports => new Map(Object.entries(entries));

  it('reads static, type-only, re-exported, side-effect and dynamic imports, and ignores libraries', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type {\n  B,\n  C,\n} from '../b.ts';",
      "export { d } from './d.ts';",
      "import './side.ts';",
      "import pino from 'pino';",
      "const m = await import('./lazy.ts');",
    ].join('\n');
    expect(specifiers(source)).toEqual(['./a.ts', '../b.ts', './d.ts', './side.ts', './lazy.ts']);
  });

  it('passes a tree that keeps the rules', () => {
    expect(violations(tree({
      'main.ts': ['./commands/cli.ts'],
      'commands/cli.ts': ['../protocols/registry.ts', '../basics/errors.ts'],
      'protocols/registry.ts': ['./redis/target.ts'],
      'protocols/redis/target.ts': ['../types.ts', '../../net/dial.ts'],
      'protocols/types.ts': [],
      'net/dial.ts': ['../basics/errors.ts'],
      'basics/errors.ts': [],
    }))).toEqual([]);
  });

  it('finds a circle, even of type-only imports across two layers', () => {
    const found = violations(tree({ 'engine/a.ts': ['./b.ts'], 'engine/b.ts': ['./c.ts'], 'engine/c.ts': ['./a.ts'], 'basics/x.ts': ['./x.ts'] }));
    expect(found).toContain('import circle: engine/a.ts → engine/b.ts → engine/c.ts → engine/a.ts');
    expect(found).toContain('import circle: basics/x.ts → basics/x.ts');
  });

  it('finds an import against the direction', () => {
    expect(violations(tree({ 'basics/errors.ts': ['../protocols/codes.ts'], 'protocols/codes.ts': [] }))).toEqual([
      'basics/errors.ts (basics) imports protocols/codes.ts (protocols), against the direction',
    ]);
  });

  it('finds the commands reaching past the registry, and one protocol reaching into another', () => {
    const found = violations(tree({
      'commands/cli.ts': ['../protocols/redis/check.ts'],
      'protocols/redis/check.ts': ['../postgres/url.ts'],
      'protocols/postgres/url.ts': [],
    }));
    expect(found).toEqual([
      'commands/cli.ts imports protocols/redis/check.ts: above the protocols, only protocols/registry.ts, protocols/types.ts, protocols/codes.ts may be imported',
      "protocols/redis/check.ts imports protocols/postgres/url.ts: only the registry and the list of codes reach into a protocol's folder",
    ]);
  });

  it('finds a module in no layer and an import of something that is not there', () => {
    expect(violations(tree({ 'stray.ts': ['./gone.ts'] }))).toEqual([
      'stray.ts is in no layer',
      'stray.ts imports ./gone.ts, which is not a module of src/',
    ]);
  });
});
