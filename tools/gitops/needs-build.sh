#!/usr/bin/env bash
# The GitOps loop guard: does this commit need a build, given the last commit that was built?
#
#   tools/gitops/needs-build.sh <last built commit or empty> [head, default HEAD]
#
# Prints one line saying why, and exits 0 (build) or 10 (skip). It skips only when nothing but
# the bot's image-tag bumps landed since the last built commit: every changed file is an
# overlay's kustomization.yaml and every commit carries the skip marker. Looking at the whole
# range, not at the last commit's message, means a person's commit followed by a bump (or a
# bump squashed into a merge) is still built, and a bump never triggers a build of itself.
set -euo pipefail

last=${1:-}
head=${2:-HEAD}
marker=${SKIP_MARKER:-[skip ci]}
overlays='^gitops/apps/[^/]+/overlays/[^/]+/kustomization\.yaml$'

head=$(git rev-parse --verify "$head^{commit}")
if [ -z "$last" ]; then
  echo "build: no earlier successful build of this branch"; exit 0
fi
if ! git cat-file -e "$last^{commit}" 2>/dev/null; then
  echo "build: the last built commit $last is not in this clone"; exit 0
fi
if [ "$(git rev-parse "$last^{commit}")" = "$head" ]; then
  echo "skip: $head was already built"; exit 10
fi
if ! git merge-base --is-ancestor "$last" "$head"; then
  echo "build: history was rewritten since $last"; exit 0
fi
other_files=$(git diff --name-only "$last" "$head" | grep -Ev "$overlays" || true)
if [ -n "$other_files" ]; then
  echo "build: changed since $last: $(echo "$other_files" | head -5 | tr '\n' ' ')"; exit 0
fi
while read -r commit; do
  if ! git log -1 --format=%B "$commit" | grep -qF -- "$marker"; then
    echo "build: commit $commit changes an overlay without the bot's marker"; exit 0
  fi
done < <(git rev-list "$last..$head")
echo "skip: only image-tag bumps ($marker) since $last"; exit 10
