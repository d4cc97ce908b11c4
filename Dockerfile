# syntax=docker/dockerfile:1
# harbor-wait: an init container that holds a Harbor pod until Redis answers PING and core's config API answers 200.
#
#   docker build -t harbor-wait:0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" --build-arg SOURCE="$(git remote get-url origin)" .
#
# Base images are pinned by tag only: no registry could be reached where this file was written, so no digest
# could be looked up. Pin them by digest (FROM image:tag@sha256:...) in the pipeline that publishes the image.
# The `syntax` line above selects BuildKit's Dockerfile frontend, which COPY --chmod needs.

# ---- build: the toolchain, used once and thrown away --------------------------------------------------------
# Debian slim with Node 24 and npm. `npm ci` installs exactly package-lock.json, including the node@24
# devDependency that the npm scripts run on, and esbuild; `npm run build` bundles src/ into one file.
FROM node:24-bookworm-slim AS build
WORKDIR /src
# Manifests first, so that the npm ci layer is reused until the dependencies change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/ scripts/
COPY src/ src/
RUN npm run build

# ---- runtime: Node 24 and the one bundled file, nothing else -------------------------------------------------
# Distroless: Node, glibc, CA certificates and tzdata; no shell, no package manager, no npm, no node_modules.
# The :nonroot variant's default user is 65532; its node is /nodejs/bin/node.
FROM gcr.io/distroless/nodejs24-debian12:nonroot AS runtime
WORKDIR /app
# Only the bundle. Owned by root and read-only: the process, which is not root, can neither change it nor needs
# to; nothing is ever written at run time, so readOnlyRootFilesystem: true works.
COPY --from=build --chown=0:0 --chmod=0444 /src/dist/harbor-wait.mjs /app/harbor-wait.mjs

# OCI image-spec annotations. VERSION is package.json's version (a test checks that they agree); REVISION (the
# git commit), CREATED (RFC 3339) and SOURCE (the repository's URL) are given by the build.
ARG VERSION=0.1.0
ARG REVISION=
ARG CREATED=
ARG SOURCE=
LABEL org.opencontainers.image.title="harbor-wait" \
      org.opencontainers.image.description="Init container that holds a Harbor pod until Redis answers PING and core's config API answers 200" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"

# A numeric non-root user, so that Kubernetes' runAsNonRoot can verify it without an /etc/passwd lookup. Any
# other uid works too (Harbor's chart runs its pods with runAsUser: 10000): the process needs no home directory,
# no writable path and no capability.
USER 65532:65532

# Exec form: node itself is PID 1 and receives SIGTERM/SIGINT directly (no shell in between to swallow them);
# harbor-wait handles both and exits 143/130. It starts no child processes, so there is nothing for an init to
# reap. No CMD: an empty argument list lets WAIT_TARGETS and WAIT_HARBOR_CORE supply the targets (a default
# CMD such as --help would override them). No HEALTHCHECK: Kubernetes ignores it, and an init container exits.
ENTRYPOINT ["/nodejs/bin/node", "/app/harbor-wait.mjs"]
