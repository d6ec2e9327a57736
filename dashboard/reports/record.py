"""One session's whole record, read once: what the review page and every export are made from."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..store import SessionRow, Store
from ..store.review_queries import readings_of
from ..store.signoff import SignOff, signoff_of
from .alarm_table import AlarmEpisode, alarm_episodes


class SessionNotFound(LookupError):
    """No session with that id."""


@dataclass(frozen=True)
class SessionRecord:
    row: SessionRow
    readings: tuple[dict[str, Any], ...]  # every reading, session-time order
    events: tuple[dict[str, Any], ...]
    transitions: tuple[dict[str, Any], ...]  # alarm transitions and status events, in order
    signoff: SignOff | None

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def status(self) -> dict[str, Any]:
        return dict(self.row.status or {})

    @cached_property
    def bp_readings(self) -> tuple[dict[str, Any], ...]:
        return tuple(r for r in self.readings if r["sbp"] is not None)

    @cached_property
    def episodes(self) -> list[AlarmEpisode]:
        return alarm_episodes(self.transitions)

    def wall_time(self, offset_s: float) -> float:
        """Epoch seconds of a session time: session time runs at the session's speed from its start."""
        return self.row.started_at + offset_s / (self.row.speed or 1.0)

    def utc(self, offset_s: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.wall_time(offset_s), tz=dt.timezone.utc)

    @property
    def end_s(self) -> float:
        """Session time of the record's end: discharge, else the engine's clock, else the last item."""
        status = self.status
        last = max([r["offset_s"] for r in self.readings[-1:]] + [e["offset_s"] for e in self.events[-1:]] + [0.0])
        return float(status.get("discharged_at") or status.get("now") or last)


def load_record(store: Store, session_id: int) -> SessionRecord:
    row = store.session(session_id)
    if row is None:
        raise SessionNotFound(f"there is no session {session_id}")
    return SessionRecord(row, tuple(readings_of(store, session_id)), tuple(store.events_of(session_id)),
                         tuple(store.alarms_of(session_id)), signoff_of(store, session_id))
