#!/usr/bin/env bash
# The README's quick start, run as written, as a newcomer runs it on a fresh clone: its first
# command (install, then `npm start` on the committed tiny model), a caption with the README's
# curl line, then SIGTERM to the npm process, which must stop the server and exit 0. The
# commands are read from README.md, so the README and this check cannot drift apart.
set -euo pipefail
cd "$(dirname "$0")/.."

# The first line of the first sh block under "## Quick start" (its trailing comment dropped),
# and the first curl line after it.
first=$(awk '/^## Quick start/{q=1} q&&/^```sh/{getline; print; exit}' README.md | sed 's/ *#.*$//')
curl_line=$(awk '/^## Quick start/{q=1} q&&/^curl /{print; exit}' README.md)
[ -n "$first" ] && [ -n "$curl_line" ] || { echo "quick start: commands not found in README.md" >&2; exit 1; }
port=$(grep -o 'localhost:[0-9]*' <<<"$curl_line" | head -1 | cut -d: -f2)

echo "quick start: $first"
checkout_before=$(git status --porcelain --untracked-files=all)
log=$(mktemp)
bash -c "$first" >"$log" 2>&1 &
shell=$!
stop() { kill -TERM "$shell" 2>/dev/null || true; }
trap stop EXIT

# npm ci, nest build and the model's first preparation: a few minutes at most.
for _ in $(seq 1 600); do
  if curl -sf "localhost:$port/health/ready" >/dev/null; then break; fi
  if ! kill -0 "$shell" 2>/dev/null; then
    echo "quick start: the first command exited before the service was ready:" >&2
    tail -40 "$log" >&2
    exit 1
  fi
  sleep 1
done

echo "quick start: $curl_line"
answer=$(bash -c "$curl_line" 2>/dev/null)
echo "$answer"
grep -q '"caption":' <<<"$answer" || { echo "quick start: no caption in the answer" >&2; exit 1; }

# SIGTERM to npm itself (not its process group, as Ctrl-C would): npm must pass it on. bash may
# have exec'd `npm start` as the last command of the line, so npm is the shell or its child.
npm_pid=$(ps -o pid=,comm= -p "$shell" --ppid "$shell" | awk '$2 == "npm" { print $1; exit }')
if [ -z "$npm_pid" ]; then
  echo "quick start: no npm process under the first command" >&2
  ps -o pid,ppid,args --forest -g "$(ps -o sid= -p "$shell")" >&2 || true
  exit 1
fi
echo "quick start: SIGTERM to npm (pid $npm_pid)"
kill -TERM "$npm_pid"
status=0
wait "$shell" || status=$?
trap - EXIT
if [ "$status" -ne 0 ]; then
  echo "quick start: npm start exited $status on SIGTERM (expected 0)" >&2
  tail -20 "$log" >&2
  exit 1
fi
if curl -s -o /dev/null "localhost:$port/health/live"; then
  echo "quick start: something still answers on port $port after SIGTERM" >&2
  exit 1
fi
# The first run writes nothing into the repository (prepared graphs go to the cache).
checkout_after=$(git status --porcelain --untracked-files=all)
if [ "$checkout_after" != "$checkout_before" ]; then
  echo "quick start: the first run changed the checkout:" >&2
  diff <(echo "$checkout_before") <(echo "$checkout_after") >&2 || true
  exit 1
fi
echo "quick start: captioned, stopped by SIGTERM with exit 0, checkout unchanged"
rm -f "$log"
