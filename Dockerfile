# syntax=docker/dockerfile:1
#
# Caption service image. Stages: deps (npm ci, dev deps included) -> build (nest build) ->
# model (prepared model folder) -> prod-deps (dev deps pruned) -> runtime.
#
# One base for every stage, pinned by digest so a rebuild of the same commit gets the same
# bytes. Builders without registry access (our own test machines) pass a locally made image
# with the same layout: tools/image/build-local.sh.
# node:20-bookworm-slim, Node 20.20.2, index digest as published 2026-04-22.
ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim@sha256:25070a03f077f5860e4f2db8d147380678ed40ead415a21eaffd5a6208f61948

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
# The lock and the project .npmrc (ignore-scripts=true) are all npm ci needs; copying
# nothing else keeps this layer cached until dependencies change.
COPY package.json package-lock.json .npmrc ./
# Install scripts stay off (allowScripts in package.json denies them, this makes it explicit):
# sharp and onnxruntime-node ship their glibc binaries inside the packages, and the one script
# that would run, onnxruntime-node's CUDA download, cannot work offline.
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---------------------------------------------------------------------------------------------
FROM deps AS build
COPY . .
RUN npm run build

# ---------------------------------------------------------------------------------------------
# The model is prepared at build time so that pods start without network and write nothing.
# Empty MODEL_LOCAL_DIR: download MODEL_ID at MODEL_REVISION (a 40-hex commit; required, the
# pull refuses to run without one) from the hub, checked and prepared.
# MODEL_LOCAL_DIR=<path inside the build context>: copy that folder instead, no network (offline
# builds and CI use the repo's tiny test model).
FROM build AS model
ARG MODEL_REVISION=""
ARG MODEL_LOCAL_DIR=""
RUN set -eu; \
    if [ -n "$MODEL_REVISION" ]; then export MODEL_REVISION; else unset MODEL_REVISION; fi; \
    if [ -n "$MODEL_LOCAL_DIR" ]; then \
      test -d "$MODEL_LOCAL_DIR" || { echo "MODEL_LOCAL_DIR=$MODEL_LOCAL_DIR is not a folder of the build context" >&2; exit 1; }; \
      mkdir -p /opt/model && cp -a "$MODEL_LOCAL_DIR/." /opt/model/; \
      npm run model:prepare -- --dir /opt/model; \
    else \
      npm run model:pull -- --dir /opt/model; \
    fi; \
    chmod -R a-w,a+rX /opt/model

# ---------------------------------------------------------------------------------------------
FROM deps AS prod-deps
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
    # onnxruntime-node carries binaries for every OS and CPU; keep only this platform's.
    && ort=node_modules/onnxruntime-node/bin \
    && keep="linux/$(node -p process.arch)" \
    && find "$ort" -mindepth 3 -maxdepth 3 -type d | while read -r d; do \
         case "$d" in */"$keep") ;; *) rm -rf "$d" ;; esac; \
       done \
    && test -n "$(find "$ort" -path "*/$keep/*.node" -print -quit)" \
    && npm cache clean --force

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG GIT_SHA=unknown
LABEL org.opencontainers.image.title="caption-service" \
      org.opencontainers.image.source="https://github.com/caption-platform/caption-platform" \
      org.opencontainers.image.revision="${GIT_SHA}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    MODEL_DIR=/opt/model \
    ALLOW_REMOTE_MODELS=false
# jemalloc instead of glibc malloc (sharp's own advice on glibc): after a burst of 80 large
# uploads on the full-size model, RSS went back to 0.94-1.12x idle with it, 1.32-1.54x without,
# and the burst's peak was 784-869 MB instead of 1097-1189 MB (2 runs each, MEMORY_BUDGET 2 GiB).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2=5.3.0-1 \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2" /usr/local/lib/libjemalloc.so.2
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
WORKDIR /app
# Everything below stays owned by root: the service user can read and execute it, not change it.
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/package.json ./package.json
COPY tools/image/healthcheck.js ./healthcheck.js
COPY --from=model /opt/model /opt/model
# uid 1000 is the image's unprivileged `node` user; numeric so that Kubernetes' runAsNonRoot can
# verify it without reading /etc/passwd.
USER 1000:1000
EXPOSE 3000
# Liveness only: readiness depends on the model warm-up and is the orchestrator's business.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/app/healthcheck.js"]
# node as PID 1 directly (not npm start) so SIGTERM reaches the service's drain logic.
CMD ["node", "dist/main.js"]
