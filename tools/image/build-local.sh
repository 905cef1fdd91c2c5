#!/usr/bin/env bash
# Builds the service image without a Docker daemon and without registry access: buildah with
# chroot isolation and vfs storage, against the local base from make-local-base.sh, with the
# model copied from a local folder (no hub download). Then checks what the Dockerfile promises
# on the built image. Jenkins builds the real image from the same Dockerfile with the pinned
# official base; this script is the offline proof that the Dockerfile builds and runs.
#
# Usage: tools/image/build-local.sh [--context DIR] [--model DIR] [--tag NAME] [--base IMAGE] [--smoke]
#   --context  build context (default: this checkout)
#   --model    model folder (default: service/test/fixtures/models/vit-gpt2-tiny in the context);
#              a folder outside the context is staged into <context>/.image-model first
#   --tag      image name (default: localhost/caption-service:<git sha or "dev">)
#   --base     base image (default: localhost/node20-bookworm-local:latest, made if missing)
#   --smoke    also start the service in the image, wait for /health/ready, caption one image and
#              run the HEALTHCHECK command (needs the real service)
#   --cache    keep intermediate layers for faster rebuilds (with vfs storage every layer is a full
#              copy of the filesystem: slower and several GB of disk for a one-off build)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
context=$(cd "$here/../.." && pwd)
model=""
tag=""
base=localhost/node20-bookworm-local:latest
smoke=false
layers=false
while [ $# -gt 0 ]; do
  case "$1" in
    --context) context=$(cd "$2" && pwd); shift 2 ;;
    --model) model=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --smoke) smoke=true; shift ;;
    --cache) layers=true; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

driver=${BUILDAH_STORAGE_DRIVER:-vfs}
buildah=(buildah --storage-driver "$driver")
sha=$(git -C "$context" rev-parse HEAD 2>/dev/null || echo dev)
tag=${tag:-localhost/caption-service:$sha}

model=${model:-service/test/fixtures/models/vit-gpt2-tiny}
case "$model" in /*) model_abs=$model ;; *) model_abs=$context/$model ;; esac
[ -d "$model_abs" ] || { echo "model folder $model_abs not found (pass --model DIR)" >&2; exit 1; }
model_abs=$(cd "$model_abs" && pwd)
staged=""
case "$model_abs/" in
  "$context"/*) model_in_context=${model_abs#"$context"/} ;;
  *)
    staged=$context/.image-model
    rm -rf "$staged" && cp -a "$model_abs" "$staged"
    model_in_context=.image-model ;;
esac
cleanup() { [ -z "$staged" ] || rm -rf "$staged"; }
trap cleanup EXIT

"${buildah[@]}" inspect --type image "$base" >/dev/null 2>&1 || "$here/make-local-base.sh" "$base"

start=$(date +%s)
"${buildah[@]}" build --isolation chroot --layers="$layers" --format docker \
  --build-arg "NODE_IMAGE=$base" \
  --build-arg "MODEL_LOCAL_DIR=$model_in_context" \
  --build-arg "GIT_SHA=$sha" \
  -f "$context/Dockerfile" -t "$tag" "$context"
echo "built $tag in $(( $(date +%s) - start ))s"

# --- what the Dockerfile promises, checked on the image itself --------------------------------
fail() { echo "image check failed: $*" >&2; exit 1; }
cfg=$("${buildah[@]}" inspect --type image "$tag")
user=$(node -e 'const c=JSON.parse(process.argv[1]).Docker.config; process.stdout.write(c.User||"")' "$cfg")
case "$user" in ""|0|0:*|root|root:*) fail "runs as root (User=\"$user\")" ;; esac
node -e 'const h=JSON.parse(process.argv[1]).Docker.config.Healthcheck; if(!h||!h.Test||!h.Test.join(" ").includes("healthcheck")) process.exit(1)' "$cfg" \
  || fail "no HEALTHCHECK in the image config (buildah needs --format docker to keep it)"

ctr=$("${buildah[@]}" from "$tag")
trap '"${buildah[@]}" rm "$ctr" >/dev/null 2>&1 || true; cleanup' EXIT
run() { "${buildah[@]}" run --isolation chroot "$ctr" -- "$@"; }
# The native addons must load on this glibc base (prebuilt binaries from node_modules).
run node -e "require('sharp'); require('onnxruntime-node'); console.log('native addons load: sharp, onnxruntime-node')"
run sh -c 'test ! -d node_modules/typescript && test ! -d node_modules/jest' || fail "dev dependencies in the runtime image"
run sh -c 'test -n "$(ls -A /opt/model)"' || fail "/opt/model is empty"
"${buildah[@]}" run --isolation chroot --user 1000:1000 "$ctr" -- sh -c 'touch /opt/model/x 2>/dev/null || touch /app/dist/x 2>/dev/null' 2>/dev/null \
  && fail "the service user can write to /opt/model or /app"
echo "model files and app are read-only for uid 1000"

if $smoke; then
  port=${SMOKE_PORT:-38080}
  # Own session, so that the whole process group (buildah and the node it starts) can be stopped.
  setsid "${buildah[@]}" run --isolation chroot --user 1000:1000 --env "PORT=$port" --env HOST=127.0.0.1 "$ctr" -- \
    node dist/main.js >"${TMPDIR:-/tmp}/caption-smoke.log" 2>&1 &
  pid=$!
  ok=false
  for _ in $(seq 1 120); do
    if node -e "fetch('http://127.0.0.1:$port/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then ok=true; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if $ok; then
    # One real caption: an image made by the image's own sharp, posted as a raw image/jpeg body.
    img=${TMPDIR:-/tmp}/caption-smoke.jpg
    "${buildah[@]}" run --isolation chroot "$ctr" -- node -e \
      "require('sharp')({create:{width:96,height:64,channels:3,background:'#3366aa'}}).jpeg().toBuffer().then((b)=>process.stdout.write(b))" >"$img"
    node -e "fetch('http://127.0.0.1:$port/caption',{method:'POST',headers:{'content-type':'image/jpeg'},body:require('fs').readFileSync(process.argv[1])})
      .then(async (r)=>{const t=await r.text(); console.log('smoke: POST /caption ->', r.status, t); process.exit(r.status===200 && typeof JSON.parse(t).caption==='string' ? 0 : 1)})
      .catch((e)=>{console.error(e); process.exit(1)})" "$img" || { ok=false; echo "POST /caption failed" >&2; }
  fi
  "${buildah[@]}" run --isolation chroot --env "PORT=$port" "$ctr" -- node /app/healthcheck.js \
    && echo "HEALTHCHECK command passes" || { ok=false; echo "HEALTHCHECK command failed" >&2; }
  kill -TERM -- "-$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  $ok || { tail -30 "${TMPDIR:-/tmp}/caption-smoke.log" >&2; fail "service never became ready"; }
  echo "smoke: /health/ready answered 200"
fi

size=$("${buildah[@]}" images --format '{{.Size}}' "$tag" | head -1)
echo "image $tag: $size"
