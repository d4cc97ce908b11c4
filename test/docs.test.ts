/**
 * The README is a front door and docs/ holds the reference: the README stays short (at most 300 lines), its
 * Quick start is exactly two command lines, it links every docs page, and every relative link in the README and
 * docs/*.md resolves — the file exists in the repository, and an `#anchor` is a heading of the target by GitHub's
 * slug rule. The checker is proven on synthetic pages too, so a checker that stopped finding anything would fail.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const QUICK_START = ['bash scripts/setup.sh && npm run demo', 'npm test'];

/** The pages checked, as paths from the repository's root: README.md and every docs/*.md. */
function pages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort();
  return ['README.md', ...docs.map((f) => `docs/${f}`)];
}

/** What the checker reads: a page's text by its path from the root, or undefined when there is no such file. */
interface Repo {
  read(path: string): string | undefined;
  exists(path: string): boolean;
}

const onDisk: Repo = {
  read: (path) => (existsSync(join(ROOT, path)) ? readFileSync(join(ROOT, path), 'utf8') : undefined),
  exists: (path) => existsSync(join(ROOT, path)),
};

/** The page's text without its fenced code blocks (``` or ~~~), each fenced line left empty. */
function withoutFences(text: string): string {
  let fence: string | undefined;
  return text
    .split('\n')
    .map((line) => {
      const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === undefined && marker !== undefined) {
        fence = marker[0];
        return '';
      }
      if (fence !== undefined) {
        if (marker !== undefined && marker[0] === fence) fence = undefined;
        return '';
      }
      return line;
    })
    .join('\n');
}

/** GitHub's slug of one heading's text, before duplicates are numbered. */
function baseSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link in a heading: its text
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\p{M} _-]/gu, '').replace(/ /g, '-');
}

/** The anchors of a page's headings, outside code fences, numbered as GitHub numbers duplicates (-1, -2, ...). */
function slugs(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of withoutFences(text).split('\n')) {
    const m = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (!m) continue;
    const original = baseSlug(m[1] ?? '');
    let slug = original;
    while (seen.has(slug)) {
      const n = (seen.get(original) ?? 0) + 1;
      seen.set(original, n);
      slug = `${original}-${n}`;
    }
    seen.set(slug, 0);
    out.add(slug);
  }
  return out;
}

/** Every inline link target of a page (`[text](target)`, images too), outside code fences and code spans. */
function links(text: string): string[] {
  const prose = withoutFences(text).replace(/`[^`\n]*`/g, 'code');
  const re = /!?\[((?:[^[\]\n]|\n(?![ \t]*\n))*)\]\(\s*<?([^\s)>]+)>?(?:\s+"[^"]*")?\s*\)/g;
  return [...prose.matchAll(re)].map((m) => m[2] as string);
}

/** Every broken relative link of the pages, worded `page: target (why)`. http(s) and mailto links are not checked. */
function linkProblems(repo: Repo, from: string[]): string[] {
  const problems: string[] = [];
  for (const page of from) {
    const text = repo.read(page);
    if (text === undefined) {
      problems.push(`${page}: no such page`);
      continue;
    }
    for (const target of links(text)) {
      if (/^(https?:\/\/|mailto:)/i.test(target)) continue;
      const hash = target.indexOf('#');
      const file = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
      const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const path = file === '' ? page : posix.normalize(posix.join(posix.dirname(page), file));
      if (path.startsWith('../') || path.startsWith('/') || !repo.exists(path)) {
        problems.push(`${page}: ${target} (no such file in the repository)`);
        continue;
      }
      if (anchor === undefined) continue;
      const body = path.endsWith('.md') ? repo.read(path) : undefined;
      if (body === undefined || !slugs(body).has(anchor)) problems.push(`${page}: ${target} (no heading #${anchor} in ${path})`);
    }
  }
  return problems;
}

/** A repository in memory, for the checker's self-test. */
function memoryRepo(files: Record<string, string>): Repo {
  const dirs = new Set(Object.keys(files).flatMap((f) => f.split('/').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('/'))));
  return { read: (path) => files[path], exists: (path) => path in files || dirs.has(path.replace(/\/$/, '')) };
}

describe('the checker', () => {
  it("makes GitHub's slugs, duplicates numbered, fenced headings ignored", () => {
    const text = [
      '# Title',
      '## What the rendered-chart tests prove, and what they cannot',
      "## Core's config API — and `HTTP` targets",
      '## Title',
      '### Title ###',
      '```',
      '# Fenced',
      '```',
      '## Title-1',
    ].join('\n');
    expect([...slugs(text)]).toEqual([
      'title',
      'what-the-rendered-chart-tests-prove-and-what-they-cannot',
      'cores-config-api--and-http-targets',
      'title-1',
      'title-2',
      'title-1-1',
    ]);
  });

  it('finds a broken file link and a broken anchor, and nothing else', () => {
    const repo = memoryRepo({
      'README.md': [
        '# Top',
        '[ok](docs/a.md) [ok](docs/a.md#second-part) [ok](#top) [ok](docs/a.md#second-part-1) [ok](docs/)',
        '[ok, external](https://example.org/x#y) [ok](mailto:someone@example.org) `[in code](docs/nowhere.md)`',
        '```',
        '[in a fence](docs/nowhere.md)',
        '```',
        '[broken file](docs/missing.md) [broken anchor](docs/a.md#nope) [fenced heading](docs/a.md#fenced)',
        '[across',
        'lines](#nowhere)',
      ].join('\n'),
      'docs/a.md': ['# A', '## Second part', '## Second part', '[back](../README.md#top) [up](../../outside.md)', '```', '# Fenced', '```'].join('\n'),
    });
    expect(linkProblems(repo, ['README.md', 'docs/a.md'])).toEqual([
      'README.md: docs/missing.md (no such file in the repository)',
      'README.md: docs/a.md#nope (no heading #nope in docs/a.md)',
      'README.md: docs/a.md#fenced (no heading #fenced in docs/a.md)',
      'README.md: #nowhere (no heading #nowhere in README.md)',
      'docs/a.md: ../../outside.md (no such file in the repository)',
    ]);
  });
});

describe('the README and docs/', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('the README has at most 300 lines', () => {
    expect(readme.replace(/\n$/, '').split('\n').length).toBeLessThanOrEqual(300);
  });

  it('the Quick start is exactly two command lines', () => {
    const start = readme.indexOf('\n## Quick start\n');
    expect(start, 'README.md has a "## Quick start" section').toBeGreaterThan(0);
    const section = readme.slice(start + 1).split(/\n## /)[0] as string;
    const block = /\n```sh\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(block, 'the Quick start has a ```sh block').toBeDefined();
    expect((block as string).split('\n').filter((l) => l.trim() !== '')).toEqual(QUICK_START);
  });

  it('the README links every docs page', () => {
    const linked = new Set(links(readme).map((t) => posix.normalize(decodeURIComponent(t.split('#')[0] as string))));
    const docs = pages().filter((p) => p !== 'README.md');
    expect(docs.length).toBeGreaterThan(5);
    expect(docs.filter((p) => !linked.has(p))).toEqual([]);
  });

  it('every relative link resolves to a file, and every anchor to a heading', () => {
    const all = pages();
    expect(all.reduce((n, p) => n + links(onDisk.read(p) as string).length, 0)).toBeGreaterThan(30);
    expect(linkProblems(onDisk, all)).toEqual([]);
  });
});
