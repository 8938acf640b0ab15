# Two commands are the contract (README): `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
# a venv made before, or with another uv, is brought up to date by the next target that needs it
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)-uv$(UV_VERSION)

# Prefect stays offline and tolerant of a slow machine.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 180
# Python caches the project's bytecode (in __pycache__/, ignored by git) as it does by default;
# with the cache off, every process a test, the demo or a benchmark starts compiles it again.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: venv tools debian-tools go-tools node-tools demo up worker notebook down compose-env check test test-unit test-integration mutation bench bench-venv bench-long bench-freshness bench-feed bench-objects bench-many bench-gameday bench-ticks bench-page bench-startup bench-following bench-floor bench-worker-reads bench-heard bench-suite clean

# uv resolves the requirements as pip does, in one resolution (s3fs, aiobotocore and botocore
# together), and installs them many times faster, which is most of a clean clone's set-up
# (docs/testing.md). It compiles their bytecode as pip does, once, on all cores: otherwise the
# first processes to import a library (the tests' workers, side by side) compile it each.
# pip stays in the venv for anyone who reaches for it.
UV := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python

# Each tier's pytest run, one definition for its own target and `make test`: a test file to each
# worker (module fixtures run once); the integration tier's files in collection order, which
# its conftest sorts longest first (LONGEST_FIRST).
UNIT_TIER := -n 2 --dist loadfile tests/unit
INTEGRATION_TIER := -n 3 --dist loadfile --no-loadscope-reorder tests/integration

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV) -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

MONGO_SERVER ?= secantusdb

demo: venv  ## replay the recorded game through the whole pipeline on local servers (MONGO_SERVER=ferretdb: on FerretDB)
	$(BIN)/python -m devstack.demo --mongo-server $(MONGO_SERVER)

up: venv  ## the local servers in the background (S3, MongoDB, Prefect, a SQLite reference database); settings in sidearm.env
	@$(BIN)/python -m devstack up

worker: venv  ## `prefect worker start --pool gamestreams` in the background, on the local stack's Prefect (make down stops it)
	@$(BIN)/python -m devstack worker

notebook: venv  ## run notebooks/boxscore.ipynb against the local stack (make up first); its outputs in notebooks/boxscore-executed.ipynb
	@test -f sidearm.env || { echo "make notebook: the local stack is not up: run make up first" >&2; exit 1; }
	$(BIN)/jupyter execute notebooks/boxscore.ipynb --output boxscore-executed
	@echo "the notebook ran: open notebooks/boxscore-executed.ipynb in Jupyter to see its table and chart"

down: venv  ## stop what `make up` started
	@$(BIN)/python -m devstack down

tools: debian-tools go-tools node-tools  ## what the tests run beside the venv: Debian's Chromium and PostgreSQL (started), the Go programs, axe-core

node-tools:  ## from npm, pinned by its lock file: axe-core, which the page tests run inside Chromium
	@test -f devstack/axe/node_modules/axe-core/axe.min.js || npm ci --prefix devstack/axe --ignore-scripts --no-audit --no-fund --loglevel=error

debian-tools:  ## from Debian: headless Chromium (page and UI tests), Prometheus (and promtool), PostgreSQL started on 127.0.0.1:5432
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else echo "missing:$$missing, and this is not root: the tests that need them will be skipped"; fi; fi
	@devstack/postgres.sh

go-tools:  ## from the Go module proxy, pinned and checksum-checked: FerretDB and Docker Compose (v5), built once into ~/.cache/sidearm/go-tools (needs only python3 and go)
	@$(PYTHON) -m devstack.gotools

compose-env: venv  ## .env for docker compose and sidearm.compose.env for this host, with SIDEARM_PASSWORD or a random one
	@$(BIN)/python -m devstack.compose_env

check: venv  ## lint, format, types of the core, and the layer contracts (pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test-unit: venv  ## the fast tier: no server, no Prefect API, on two worker processes
	$(BIN)/python -m pytest $(UNIT_TIER)

test-integration: venv tools  ## against real local servers (SeaweedFS, SecantusDB, PostgreSQL, Prefect, Dask), on three workers
	$(BIN)/python -m pytest $(INTEGRATION_TIER)

# The Go programs build from the first moment, beside the venv's install (mostly downloads), the
# checks and the unit tier; a test that needs one waits for its build (devstack/gotools.py).
test:  ## every check, then the unit tier on two workers and the integration tier on three (a test file each), with the ci profile's examples
	@$(PYTHON) -m devstack.gotools --background
	$(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory debian-tools node-tools
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest --durations=10 $(UNIT_TIER)
	SCREENSHOT_DIR=docs HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest --durations=15 $(INTEGRATION_TIER)

mutation: venv  ## mutation testing of the core and the adapters a unit test reaches (mutmut): score and verdict per module (>= 95 %, none untested), survivors in mutants/survivors.txt; fails on a miss
	$(UV) -r requirements-mutation.txt
	rm -rf mutants
	HYPOTHESIS_PROFILE=mutation $(BIN)/python -m devstack.mutation run --max-children 2
	$(BIN)/python -m devstack.mutation

bench-venv: venv
	$(UV) -r requirements-bench.txt

bench-long: bench-venv  ## 10^5..10^7 events: ours vs PySpark local[2] vs pyarrow+pandas; one appended line
	$(BIN)/python -m bench.long_stream

bench-freshness: venv  ## the recorded game at 0.05 s per game second, poll 0.2 s
	$(BIN)/python -m bench.freshness

bench-objects: venv  ## 10,000 game objects under one prefix, 1 % changing a second, one live run with the change feed
	$(BIN)/python -m bench.many_objects

bench-feed: venv  ## the change feed against polling at 0.2 s, side by side: one game's freshness, an idle game's S3 requests and CPU
	$(BIN)/python -m bench.change_feed

bench-many: venv  ## 10, 100, 1,000 concurrent games, threads and a process Dask cluster: freshness, CPU per process
	$(BIN)/python -m bench.many_games

bench-gameday: venv debian-tools  ## a game day: 90 games, ~20 live at once, 11 minutes, a crowd on the page, Prometheus scraping
	$(UV) $$(grep '^py-spy==' requirements-bench.txt)
	$(BIN)/python -m bench.game_day

bench-ticks: bench-venv  ## CPU per idle poll and per changed game: this tree against an earlier commit, side by side
	$(BIN)/python -m bench.tick_cost

bench-page: venv  ## game day: 100 and 1,000 fans refreshing, 1,000 event-stream subscribers; this tree against an earlier commit
	$(BIN)/python -m bench.page_load

bench-startup: venv  ## seconds from python -m flows.live_boxscore to its first poll, with and without a running server
	$(BIN)/python -m bench.startup

bench-following: bench-venv  ## one game: the live flow vs a hand-written loop vs a bare Prefect flow; py-spy profile
	$(BIN)/python -m bench.following

bench-floor: bench-venv  ## CPU per tick at 10, 100, 1,000 games against one LIST + range GETs via s3fs and obstore
	$(BIN)/python -m bench.tick_floor

bench-worker-reads: venv  ## a tick's reads on a process cluster's two workers, timed alone, through s3fs and obstore
	$(BIN)/python -m bench.worker_reads

bench-heard: venv  ## a heard game's poll: HEAD then range GET against one read-ahead GET, through s3fs and obstore
	$(BIN)/python -m bench.heard_polls

bench-suite: venv  ## make test on a clean clone of HEAD, timed from outside, with its slowest tests
	$(BIN)/python -m bench.suite

bench: bench-long bench-freshness bench-feed bench-objects bench-many bench-gameday bench-ticks bench-page bench-startup bench-following bench-floor bench-worker-reads bench-heard bench-suite  ## every figure, then bench/results/README.md, the charts, and each target against its figure
	$(BIN)/python -m bench.report
	$(BIN)/python -m bench.targets

clean:  ## stop the local stack (make down), then remove its data and the caches (var/)
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m devstack down; fi
	rm -rf var .pytest_cache
