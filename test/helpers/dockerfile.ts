/**
 * The project's Dockerfile, parsed with dockerfile-ast (the parser under dockerfile-utils' linter), and the image
 * contract checked on it: how the warm stage makes the code cache, what the runtime stage may hold and how it
 * starts. `contractProblems` returns one sentence per broken rule, so a test can print them all, and can prove
 * on altered copies that each rule bites.
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
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

/** `--chmod=0555` → 0o555; null when absent or not octal. */
function mode(copy: Copy): number | null {
  const value = copy.getFlags().find((f) => f.getName() === 'chmod')?.getValue();
  return value && /^[0-7]{3,4}$/.test(value) ? Number.parseInt(value, 8) : null;
}

/** The entry the image runs, and the warm-up that makes the code cache beside it (scripts/build.ts). */
export const ENTRY = 'harbor-wait.cjs';
export const WARM_UP = 'harbor-wait-warm.cjs';

/** A path without its trailing slash: /app/ → /app. */
function dirPath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 ? normal.replace(/\/$/, '') : normal;
}

function flag(copy: Copy, name: string): string | null {
  // Not copy.getFromFlag(): dockerfile-ast returns it only when --from is the sole flag.
  return copy.getFlags().find((f) => f.getName() === name)?.getValue() ?? null;
}

/** The sources and destination of a COPY, in either form. */
function copyWords(copy: Copy): { sources: string[]; dest: string } {
  const words = execForm(copy) ?? copy.getArguments().map((a) => a.getValue());
  return { sources: words.slice(0, -1), dest: words.at(-1) ?? '' };
}

/** `65532:65532` → { uid: 65532, gid: 65532 }; null when not numeric. */
function numericUser(user: string | null | undefined): { uid: number; gid: number | null } | null {
  const m = /^(\d+)(?::(\d+))?$/.exec(user?.trim() ?? '');
  return m ? { uid: Number(m[1]), gid: m[2] === undefined ? null : Number(m[2]) } : null;
}

/** Each RUN of a stage, its exec-form words (null: shell form) and the USER in force there (null: none set). */
function runsAs(stage: Stage): Array<{ run: Instruction; words: string[] | null; user: string | null }> {
  let user: string | null = null;
  const runs = [];
  for (const i of stage.instructions) {
    if (i.getKeyword() === 'USER') user = i.getArgumentsContent()?.trim() ?? '';
    else if (i.getKeyword() === 'RUN') runs.push({ run: i, words: execForm(i), user });
  }
  return runs;
}

/** What the runtime stage holds and how it starts, and how the warm stage made its code cache. */
export interface ImageLayout {
  /** ENTRYPOINT[0], e.g. /nodejs/bin/node. */
  readonly node: string;
  /** The file node runs, ENTRYPOINT[1], e.g. /app/harbor-wait.cjs. */
  readonly bundle: string;
  readonly user: { readonly uid: number; readonly gid: number | null };
  /** The runtime base image, e.g. gcr.io/distroless/nodejs24-debian12:nonroot. */
  readonly base: string;
  /** The one directory the runtime stage copies from the warm stage, e.g. /app. */
  readonly programDir: string;
  /** The runtime COPY's --chmod, given to every file (and directory) it copies, e.g. 0o555. */
  readonly mode: number;
  /** The warm stage's COPY --chown: who owns the build's files there. */
  readonly warmOwner: { readonly uid: number; readonly gid: number | null };
  /** The warm stage's RUN (node first) and its USER. */
  readonly warmUp: { readonly argv: readonly string[]; readonly uid: number; readonly gid: number | null };
}

export function layout(text: string): ImageLayout {
  const all = stages(text);
  const last = all.at(-1)!;
  const warm = all.at(-2)!;
  const entry = execForm(of(last, 'ENTRYPOINT').at(-1)!)!;
  const copy = last.instructions.find((i): i is Copy => i instanceof Copy)!;
  const warmCopy = warm.instructions.find((i): i is Copy => i instanceof Copy)!;
  const run = runsAs(warm)[0]!;
  return {
    node: entry[0]!,
    bundle: entry[1]!,
    user: numericUser(of(last, 'USER').at(-1)!.getArgumentsContent())!,
    base: last.from.getImage()!,
    programDir: dirPath(copyWords(copy).dest),
    mode: mode(copy)!,
    warmOwner: numericUser(flag(warmCopy, 'chown'))!,
    warmUp: { argv: run.words!, ...numericUser(run.user)! },
  };
}

/**
 * Every rule of the image contract the Dockerfile breaks, as sentences; [] when it keeps them all:
 * three stages. The build stage runs npm ci and npm run build. The warm stage is FROM the runtime stage's image,
 * copies the build's dist/ to the program directory, owned by the warm-up's non-root USER, and runs the
 * warm-up there with the runtime's node (exec form), once, and nothing else. The runtime stage copies exactly
 * that directory from the warm stage to the same path, read-only and root-owned; has no RUN/ADD/SHELL; a numeric
 * non-root USER; an exec-form ENTRYPOINT running node on the entry file; no CMD; the OCI labels, with version,
 * revision and created coming from ARGs of that stage.
 */
export function contractProblems(text: string): string[] {
  const problems: string[] = [];
  const all = stages(text);
  if (all.length < 3) return [`expected a multi-stage build of three stages (build, warm for the code cache, runtime), found ${all.length} FROM`];
  const build = all[0]!;
  const warm = all.at(-2)!;
  const last = all.at(-1)!;
  const buildName = build.from.getBuildStage();
  const warmName = warm.from.getBuildStage();

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
  if (!buildName) problems.push('the build stage has no name (FROM ... AS build) for the warm stage to copy from');

  // How it starts: exec-form ENTRYPOINT `node entry`, no CMD (it would override WAIT_TARGETS), no HEALTHCHECK.
  const entrypoints = of(last, 'ENTRYPOINT');
  const entry = entrypoints.at(-1);
  const words = entry ? execForm(entry) : null;
  const started = words !== null && words.length === 2 && posix.isAbsolute(words[0]!) && posix.basename(words[0]!) === 'node' ? words : null;
  if (!entry) problems.push('the runtime stage has no ENTRYPOINT');
  else if (!words) problems.push(`ENTRYPOINT ${entry.getArgumentsContent()} is not in exec (JSON) form: signals would go to a shell, not to node`);
  else if (!started) problems.push(`ENTRYPOINT ${JSON.stringify(words)} is not [<absolute path to node>, <entry file>]`);
  if (entrypoints.length > 1) problems.push('the runtime stage has more than one ENTRYPOINT');
  if (of(last, 'CMD').length > 0) problems.push('the runtime stage has a CMD: default arguments would replace WAIT_TARGETS when a pod gives no args');
  if (of(last, 'HEALTHCHECK').length > 0) problems.push('the runtime stage has a HEALTHCHECK: Kubernetes ignores it and an init container exits');

  // The warm stage: the runtime image's own node rewrites the code cache in the build's dist/, as a non-root
  // user that owns those files.
  if (warm.from.getImage() !== last.from.getImage()) problems.push(`the warm stage is FROM ${warm.from.getImage()}, not the runtime stage's ${last.from.getImage()}: V8 accepts a code cache only from the node build that made it`);
  for (const keyword of ['ADD', 'SHELL', 'ONBUILD', 'VOLUME']) {
    for (const i of of(warm, keyword)) problems.push(`the warm stage has ${keyword} (line ${i.getRange().start.line + 1}): it only copies the build and runs the warm-up`);
  }
  const warmCopies = warm.instructions.filter((i): i is Copy => i instanceof Copy);
  if (warmCopies.length !== 1) problems.push(`the warm stage must COPY exactly one thing, the build's dist/ directory; it has ${warmCopies.length} COPY`);
  let programDir: string | null = null;
  let owner: ReturnType<typeof numericUser> = null;
  for (const copy of warmCopies) {
    const { sources, dest } = copyWords(copy);
    const from = flag(copy, 'from');
    if (from === null || from !== buildName) problems.push(`COPY ${sources.join(' ')} ${dest} in the warm stage is not --from=${buildName ?? 'the build stage'} (it has --from=${from})`);
    if (sources.length !== 1 || !/(^|\/)dist\/?$/.test(sources[0]!)) problems.push(`COPY in the warm stage copies ${JSON.stringify(sources)}, not the build's dist/ directory (the entry, its code cache and the warm-up)`);
    if (!posix.isAbsolute(dest)) problems.push(`COPY destination ${dest} in the warm stage is not absolute`);
    else programDir = warmCopies.length === 1 ? dirPath(dest) : null;
    owner = numericUser(flag(copy, 'chown'));
  }
  const warmUps = runsAs(warm);
  if (warmUps.length !== 1) problems.push(`the warm stage must RUN exactly one thing, the warm-up; it has ${warmUps.length} RUN`);
  const expected = [started?.[0] ?? null, programDir === null ? null : posix.join(programDir, WARM_UP)];
  for (const { run, words: argv, user } of warmUps) {
    const as = numericUser(user);
    if (argv === null) problems.push(`RUN ${run.getArgumentsContent()} in the warm stage is in shell form: the runtime image has no shell`);
    else if (argv.length !== 2 || expected.some((w, i) => w !== null && argv[i] !== w)) {
      problems.push(`RUN ${JSON.stringify(argv)} in the warm stage is not the warm-up ${JSON.stringify(expected.map((w, i) => w ?? ['<node>', `<dir>/${WARM_UP}`][i]))}: the runtime's node on the build's warm-up`);
    }
    if (as === null) problems.push(`the warm-up runs as ${user === null ? 'the base image\'s user (no USER before it)' : `USER ${user}`}: it needs a numeric non-root USER, the one that owns the copied files`);
    else if (as.uid === 0) problems.push(`the warm-up runs as root (USER ${user}): it needs to write only the code cache, so give the files to a non-root user and run as that user`);
    else if (owner === null || owner.uid !== as.uid) problems.push(`the warm-up runs as USER ${user}, but the warm stage's COPY gives the files to ${owner === null ? 'root (no numeric --chown)' : `uid ${owner.uid}`}: the warm-up could not rewrite the code cache`);
  }

  // The runtime stage: nothing but the program directory, from the warm stage, to the same path, read-only and
  // owned by root.
  for (const keyword of ['RUN', 'ADD', 'SHELL', 'ONBUILD', 'VOLUME']) {
    for (const i of of(last, keyword)) problems.push(`the runtime stage has ${keyword} (line ${i.getRange().start.line + 1}): it must hold Node and the program only, with no shell`);
  }
  if (!warmName) problems.push('the warm stage has no name (FROM ... AS warm) for the runtime stage to copy from');
  const copies = last.instructions.filter((i): i is Copy => i instanceof Copy);
  if (copies.length !== 1) problems.push(`the runtime stage must COPY exactly one thing, the program directory from the warm stage; it has ${copies.length} COPY`);
  let runtimeDir: string | null = null;
  for (const copy of copies) {
    const { sources, dest } = copyWords(copy);
    const from = flag(copy, 'from');
    if (from === null || from !== warmName) problems.push(`COPY ${sources.join(' ')} ${dest} in the runtime stage is not --from=${warmName ?? 'the warm stage'} (it has --from=${from}): the code cache the runtime's node made is there`);
    const m = mode(copy);
    if (m === null || (m & 0o222) !== 0) problems.push(`COPY of the program directory needs --chmod without write bits (e.g. 0555), has ${flag(copy, 'chmod') ?? 'none'}`);
    else if ((m & 0o444) !== 0o444) problems.push(`COPY of the program directory needs --chmod that lets every uid read (e.g. 0555), has ${flag(copy, 'chmod')}: the pod's runAsUser is not the files' owner`);
    const chown = flag(copy, 'chown');
    if (chown !== null && !/^(0|root)(:(0|root))?$/.test(chown)) problems.push(`COPY of the program directory must leave it owned by root, has --chown=${chown}`);
    if (!posix.isAbsolute(dest)) problems.push(`COPY destination ${dest} is not absolute`);
    else if (sources.length !== 1 || dirPath(sources[0]!) !== dirPath(dest) || (programDir !== null && dirPath(dest) !== programDir)) {
      problems.push(`COPY in the runtime stage copies ${JSON.stringify(sources)} to ${dest}: it must copy exactly the directory the warm stage warmed (${programDir ?? 'its COPY destination'}), to the same path`);
    } else runtimeDir = dirPath(dest);
  }
  if (started && runtimeDir !== null && started[1] !== posix.join(runtimeDir, ENTRY)) problems.push(`ENTRYPOINT runs ${started[1]}, but the entry is ${posix.join(runtimeDir, ENTRY)}`);

  // The user: numeric, not root (uid and gid).
  const users = of(last, 'USER');
  const user = users.at(-1)?.getArgumentsContent()?.trim() ?? '';
  const ids = /^(\d+)(?::(\d+))?$/.exec(user);
  if (users.length === 0) problems.push('the runtime stage sets no USER: it would run as whatever the base image says');
  else if (!ids) problems.push(`USER ${user} is not numeric uid[:gid] (Kubernetes' runAsNonRoot cannot verify a name)`);
  else if (Number(ids[1]) === 0 || (ids[2] !== undefined && Number(ids[2]) === 0)) problems.push(`USER ${user} is root`);

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
