#!/usr/bin/env bash
# make test: type check, schema freshness, then every test next to ONE real Temporal dev server.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export LLMLOOP_DATA_DIR="${LLMLOOP_DATA_DIR:-$PWD/.data/test-run}"
rm -rf "$LLMLOOP_DATA_DIR"; mkdir -p "$LLMLOOP_DATA_DIR"

node dist/scripts/with-dev-server.js -- bash -c '
  set -e
  npx jest --ci --selectProjects unit
  npx jest --ci --selectProjects integration --runInBand
  .venv/bin/python -m pytest -q tests/python
'
