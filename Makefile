# Two commands for a fresh machine (see README):
#   make run    the dashboard with its simulated clinic on an embedded SQLite file
#   make test   the whole suite, browser tests included
# Both set themselves up: a virtual environment with the pinned requirements,
# and (for tests) Debian's chromium, chromium-driver and postgresql when missing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test bench browser postgres postgres-stop clean

run: $(STAMP)
	$(PY) app.py

test: $(STAMP) browser postgres
	$(PY) app.py regress
	MONITOR_TEST_REQUIRE_POSTGRES=1 $(PY) -m pytest -n 3 --dist worksteal --durations=15 $(PYTEST_ARGS)

# The performance targets of DESIGN.md, each against the obvious implementation (bench/RESULTS.md).
bench: $(STAMP) browser postgres
	$(PY) bench/run_all.py

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# Browser tests drive Debian's Chromium headless through its chromedriver.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

# The store and ingest tests run on SQLite and on a real PostgreSQL: a throwaway cluster on 127.0.0.1
# (installed from Debian's postgresql when missing; started as the postgres user when run as root),
# whose URL goes to var/test-postgres.url. Reused while it runs; `make postgres-stop` stops it.
postgres:
	@bash tests/postgres.sh start

postgres-stop:
	@bash tests/postgres.sh stop

clean: postgres-stop
	rm -rf $(VENV) var .pytest_cache
