"""Fault/load: 50 chairs at 1 Hz for an accelerated hour while 20 clients poll the board of a real server.
Nothing is dropped, every poll is answered, and one poll's server time (the Server-Timing the web sets on
every response) meets the DESIGN.md target at p95.

The servers run in the production layout (README, "Production: ingest and web apart"): `python app.py
ingest` and gunicorn's workers on one database. `MONITOR_LOAD_LAYOUT=serve` runs the same load against the
one-process `python app.py serve` instead, which misses the target on 2 cores (bench/RESULTS.md, section 7).
Server time includes waiting for a core: our processes take about one of the two, so another CPU-bound job on
the machine can push the p95 over (the failure says how much of it was the poll's own CPU time).
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from dashboard.store import Store
from devices.readings import Reading, SessionEvent

from .conftest import PASSWORD, ROOT, USERS, seed_users

CHAIRS = 50
SPEED = 120.0  # session seconds per wall second: an hour in 30 s
WALL_S = 30.0
CLIENTS = 20
POLL_S = 1.0  # the board's own interval (--poll-ms 1000)
WORKERS = 2  # gunicorn sync workers: one per core of the 2-core machine this is measured on
POLL_SERVER_P95_MS = 25.0  # ../shared/DESIGN.md, "Performance targets": one board poll's server time, p95
LAYOUT = os.environ.get("MONITOR_LOAD_LAYOUT", "production")


def _client(url: str) -> requests.Session:
    session = requests.Session()
    token = re.search(r'name="csrf" value="([^"]+)"', session.get(f"{url}/login").text).group(1)
    # the load's sessions are feed-clocked (replayed) test data: they are on the tester's board, the same poll
    session.post(f"{url}/login", data={"csrf": token, "username": USERS["tester"], "password": PASSWORD},
                 headers={"Origin": url}, allow_redirects=False)
    return session


def _board_key(session: requests.Session, url: str) -> str:
    deps = session.get(f"{url}/_dash-dependencies").json()
    return next(d["output"] for d in deps if d["output"].startswith("..board.children"))


def _timing_ms(response: requests.Response, metric: str) -> float | None:
    """One metric of the response's `Server-Timing` (app: the server's time; cpu: its CPU time), in ms."""
    found = re.search(rf"\b{metric};dur=([0-9.]+)", response.headers.get("Server-Timing", ""))
    return float(found.group(1)) if found else None


def _seen_after(seen: Any, answer: Any) -> Any:
    """The browser's board-seen after an answer: the answer itself, or its Patch (assignments) applied."""
    if seen is None or not isinstance(answer, dict) or "__dash_patch_update" not in answer:
        return answer
    for operation in answer["operations"]:
        *path, last = operation["location"]
        node = seen
        for key in path:
            node = node.setdefault(key, {})
        node[last] = operation["params"]["value"]
    return seen


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def _start_servers(start_server, db: Path, tmp_path: Path) -> tuple[str, subprocess.Popen | None]:
    """The web's URL, and the ingest process when it runs apart."""
    if LAYOUT == "serve":
        return start_server("serve", "--no-simulator", "--database", str(db), "--poll-ms", "1000").url, None
    seed_users(db)
    log = tmp_path / "ingest.log"
    ingest = subprocess.Popen([sys.executable, "app.py", "ingest", "--no-simulator", "--database", str(db)],
                              cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    web = start_server(command=[str(Path(sys.executable).with_name("gunicorn")), "--workers", str(WORKERS),
                                "--bind", "127.0.0.1:{port}", "dashboard.wsgi:server"],
                       env={"MONITOR_DATABASE": str(db), "MONITOR_SECRET_FILE": str(tmp_path / "secret"),
                            "MONITOR_POLL_MS": "1000"})
    deadline = time.monotonic() + 60
    while "Ingest running" not in log.read_text() and time.monotonic() < deadline:
        assert ingest.poll() is None, log.read_text()
        time.sleep(0.2)
    return web.url, ingest


def test_fifty_chairs_and_twenty_clients(start_server, tmp_path):
    if LAYOUT not in ("production", "serve"):
        pytest.fail(f"MONITOR_LOAD_LAYOUT={LAYOUT!r}: production or serve")
    db = tmp_path / "clinic.db"
    url, ingest = _start_servers(start_server, db, tmp_path)
    try:
        _run_load(url, db)
    finally:
        if ingest is not None:
            ingest.terminate()  # its service stop: the last commit is finished
            ingest.wait(timeout=15)


def _run_load(url: str, db: Path) -> None:
    store = Store.open(db)
    sids = [store.create_session(chair=f"Chair {n:02d}", patient_label=f"P-{n:02d}", protocol="esketamine-84",
                                 started_at=time.time(), clock="feed") for n in range(CHAIRS)]
    for sid in sids:
        store.submit_items(sid, [SessionEvent("session_start", "esketamine-84", offset_s=0)], "load")
    polls = _Polls()
    stop = threading.Event()
    now = time.monotonic()
    clients = [threading.Thread(target=polls.browser, args=(url, _client(url), now + POLL_S * n / CLIENTS, stop),
                                daemon=True) for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    sent = _an_accelerated_hour(store, sids)
    deadline = time.monotonic() + 90
    while store.pending_actions() and time.monotonic() < deadline:
        time.sleep(0.5)
    stop.set()
    for thread in clients:
        thread.join(5)
    stored = sum(len(store.readings_after(sid)) for sid in sids)
    print(f"\n{LAYOUT} layout, {CHAIRS} chairs, {sent} readings in {WALL_S:.0f} s, load {os.getloadavg()[0]:.1f}; "
          f"{polls.summary()}")
    assert sent >= CHAIRS * 3000  # about an accelerated hour for every chair
    assert stored == sent and not store.pending_actions()  # nothing dropped, nothing left behind
    assert not polls.failures and len(polls.round_trip_s) >= CLIENTS * 20  # every poll answered, with its server time
    assert _p95(polls.server_ms) <= POLL_SERVER_P95_MS, (
        f"server time p95 {_p95(polls.server_ms):.1f} ms, of which CPU p95 {_p95(polls.cpu_ms):.1f} ms: the rest "
        f"was waiting (for a core, on a machine at load {os.getloadavg()[0]:.1f}, or for the database)")


def _an_accelerated_hour(store: Store, sids: list[int]) -> int:
    """Every chair's 1 Hz oximeter at SPEED for WALL_S, queued through the store as a replay does; how many."""
    sent = 0
    began = time.monotonic()
    position = 0.0
    while time.monotonic() - began < WALL_S:
        target = (time.monotonic() - began) * SPEED
        seconds = range(int(position) + 1, int(target) + 1)
        for n, sid in enumerate(sids):
            batch = [Reading("oximeter", hr=60 + (s + n) % 30, spo2=97, offset_s=float(s)) for s in seconds]
            store.submit_items(sid, batch, "load", tick=float(int(target)))
            sent += len(batch)
        position = float(int(target))
        time.sleep(0.2)
    return sent


class _Polls:
    """What the browsers measured: each poll's round trip and the server's own time and CPU time for it. A tab's
    first poll, which draws the whole board (the page opening, once a shift), is kept apart from the live polls
    the target is about, as bench/board_poll.py does."""

    def __init__(self) -> None:
        self.round_trip_s: list[float] = []
        self.server_ms: list[float] = []
        self.cpu_ms: list[float] = []
        self.opening_ms: list[float] = []
        self.failures: list[str] = []

    def browser(self, url: str, client: requests.Session, first_at: float, stop: threading.Event) -> None:
        """One board tab: its own phase in the second, a poll every POLL_S, its board-seen kept up to date."""
        key = _board_key(client, url)
        seen = None
        due = first_at
        while not stop.wait(max(0.0, due - time.monotonic())):
            due += POLL_S
            started = time.monotonic()
            response = client.post(f"{url}/_dash-update-component", headers={"Origin": url}, json={
                "output": key, "outputs": [{"id": "board", "property": "children"}, {"id": "board-seen", "property": "data"}],
                "inputs": [{"id": "board-poll", "property": "n_intervals", "value": 1}],
                "state": [{"id": "board-seen", "property": "data", "value": seen}],
                "changedPropIds": ["board-poll.n_intervals"]})
            self.round_trip_s.append(time.monotonic() - started)
            took, cpu = _timing_ms(response, "app"), _timing_ms(response, "cpu")
            if response.status_code not in (200, 204) or took is None or cpu is None:
                self.failures.append(f"{response.status_code} {response.headers.get('Server-Timing')}")
                continue
            if seen is None:
                self.opening_ms.append(took)
            else:
                self.server_ms.append(took)
                self.cpu_ms.append(cpu)
            answer = response.json()["response"].get("board-seen") if response.status_code == 200 else None
            if answer is not None:  # absent (or a 204): nothing changed
                seen = _seen_after(seen, answer["data"])

    def summary(self) -> str:
        return (f"{len(self.round_trip_s)} polls: live polls' server time p50 {statistics.median(self.server_ms):.1f} "
                f"ms, p95 {_p95(self.server_ms):.1f} ms (its CPU p50 {statistics.median(self.cpu_ms):.1f}, p95 "
                f"{_p95(self.cpu_ms):.1f}); {len(self.opening_ms)} openings (whole board) max {max(self.opening_ms):.1f} "
                f"ms; round trip p50 {statistics.median(self.round_trip_s) * 1000:.0f} ms, "
                f"p95 {_p95(self.round_trip_s) * 1000:.0f} ms")
