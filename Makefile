# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest browser install bench bench-sync bench-routes bench-api bench-calls bench-markup bench-sync-markup bench-nodes bench-connections bench-dashboard soak clean

INSTALL_LOG := $(VENV)/install.log

# pip's output (and its warnings) goes to the log: the install is one line, and the
# log's last lines are shown only when it fails.
$(STAMP): pyproject.toml
	@echo "installing into $(VENV) (log: $(INSTALL_LOG))"
	@mkdir -p $(VENV)
	@{ $(PYTHON) -m venv $(VENV) \
		&& $(BIN)/python -m pip install --upgrade pip \
		&& $(BIN)/python -m pip install -e '.[dev]'; } > $(INSTALL_LOG) 2>&1 \
		|| { tail -n 25 $(INSTALL_LOG); echo "the install failed; see $(INSTALL_LOG)"; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

# The server's last line before its logs says where it serves, who logs in, and where
# the password is.
run: $(STAMP)
	@$(BIN)/issuesync db upgrade
	@$(BIN)/issuesync serve

# lint-imports: the layers of DESIGN.md and no import cycle (contracts in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers (pytest-xdist), one per core of the reference machine; PYTEST_ARGS="-n 0"
# runs the suite in one process, e.g. to debug a test with -s.
PYTEST_ARGS ?= -n 2

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# Debian's Chromium for the dashboard's browser tests (apt-get, as root; without it they skip
# and say why, except in CI: ISSUESYNC_TEST_BROWSER=1).
browser:
	@scripts/chromium/install

test: lint typecheck browser pytest

bench: $(STAMP)
	$(BIN)/python bench/tracker.py

# e.g. make bench-sync BENCH_ARGS="--workers 2 --database-url postgresql://postgres@127.0.0.1:5432/test"
bench-sync: $(STAMP)
	$(BIN)/python bench/sync.py $(BENCH_ARGS)

# CPU per issue of each side of an initial sync, one route at a time (steadier than
# bench-sync's end-to-end rate on a busy host), e.g. BENCH_ARGS="--issues 3000 --repeats 5"
bench-routes: $(STAMP)
	$(BIN)/python bench/routes.py $(BENCH_ARGS)

# p50/p99 of the Backbone API's status and list routes, 50 integrations, 200 requests/s
# open loop from a second process, e.g. BENCH_ARGS="--server-workers 2" or "--profile DIR";
# also what GET /metrics costs under a 15 s scrape, and the engine's rate with metrics on
# and off ("--scrape-rounds 0 --engine-rounds 0" leaves both out)
bench-api: $(STAMP)
	$(BIN)/python bench/api.py $(BENCH_ARGS)

# p50/p99 and the server's CPU per request of each dashboard page, 50 integrations
bench-dashboard: $(STAMP)
	$(BIN)/python bench/dashboard.py $(BENCH_ARGS)

# tracker calls per synced change, per adapter, e.g. BENCH_ARGS="--target github --verbose"
bench-calls: $(STAMP)
	$(BIN)/python bench/tracker_calls.py $(BENCH_ARGS)

# Fidelity (exact round trips / readable / lossy) and ms per comment of markup conversion,
# per dialect pair, over tests/fixtures/markup/; BENCH_ARGS="--only pandoc" skips the
# alternative (jira2markdown + mistletoe: `.venv/bin/pip install` them to compare)
bench-markup: $(STAMP)
	$(BIN)/python bench/markup.py $(BENCH_ARGS)

# The initial sync with markup conversion on against off, alternating runs in one sitting
bench-sync-markup: $(STAMP)
	$(BIN)/python bench/sync.py --markup-rounds 3 --issues 1000 $(BENCH_ARGS)

# Longer runs than `make test`: 300 random interleavings, the process and crash tests,
# five times the fuzzing of the built-in tracker's API.
soak: $(STAMP)
	ISSUESYNC_SOAK=1 $(BIN)/pytest -p no:cacheprovider --timeout 3600 \
		tests/integration/test_sync_properties.py tests/integration/test_tracker_fuzz.py tests/e2e

# Debian's Redmine and the template the live redmine tests copy (root; idempotent).
.PHONY: redmine bench-redmine
redmine:
	scripts/redmine/install

# GitHub -> Jira and Redmine -> GitHub initial syncs beside a bare httpx script making just
# the needed calls, alternating rounds, e.g. BENCH_ARGS="--rounds 3"
.PHONY: bench-vs-script
bench-vs-script: $(STAMP)
	$(BIN)/python bench/sync_vs_script.py $(BENCH_ARGS)

# Built-in -> Redmine initial sync against a real Redmine, e.g. BENCH_ARGS="--issues 500"
bench-redmine: $(STAMP)
	$(BIN)/python bench/redmine_sync.py $(BENCH_ARGS)

# Two nodes over the node API (a relation, 1 s interval) on loopback: initial sync rate,
# requests and bytes per issue, one-node vm comparison, edit latency one <-> two,
# e.g. BENCH_ARGS="--issues 500 --edits 30" or "--skip-vm"
bench-nodes: $(STAMP)
	$(BIN)/python bench/nodes.py $(BENCH_ARGS)

# A connection's jobs over the built-in tracker's Jira API on loopback: the first job's
# issues/s and tracker requests per issue, then the searches of jobs with nothing to do
# per side, at 500 and 5000 issues, e.g. BENCH_ARGS="--issues 20000" or "--sizes 500"
bench-connections: $(STAMP)
	$(BIN)/python bench/connections.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .grimp_cache .import_linter_cache
