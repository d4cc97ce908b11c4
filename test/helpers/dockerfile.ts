/**
 * The project's Dockerfile, parsed with dockerfile-ast (the parser under dockerfile-utils' linter), and the image
 * contract checked on it: what the runtime stage may hold and how it starts. `contractProblems` returns one
 * sentence per broken rule, so a test can print them all, and can prove on altered copies that each rule bites.
 */
import { readFileSync } from 'node:fs';
import { basename, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Arg, Copy, DockerfileParser, From, JSONInstruction, Label, type Instruction } from 'dockerfile-ast';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DOCKERFILE = `${ROOT}Dockerfile`;
export const DOCKERIGNORE = `${ROOT}.dockerignore`;

export const OCI_LABELS = ['title', 'description', 'source', 'licenses', 'version', 'revision', 'created'].map(
  (l) => `org.opencontainers.image.${l}`,
);

const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { name: string; version: string; license: string };

export function readDockerfile(): string {
  return readFileSync(DOCKERFILE, 'utf8');
}

export interface Stage {
  readonly from: From;
  /** The stage's instructions after its FROM. */
  readonly instructions: Instruction[];
}

export function stages(text: string): Stage[] {
  const result: Stage[] = [];
  for (const i of DockerfileParser.parse(text).getInstructions()) {
    if (i instanceof From) result.push({ from: i, instructions: [] });
    else result.at(-1)?.instructions.push(i);
  }
  return result;
}

function of(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.getKeyword() === keyword);
}

/** The words of a JSON-form instruction, or null when it is in shell form (or its JSON is broken). */
function execForm(i: Instruction): string[] | null {
  if (!(i instanceof JSONInstruction) || i.getOpeningBracket() === null || i.getClosingBracket() === null) return null;
  const raw = i.getRawArgumentsContent() ?? '';
  try {
    // From the bracket on: COPY's flags come before it.
    const words: unknown = JSON.parse(raw.slice(raw.indexOf('[')));
    return Array.isArray(words) && words.every((w) => typeof w === 'string') ? (words as string[]) : null;
  } catch {
    return null;
  }
}

/** `--chmod=0444` → 0o444; null when absent or not octal. */
function mode(copy: Copy): number | null {
  const value = copy.getFlags().find((f) => f.getName() === 'chmod')?.getValue();
  return value && /^[0-7]{3,4}$/.test(value) ? Number.parseInt(value, 8) : null;
}

/** What the runtime stage holds and how it starts, read from the Dockerfile. */
export interface ImageLayout {
  /** ENTRYPOINT[0], e.g. /nodejs/bin/node. */
  readonly node: string;
  /** Where the bundle is copied to, ENTRYPOINT[1]. */
  readonly bundle: string;
  readonly user: { readonly uid: number; readonly gid: number | null };
  /** The runtime base image, e.g. gcr.io/distroless/nodejs24-debian12:nonroot. */
  readonly base: string;
}

export function layout(text: string): ImageLayout {
  const last = stages(text).at(-1)!;
  const entry = execForm(of(last, 'ENTRYPOINT').at(-1)!)!;
  const user = /^(\d+)(?::(\d+))?$/.exec(of(last, 'USER').at(-1)!.getArgumentsContent()!.trim())!;
  return {
    node: entry[0]!,
    bundle: entry[1]!,
    user: { uid: Number(user[1]), gid: user[2] === undefined ? null : Number(user[2]) },
    base: last.from.getImage()!,
  };
}

/**
 * Every rule of the image contract the Dockerfile breaks, as sentences; [] when it keeps them all:
 * multi-stage; the runtime stage is Node 24 and copies only the bundle, read-only and root-owned, from the build
 * stage; no RUN/ADD/SHELL there; a numeric non-root USER; an exec-form ENTRYPOINT running node on the bundle; no
 * CMD; the OCI labels, with version, revision and created coming from ARGs of that stage.
 */
export function contractProblems(text: string): string[] {
  const problems: string[] = [];
  const all = stages(text);
  if (all.length < 2) return [`expected a multi-stage build (a build stage and a runtime stage), found ${all.length} FROM`];
  const build = all[0]!;
  const last = all.at(-1)!;
  const buildName = build.from.getBuildStage();

  for (const s of all) {
    const image = s.from.getImage() ?? '';
    if (s.from.getImageTag() === null && s.from.getImageDigest() === null) problems.push(`FROM ${image} is not pinned by tag or digest`);
    if (s.from.getImageTag() === 'latest') problems.push(`FROM ${image} uses the moving tag latest`);
  }
  if (!/(^|\D)24(\D|$)/.test(build.from.getImage() ?? '')) problems.push(`the build stage's base ${build.from.getImage()} is not Node 24`);
  if (!/(^|\D)24(\D|$)/.test(last.from.getImage() ?? '')) problems.push(`the runtime stage's base ${last.from.getImage()} is not Node 24`);
  const buildRuns = of(build, 'RUN').map((r) => r.getArgumentsContent() ?? '');
  for (const step of ['npm ci', 'npm run build']) {
    if (!buildRuns.some((r) => r.includes(step))) problems.push(`the build stage does not run "${step}"`);
  }

  // The runtime stage: nothing but the bundle, from the build stage, read-only and owned by root.
  if (!buildName) problems.push('the build stage has no name (FROM ... AS build) for the runtime stage to copy from');
  for (const keyword of ['RUN', 'ADD', 'SHELL', 'ONBUILD', 'VOLUME']) {
    for (const i of of(last, keyword)) problems.push(`the runtime stage has ${keyword} (line ${i.getRange().start.line + 1}): it must hold Node and the bundle only, with no shell`);
  }
  const copies = last.instructions.filter((i): i is Copy => i instanceof Copy);
  if (copies.length !== 1) problems.push(`the runtime stage must COPY exactly one thing, the bundle; it has ${copies.length} COPY`);
  let bundleDest: string | null = null;
  for (const copy of copies) {
    const words = execForm(copy) ?? copy.getArguments().map((a) => a.getValue());
    const sources = words.slice(0, -1);
    const dest = words.at(-1) ?? '';
    // Not copy.getFromFlag(): dockerfile-ast returns it only when --from is the sole flag.
    const from = copy.getFlags().find((f) => f.getName() === 'from')?.getValue() ?? null;
    if (from === null || from !== buildName) problems.push(`COPY ${words.join(' ')} in the runtime stage is not --from=${buildName ?? 'the build stage'} (it has --from=${from})`);
    if (sources.length !== 1 || !sources[0]!.endsWith('dist/harbor-wait.mjs')) problems.push(`COPY in the runtime stage copies ${JSON.stringify(sources)}, not only dist/harbor-wait.mjs`);
    const m = mode(copy);
    if (m === null || (m & 0o222) !== 0) problems.push(`COPY of the bundle needs --chmod without write bits (e.g. 0444), has ${copy.getFlags().find((f) => f.getName() === 'chmod')?.getValue() ?? 'none'}`);
    const chown = copy.getFlags().find((f) => f.getName() === 'chown')?.getValue() ?? null;
    if (chown !== null && !/^(0|root)(:(0|root))?$/.test(chown)) problems.push(`COPY of the bundle must leave it owned by root, has --chown=${chown}`);
    if (!posix.isAbsolute(dest)) problems.push(`COPY destination ${dest} is not absolute`);
    else bundleDest = dest.endsWith('/') ? posix.join(dest, basename(sources[0] ?? '')) : dest;
  }

  // The user: numeric, not root (uid and gid).
  const users = of(last, 'USER');
  const user = users.at(-1)?.getArgumentsContent()?.trim() ?? '';
  const ids = /^(\d+)(?::(\d+))?$/.exec(user);
  if (users.length === 0) problems.push('the runtime stage sets no USER: it would run as whatever the base image says');
  else if (!ids) problems.push(`USER ${user} is not numeric uid[:gid] (Kubernetes' runAsNonRoot cannot verify a name)`);
  else if (Number(ids[1]) === 0 || (ids[2] !== undefined && Number(ids[2]) === 0)) problems.push(`USER ${user} is root`);

  // How it starts: exec-form ENTRYPOINT `node bundle`, no CMD (it would override WAIT_TARGETS), no HEALTHCHECK.
  const entrypoints = of(last, 'ENTRYPOINT');
  const entry = entrypoints.at(-1);
  const words = entry ? execForm(entry) : null;
  if (!entry) problems.push('the runtime stage has no ENTRYPOINT');
  else if (!words) problems.push(`ENTRYPOINT ${entry.getArgumentsContent()} is not in exec (JSON) form: signals would go to a shell, not to node`);
  else {
    if (words.length !== 2 || !posix.isAbsolute(words[0]!) || posix.basename(words[0]!) !== 'node') problems.push(`ENTRYPOINT ${JSON.stringify(words)} is not [<absolute path to node>, <bundle>]`);
    if (bundleDest !== null && words[1] !== bundleDest) problems.push(`ENTRYPOINT runs ${words[1]}, but the bundle is copied to ${bundleDest}`);
  }
  if (entrypoints.length > 1) problems.push('the runtime stage has more than one ENTRYPOINT');
  if (of(last, 'CMD').length > 0) problems.push('the runtime stage has a CMD: default arguments would replace WAIT_TARGETS when a pod gives no args');
  if (of(last, 'HEALTHCHECK').length > 0) problems.push('the runtime stage has a HEALTHCHECK: Kubernetes ignores it and an init container exits');

  // OCI labels; version, revision and created come from ARGs declared in this stage (ARGs before the first FROM
  // are not visible here), version defaulting to package.json's.
  const labels = new Map<string, { value: string; line: number }>();
  for (const label of last.instructions.filter((i): i is Label => i instanceof Label)) {
    for (const p of label.getProperties()) labels.set(p.getName(), { value: p.getValue() ?? '', line: label.getRange().start.line });
  }
  const args = new Map<string, { value: string | null; line: number }>();
  for (const arg of last.instructions.filter((i): i is Arg => i instanceof Arg)) {
    const p = arg.getProperty();
    if (p) args.set(p.getName(), { value: p.getValue(), line: arg.getRange().start.line });
  }
  const argOf = (name: string): { name: string; value: string | null } | null => {
    const label = labels.get(name)!;
    const ref = /^\$\{?(\w+)\}?$/.exec(label.value)?.[1];
    const arg = ref === undefined ? undefined : args.get(ref);
    return ref !== undefined && arg !== undefined && arg.line < label.line ? { name: ref, value: arg.value } : null;
  };
  for (const name of OCI_LABELS) if (!labels.has(name)) problems.push(`label ${name} is missing from the runtime stage`);
  const get = (l: string) => labels.get(`org.opencontainers.image.${l}`);
  if (get('title') && get('title')!.value !== pkg.name) problems.push(`label title is ${get('title')!.value}, not ${pkg.name}`);
  if (get('licenses') && get('licenses')!.value !== pkg.license) problems.push(`label licenses is ${get('licenses')!.value}, not package.json's ${pkg.license}`);
  if (get('description') && get('description')!.value.trim() === '') problems.push('label description is empty');
  for (const l of ['version', 'revision', 'created']) {
    if (get(l) && argOf(`org.opencontainers.image.${l}`) === null) problems.push(`label ${l} (${get(l)!.value}) does not come from an ARG declared earlier in the runtime stage`);
  }
  if (get('version')) {
    const version = argOf('org.opencontainers.image.version');
    if (version && version.value !== pkg.version) problems.push(`ARG ${version.name} defaults to ${version.value}, but package.json's version is ${pkg.version}`);
  }
  return problems;
}
