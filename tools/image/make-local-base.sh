#!/usr/bin/env bash
# Makes a local stand-in for node:20-bookworm-slim, for builders that cannot pull from any image
# registry (our CI and dev machines reach only the Debian mirror and the npm registry).
#
# Same shape as the official image where the Dockerfile relies on it: Debian bookworm, node and
# npm under /usr/local, an unprivileged `node` user with uid/gid 1000. Node is this machine's own
# Node 20 (the official image downloads it from nodejs.org, which we cannot reach).
#
# Differences that matter, and why they are acceptable for a build proof:
#  - npm is the host's (11.x) instead of the bundled 10.x; `npm ci` honours the same lock.
#  - this machine reaches the npm registry through a TLS-inspecting egress proxy, so the host's
#    CA bundle is copied in and npm is pointed at it. Never use this base for a published image.
#
# Usage: tools/image/make-local-base.sh [IMAGE_NAME]   (default localhost/node20-bookworm-local:latest)
# Env:   DEBIAN_MIRROR (default: the first URI of this machine's apt sources), BUILDAH_STORAGE_DRIVER.
set -euo pipefail

image=${1:-localhost/node20-bookworm-local:latest}
driver=${BUILDAH_STORAGE_DRIVER:-vfs}
buildah=(buildah --storage-driver "$driver")

if "${buildah[@]}" inspect --type image "$image" >/dev/null 2>&1; then
  echo "base image $image already exists (remove it with: buildah --storage-driver $driver rmi $image)"
  exit 0
fi

for tool in buildah debootstrap node npm; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install buildah debootstrap)" >&2; exit 1; }
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 20 ] || { echo "host node is v$node_major; the service targets Node 20" >&2; exit 1; }

mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || { echo "no Debian mirror found: set DEBIAN_MIRROR" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/node-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs

echo "debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

# The same trimming the slim images do: no package caches, lists, docs or man pages.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
       "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*

npm_root=$(npm root -g)/npm
install -D -m 0755 "$(readlink -f "$(command -v node)")" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$npm_root" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nupdate-notifier=false\n' >"$rootfs/usr/local/etc/npmrc"

chroot "$rootfs" /usr/sbin/groupadd --gid 1000 node
chroot "$rootfs" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
chroot "$rootfs" /usr/local/bin/node --version >/dev/null

tar -C "$rootfs" --numeric-owner -cf "$work/rootfs.tar" .
ctr=$("${buildah[@]}" from scratch)
"${buildah[@]}" add "$ctr" "$work/rootfs.tar" / >/dev/null
"${buildah[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env "NODE_VERSION=$(node -p process.versions.node)" --cmd node \
  --label org.opencontainers.image.description="local stand-in for node:20-bookworm-slim (build proofs only)" "$ctr"
"${buildah[@]}" commit --quiet --rm "$ctr" "$image" >/dev/null
echo "made $image ($(node --version), $(du -sh "$rootfs" | cut -f1) unpacked)"
