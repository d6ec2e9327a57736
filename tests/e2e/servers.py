"""The real server as a subprocess, on a free port, with one account per role in its database.

Used by the `start_server` fixture (tests/e2e/conftest.py) and by the board-under-load generator
(tests/e2e/load.py, also run by bench/board_load.py), so nothing here depends on pytest.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Sequence

from tests.waits import DEADLINE_S, wait_until

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"
USERS = {role: f"{role}1" for role in ("nurse", "clinician", "tester", "admin", "display")}  # display: a ward screen
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
# The pages' poll interval in tests. Dash drops a callback's answer when the same callback fired again before it came
# (plotly/dash#941): a page whose poll answers slower than its interval never updates. On a loaded machine a
# session page's full redraw takes seconds, so tests poll every 2 s (the product's default is 1 s).
POLL_MS = 2000
PORT_TRIES = 3  # a free port found by binding port 0 can be taken by another worker before the server binds it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerFailed(Exception):
    def __init__(self, message: str, port_taken: bool) -> None:
        super().__init__(message)
        self.port_taken = port_taken


class Server:
    def __init__(self, proc: subprocess.Popen, url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # the app's own Ctrl-C path: stop threads, close the store
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


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


def launch(argv: Sequence[str], folder: Path, env: dict[str, str] | None = None, ready_path: str = "/login",
           port: int | None = None) -> Server:
    """Runs `argv` (its parts may hold `{port}`) from the repository root on `port` (else a free one), its output
    in `folder`/server-PORT.log, and waits until `ready_path` answers. Tries another port if that one was taken."""
    for attempt in range(PORT_TRIES):
        port = port if attempt == 0 and port else free_port()
        try:
            return _launch_on(port, argv, folder, env, ready_path)
        except ServerFailed as failed:
            if not failed.port_taken or attempt == PORT_TRIES - 1:
                raise
    raise AssertionError("unreachable")


def _launch_on(port: int, argv: Sequence[str], folder: Path, env: dict[str, str] | None, ready_path: str) -> Server:
    log = folder / f"server-{port}.log"
    proc = subprocess.Popen([part.format(port=port) for part in argv], cwd=ROOT, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    server = Server(proc, f"http://127.0.0.1:{port}", log)

    def answers() -> bool:
        if proc.poll() is not None:
            text = log.read_text()
            raise ServerFailed(f"server exited with {proc.returncode}:\n{text}", port_taken="in use" in text)
        try:
            with urllib.request.urlopen(server.url + ready_path, timeout=5):
                return True
        except OSError:
            return False

    try:
        wait_until(answers, f"the server on port {port} to answer", every=0.2)
    except AssertionError:
        server.stop()
        raise AssertionError(f"the server did not answer in {DEADLINE_S:.0f} s:\n{log.read_text()}") from None
    return server
