"""Browser and server tests: the real server as a subprocess, Debian's Chromium headless through dash[testing].

How to write one (the suite runs in parallel under pytest-xdist, on a 2-core machine other jobs share):
- `start_server("serve", "--no-simulator", "--database", str(tmp_path / "clinic.db"))` runs `python app.py` with
  those arguments on a free port, the four accounts (servers.USERS, password servers.PASSWORD) seeded into the
  database, and waits until it answers; `command=[...]` runs another program (gunicorn) with `{port}` filled in.
  Every test gets its own database (tmp_path), port, server and browser; servers stop after the test. Pages poll
  every servers.POLL_MS (2 s, unless the test passes --poll-ms / MONITOR_POLL_MS): see there why.
- `dash_br` is dash[testing]'s browser; its `wait_for_*` methods wait up to the suite's one deadline
  (tests/waits.py DEADLINE_S, 90 s): never pass a shorter `timeout=`.
- tests/e2e/browser.py: `login`, `click`, `type_into`, `select` (a dcc.Dropdown), `wait_for_text`, `text_of`,
  `script_until`, `idle`: each waits for its condition and survives the page re-rendering under it.
- tests/waits.py `wait_until(condition, what)` for anything else (a row in the store, a file downloaded).
  Never `time.sleep` to let something happen, and never assert how long something took (bench/ does that).
- tests/e2e/load.py: the board-under-load generator (test_load.py here, bench/board_load.py for the figure).
Each test gets its own server process (dash #1597: tests sharing an app can pass alone and fail together).
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.waits import DEADLINE_S

from .browser import login  # noqa: F401  (tests import these from here)
from .servers import POLL_MS, PASSWORD, ROOT, USERS, Server, free_port, launch, seed_users  # noqa: F401

CHROMIUM = shutil.which("chromium")
if CHROMIUM:
    os.environ.setdefault("DASH_TEST_CHROMEPATH", CHROMIUM)

# This machine has no network: without these Chromium keeps trying to reach Google's services.
QUIET_CHROMIUM = ("--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--disable-quic", "--window-size=1400,1000")


def pytest_setup_options():
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in QUIET_CHROMIUM:
        options.add_argument(flag)
    return options


@pytest.fixture
def dash_br(request: pytest.FixtureRequest, tmp_path: Path):
    """dash[testing]'s `dash_br`, its waits on the suite's deadline instead of 10 s."""
    from dash.testing.browser import Browser

    config = request.config
    (tmp_path / "download").mkdir()
    with Browser(browser=config.getoption("webdriver"), remote=config.getoption("remote"),
                 remote_url=config.getoption("remote_url"), headless=config.getoption("headless"),
                 options=config.hook.pytest_setup_options(), download_path=str(tmp_path / "download"),
                 percy_assets_root=config.getoption("percy_assets"), percy_finalize=config.getoption("nopercyfinalize"),
                 pause=config.getoption("pause"), wait_timeout=int(DEADLINE_S)) as browser:
        yield browser


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """start_server(*args) seeds the users into --database, runs `python app.py *args --port P` and waits until it
    answers; start_server(command=[...], env={...}) runs another server (e.g. gunicorn) with {port} filled in."""
    servers: list[Server] = []

    def start(*args: str, command: list[str] | None = None, env: dict[str, str] | None = None) -> Server:
        if "--database" in args:
            seed_users(Path(args[args.index("--database") + 1]))
        poll = () if "--poll-ms" in args else ("--poll-ms", str(POLL_MS))
        argv = command or [sys.executable, "app.py", *args, *poll, "--port", "{port}"]
        servers.append(launch(argv, tmp_path, {"MONITOR_POLL_MS": str(POLL_MS), **(env or {})}))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()
        print(f"---- {server.log.name} (last lines) ----\n{server.log_tail()}")  # shown when the test failed
