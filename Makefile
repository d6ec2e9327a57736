# Two commands for a fresh machine (see README):
#   make run    the dashboard with its simulated clinic on an embedded SQLite file (options: make run ARGS="...")
#   make test   regress and the whole suite, browser tests included
# Both set themselves up: a virtual environment .venv (Python 3.11+) with the pinned requirements, the runtime
# ones for `run` and `setup`, the test ones too for `test`, and (for tests) Debian's chromium, chromium-driver,
# npm and postgresql when missing, and axe-core (the accessibility checker, pinned below) from npm. After `make setup` (or `make run`), `python app.py ...` uses .venv by itself.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed
PYTEST_ARGS ?=
ARGS ?=
PG_STARTED := var/.postgres-started-by-make-test
# axe-core, injected into every page by tests/e2e/test_accessibility_in_browser.py (tests/e2e/axe.py reads AXE_JS)
AXE_VERSION := 4.10.3
AXE_JS := var/axe/node_modules/axe-core/axe.min.js
# A .venv that cannot run or is older than 3.11 (made by an older python3, or broken by an upgrade) is rebuilt.
NEW_ENOUGH := import sys; sys.exit(sys.version_info < (3, 11))

.PHONY: run setup test suite bench browser axe postgres postgres-stop clean

run: $(RUNTIME)
	$(PY) app.py $(ARGS)

# The runtime requirements only: enough for `python app.py ...` and the dashboard.
setup: $(RUNTIME)

# PostgreSQL is stopped after (pass, fail or Ctrl-C) only when this run started it.
test: $(DEV) browser axe
	@rm -f $(PG_STARTED); bash tests/postgres.sh start $(PG_STARTED) || exit 1; \
	trap 'if [ -f $(PG_STARTED) ]; then bash tests/postgres.sh stop; fi' EXIT; trap 'exit 130' INT TERM; \
	$(MAKE) --no-print-directory suite

# What `make test` runs between starting PostgreSQL (when it was not running) and stopping it; not for use alone.
suite:
	$(PY) app.py regress
	MONITOR_TEST_REQUIRE_POSTGRES=1 $(PY) -m pytest -n 3 --dist worksteal --durations=15 $(PYTEST_ARGS)

# The performance targets (bench/RESULTS.md), each against the obvious implementation (bench/RESULTS.md).
bench: $(DEV) browser postgres
	$(PY) bench/run_all.py

$(RUNTIME): requirements.txt
	$(ENSURE_VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(DEV): requirements.txt requirements-dev.txt
	$(ENSURE_VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(RUNTIME)

# .venv itself, (re)made when missing, broken or older than Python 3.11; $(PYTHON) must be 3.11 or newer.
define ENSURE_VENV
	@if ! $(PY) -c '$(NEW_ENOUGH)' 2>/dev/null; then \
		if ! $(PYTHON) -c '$(NEW_ENOUGH)' 2>/dev/null; then \
			echo "make: the monitor needs Python 3.11 or newer, and $(PYTHON) is $$($(PYTHON) -V 2>&1 || echo missing):" \
				"install a newer one and run make again (e.g. make $(or $(MAKECMDGOALS),run) PYTHON=python3.11)" >&2; \
			exit 1; \
		fi; \
		if [ -e $(VENV) ]; then echo "make: $(VENV) cannot run or is older than Python 3.11: rebuilding it"; fi; \
		rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet --upgrade pip; \
	fi
endef

# Browser tests drive Debian's Chromium headless through its chromedriver.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

# The accessibility test's checker: axe-core from npm at its pinned version (npm from Debian when missing),
# reinstalled when the pin changes.
axe: var/axe/.axe-$(AXE_VERSION)

var/axe/.axe-$(AXE_VERSION):
	@if ! command -v npm >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; \
	fi
	rm -rf var/axe && mkdir -p var/axe
	npm install --prefix var/axe --no-save --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION)
	test -f $(AXE_JS) && touch $@

# The store and ingest tests run on SQLite and on a real PostgreSQL: a throwaway cluster on 127.0.0.1
# (installed from Debian's postgresql when missing; started as the postgres user when run as root),
# whose URL goes to var/test-postgres.url. `make test` starts it when it is not running and stops it after;
# `make postgres` starts it for running tests by hand (reused while it runs), `make postgres-stop` stops it.
postgres:
	@bash tests/postgres.sh start

postgres-stop:
	@bash tests/postgres.sh stop

clean: postgres-stop
	rm -rf $(VENV) var .pytest_cache
