# llmloop: `make demo` runs the main job end to end; `make test` runs every test.
# Both bootstrap from nothing (make setup) and are idempotent.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup build test test-unit test-python demo clean gpu-check chaos bench

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
