/**
 * Figure 5, the image: built from the project's Dockerfile with podman on the stand-in base images (as
 * test/container.test.ts builds it), then its size, uncompressed as `podman image inspect` reports it, and its
 * layers, beside the runtime base's size: what harbor-wait adds to distroless. The image and every intermediate
 * image its build made are removed afterwards; the stand-ins stay as the tests' cache (test/helpers/standins.ts).
 */
import { buildImage, imageHistory, inspectImage, requireContainerTools } from '../test/helpers/podman.ts';
import { BUILD_BASE, ensureStandIns, removeStandIns, RUNTIME_BASE } from '../test/helpers/standins.ts';
import { table } from './stats.ts';

export interface ImageLayer {
  readonly createdBy: string;
  readonly bytes: number;
}

export interface ImageResult {
  readonly bytes: number;
  readonly layers: ImageLayer[];
  readonly runtimeBaseBytes: number;
  readonly buildBaseBytes: number;
  /** Whether the base images are this project's stand-ins (false: real images of those names). */
  readonly standIns: boolean;
  readonly standInsMs: number;
  readonly buildMs: number;
}

export async function runImage(progress: (msg: string) => void): Promise<ImageResult> {
  requireContainerTools();
  const t0 = performance.now();
  const bases = await ensureStandIns((m) => progress(`image: ${m}`));
  const standInsMs = performance.now() - t0;
  progress('image: podman build of the Dockerfile');
  const image = await buildImage({ tag: `localhost/harbor-wait:bench-${process.pid}` });
  try {
    const info = (await inspectImage(image.tag))!;
    const runtime = (await inspectImage(RUNTIME_BASE))!;
    const build = (await inspectImage(BUILD_BASE))!;
    // The steps that added a layer, oldest first (podman history lists the configuration-only steps too).
    const layers = (await imageHistory(image.tag)).filter((h) => h.size > 0).reverse().map((h) => ({ createdBy: h.createdBy, bytes: h.size }));
    return {
      bytes: info.size,
      layers,
      runtimeBaseBytes: runtime.size,
      buildBaseBytes: build.size,
      standIns: bases.runtime.ours && bases.build.ours,
      standInsMs,
      buildMs: image.ms,
    };
  } finally {
    // The image, then the stand-ins: nothing the bench made stays behind.
    const left = [...(await image.remove()), ...(await removeStandIns())];
    if (left.length > 0) progress(`image: could not remove ${left.join(', ')}`);
  }
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** What a layer holds, in a few words: the step that made it. */
function step(createdBy: string): string {
  const s = createdBy.replace(/^\/bin\/sh -c #\(nop\) /, '');
  if (/^ADD file:.* in \/$/.test(s)) return 'the runtime base (distroless: node, its libraries, CA certificates, tzdata)';
  if (/^COPY dir:/.test(s)) return 'COPY --from=warm /app/ (harbor-wait.cjs, its code cache, the warm-up)';
  return s.slice(0, 70);
}

export function printImage(r: ImageResult): string {
  const base = r.standIns ? 'stand-in base' : 'base';
  return [
    `5. The image: podman build of the Dockerfile on ${r.standIns ? 'the local stand-ins of its base images (test/helpers/standins.ts)' : 'its base images'}; uncompressed sizes, podman image inspect`,
    table(
      ['', 'MB'],
      [
        ['harbor-wait image', mb(r.bytes)],
        [`  ${base} ${RUNTIME_BASE}`, mb(r.runtimeBaseBytes)],
        ['  harbor-wait on top of it', mb(r.bytes - r.runtimeBaseBytes)],
        [`build stage's ${base} ${BUILD_BASE} (not shipped)`, mb(r.buildBaseBytes)],
      ],
    ),
    '',
    table(['layer', 'MB'], r.layers.map((l, i) => [`${i + 1}. ${step(l.createdBy)}`, mb(l.bytes)])),
    '',
    `${r.layers.length} layers; build ${(r.buildMs / 1000).toFixed(1)} s (npm ci from the registry, no layer cache), base images ready in ${(r.standInsMs / 1000).toFixed(1)} s.`,
    r.standIns ? 'The stand-in distroless holds what distroless does (node, the libraries ldd names, CA bundle, tzdata, passwd): the real one differs by some MB.' : '',
  ].filter((l, i, a) => l !== '' || a[i - 1] !== '').join('\n');
}
