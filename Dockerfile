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
# devDependency that the npm scripts run on, and esbuild; `npm run build` bundles src/ into dist/:
# harbor-wait.cjs (the entry: the whole program and every library it loads, in one file),
# harbor-wait.code-cache (V8's code for the program, made by this stage's node: replaced below) and
# harbor-wait-warm.cjs (the warm-up that makes the cache).
FROM node:24-bookworm-slim AS build
WORKDIR /src
# Manifests first, so that the npm ci layer is reused until the dependencies change.
COPY package.json package-lock.json ./
# npm trusts Node's own list of CAs. Behind a TLS-inspecting proxy it must trust the proxy's CA too: name a CA
# bundle in the build container, one the base image holds or one mounted into the build (podman/buildah:
# `build -v /etc/ssl/certs/ca-certificates.crt:/run/ca.crt:ro --build-arg NODE_EXTRA_CA_CERTS=/run/ca.crt`).
# Empty by default: no extra CA. Only this stage's commands see it; the image does not.
ARG NODE_EXTRA_CA_CERTS=
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/ scripts/
COPY src/ src/
RUN npm run build

# ---- warm: the code cache, made by the runtime image's own node ----------------------------------------------
# The entry hands harbor-wait.code-cache to V8 with the program's source, so that start-up skips compiling most
# of it. V8 accepts a code cache only from the exact node build that made it, and the build stage's node is
# not the runtime image's: so the warm-up runs again here, FROM the runtime image, with its /nodejs/bin/node, and
# rewrites the cache. It runs harbor-wait once against two loopback servers it opens itself and a loopback port
# where nothing listens, all inside the build container. Exec form: distroless has no shell. Not as root: the
# files are given to 65532, the image's USER, because the warm-up rewrites harbor-wait.code-cache in place.
FROM gcr.io/distroless/nodejs24-debian12:nonroot AS warm
COPY --from=build --chown=65532:65532 /src/dist/ /app/
USER 65532:65532
RUN ["/nodejs/bin/node", "/app/harbor-wait-warm.cjs"]

# ---- runtime: Node 24 and dist/ with the warm code cache, nothing else ---------------------------------------
# Distroless: Node, glibc, CA certificates and tzdata; no shell, no package manager, no npm, no node_modules.
# The :nonroot variant's default user is 65532; its node is /nodejs/bin/node.
FROM gcr.io/distroless/nodejs24-debian12:nonroot AS runtime
WORKDIR /app
# Only /app/ from the warm stage: the three files of dist/, the code cache now this node's. Owned by root and
# read-only (0555: no write bit for anyone; readable by every uid, and searchable should --chmod also reach the
# directory): the process, which is not root, can neither change them nor needs to; nothing is ever written at
# run time, so readOnlyRootFilesystem: true works. The launcher only reads the cache, and it is one file for
# every uid, so 65532, Harbor's 10000 or any other runAsUser starts with it. Should V8 reject it (a node that is
# not the one that made it), the program is compiled as usual: slower to start, nothing else.
# harbor-wait-warm.cjs comes along (it is part of dist/); nothing runs it, and it could not write here.
COPY --from=warm --chown=0:0 --chmod=0555 /app/ /app/

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
ENTRYPOINT ["/nodejs/bin/node", "/app/harbor-wait.cjs"]
