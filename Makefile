# llmloop: `make demo` runs the main job end to end; `make test` runs every test.
# Both bootstrap from nothing (make setup) and are idempotent.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup build test demo clean record-histories

setup:
	@scripts/bootstrap.sh

build: setup
	@npx tsc -p tsconfig.json

test: build
	@scripts/test.sh

demo: build
	@node dist/scripts/demo.js

clean:
	rm -rf dist .data/test-*

# Re-records tests/histories/*.json from the integration tests (commit them after a deliberate workflow change).
record-histories: build
	@LLMLOOP_RECORD_HISTORIES=1 node dist/scripts/with-dev-server.js -- npx jest --ci --selectProjects integration --runInBand
