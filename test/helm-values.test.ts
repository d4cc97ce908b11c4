/**
 * `harbor-wait helm-values`, through the built entry file copied alone, as an operator runs it: the committed
 * helm-snippet/ files are its output for release `harbor` (a drift fails here, saying how to regenerate them), the
 * chart's fullname rule, every option reaching the overlay, and bad input as exit 2 with one line on stderr that
 * names the input. The parser gets property tests: for any arguments, an overlay that YAML 1.1 and 1.2 read alike,
 * or a ConfigError. What the overlay does in the chart is test/chart.test.ts's subject (rendered with helm).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SNIPPETS } from '../scripts/snippets.ts';
import { ConfigError } from '../src/basics/errors.ts';
import { ExitCode } from '../src/basics/exit-codes.ts';
import { chartFullname, helmValues, parseHelmValuesArgs, type HelmValuesOptions } from '../src/commands/helm-values.ts';
import { runCli, type CliResult } from './helpers/cli.ts';
import { loadYaml } from './helpers/yaml.ts';

const { version: VERSION } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

interface Container {
  name: string;
  image: string;
  args: string[];
  restartPolicy?: string;
  envFrom: Array<{ configMapRef: { name: string } }>;
  env: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }>;
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string; readOnly: boolean }>;
  startupProbe?: { periodSeconds: number; failureThreshold: number };
}

/** Reads the overlay as Helm does (YAML 1.1 and 1.2 alike, no warnings): one wait container for core and one for jobservice. */
function readOverlay(text: string): { core: Container; jobservice: Container } {
  const overlay = loadYaml(text, 'the overlay') as Record<'core' | 'jobservice', { initContainers: Container[] }>;
  expect(Object.keys(overlay).sort()).toEqual(['core', 'jobservice']);
  expect(overlay.core.initContainers).toHaveLength(1);
  expect(overlay.jobservice.initContainers).toHaveLength(1);
  return { core: overlay.core.initContainers[0]!, jobservice: overlay.jobservice.initContainers[0]! };
}

const envOf = (c: Container, name: string) => c.env.find((e) => e.name === name);

async function generate(args: readonly string[]): Promise<CliResult> {
  return runCli(['helm-values', ...args]);
}

/** Exit 2, nothing on stdout, one line on stderr that names the input, and no stack trace. */
function expectRefused(r: CliResult, input: string | RegExp): void {
  expect(r.code, r.stderr).toBe(ExitCode.ConfigError);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^harbor-wait helm-values: /);
  expect(lines[0]).toMatch(input);
  expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
}

describe('helm-snippet/ is the generator\'s output for release harbor', () => {
  it.each(Object.entries(SNIPPETS))('%s = harbor-wait helm-values %s', async (file, args) => {
    const r = await generate(args);
    expect(r.code, r.stderr).toBe(ExitCode.Ready);
    expect(r.stderr).toBe('');
    const committed = readFileSync(new URL(`../helm-snippet/${file}`, import.meta.url), 'utf8');
    // On a difference: run `npm run snippets` and commit helm-snippet/ with the change that caused it.
    expect(r.stdout, `helm-snippet/${file} differs from \`harbor-wait helm-values ${args.join(' ')}\`: run npm run snippets`).toBe(committed);
  });

  it('helm-snippet/ holds exactly those files', async () => {
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(new URL('../helm-snippet/', import.meta.url)).sort()).toEqual(Object.keys(SNIPPETS).sort());
  });
});

describe('the chart\'s fullname rule', () => {
  it.each([
    ['harbor', undefined, 'harbor'],
    ['my-harbor', undefined, 'my-harbor'],
    ['harbor-prod', undefined, 'harbor-prod'],
    ['registry', undefined, 'registry-harbor'],
    ['registry', 'hub', 'hub'],
    ['harbor', 'hub', 'hub'],
    ['prod', undefined, 'prod-registry', 'registry'],
    ['registry-eu', undefined, 'registry-eu', 'registry'],
    ['harbor', undefined, 'harbor-registry', 'registry'],
    // trunc 63 | trimSuffix "-": Helm's cut, and a dash left at the cut dropped.
    ['r', `${'a'.repeat(62)}-b`, 'a'.repeat(62)],
    [`${'x'.repeat(50)}.b`, undefined, `${'x'.repeat(50)}.b-harbor`.slice(0, 63)],
  ] as Array<[string, string | undefined, string, string?]>)('release %s, fullnameOverride %s → %s (nameOverride %s)', (release, override, fullname, nameOverride) => {
    expect(chartFullname(release, override, nameOverride)).toBe(fullname);
  });

  it.each([
    [['--release', 'registry'], 'registry-harbor'],
    [['--release', 'my-harbor'], 'my-harbor'],
    [['--release', 'registry', '--fullname', 'hub'], 'hub'],
    [['--release', 'prod', '--name-override', 'registry'], 'prod-registry'],
    [['--release', 'registry-eu', '--name-override', 'registry'], 'registry-eu'],
    [['--release', 'prod', '--name-override', 'registry', '--fullname', 'hub'], 'hub'],
  ])('%j names every object after %s', async (args, fullname) => {
    const r = await generate(args);
    expect(r.code, r.stderr).toBe(ExitCode.Ready);
    const { core, jobservice } = readOverlay(r.stdout);
    expect(core.envFrom).toEqual([{ configMapRef: { name: `${fullname}-core` } }]);
    expect(envOf(core, 'POSTGRESQL_PASSWORD')?.valueFrom).toEqual({ secretKeyRef: { name: `${fullname}-core`, key: 'POSTGRESQL_PASSWORD' } });
    expect(jobservice.envFrom).toEqual([{ configMapRef: { name: `${fullname}-jobservice-env` } }]);
    expect(envOf(jobservice, 'JOBSERVICE_SECRET')?.valueFrom).toEqual({ secretKeyRef: { name: `${fullname}-jobservice`, key: 'JOBSERVICE_SECRET' } });
    // Nothing of the default release's names is left in a YAML value.
    if (fullname !== 'harbor') expect(r.stdout.split('\n').filter((l) => !l.trimStart().startsWith('#'))).not.toContainEqual(expect.stringMatching(/[\s:"]harbor-(core|jobservice)/));
  });
});

describe('every option reaches the overlay', () => {
  it('--mode sidecar: native sidecars with --serve, a port and probes; the startupProbe is the deadline', async () => {
    const r = await generate(['--mode', 'sidecar', '--deadline', '20m']);
    expect(r.code, r.stderr).toBe(ExitCode.Ready);
    for (const c of Object.values(readOverlay(r.stdout))) {
      expect(c.restartPolicy).toBe('Always');
      expect(c.args.slice(2)).toEqual(['--serve', ':8099']);
      expect(envOf(c, 'WAIT_DEADLINE')).toBeUndefined();
      expect(c.startupProbe).toMatchObject({ periodSeconds: 2, failureThreshold: 600 });
    }
  });

  it('--internal-tls: each trusts its component CA from the chart volume it mounts', async () => {
    const r = await generate(['--internal-tls']);
    const overlay = readOverlay(r.stdout);
    for (const [component, c] of Object.entries(overlay)) {
      expect(envOf(c, 'INTERNAL_TLS_ENABLED')?.value).toBe('true');
      expect(envOf(c, 'INTERNAL_TLS_TRUST_CA_PATH')?.value).toBe(`/etc/harbor/ssl/${component}/ca.crt`);
      // The CA alone: the volume also holds the component's own key.
      expect(c.volumeMounts).toContainEqual({ name: `${component}-internal-certs`, mountPath: `/etc/harbor/ssl/${component}/ca.crt`, subPath: 'ca.crt', readOnly: true });
    }
  });

  it.each([
    ['own-js', { name: 'own-js', key: 'JOBSERVICE_SECRET' }],
    ['own-js:jobservice.secret', { name: 'own-js', key: 'jobservice.secret' }],
  ])('--jobservice-existing-secret %s: the key the chart gives jobservice', async (flag, ref) => {
    const { jobservice, core } = readOverlay((await generate(['--jobservice-existing-secret', flag])).stdout);
    expect(envOf(jobservice, 'JOBSERVICE_SECRET')?.valueFrom).toEqual({ secretKeyRef: ref });
    expect(envOf(core, 'POSTGRESQL_PASSWORD')?.valueFrom).toEqual({ secretKeyRef: { name: 'harbor-core', key: 'POSTGRESQL_PASSWORD' } });
  });

  it("--database-existing-secret: that Secret's key password, as the chart gives core", async () => {
    const { core } = readOverlay((await generate(['--database-existing-secret', 'harbor-db'])).stdout);
    expect(envOf(core, 'POSTGRESQL_PASSWORD')?.valueFrom).toEqual({ secretKeyRef: { name: 'harbor-db', key: 'password' } });
  });

  it('--image and --deadline; a deadline under 10m is a warning on stderr, stdout stays the overlay', async () => {
    const r = await generate(['--image', '127.0.0.1:5000/tools/harbor-wait:0.1.0@sha256:' + 'ab'.repeat(32), '--deadline', '90s']);
    expect(r.code).toBe(ExitCode.Ready);
    for (const c of Object.values(readOverlay(r.stdout))) {
      expect(c.image).toBe(`127.0.0.1:5000/tools/harbor-wait:0.1.0@sha256:${'ab'.repeat(32)}`);
      expect(envOf(c, 'WAIT_DEADLINE')?.value).toBe('1m30s');
    }
    expect(r.stderr).toMatch(/^harbor-wait helm-values: warning: --deadline 1m30s is shorter than 10m: .*restart back-off/);
  });

  it('the default image is this version; the header says how it was made', async () => {
    const r = await generate(['--release', 'registry', '--internal-tls']);
    const { core } = readOverlay(r.stdout);
    expect(core.image).toBe(`harbor-wait:${VERSION}`);
    expect(r.stdout).toContain('# Made by: harbor-wait helm-values --release registry --internal-tls\n');
    expect(r.stdout).toContain('#   helm upgrade registry harbor/harbor -n <namespace> --reuse-values -f <this file>\n');
  });

  it('--help prints the options, exit 0', async () => {
    const r = await generate(['--help']);
    expect(r.code).toBe(ExitCode.Ready);
    for (const flag of ['--release', '--fullname', '--name-override', '--mode', '--internal-tls', '--jobservice-existing-secret', '--database-existing-secret', '--image', '--deadline']) {
      expect(r.stdout).toContain(flag);
    }
  });
});

describe('bad input is exit 2, naming it', () => {
  it.each([
    [['--release', 'Bad_Name'], /--release: "Bad_Name" is not a release name Helm accepts/],
    [['--release', 'a'.repeat(54)], /--release: "a{54}" is longer than 53 characters/],
    [['--release', ''], /--release: "" is not a release name/],
    [['--release', '1harbor'], /--release: "1harbor" \(the chart's fullname is "1harbor"\): .*Service "1harbor-jobservice" is not a DNS-1035 label/],
    [['--release', `${'r'.repeat(50)}-x`], /--release: .*Service "r{50}-x-harbor-jobservice" is longer than 63 characters/],
    [['--fullname', 'h'.repeat(60)], /--fullname: "h{60}": .*longer than 63 characters/],
    [['--fullname', 'Harbor'], /--fullname: "Harbor": .*DNS-1035/],
    [['--fullname', ''], /--fullname: is empty/],
    [['--name-override', ''], /--name-override: is empty/],
    [['--fullname', 'hub', '--name-override', 'x\ny'], /--name-override: "x\\ny" is not a label value/],
    [['--fullname', 'hub', '--name-override', 'reg_'], /--name-override: "reg_" is not a label value/],
    [['--name-override', 'Registry'], /--name-override: "Registry" \(the chart's fullname is "harbor-Registry"\): .*DNS-1035/],
    [['--mode', 'foo'], /--mode: "foo" is not a mode: use init or sidecar/],
    [['--mode'], /--mode: needs a value \(MODE\)/],
    [['--jobservice-existing-secret', 'x:bad key'], /--jobservice-existing-secret: key "bad key" is not a Secret key/],
    [['--jobservice-existing-secret', 'x:'], /--jobservice-existing-secret: key "" is not a Secret key/],
    [['--jobservice-existing-secret', 'Own_Secret'], /--jobservice-existing-secret: "Own_Secret" is not a Secret name/],
    [['--database-existing-secret', ''], /--database-existing-secret: the Secret name is empty/],
    [['--image', 'Harbor-Wait:1'], /--image: "Harbor-Wait:1" is not an image reference/],
    [['--image', 'harbor-wait:1 --privileged'], /--image: .* is not an image reference/],
    [['--deadline', 'soon'], /--deadline: "soon" is not a duration/],
    [['--deadline', '500ms'], /--deadline: "500ms" is less than 1s/],
    [['--internal-tls=yes'], /--internal-tls: takes no value/],
    [['--mode', 'init', '--mode', 'sidecar'], /--mode: given twice/],
    [['--namespace', 'harbor'], /"--namespace": not an option of helm-values/],
    [['harbor'], /"harbor": helm-values takes no arguments/],
    [['--release', 'a\nb'], /--release: "a\\nb" is not a release name/],
  ])('%j', async (args, expected) => {
    expectRefused(await generate(args), expected);
  });
});

describe('the parser: any arguments give an overlay or a configuration error', () => {
  const names = fc.oneof(
    fc.constantFrom('harbor', 'registry', 'my-harbor', 'hub', 'a', 'on', 'no', 'null', 'true', '1', '0x1', '1e3', 'harbor.prod', 'Harbor', 'a_b', '-a', 'a-', ''),
    fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,70}$/),
    fc.string({ maxLength: 12 }),
  );
  const flag = fc.oneof(
    fc.tuple(fc.constantFrom('--release', '--fullname', '--name-override', '--database-existing-secret'), names).map((p) => [...p]),
    // A valid fullname with any nameOverride: the override is then not part of any name.
    fc.tuple(fc.constant(['--fullname', 'hub', '--name-override']), fc.oneof(names, fc.string({ maxLength: 8, unit: 'binary' }))).map(([f, n]) => [...f, n]),
    fc.tuple(fc.constant('--jobservice-existing-secret'), fc.tuple(names, fc.option(fc.oneof(names, fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/)))).map(([n, k]) => (k === null ? n : `${n}:${k}`))).map((p) => [...p]),
    fc.tuple(fc.constant('--mode'), fc.constantFrom('init', 'sidecar', 'Init', '', 'both')).map((p) => [...p]),
    fc.tuple(fc.constant('--image'), fc.oneof(fc.constantFrom('harbor-wait:0.1.0', 'localhost/harbor-wait', '127.0.0.1:5000/a/b:c', 'a@sha256:' + 'f'.repeat(64)), fc.string({ maxLength: 20 }))).map((p) => [...p]),
    fc.tuple(fc.constant('--deadline'), fc.constantFrom('10m', '90s', '1h', '0', '-1s', 'x', '999999h')).map((p) => [...p]),
    fc.constantFrom(['--internal-tls'], ['--help'], ['--bogus'], ['stray']),
  );
  const argv = fc.array(flag, { maxLength: 6 }).map((flags) => flags.flat());

  it('parses to an overlay YAML reads alike in 1.1 and 1.2, with the names given, or throws a ConfigError', () => {
    fc.assert(
      fc.property(argv, (args) => {
        let request;
        try {
          request = parseHelmValuesArgs(args);
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
          expect((e as ConfigError).message).toMatch(/^("[^"]*"|--[a-z-]+): /);
          return;
        }
        if (request.kind === 'help') return;
        const o: HelmValuesOptions = request.options;
        const text = helmValues(o);
        // The header is comments only: nothing given can start a line of YAML.
        const firstKey = text.split('\n').findIndex((l) => l !== '' && !l.startsWith('#'));
        expect(text.split('\n')[firstKey]).toBe('core:');
        const { core, jobservice } = readOverlay(text);
        const fullname = chartFullname(o.release, o.fullnameOverride, o.nameOverride);
        expect(core.envFrom[0]?.configMapRef.name).toBe(`${fullname}-core`);
        expect(jobservice.envFrom[0]?.configMapRef.name).toBe(`${fullname}-jobservice-env`);
        expect(envOf(jobservice, 'JOBSERVICE_SECRET')?.valueFrom?.secretKeyRef).toEqual(o.jobserviceSecret ?? { name: `${fullname}-jobservice`, key: 'JOBSERVICE_SECRET' });
        expect(envOf(core, 'POSTGRESQL_PASSWORD')?.valueFrom?.secretKeyRef).toEqual(o.databaseSecret ? { name: o.databaseSecret, key: 'password' } : { name: `${fullname}-core`, key: 'POSTGRESQL_PASSWORD' });
        expect(core.image).toBe(o.image);
        expect(`${fullname}-jobservice`.length).toBeLessThanOrEqual(63);
      }),
      { numRuns: 2000 },
    );
  });
});
