"""Shared fixtures for the device tests: a collecting sink, and a real Store + Ingest running in a thread."""
from __future__ import annotations

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
from devices.readings import Item
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
