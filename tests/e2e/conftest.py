"""Browser and server tests: the real server as a subprocess, Debian's Chromium headless through dash[testing].

How to write one (the suite runs in parallel under pytest-xdist, on a 2-core machine other jobs share):
- `start_server("serve", "--no-simulator", "--database", str(tmp_path / "clinic.db"))` runs `python app.py` with
  those arguments, one account per role (servers.USERS, password servers.PASSWORD) seeded into the database, and
  waits until it answers; `command=[...]` runs another program (gunicorn) with `{port}` filled in. Every test gets
  its own database (tmp_path) and servers, stopped after the test; a test's first server listens on its worker's
  WEB_PORT, any other on a free port. Pages poll every servers.POLL_MS (2 s, unless the test passes --poll-ms /
  MONITOR_POLL_MS): see there why.
- `dash_br` is dash[testing]'s browser, `screen` a Chromium keeping its whole console (screen.py): each is the
  worker's one browser of its kind, cleared before every test (cookies, the site's storage, viewport, console) and
  replaced after a failed one. A test needing two people at once makes a second `Screen()` and quits it.
  `dash_br`'s `wait_for_*` methods wait up to the suite's one deadline (tests/waits.py DEADLINE_S, 90 s): never
  pass a shorter `timeout=`.
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
import threading
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import pytest

from tests.waits import DEADLINE_S
from tests.ward import keep_live, make_ward

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


def _worker_number() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # set by pytest-xdist on its workers
    return int(worker[2:]) if worker[2:].isdigit() else 0


# A worker's tests run their (first) web server one after another on this port, below the ephemeral range that free
# ports come from, so the worker's one browser of each kind finds Dash's bundles in its cache: a page Chromium has
# cached costs it about 3 s of CPU less than a cold one, on a 2-core machine the suite keeps busy.
WEB_PORT = int(os.environ.get("E2E_PORT_BASE", "20310")) + _worker_number()  # another base: suites side by side


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = (yield).get_result()
    if report.failed:
        item.stash[FAILED] = True  # the shared browsers start afresh after a failed test


FAILED = pytest.StashKey[bool]()


class SharedBrowsers:
    """One browser of each kind per worker (dash[testing]'s Browser, our Screen: each holds its WebDriver as
    .driver), reused from test to test. `lend` clears what the last test left (cookies, the site's storage, the
    viewport, console entries) and sets this test's download folder; `give_back` leaves the page, or replaces the
    browser after a failed test, so one test's breakage never reaches the next."""

    def __init__(self) -> None:
        self.open: dict[str, Any] = {}

    def lend(self, kind: str, make: Callable[[], Any], downloads: Path) -> Any:
        browser = self.open.get(kind)
        if browser is not None:
            try:
                _clean(browser.driver)
            except Exception:  # the browser died with the last test: a new one
                self.drop(kind)
                browser = None
        if browser is None:
            browser = self.open[kind] = make()
        browser.driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                                       {"behavior": "allow", "downloadPath": str(downloads)})
        return browser

    def give_back(self, kind: str, request: pytest.FixtureRequest) -> None:
        """Leaves the page (a board left open keeps polling and animating, costing CPU until the next browser test),
        or, after a failed test, the browser."""
        if request.node.stash.get(FAILED, False):
            self.drop(kind)
            return
        try:
            self.open[kind].driver.get("about:blank")
        except Exception:
            self.drop(kind)

    def drop(self, kind: str) -> None:
        browser = self.open.pop(kind, None)
        if browser is not None:
            try:
                browser.driver.quit()
            except Exception:
                pass


def _clean(driver: Any) -> None:
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.execute_cdp_cmd("Storage.clearDataForOrigin", {
        "origin": f"http://127.0.0.1:{WEB_PORT}", "storageTypes": "local_storage,session_storage,indexeddb"})
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.get_log("browser")  # the last test's console entries


@pytest.fixture(scope="session")
def shared_browsers() -> Iterator[SharedBrowsers]:
    browsers = SharedBrowsers()
    yield browsers
    for kind in list(browsers.open):
        browsers.drop(kind)


@pytest.fixture
def dash_br(request: pytest.FixtureRequest, tmp_path: Path, shared_browsers: SharedBrowsers):
    """dash[testing]'s `dash_br`, its waits on the suite's deadline instead of 10 s; the worker's shared one."""
    from dash.testing.browser import Browser

    config = request.config
    downloads = tmp_path / "download"
    downloads.mkdir()

    def make() -> Browser:
        return Browser(browser=config.getoption("webdriver"), remote=config.getoption("remote"),
                       remote_url=config.getoption("remote_url"), headless=config.getoption("headless"),
                       options=config.hook.pytest_setup_options(), download_path=str(downloads),
                       percy_assets_root=config.getoption("percy_assets"),
                       percy_finalize=config.getoption("nopercyfinalize"), pause=config.getoption("pause"),
                       wait_timeout=int(DEADLINE_S))

    browser = shared_browsers.lend("dash", make, downloads)
    browser._download_path = str(downloads)  # what tests read as dash_br.download_path
    yield browser
    shared_browsers.give_back("dash", request)


@pytest.fixture
def screen(request: pytest.FixtureRequest, tmp_path: Path, shared_browsers: SharedBrowsers):
    """The worker's shared `Screen` (tests/e2e/screen.py): a headless Chromium keeping the whole console."""
    from .screen import Screen

    opened = shared_browsers.lend("screen", Screen, tmp_path)
    opened.console = []
    yield opened
    shared_browsers.give_back("screen", request)


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
        servers.append(launch(argv, tmp_path, {"MONITOR_POLL_MS": str(POLL_MS), **(env or {})},
                              port=None if servers else WEB_PORT))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()
        print(f"---- {server.log.name} (last lines) ----\n{server.log_tail()}")  # shown when the test failed


@pytest.fixture
def live_ward(start_server: Callable[..., Server], tmp_path: Path):
    """start(chairs, server_args=(), **make_ward options) -> (server, database, {chair: session id}): a ward of that
    many chairs (tests/ward.py), kept live by a feeder thread, and its server (with `server_args` added)."""
    stop = threading.Event()
    feeders: list[threading.Thread] = []

    def start(chairs: int, server_args: Sequence[str] = (), **options: Any) -> tuple[Server, Path, dict[str, int]]:
        db = tmp_path / "clinic.db"
        sids = make_ward(db, chairs, **options)
        feeder = threading.Thread(target=keep_live, args=(db, sids, stop), daemon=True)
        feeder.start()
        feeders.append(feeder)
        return start_server("serve", "--no-simulator", "--database", str(db), *server_args), db, sids

    yield start
    stop.set()
    for feeder in feeders:
        feeder.join(timeout=10)
