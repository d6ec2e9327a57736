"""Shared fixtures for the device tests: a collecting sink, and a real Store + Ingest running in a thread."""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence, TypeVar

import pytest

from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from devices.adapter import Ticket
from devices.hl7 import HL7Listener, ListenerSettings, Placement, frame
from devices.supervisor import Supervisor
from devices.readings import Item
from tests.mllp import receive_ack
from tests.waits import DEADLINE_S, wait_until

T = TypeVar("T")


@dataclass
class ListSink:
    """A Sink that keeps everything and commits at once."""

    items: list[tuple[str, Item]] = field(default_factory=list)
    refused: list[tuple[str, bytes, str]] = field(default_factory=list)
    unplaced: list[tuple[str, Item]] = field(default_factory=list)  # (device, item) of chair-less submissions
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (sender, peer, counter) -> sum
    lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, chair: str, items: Sequence[Item], message: str | None = None) -> Ticket:
        with self.lock:
            self.items += [(chair, item) for item in items]
        ticket = Ticket()
        ticket.resolve()
        return ticket

    def submit_device(self, device: str, items: Sequence[Item], message: str | None = None) -> Ticket:
        with self.lock:
            self.unplaced += [(device, item) for item in items]
        ticket = Ticket()
        ticket.resolve()
        return ticket

    def refuse(self, source: str, raw: bytes, reason: str) -> None:
        with self.lock:
            self.refused.append((source, raw, reason))

    def tally(self, sender: str, peer: str, counts: Mapping[str, int]) -> None:
        with self.lock:
            for counter, n in counts.items():
                self.counts[(sender, peer, counter)] = self.counts.get((sender, peer, counter), 0) + n

    def of(self, kind: type) -> list:
        with self.lock:
            return [item for _, item in self.items if isinstance(item, kind)]


@pytest.fixture
def sink() -> ListSink:
    return ListSink()


@dataclass
class Clinic:
    store: Store
    ingest: Ingest
    stop: threading.Event

    def open(self, chair: str, protocol: str = "esketamine-84") -> int:
        sid = self.store.create_session(chair=chair, patient_label="P-1", protocol=protocol, started_at=time.time())
        self.ingest.refresh()
        return sid


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    """A real SQLite store with ingest stepping in its own thread, as in the main job."""
    store = Store.open(tmp_path / "clinic.db")
    ingest = Ingest(store, load_config())
    stop = threading.Event()
    thread = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    thread.start()
    yield Clinic(store, ingest, stop)
    stop.set()
    thread.join(timeout=DEADLINE_S)
    store.close()


def _wait_for(condition: Callable[[], T], what: str = "", *, timeout: float | None = None, every: float = 0.02) -> T:
    """tests/waits.py's `wait_until` (polling every 20 ms): returns the condition's truthy value. The deadline is the
    suite's one (DEADLINE_S); a `timeout` can only lengthen it, never make a loaded machine fail a test."""
    return wait_until(condition, what, deadline_s=max(timeout or 0.0, DEADLINE_S), every=every)


@pytest.fixture
def wait_for() -> Callable[..., object]:
    return _wait_for


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


@dataclass
class Site:
    store: Store
    ingest: Ingest
    listener: HL7Listener

    def send(self, message: str) -> str:
        with socket.create_connection(self.listener.address, timeout=10) as conn:  # one connection per message
            conn.sendall(frame(message))
            return receive_ack(conn)

    def open(self, chair: str) -> int:
        """Open a session as the web does: ingest finds it at its next refresh (within 2 s)."""
        return self.store.create_session(chair=chair, patient_label="P-1", protocol="esketamine-84",
                                         started_at=time.time())

    def alarms(self, sid: int, code: str, state: str) -> list[dict]:
        return [a for a in self.store.alarms_of(sid) if a["code"] == code and a["state"] == state]


@pytest.fixture
def start_site(store_url: str) -> Iterator[Callable[..., Site]]:
    """start_site(placement, silent_after_s): a store, ingest stepping in a thread, and a listener on a free port."""
    stop = threading.Event()
    stores: list[Store] = []

    def start(placement: Placement = Placement()) -> Site:
        store = Store(store_url)
        stores.append(store)
        ingest = Ingest(store, load_config())
        threading.Thread(target=ingest.run, args=(stop,), daemon=True).start()
        listener = HL7Listener(ListenerSettings(port=0, placement=placement, ack_timeout_s=10))
        Supervisor(listener, ingest).start(stop)
        assert listener.ready.wait(5)
        return Site(store, ingest, listener)

    yield start
    stop.set()
    time.sleep(0.5)  # ingest's last commit
    for store in stores:
        store.close()
