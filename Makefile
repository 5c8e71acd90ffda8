# llmloop: `make demo` runs the main job end to end; `make test` runs every test.
# Both bootstrap from nothing (make setup) and are idempotent.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup build test lint demo clean record-histories chaos efficacy efficacy-check test-distributed bench bench-scale history-check

setup:
	@scripts/bootstrap.sh

build: setup
	@npx tsc -p tsconfig.json

test: build
	@scripts/test.sh

# Static checks (.ci/run runs them before make test): typescript-eslint's promise rules (eslint.config.mjs)
# and ruff (ruff.toml).
lint: build
	@npx eslint --max-warnings 0 .
	@.venv/bin/ruff check trainers tests/python bench scripts

demo: build
	@node dist/scripts/demo.js

clean:
	rm -rf dist .data/test-*

# Re-records tests/histories/*.json from the integration tests (commit them after a deliberate workflow change).
record-histories: build
	@LLMLOOP_RECORD_HISTORIES=1 node dist/scripts/with-dev-server.js -- npx jest --ci --selectProjects integration --runInBand

# Fault injection on whole lifecycles (not part of make test: it runs three; make test's short fault
# check is train-model.test.ts's SIGKILL of both workers mid-training). Each check prints what it did
# and what it verified; the focused integration tests cover the gateway's upstream failures, a batch
# of corrupt/encrypted/oversized documents and training resume after the workers are SIGKILLed.
chaos: build
	@node dist/scripts/chaos.js
	@node dist/scripts/with-dev-server.js -- npx jest --ci --runInBand --verbose \
		tests/integration/gateway.test.ts tests/integration/ingest-documents.test.ts tests/integration/train-model.test.ts \
		-t 'falls back|bad files get typed errors|SIGKILLed'

# Training across processes through `accelerate launch` (a multi-GPU class's code path, 2 gloo processes on
# CPU): trains, is SIGKILLed and resumes from the stored checkpoint, is cancelled. Minutes of CPU, so not
# part of make test (docs/training.md, "Multi-GPU classes").
test-distributed: build
	@LLMLOOP_DISTRIBUTED_TESTS=1 .venv/bin/python -m pytest -q tests/python/test_distributed_training.py

# The loop proved on documents (not part of make test: budget 45 minutes on 2 cores): the real lifecycle
# for both CPU base models, tuned vs base on the test split's unseen documents, the routing table replayed
# against always-smallest, always-largest and the oracle -> $(EFFICACY_OUT)/efficacy.json and efficacy.html.
# A rerun reuses every finished stage.
EFFICACY_DOCS ?= $(or $(LLMLOOP_SHARED_DIR),../shared)/corpus
EFFICACY_OUT ?= out/efficacy
efficacy: build
	@bin/llmloop efficacy $(EFFICACY_DOCS) --out $(EFFICACY_OUT)

# The efficacy command's integration test (a small lifecycle, its replay checked against the real gateway,
# a rerun reusing every stage): several minutes, so not part of make test.
efficacy-check: build
	@node dist/scripts/with-dev-server.js -- npx jest --ci --selectProjects slow --runInBand

# Measured scale-out (bench/scale/run.ts, docs/lifecycle.md "Scale"): 500 generated documents ingested and
# built into a dataset in-process, then through Temporal with 1 and 2 Node workers pinned to one core each.
# Tens of minutes on 2 shared cores, so not part of make test. BENCH_SCALE_DOCS=100 for a quicker look.
BENCH_SCALE_DOCS ?= 500
bench-scale: build
	@node dist/bench/scale/run.js --docs $(BENCH_SCALE_DOCS)

bench: bench-scale

# buildDataset over 20,000 chunks: every history under 10,000 events (make test runs the same test on 600).
history-check: build
	@LLMLOOP_SCALE_TESTS=1 node dist/scripts/with-dev-server.js -- npx jest --ci --selectProjects integration --runInBand tests/integration/history-growth.test.ts
