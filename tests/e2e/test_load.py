"""Fault/load: 50 chairs at 1 Hz for an accelerated hour while 20 clients poll the board of a real server.
Nothing is dropped and every poll is answered. (The poll-time target itself is measured in bench/.)"""
from __future__ import annotations

import re
import statistics
import threading
import time

import requests

from dashboard.store import Store
from devices.readings import Reading, SessionEvent

from .conftest import PASSWORD, USERS

CHAIRS = 50
SPEED = 120.0  # session seconds per wall second: an hour in 30 s
WALL_S = 30.0
CLIENTS = 20


def _client(url: str) -> requests.Session:
    session = requests.Session()
    token = re.search(r'name="csrf" value="([^"]+)"', session.get(f"{url}/login").text).group(1)
    session.post(f"{url}/login", data={"csrf": token, "username": USERS["nurse"], "password": PASSWORD},
                 headers={"Origin": url}, allow_redirects=False)
    return session


def _board_key(session: requests.Session, url: str) -> str:
    deps = session.get(f"{url}/_dash-dependencies").json()
    return next(d["output"] for d in deps if d["output"].startswith("..board.children"))


def test_fifty_chairs_and_twenty_clients(start_server, tmp_path):
    db = tmp_path / "clinic.db"
    server = start_server("serve", "--no-simulator", "--database", str(db), "--poll-ms", "1000")
    store = Store.open(db)
    sids = [store.create_session(chair=f"Chair {n:02d}", patient_label=f"P-{n:02d}", protocol="esketamine-84",
                                 started_at=time.time(), clock="feed") for n in range(CHAIRS)]
    for sid in sids:
        store.submit_items(sid, [SessionEvent("session_start", "esketamine-84", offset_s=0)], "load")

    stop = threading.Event()
    times: list[float] = []
    failures: list[str] = []

    def poll(client: requests.Session) -> None:
        key = _board_key(client, server.url)
        seen = None
        while not stop.is_set():
            started = time.monotonic()
            response = client.post(f"{server.url}/_dash-update-component", headers={"Origin": server.url}, json={
                "output": key, "outputs": [{"id": "board", "property": "children"}, {"id": "board-seen", "property": "data"}],
                "inputs": [{"id": "board-poll", "property": "n_intervals", "value": 1}],
                "state": [{"id": "board-seen", "property": "data", "value": seen}],
                "changedPropIds": ["board-poll.n_intervals"]})
            times.append(time.monotonic() - started)
            if response.status_code not in (200, 204):
                failures.append(f"{response.status_code}")
            elif response.status_code == 200 and seen is None:
                seen = response.json()["response"]["board-seen"]["data"]
            stop.wait(1.0)

    clients = [threading.Thread(target=poll, args=(_client(server.url),), daemon=True) for _ in range(CLIENTS)]
    for thread in clients:
        thread.start()
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
    deadline = time.monotonic() + 90
    while store.pending_actions() and time.monotonic() < deadline:
        time.sleep(0.5)
    stop.set()
    for thread in clients:
        thread.join(5)
    stored = sum(len(store.readings_after(sid)) for sid in sids)
    assert sent >= CHAIRS * 3000  # about an accelerated hour for every chair
    assert stored == sent and not store.pending_actions()  # nothing dropped, nothing left behind
    assert not failures and len(times) >= CLIENTS * 20  # every poll answered while ingest worked
    p95 = statistics.quantiles(times, n=20)[-1]
    print(f"\n50 chairs, {sent} readings in {WALL_S:.0f} s; {len(times)} polls, p50 "
          f"{statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (round trip, see bench/ for server time)")
