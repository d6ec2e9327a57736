"""Replay a feed onto a chair as if live, into the running dashboard's store.

A replayed session keeps the feed's own session times and moves its clock
with ticks (sessions.clock = "feed"), so ingest folds exactly the same stream
at 1x, 60x or as fast as possible and stores the same alarm history. The
readings and events go through the store's inbox to the dashboard's ingest,
like everything else a person or a device adds.

`Replayer` is the pure pacing; `drive` runs it against the store; `dashboard/cli/replay.py`
is `python app.py replay`, and `ReplayDriver` serves the testers' replay page
from the main process. A replay that finishes or is stopped ends its session:
test data does not linger as an open chair.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from devices.feed import FeedError, read_feed
from devices.readings import Item, Reading, SessionEvent

from ..store import Store
from .test_chairs import ChairRule

log = logging.getLogger(__name__)

CHUNK = 2000  # items per inbox write at full speed: one ingest step folds a chunk quickly
STEP_S = 0.2  # how often a paced replay wakes to send what is due and tick the clock
WHO = "replay"


@dataclass
class Replayer:
    """Which items are due at a wall time, for a speed (None = as fast as possible). Pure: the clock is passed in."""

    items: Sequence[Item]
    speed: float | None
    index: int = 0
    position: float = 0.0  # session time reached
    _start: float | None = None  # wall time of session time 0, shifted by pauses
    _paused_at: float | None = None

    @property
    def done(self) -> bool:
        return self.index >= len(self.items)

    @property
    def last_offset(self) -> float:
        return self.items[-1].offset_s or 0.0 if self.items else 0.0

    def pause(self, now: float) -> None:
        if self._paused_at is None:
            self._paused_at = now

    def resume(self, now: float) -> None:
        if self._paused_at is not None and self._start is not None:
            self._start += now - self._paused_at
        self._paused_at = None

    def step(self, now: float) -> tuple[list[Item], float]:
        """(items now due, the clock tick: up to the next item, never past it)."""
        if self._paused_at is not None:
            return [], self.position
        if self._start is None:
            self._start = now - (self.items[0].offset_s or 0.0) / self.speed if self.items and self.speed else now
        if self.speed is None:
            due_to = float("inf")
            batch = list(self.items[self.index:self.index + CHUNK])
        else:
            due_to = (now - self._start) * self.speed
            batch = []
            while self.index + len(batch) < len(self.items) and (self.items[self.index + len(batch)].offset_s or 0.0) <= due_to:
                batch.append(self.items[self.index + len(batch)])
        self.index += len(batch)
        if batch:
            self.position = max(self.position, batch[-1].offset_s or 0.0)
        upcoming = self.items[self.index].offset_s if not self.done else None
        self.position = max(self.position, min(due_to, upcoming if upcoming is not None else self.last_offset))
        return batch, self.position


@dataclass
class Progress:
    sent: int = 0
    readings: int = 0
    position: float = 0.0
    stopped: bool = False
    listeners: list[Callable[[Progress], None]] = field(default_factory=list)


def open_replay_session(store: Store, items: Sequence[Item], chair: str, label: str, speed: float | None,
                        rule: ChairRule | None = None) -> int:
    """A new feed-clocked session on `chair` for the feed's protocol; ValueError (ChairTaken: why and what to do
    instead) when test data may not go there (test_chairs.py)."""
    protocol = next((i.detail for i in items if isinstance(i, SessionEvent) and i.kind == "session_start"), None)
    if protocol is None:
        raise ValueError("the feed has no session_start row naming the protocol")
    (rule or ChairRule.for_config(store)).check(chair)
    return store.create_session(chair=chair, patient_label=label, protocol=protocol, started_at=time.time(),
                                speed=speed or 1.0, clock="feed")


def drive(store: Store, sid: int, replayer: Replayer, stop: threading.Event,
          paused: Callable[[], bool] = lambda: False, progress: Progress | None = None,
          clock: Callable[[], float] = time.time, wait: Callable[[float], object] | None = None) -> Progress:
    """Send what is due into the session's inbox until done or stopped; the last tick leaves it consistent."""
    progress = progress or Progress()
    while not replayer.done and not stop.is_set():
        now = clock()
        replayer.pause(now) if paused() else replayer.resume(now)
        batch, tick = replayer.step(now)
        if batch or tick > progress.position:
            store.submit_items(sid, batch, WHO, tick=tick)
            progress.sent += len(batch)
            progress.readings += sum(1 for i in batch if isinstance(i, Reading))
            progress.position = tick
            for listener in progress.listeners:
                listener(progress)
        if replayer.speed is not None:
            (wait or stop.wait)(STEP_S)
    progress.stopped = stop.is_set()
    final = replayer.last_offset if replayer.done else replayer.position
    # timers up to and at the end, as `check` runs them; then ingest ends the session (finished or stopped)
    store.submit_items(sid, [], WHO, tick=final, final=True)
    return progress


def load_items(path: Path) -> list[Item]:
    feed = read_feed(path)
    for problem in feed.problems:
        log.warning("%s: %s (row skipped)", path.name, problem)
    if not feed.items:
        raise FeedError(f"{path} has no usable rows")
    return feed.items


class ReplayDriver:
    """Runs the replays testers start on the replay page: one thread each, controlled through the store
    (running / paused / stopped), so the page keeps no state of its own."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._running: dict[int, threading.Thread] = {}

    def run(self, stop: threading.Event, every_s: float = 0.5) -> None:
        self.end_cut_off()
        while not stop.wait(every_s):
            try:
                self._start_new(stop)
            except Exception:  # a broken replay must not take the dashboard down
                log.exception("replay driver")

    def end_cut_off(self) -> None:
        """Replays a previous run was driving when it stopped (some items sent): stopped where they got, their
        sessions ended. Starting them again from the top would send their first items twice."""
        for replay in self.store.replays(states=("running", "paused")):
            if replay["sent"]:
                log.warning("replay %s was cut off by a restart at %.0f s: stopped, its session ended", replay["id"],
                            replay["position_s"])
                self.store.submit_items(replay["session_id"], [], WHO, tick=replay["position_s"], final=True)
                self.store.update_replay(replay["id"], state="stopped")

    def _start_new(self, stop: threading.Event) -> None:
        for replay in self.store.replays(states=("running", "paused")):
            if replay["id"] in self._running:
                continue
            thread = threading.Thread(target=self._drive, args=(replay, stop), name=f"replay {replay['id']}",
                                      daemon=True)
            self._running[replay["id"]] = thread
            thread.start()

    def _drive(self, replay: dict, stop: threading.Event) -> None:
        rid = replay["id"]
        mine = threading.Event()
        state = {"value": replay["state"]}

        def paused() -> bool:
            state["value"] = next((r["state"] for r in self.store.replays() if r["id"] == rid), "stopped")
            if state["value"] == "stopped" or stop.is_set():
                mine.set()
            return state["value"] == "paused"

        def report(progress: Progress) -> None:
            self.store.update_replay(rid, position_s=progress.position, sent=progress.sent)

        try:
            items = load_items(Path(replay["feed"]))
        except (FeedError, OSError) as exc:  # a replay that cannot run leaves no open session: it ends at once
            log.error("replay %s: %s: its session ends", rid, exc)
            self._end(replay)
            return
        try:
            progress = drive(self.store, replay["session_id"], Replayer(items, replay["speed"]), mine,
                             paused=paused, progress=Progress(listeners=[report]))
        except Exception:  # the store failed under it: end the session where it got, if the store lets us
            log.exception("replay %s failed: its session ends", rid)
            self._end(replay)
            return
        self.store.update_replay(rid, position_s=progress.position, sent=progress.sent,
                                 state="stopped" if progress.stopped else "done")

    def _end(self, replay: dict) -> None:
        try:
            position = next((r["position_s"] for r in self.store.replays() if r["id"] == replay["id"]), 0.0)
            self.store.submit_items(replay["session_id"], [], WHO, tick=position, final=True)
            self.store.update_replay(replay["id"], state="stopped")
        except Exception:  # still failing: the next start's end_cut_off ends it
            log.exception("replay %s: could not end its session", replay["id"])
