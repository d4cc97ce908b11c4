/**
 * The Dockerfile, linted and held to the image contract without building it (no Docker engine here): the linter
 * is dockerfile-utils (rcjsuen's, used by VS Code's Docker tooling; hadolint cannot be installed here), the
 * contract is read from dockerfile-ast's parse. Each rule is also shown to fail on an altered copy of the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { BUNDLE, SHIPPED } from '../scripts/build.ts';
import { contractProblems, DOCKERIGNORE, ENTRY, layout, readDockerfile, ROOT, stages, WARM_UP } from './helpers/dockerfile.ts';

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

  it('runs node on the entry as a numeric non-root user, from a Node 24 runtime image, with a code cache its own node made', () => {
    expect(stages(text).length).toBe(3);
    expect(layout(text)).toEqual({
      node: '/nodejs/bin/node',
      bundle: '/app/harbor-wait.cjs',
      user: { uid: 65532, gid: 65532 },
      base: 'gcr.io/distroless/nodejs24-debian12:nonroot',
      programDir: '/app',
      mode: 0o555,
      warmOwner: { uid: 65532, gid: 65532 },
      warmUp: { argv: ['/nodejs/bin/node', '/app/harbor-wait-warm.cjs'], uid: 65532, gid: 65532 },
    });
  });

  it('warms and ships the files the build makes', () => {
    for (const file of [ENTRY, WARM_UP]) expect(SHIPPED).toContain(file);
    expect(BUNDLE.endsWith(`/${ENTRY}`)).toBe(true);
  });

  // Lines of the Dockerfile the alterations below change; each alteration is checked to apply.
  const BUILD_FROM = 'FROM node:24-bookworm-slim AS build\n';
  const WARM_FROM = 'FROM gcr.io/distroless/nodejs24-debian12:nonroot AS warm\n';
  const RUNTIME_FROM = 'FROM gcr.io/distroless/nodejs24-debian12:nonroot AS runtime\n';
  const WARM_COPY = 'COPY --from=build --chown=65532:65532 /src/dist/ /app/\n';
  const WARM_USER = 'USER 65532:65532\n';
  const WARM_RUN = 'RUN ["/nodejs/bin/node", "/app/harbor-wait-warm.cjs"]\n';
  const RUNTIME_COPY = 'COPY --from=warm --chown=0:0 --chmod=0555 /app/ /app/\n';
  const ENTRYPOINT = 'ENTRYPOINT ["/nodejs/bin/node", "/app/harbor-wait.cjs"]';

  /** Replaces the first `from` between the lines `start` and `end` (the end of the file when null). */
  const within = (start: string, end: string | null) => (t: string, from: string, to: string) => {
    const i = t.indexOf(start);
    const j = end === null ? t.length : t.indexOf(end, i);
    return t.slice(0, i) + t.slice(i, j).replace(from, to) + t.slice(j);
  };
  const inWarm = within(WARM_FROM, RUNTIME_FROM);
  const inRuntime = within(RUNTIME_FROM, null);
  /** The warm stage, with its heading comment, cut out. */
  const withoutWarm = (t: string) => t.slice(0, t.indexOf('# ---- warm')) + t.slice(t.indexOf('# ---- runtime'));

  // Each rule, broken on purpose: the contract check must name it.
  const regressions: Array<[string, (t: string) => string, RegExp]> = [
    ['a single stage', (t) => t.slice(t.indexOf(RUNTIME_FROM)), /multi-stage/],
    ['no warm stage (the runtime copies the build, with the build node\'s cache)', (t) => inRuntime(withoutWarm(t), RUNTIME_COPY, 'COPY --from=build --chown=0:0 --chmod=0555 /src/dist/ /app/\n'), /multi-stage build of three stages/],
    ['a build stage without a name', (t) => t.replace(BUILD_FROM, 'FROM node:24-bookworm-slim\n'), /build stage has no name/],
    ['a warm stage without a name', (t) => t.replace(WARM_FROM, 'FROM gcr.io/distroless/nodejs24-debian12:nonroot\n'), /warm stage has no name/],
    ['an untagged runtime image', (t) => t.replace(RUNTIME_FROM, 'FROM gcr.io/distroless/nodejs24-debian12 AS runtime\n'), /not pinned/],
    ['a latest tag', (t) => t.replace(BUILD_FROM, 'FROM node:latest AS build\n'), /latest/],
    ['a runtime image with another Node', (t) => t.replaceAll('FROM gcr.io/distroless/nodejs24-debian12:', 'FROM gcr.io/distroless/nodejs22-debian12:'), /runtime stage's base .* not Node 24/],
    ['a build without npm ci', (t) => t.replace('RUN npm ci', 'RUN npm install'), /"npm ci"/],
    ['a RUN in the runtime stage', (t) => t.replace(RUNTIME_FROM, `${RUNTIME_FROM}RUN ["/nodejs/bin/node", "-e", "1"]\n`), /runtime stage has RUN/],
    ['an ADD in the runtime stage', (t) => t.replace(RUNTIME_FROM, `${RUNTIME_FROM}ADD extra.tar /app/\n`), /runtime stage has ADD/],
    ['node_modules copied too', (t) => inRuntime(t, RUNTIME_COPY, `${RUNTIME_COPY}COPY --from=build --chmod=0444 /src/node_modules /app/node_modules\n`), /exactly one thing/],
    ['the program copied from another image', (t) => inRuntime(t, '--from=warm', '--from=gcr.io/distroless/nodejs24-debian12:nonroot'), /not --from=warm/],
    ['the program copied from the build stage, with the build node\'s cache', (t) => inRuntime(t, RUNTIME_COPY, 'COPY --from=build --chown=0:0 --chmod=0555 /src/dist/ /app/\n'), /not --from=warm/],
    ['the program copied from the context', (t) => inRuntime(t, '--from=warm ', ''), /not --from=warm/],
    ['a writable program', (t) => inRuntime(t, '--chmod=0555', '--chmod=0755'), /--chmod without write bits/],
    ['a code cache writable by all', (t) => inRuntime(t, '--chmod=0555', '--chmod=0777'), /--chmod without write bits/],
    ['no --chmod', (t) => inRuntime(t, ' --chmod=0555', ''), /--chmod without write bits/],
    ['files only root may read', (t) => inRuntime(t, '--chmod=0555', '--chmod=0500'), /lets every uid read/],
    ['a program owned by the user', (t) => inRuntime(t, '--chown=0:0', '--chown=65532:65532'), /owned by root/],
    ['only the entry copied', (t) => inRuntime(t, '/app/ /app/', '/app/harbor-wait.cjs /app/harbor-wait.cjs'), /copy exactly the directory the warm stage warmed/],
    ['the program copied to another path', (t) => inRuntime(t, '/app/ /app/', '/app/ /opt/app/'), /to the same path/],
    ['no USER', (t) => inRuntime(t, 'USER 65532:65532\n', ''), /no USER/],
    ['USER root by number', (t) => inRuntime(t, 'USER 65532:65532', 'USER 0'), /is root/],
    ['the root group', (t) => inRuntime(t, 'USER 65532:65532', 'USER 65532:0'), /is root/],
    ['USER by name', (t) => inRuntime(t, 'USER 65532:65532', 'USER nonroot'), /not numeric/],
    ['a shell-form ENTRYPOINT', (t) => t.replace(ENTRYPOINT, 'ENTRYPOINT /nodejs/bin/node /app/harbor-wait.cjs'), /not in exec/],
    ['an ENTRYPOINT through a shell', (t) => t.replace(ENTRYPOINT, 'ENTRYPOINT ["/bin/sh", "-c", "node /app/harbor-wait.cjs"]'), /not \[<absolute path to node>/],
    ['an ENTRYPOINT on another file', (t) => t.replace(ENTRYPOINT, 'ENTRYPOINT ["/nodejs/bin/node", "/app/harbor-wait-main.cjs"]'), /runs \/app\/harbor-wait-main\.cjs, but the entry is \/app\/harbor-wait\.cjs/],
    ['no ENTRYPOINT', (t) => t.replace(/^ENTRYPOINT .*$/m, ''), /no ENTRYPOINT/],
    ['a default CMD', (t) => `${t}CMD ["--help"]\n`, /has a CMD/],
    ['a HEALTHCHECK', (t) => `${t}HEALTHCHECK NONE\n`, /HEALTHCHECK/],
    ['no licenses label', (t) => t.replace(/^\s*org\.opencontainers\.image\.licenses=.*\n/m, ''), /licenses is missing/],
    ['another licence', (t) => t.replace('licenses="Apache-2.0"', 'licenses="MIT"'), /licenses is MIT/],
    ['no created label', (t) => t.replace(/ \\\n\s*org\.opencontainers\.image\.created=.*/, ''), /created is missing/],
    ['a revision without its ARG', (t) => t.replace('ARG REVISION=\n', ''), /label revision .* ARG/],
    ['a stale version', (t) => t.replace('ARG VERSION=0.1.0', 'ARG VERSION=0.0.9'), /package\.json's version/],
    // The code cache: made in the warm stage, by the runtime image's node.
    ['a warm stage from the build image', (t) => t.replace(WARM_FROM, 'FROM node:24-bookworm-slim AS warm\n'), /warm stage is FROM node:24-bookworm-slim, not the runtime stage's/],
    ['a warm stage from another tag of the runtime image', (t) => t.replace(WARM_FROM, 'FROM gcr.io/distroless/nodejs24-debian12:debug-nonroot AS warm\n'), /warm stage is FROM .*:debug-nonroot, not the runtime stage's/],
    ['no warm-up', (t) => inWarm(t, WARM_RUN, ''), /exactly one thing, the warm-up; it has 0 RUN/],
    ['two warm-ups', (t) => inWarm(t, WARM_RUN, WARM_RUN + WARM_RUN), /exactly one thing, the warm-up; it has 2 RUN/],
    ['a shell-form warm-up', (t) => inWarm(t, WARM_RUN, 'RUN /nodejs/bin/node /app/harbor-wait-warm.cjs\n'), /shell form: the runtime image has no shell/],
    ['a warm-up with another node', (t) => inWarm(t, '"/nodejs/bin/node"', '"/usr/local/bin/node"'), /not the warm-up/],
    ['a RUN in the warm stage that is not the warm-up', (t) => inWarm(t, WARM_RUN, 'RUN ["/nodejs/bin/node", "/app/harbor-wait.cjs", "--version"]\n'), /not the warm-up/],
    ['a warm-up as root', (t) => inWarm(t, WARM_USER, 'USER 0:0\n'), /warm-up runs as root/],
    ['a warm-up with no USER', (t) => inWarm(t, WARM_USER, ''), /warm-up runs as the base image's user \(no USER before it\)/],
    ['a warm-up as a user who does not own the files', (t) => inWarm(t, WARM_USER, 'USER 10000:10000\n'), /gives the files to uid 65532: the warm-up could not rewrite the code cache/],
    ['files left to root in the warm stage', (t) => inWarm(t, ' --chown=65532:65532', ''), /gives the files to root/],
    ['the warm stage copying from another image', (t) => inWarm(t, '--from=build', '--from=node:24-bookworm-slim'), /in the warm stage is not --from=build/],
    ['the warm stage copying only the entry', (t) => inWarm(t, '/src/dist/ /app/', '/src/dist/harbor-wait.cjs /app/'), /not the build's dist\/ directory/],
    ['the warm stage warming at another path', (t) => inWarm(t, WARM_COPY, 'COPY --from=build --chown=65532:65532 /src/dist/ /opt/app/\n'), /exactly the directory the warm stage warmed \(\/opt\/app\)/],
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
