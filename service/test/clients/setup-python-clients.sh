#!/usr/bin/env bash
# Builds one virtualenv per requirements-hf-*.txt beside this script, from pip's configured
# index (the machine's offline one in CI), under .venv-clients/ at the repository root. The
# Hugging Face client e2e spec runs the Python client from each. ~10 s per venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
command -v python3 >/dev/null || { echo "python3 is absent: the Python client tests will be skipped"; exit 0; }
for requirements in "$here"/requirements-hf-*.txt; do
  name="$(basename "$requirements" .txt)"
  venv="$root/.venv-clients/${name#requirements-}"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  # Only the configured (offline) index answers here: no retries against anything else.
  "$venv/bin/pip" install -q --disable-pip-version-check --retries 0 --timeout 3 -r "$requirements"
  echo "$venv: $("$venv/bin/python" -c 'import huggingface_hub as h; print("huggingface_hub", h.__version__)')"
done
