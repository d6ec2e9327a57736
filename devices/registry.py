"""Which NIBP adapter serves which chair, so the web (through ingest) can ask for a STAT reading."""
from __future__ import annotations

import threading
from typing import Protocol


class MeasuresNow(Protocol):
    def measure_now(self) -> None: ...


class NibpRegistry:
    """Thread-safe chair -> NIBP adapter map. `measure_now(chair)` is what `Ingest.on_measure_now` calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_chair: dict[str, MeasuresNow] = {}

    def register(self, chair: str, adapter: MeasuresNow) -> None:
        with self._lock:
            self._by_chair[chair] = adapter

    def unregister(self, chair: str) -> None:
        with self._lock:
            self._by_chair.pop(chair, None)

    def get(self, chair: str) -> MeasuresNow | None:
        with self._lock:
            return self._by_chair.get(chair)

    def chairs(self) -> list[str]:
        with self._lock:
            return sorted(self._by_chair)

    def measure_now(self, chair: str) -> bool:
        """Start a cycle on the chair's cuff; False when no NIBP adapter serves that chair."""
        adapter = self.get(chair)
        if adapter is None:
            return False
        adapter.measure_now()
        return True
