"""Test data never takes a real chair: where a replay or a simulated session may start.

A tester's replay and a simulated session go only to a chair that no real device fed within the pre-session window
(`baseline.pre_session_window`: what a real session opened there now would take as its own) and that has no open
session, or to a test chair of their own ("Replay 2"). Ingest keeps the other half of the rule: a real device's
reading never goes into a test session (placement.py). The web replay page, `app.py replay` and the simulated clinic
all ask here, and a refusal says why (which device sent what, when) and what to do instead.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Collection

from ..engine import Config, load_config
from ..store import SessionRow, Store, device_data
from ..store.device_data import RealData
from ..store.test_data import kind

TEST_CHAIR = "Replay {n}"  # the test chairs offered instead: named so no one takes them for a real chair


class ChairTaken(ValueError):
    """The chair cannot take test data; the message says why and what to do instead."""


@dataclass(frozen=True, slots=True)
class ChairRule:
    """The rule, for one store (one site) and its pre-session window."""

    store: Store
    window_s: float  # the pre-session window, seconds
    clock: Callable[[], float] = time.time

    @classmethod
    def for_config(cls, store: Store, config: Config | None = None) -> ChairRule:
        """The rule with the settings' pre-session window (the built-in settings' by default)."""
        return cls(store, (config or load_config()).value("baseline.pre_session_window") * 60)

    def check(self, chair: str) -> None:
        """Raise ChairTaken when test data may not start on `chair`."""
        why = self.refusal(chair)
        if why is not None:
            raise ChairTaken(why)

    def refusal(self, chair: str) -> str | None:
        """Why test data may not start on `chair` now, with what to do instead; None when it may."""
        busy = next((row for row in self.store.open_sessions() if row.chair == chair), None)
        if busy is not None:
            return f"{_session_words(busy)}. {self._instead(chair)}"
        real = device_data.latest_real_data(self.store.engine, self.store.site, chair, self.clock() - self.window_s)
        if real is not None:
            return (f"{chair} is a real chair: {_data_words(real, self.clock())}. Test data never goes to a chair a "
                    f"real device fed in the last {self.window_s / 60:g} min. {self._instead(chair)}")
        return None

    def free_test_chair(self, taken: Collection[str] = ()) -> str:
        """The first test chair name ("Replay 1", "Replay 2", ...) that may take test data now."""
        n = 1
        while TEST_CHAIR.format(n=n) in taken or self.refusal(TEST_CHAIR.format(n=n)) is not None:
            n += 1
        return TEST_CHAIR.format(n=n)

    def _instead(self, chair: str) -> str:
        return f"Pick another chair, or a test chair of its own such as \"{self.free_test_chair({chair})}\"."


def _session_words(row: SessionRow) -> str:
    what = {"replay": "a replay", "simulated": "a simulated session"}.get(kind(row), "a real patient's session")
    return f"{row.chair} already has an open session ({what}, session {row.id})"


def _data_words(real: RealData, now: float) -> str:
    device = real.device_id or real.source or "a device"
    if real.kind != "reading":
        what = real.kind
    elif real.sbp is not None and real.dbp is not None:
        what = f"BP {real.sbp:g}/{real.dbp:g}"
    else:
        what = " ".join(part for part in (f"HR {real.hr:g}" if real.hr is not None else "",
                                          f"SpO2 {real.spo2:g} %" if real.spo2 is not None else "") if part) or \
            "a reading"
    at = time.strftime("%H:%M:%S", time.localtime(real.received_time))
    return f"{device} sent {what} at {at} ({_ago(now - real.received_time)})"


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"
