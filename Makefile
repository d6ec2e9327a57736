# Two commands for a fresh machine (see README):
#   make run    the dashboard with its simulated clinic on an embedded SQLite file
#   make test   the whole suite, browser tests included
# Both set themselves up: a virtual environment with the pinned requirements,
# and (for tests) Debian's chromium and chromium-driver when missing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test browser clean

run: $(STAMP)
	$(PY) app.py

test: $(STAMP) browser
	$(PY) app.py regress
	$(PY) -m pytest $(PYTEST_ARGS)

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

clean:
	rm -rf $(VENV) var .pytest_cache
