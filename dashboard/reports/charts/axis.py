"""The charts' time axis: session seconds as the x a chart plots, and back.

Clinicians write clock times, so the session page and the review chart plot the local clock: a plotly date axis
whose values are milliseconds of the server's local time (plotly draws a date axis as given, without time zones,
so the local offset is added here, per instant: a session across a DST change keeps its true clock). A date axis
picks its own ticks at any zoom (14:30, 14:35 ... or 14:32:10 when zoomed to seconds) and its unified hover shows
the clock time. A session time maps to the clock by the session's own clock (reports/record.session_wall_time:
a replay runs on its feed's clock, a simulated session at its speed).

`SessionMinutes` keeps the older axis (minutes from the start) for charts drawn without a session row (the
regression runner's HTML).
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np

from ..format import clock, session_clock, zone_name


class TimeAxis(Protocol):
    def x(self, offset_s: float) -> float: ...

    def xs(self, offsets_s: np.ndarray) -> list[float]: ...

    def offset(self, value: Any) -> float: ...

    def layout(self) -> dict[str, Any]:
        """What every x axis of the chart gets (its type, the hover's format)."""
        ...

    def title(self) -> str: ...

    def label(self, offset_s: float) -> str: ...


@dataclass(frozen=True)
class SessionMinutes:
    """Minutes from the session's start (4 decimals: 6 ms, finer than any sample)."""

    def x(self, offset_s: float) -> float:
        return offset_s / 60

    def xs(self, offsets_s: np.ndarray) -> list[float]:
        return (np.asarray(offsets_s, dtype=float) / 60.0).round(4).tolist()

    def offset(self, value: Any) -> float:
        return float(value) * 60

    def layout(self) -> dict[str, Any]:
        return {}

    def title(self) -> str:
        return "minutes from session start"

    def label(self, offset_s: float) -> str:
        """A time in a hover text, as the axis reads."""
        return session_clock(offset_s)


@dataclass(frozen=True)
class ClockAxis:
    """The local clock: session second 0 is `start_wall` (epoch s); one session second is `wall_per_s` wall
    seconds (1 for a live session or a replay on its feed's clock, 1/speed for a simulation)."""

    start_wall: float
    wall_per_s: float = 1.0

    @classmethod
    def of(cls, wall_time: Callable[[float], float]) -> "ClockAxis":
        """From a session's own clock (SessionRecord.wall_time / record.session_wall_time), which is linear."""
        start = wall_time(0.0)
        return cls(start, (wall_time(3600.0) - start) / 3600.0 or 1.0)

    def wall(self, offset_s: float) -> float:
        return self.start_wall + offset_s * self.wall_per_s

    def x(self, offset_s: float) -> float:
        return round(_local_ms(self.wall(offset_s)))

    def xs(self, offsets_s: np.ndarray) -> list[float]:
        walls = self.start_wall + np.asarray(offsets_s, dtype=float) * self.wall_per_s
        if len(walls) == 0:
            return []
        first, last = _utc_offset(float(walls.min())), _utc_offset(float(walls.max()))
        if first == last:  # the usual case: one UTC offset for the whole series, no per-sample localtime
            return np.round((walls + first) * 1000.0).tolist()
        return [round(_local_ms(float(w))) for w in walls]

    def offset(self, value: Any) -> float:
        """Session seconds of an x value as plotly reports it in a relayout ('2026-12-08 14:32:05.1234', or ms)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            naive = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=float(value))
        else:
            naive = dt.datetime.fromisoformat(str(value).strip().replace(" ", "T"))
        wall = time.mktime(naive.replace(microsecond=0).timetuple()) + naive.microsecond / 1e6
        return (wall - self.start_wall) / self.wall_per_s

    def layout(self) -> dict[str, Any]:
        return {"type": "date", "hoverformat": "%H:%M:%S"}

    def title(self) -> str:
        return f"clock time ({zone_name(self.start_wall)})"

    def label(self, offset_s: float) -> str:
        return clock(self.wall(offset_s), seconds=True)


def _utc_offset(epoch: float) -> int:
    return time.localtime(epoch).tm_gmtoff


def _local_ms(epoch: float) -> float:
    return (epoch + _utc_offset(epoch)) * 1000.0
