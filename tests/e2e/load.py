"""The board under load: many chairs fed fast through the store while signed-in clients poll the board as the
browser does, against real servers.

Production layout (README, "Production: ingest and web apart"): `python app.py ingest` and gunicorn's workers on
one SQLite file; `layout="serve"` runs the one-process `python app.py serve` instead. Each client makes the
browser's board-poll request every POLL_S, staggered through the second, keeping its `board-seen` as the browser
does, and records the `Server-Timing` the web sets on every response (app: the server's time; cpu: its CPU time).

tests/e2e/test_load.py runs it for what must hold (nothing dropped, every poll answered, every board complete);
bench/board_load.py runs it for the target figure (a live poll's server time p95) in bench/RESULTS.md.
"""
from __future__ import annotations

import re
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import requests

from dashboard.store import Store
from devices.readings import Reading, SessionEvent
from tests.waits import wait_until

from .servers import GUNICORN, PASSWORD, ROOT, USERS, Server, launch, seed_users

POLL_S = 1.0  # the board's own interval (MONITOR_POLL_MS / --poll-ms 1000)
WORKERS = 2  # gunicorn sync workers: one per core of the 2-core machine this is measured on


@dataclass(frozen=True)
class Load:
    chairs: int = 50
    clients: int = 20
    speed: float = 120.0  # session seconds per wall second
    session_s: float = 3600.0  # each chair's stream, in session seconds: an hour in 30 s at 120x
    min_polls: int = 20  # live polls every client makes at least (the run goes on until they have)

    @property
    def readings(self) -> int:
        return self.chairs * int(self.session_s)


@contextmanager
def servers(db: Path, folder: Path, layout: str = "production") -> Iterator[str]:
    """The web's URL with ingest running on `db` (the users seeded), in `layout`; both stopped after."""
    seed_users(db)
    if layout == "serve":
        web = launch([sys.executable, "app.py", "serve", "--no-simulator", "--database", str(db), "--poll-ms",
                      str(int(POLL_S * 1000)), "--port", "{port}"], folder)
        try:
            yield web.url
        finally:
            web.stop()
        return
    if layout != "production":
        raise ValueError(f"layout {layout!r}: production or serve")
    log = folder / "ingest.log"
    ingest = subprocess.Popen([sys.executable, "app.py", "ingest", "--no-simulator", "--database", str(db)],
                              cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    web: Server | None = None
    try:
        web = launch([GUNICORN, "--workers", str(WORKERS), "--bind", "127.0.0.1:{port}", "dashboard.wsgi:server"],
                     folder, env={"MONITOR_DATABASE": str(db), "MONITOR_SECRET_FILE": str(folder / "secret"),
                                  "MONITOR_POLL_MS": str(int(POLL_S * 1000))})

        def ingest_running() -> bool:
            assert ingest.poll() is None, log.read_text()
            return "Ingest running" in log.read_text()

        wait_until(ingest_running, "ingest to start")
        yield web.url
    finally:
        if web is not None:
            web.stop()
        ingest.terminate()  # its service stop: the last commit is finished
        ingest.wait(timeout=60)


@dataclass
class Outcome:
    sent: int
    stored: int
    pending: int
    sids: list[int]
    polls: "Polls"
    wall_s: float


def run(url: str, db: Path, load: Load) -> Outcome:
    """Opens `load.chairs` sessions, feeds them while the clients poll, waits until ingest has folded everything
    and every client has made `load.min_polls` live polls; what was sent, stored and seen."""
    store = Store.open(db)
    try:
        sids = [store.create_session(chair=f"Chair {n:02d}", patient_label=f"P-{n:02d}", protocol="esketamine-84",
                                     started_at=time.time(), clock="feed") for n in range(load.chairs)]
        for sid in sids:
            store.submit_items(sid, [SessionEvent("session_start", "esketamine-84", offset_s=0)], "load")
        polls = Polls(load.clients)
        stop = threading.Event()
        began = time.monotonic()
        clients = [threading.Thread(target=polls.browser, args=(n, url, began + POLL_S * n / load.clients, stop),
                                    daemon=True) for n in range(load.clients)]
        for thread in clients:
            thread.start()
        sent = feed(store, sids, load)
        polls.measuring = False  # what follows (draining, the last clients' polls) is not the load measured
        wait_until(lambda: not store.pending_actions(), "ingest to fold every queued reading", every=0.5)
        wait_until(lambda: polls.each_made(load.min_polls) or polls.failures, "every client's live polls", every=0.5)
        wall_s = time.monotonic() - began
        stop.set()
        for thread in clients:
            thread.join(30)
        stored = sum(len(store.readings_after(sid)) for sid in sids)
        return Outcome(sent, stored, len(store.pending_actions()), sids, polls, wall_s)
    finally:
        store.close()


def feed(store: Store, sids: list[int], load: Load) -> int:
    """Every chair's 1 Hz oximeter for `load.session_s`, paced at `load.speed` and queued through the store as a
    replay queues it (a tick every 0.2 s); a slow machine stretches the pace, never drops a second."""
    sent = 0
    began = time.monotonic()
    position = 0
    while position < load.session_s:
        target = min(int(load.session_s), int((time.monotonic() - began) * load.speed))
        seconds = range(position + 1, target + 1)
        if seconds:
            for n, sid in enumerate(sids):
                batch = [Reading("oximeter", hr=60 + (s + n) % 30, spo2=97, offset_s=float(s)) for s in seconds]
                store.submit_items(sid, batch, "load", tick=float(target))
                sent += len(batch)
            position = target
        time.sleep(0.2)
    return sent


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


def percentile_95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


@dataclass
class Polls:
    """What the clients measured and saw. A tab's first poll, which draws the whole board (the page opening, once
    a shift), is kept apart from the live polls the target is about, as bench/board_poll.py does."""

    clients: int
    round_trip_s: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    opening_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    live: list[int] = field(default_factory=list)  # live polls answered, per client
    patched: list[int] = field(default_factory=list)  # answers that changed the board, per client
    seen: list[Any] = field(default_factory=list)  # each client's board-seen at the end
    measuring: bool = True  # timings are kept while the chairs are being fed

    def __post_init__(self) -> None:
        self.live, self.patched, self.seen = [0] * self.clients, [0] * self.clients, [None] * self.clients

    def each_made(self, polls: int) -> bool:
        return min(self.live) >= polls

    def browser(self, n: int, url: str, first_at: float, stop: threading.Event) -> None:
        """Client n, one board tab: its own phase in the second, a poll every POLL_S, its board-seen kept."""
        try:
            client = _client(url)
            key = _board_key(client, url)
        except (requests.RequestException, AttributeError, StopIteration) as exc:
            self.failures.append(f"client {n} could not sign in and open the board: {exc!r}")
            return
        due = first_at
        while not stop.wait(max(0.0, due - time.monotonic())):
            due = max(due + POLL_S, time.monotonic())  # late (a loaded machine): the next poll, not a burst
            self._poll(n, url, client, key)

    def _poll(self, n: int, url: str, client: requests.Session, key: str) -> None:
        seen = self.seen[n]
        started = time.monotonic()
        try:
            response = client.post(f"{url}/_dash-update-component", headers={"Origin": url}, json={
                "output": key, "outputs": [{"id": "board", "property": "children"},
                                           {"id": "board-seen", "property": "data"}],
                "inputs": [{"id": "board-poll", "property": "n_intervals", "value": 1}],
                "state": [{"id": "board-seen", "property": "data", "value": seen}],
                "changedPropIds": ["board-poll.n_intervals"]}, timeout=120)
        except requests.RequestException as exc:
            self.failures.append(f"client {n}: {exc!r}")
            return
        if self.measuring:
            self.round_trip_s.append(time.monotonic() - started)
        took, cpu = _timing_ms(response, "app"), _timing_ms(response, "cpu")
        if response.status_code not in (200, 204) or took is None or cpu is None:
            self.failures.append(f"client {n}: {response.status_code} {response.headers.get('Server-Timing')}")
            return
        if seen is None:
            self.opening_ms.append(took)
        else:
            self.live[n] += 1
            if self.measuring:
                self.server_ms.append(took)
                self.cpu_ms.append(cpu)
        answer = response.json()["response"].get("board-seen") if response.status_code == 200 else None
        if answer is not None:  # absent (or a 204): nothing changed
            self.patched[n] += seen is not None
            self.seen[n] = _seen_after(seen, answer["data"])

    def summary(self) -> str:
        return (f"{len(self.round_trip_s)} polls while feeding: live polls' server time p50 {statistics.median(self.server_ms):.1f} "
                f"ms, p95 {percentile_95(self.server_ms):.1f} ms (its CPU p50 {statistics.median(self.cpu_ms):.1f}, "
                f"p95 {percentile_95(self.cpu_ms):.1f}); {len(self.opening_ms)} openings (whole board) max "
                f"{max(self.opening_ms):.1f} ms; round trip p50 {statistics.median(self.round_trip_s) * 1000:.0f} ms, "
                f"p95 {percentile_95(self.round_trip_s) * 1000:.0f} ms")
