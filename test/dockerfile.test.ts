/**
 * The Dockerfile, linted and held to the image contract without building it (no Docker engine here): the linter
 * is dockerfile-utils (rcjsuen's, used by VS Code's Docker tooling; hadolint cannot be installed here), the
 * contract is read from dockerfile-ast's parse. Each rule is also shown to fail on an altered copy of the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { contractProblems, DOCKERIGNORE, layout, readDockerfile, ROOT, stages } from './helpers/dockerfile.ts';

const text = readDockerfile();

function lint(content: string): string[] {
  return validate(content).map((d) => `line ${d.range.start.line + 1}: ${d.message} (code ${String(d.code)})`);
}

describe('Dockerfile', () => {
  it('passes the dockerfile-utils linter with no diagnostic at all', () => {
    const diagnostics = lint(text);
    expect(diagnostics, `dockerfile-utils diagnostics:\n${diagnostics.join('\n')}`).toEqual([]);
  });

  it('the linter really looks (it reports a broken copy)', () => {
    const broken = text.replace('COPY --from=build', 'COPY --form=build').replace('USER 65532:65532', 'user 65532:65532');
    expect(lint(broken)).toEqual([
      expect.stringMatching(/Unknown flag: form/),
      expect.stringMatching(/uppercase/),
    ]);
  });

  it('keeps the image contract', () => {
    const problems = contractProblems(text);
    expect(problems, `image contract broken:\n${problems.join('\n')}`).toEqual([]);
  });

  it('runs node on the bundle as a numeric non-root user, from a Node 24 runtime image', () => {
    expect(stages(text).length).toBeGreaterThan(1);
    expect(layout(text)).toEqual({
      node: '/nodejs/bin/node',
      bundle: '/app/harbor-wait.mjs',
      user: { uid: 65532, gid: 65532 },
      base: 'gcr.io/distroless/nodejs24-debian12:nonroot',
    });
  });

  // Each rule, broken on purpose: the contract check must name it.
  const regressions: Array<[string, (t: string) => string, RegExp]> = [
    ['a single stage', (t) => t.slice(t.indexOf('FROM gcr.io')), /multi-stage/],
    ['a build stage without a name', (t) => t.replace(' AS build', ''), /no name/],
    ['an untagged runtime image', (t) => t.replace('nodejs24-debian12:nonroot', 'nodejs24-debian12'), /not pinned/],
    ['a latest tag', (t) => t.replace('node:24-bookworm-slim', 'node:latest'), /latest/],
    ['a runtime image with another Node', (t) => t.replace('nodejs24-debian12', 'nodejs22-debian12'), /runtime stage's base .* not Node 24/],
    ['a build without npm ci', (t) => t.replace('RUN npm ci', 'RUN npm install'), /"npm ci"/],
    ['a RUN in the runtime stage', (t) => t.replace('WORKDIR /app\n', 'WORKDIR /app\nRUN ["/nodejs/bin/node", "-e", "1"]\n'), /has RUN/],
    ['an ADD in the runtime stage', (t) => t.replace('WORKDIR /app\n', 'WORKDIR /app\nADD extra.tar /app/\n'), /has ADD/],
    ['node_modules copied too', (t) => t.replace('\n# OCI', '\nCOPY --from=build --chmod=0444 /src/node_modules /app/node_modules\n\n# OCI'), /exactly one thing[\s\S]*not only dist\/harbor-wait\.mjs/],
    ['the bundle copied from another image', (t) => t.replace('--from=build', '--from=node:24-bookworm-slim'), /not --from=build/],
    ['the bundle copied from the context', (t) => t.replace('--from=build ', ''), /not --from=build/],
    ['a writable bundle', (t) => t.replace('--chmod=0444', '--chmod=0644'), /--chmod without write bits/],
    ['no --chmod', (t) => t.replace(' --chmod=0444', ''), /--chmod without write bits/],
    ['a bundle owned by the user', (t) => t.replace('--chown=0:0', '--chown=65532:65532'), /owned by root/],
    ['no USER', (t) => t.replace('USER 65532:65532\n', ''), /no USER/],
    ['USER root by number', (t) => t.replace('USER 65532:65532', 'USER 0'), /is root/],
    ['the root group', (t) => t.replace('USER 65532:65532', 'USER 65532:0'), /is root/],
    ['USER by name', (t) => t.replace('USER 65532:65532', 'USER nonroot'), /not numeric/],
    ['a shell-form ENTRYPOINT', (t) => t.replace('ENTRYPOINT ["/nodejs/bin/node", "/app/harbor-wait.mjs"]', 'ENTRYPOINT /nodejs/bin/node /app/harbor-wait.mjs'), /not in exec/],
    ['an ENTRYPOINT through a shell', (t) => t.replace('ENTRYPOINT ["/nodejs/bin/node", "/app/harbor-wait.mjs"]', 'ENTRYPOINT ["/bin/sh", "-c", "node /app/harbor-wait.mjs"]'), /not \[<absolute path to node>/],
    ['an ENTRYPOINT on another file', (t) => t.replace('"/app/harbor-wait.mjs"]', '"/app/main.mjs"]'), /bundle is copied to \/app\/harbor-wait\.mjs/],
    ['no ENTRYPOINT', (t) => t.replace(/^ENTRYPOINT .*$/m, ''), /no ENTRYPOINT/],
    ['a default CMD', (t) => `${t}CMD ["--help"]\n`, /has a CMD/],
    ['a HEALTHCHECK', (t) => `${t}HEALTHCHECK NONE\n`, /HEALTHCHECK/],
    ['no licenses label', (t) => t.replace(/^\s*org\.opencontainers\.image\.licenses=.*\n/m, ''), /licenses is missing/],
    ['another licence', (t) => t.replace('licenses="Apache-2.0"', 'licenses="MIT"'), /licenses is MIT/],
    ['no created label', (t) => t.replace(/ \\\n\s*org\.opencontainers\.image\.created=.*/, ''), /created is missing/],
    ['a revision without its ARG', (t) => t.replace('ARG REVISION=\n', ''), /label revision .* ARG/],
    ['a stale version', (t) => t.replace('ARG VERSION=0.1.0', 'ARG VERSION=0.0.9'), /package\.json's version/],
  ];
  for (const [name, alter, expected] of regressions) {
    it(`notices ${name}`, () => {
      const altered = alter(text);
      expect(altered, 'the alteration did not apply: the test is out of date with the Dockerfile').not.toBe(text);
      expect(contractProblems(altered).join('\n')).toMatch(expected);
    });
  }
});

describe('.dockerignore', () => {
  const ignored = readFileSync(DOCKERIGNORE, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

  it("keeps the host's node_modules, dist, coverage and .git out of the build context", () => {
    for (const path of ['node_modules', 'dist', 'coverage', '.git']) expect(ignored).toContain(path);
  });

  it('keeps in everything the build stage copies, and those files exist', () => {
    const build = stages(readDockerfile())[0]!;
    const sources = build.instructions
      .filter((i) => i.getKeyword() === 'COPY')
      .flatMap((i) => i.getArguments().slice(0, -1).map((a) => a.getValue().replace(/\/$/, '')));
    expect(sources).toEqual(['package.json', 'package-lock.json', 'tsconfig.json', 'scripts', 'src']);
    for (const source of sources) {
      expect(existsSync(`${ROOT}${source}`), source).toBe(true);
      expect(ignored.some((pattern) => pattern === source || source.startsWith(`${pattern}/`)), `${source} is ignored`).toBe(false);
    }
    expect(existsSync(`${ROOT}scripts/build.ts`)).toBe(true);
  });
});
