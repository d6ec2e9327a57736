"""Browser tests: the real server as a subprocess, Debian's Chromium headless through dash[testing].

Each test gets its own database and server process (dash #1597: tests sharing an
app can pass alone and fail together).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, proc: subprocess.Popen, url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # the app's own Ctrl-C path: stop threads, close the store
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


PASSWORD = "correct-horse-battery"
USERS = {role: f"{role}1" for role in ("nurse", "clinician", "tester", "admin")}


def seed_users(db: Path) -> None:
    """One account per role in the test's database, before its server starts."""
    from dashboard.auth import AuthError, add_user
    from dashboard.store import Store

    store = Store.open(db)
    for role, name in USERS.items():
        try:
            add_user(store, name, role, PASSWORD)
        except AuthError:
            pass  # a restart on the same database: the accounts are there
    store.close()


def login(dash_br, url: str, role: str = "nurse", then: str = "/") -> None:
    """Sign in through the real login form, then open `then`."""
    dash_br.driver.get(f"{url}/login?next={then}")
    dash_br.find_element("#login-user").send_keys(USERS[role])
    dash_br.find_element("#login-password").send_keys(PASSWORD)
    dash_br.find_element("#login-submit").click()
    dash_br.wait_for_element("#react-entry-point", timeout=15)
    dash_br._url = url


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """start_server(*args) seeds the users into --database, runs `python app.py *args --port P` and waits
    until it answers."""
    servers: list[Server] = []

    def start(*args: str, command: list[str] | None = None, env: dict[str, str] | None = None) -> Server:
        """`python app.py *args --port P`, or `command` with {port} filled in (e.g. gunicorn)."""
        if "--database" in args:
            seed_users(Path(args[args.index("--database") + 1]))
        port = free_port()
        log = tmp_path / f"server-{port}.log"
        argv = [part.format(port=port) for part in command] if command else [
            sys.executable, "app.py", *args, "--port", str(port)]
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})
        server = Server(proc, f"http://127.0.0.1:{port}", log)
        servers.append(server)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(server.url + "/login", timeout=2):
                    return server
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"server did not answer in 60 s:\n{log.read_text()}")

    yield start
    for server in servers:
        server.stop()
