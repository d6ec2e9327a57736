"""`SimulatedChair`: the `Adapter` that paces one simulated session (session.py) on the wall clock."""
from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from typing import Callable

from ..adapter import Sink
from ..readings import Item, Reading
from .physiology import Scenario
from .scenarios import scenario
from .session import Timings, device_clock_error, session_items

BACKFILL_CHUNK = 500  # items per submit when catching up: keeps one commit small


class SimulatedChair:
    """An `Adapter` playing one simulated session at `chair` on the wall clock.

    The item at session offset o is due at `started_at + o / speed`. Items already
    due (a session that started before the process) are submitted at once in
    chunks; later ones when due. `skip` drops the first items (already stored
    before a restart).
    """

    def __init__(self, chair: str, scn: Scenario | str, seed: int, started_at: float, speed: float = 1.0,
                 skip: int = 0, clock: Callable[[], float] = time.time, *, config: Timings) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.chair = chair
        self.scenario = scenario(scn) if isinstance(scn, str) else scn
        self.seed, self.started_at, self.speed, self.skip = seed, started_at, speed, skip
        self.clock = clock
        self.config = config
        self.name = f"simulator:{chair}"

    def due_at(self, item: Item) -> float:
        return self.started_at + (item.offset_s or 0.0) / self.speed

    def due_now(self, now: float) -> list[Item]:
        """Every item (after `skip`) already due at `now`, stamped: the catch-up to fold before pacing live,
        so ingest never runs the session's timers ahead of readings still to come."""
        out: list[Item] = []
        for item in itertools.islice(session_items(self.scenario, self.seed, self.config), self.skip, None):
            if self.due_at(item) > now:
                break
            out.append(self._stamp(item, now))
        return out

    def run(self, sink: Sink, stop: threading.Event) -> None:
        stream = session_items(self.scenario, self.seed, self.config)
        for _ in range(self.skip):
            if next(stream, None) is None:
                return
        upcoming = next(stream, None)
        while upcoming is not None and not stop.is_set():
            now = self.clock()
            wait = self.due_at(upcoming) - now
            if wait > 0:
                if stop.wait(wait):
                    return
                continue  # re-read the clock: the wait may end early or late
            batch: list[Item] = []
            while upcoming is not None and self.due_at(upcoming) <= now and len(batch) < BACKFILL_CHUNK:
                batch.append(upcoming)
                upcoming = next(stream, None)
            received = self.clock()
            sink.submit(self.chair, [self._stamp(item, received) for item in batch])

    def _stamp(self, item: Item, received: float) -> Item:
        if isinstance(item, Reading):
            return dataclasses.replace(item, device_time=self.due_at(item) + device_clock_error(self.scenario, item),
                                       received_time=received)
        return dataclasses.replace(item, received_time=received)
