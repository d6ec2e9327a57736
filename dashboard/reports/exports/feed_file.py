"""`app.py export SESSION --format feed`: a stored session written back out as a feed CSV.

The feed carries what the devices and the nurse reported (readings and the session
events of docs/feed-format.md), so `check` and `replay` can run it again. People's
alarm actions (acknowledge, audio pause, override) are not feed rows: they are counted
and left out here, and `export --format actions` writes them for `check --actions`. A session opened on the web has no session_start item; one is written
first from the session's protocol so the feed stands on its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

from devices.feed import write_feed
from devices.readings import EVENT_KINDS, Item, Reading, SessionEvent

from ...store import Store
from ...store.test_data import mark

OPEN_END_NOTE = "end of the exported record: the session was still open"


class ExportError(ValueError):
    """The session cannot be exported (unknown id)."""


@dataclass(frozen=True, slots=True)
class Exported:
    rows: int
    left_out: int  # actions that are not feed rows


def feed_items(store: Store, session_id: int) -> tuple[list[Item], int]:
    """The session's feed rows in session-time order, and how many items were left out."""
    row = store.session(session_id)
    if row is None:
        raise ExportError(f"no session {session_id}")
    stored = store.session_items(session_id)
    kept = [item for item in stored if isinstance(item, Reading) or item.kind in EVENT_KINDS]
    left_out = len(stored) - len(kept)
    kept.sort(key=lambda item: item.offset_s or 0.0)  # stable: arrival order at a tie
    if not any(isinstance(i, SessionEvent) and i.kind == "session_start" for i in kept):
        kept.insert(0, SessionEvent("session_start", detail=row.protocol, offset_s=0.0))
    now = float((row.status or {}).get("now") or 0.0)
    if row.ended_at is None and now > max((i.offset_s or 0.0) for i in kept):
        # an open session's timers ran past its last item (a 40-min check due, a re-alarm): `check` runs its
        # timers up to the last row, so a note at the engine's clock lets it reproduce them too
        kept.append(SessionEvent("note", detail=OPEN_END_NOTE, offset_s=now))
    return kept, left_out


def export_feed(store: Store, session_id: int, target: Path | str | IO[str]) -> Exported:
    """A test session's feed (replay, simulated) carries the test_data column on every row (docs/feed-format.md)."""
    items, left_out = feed_items(store, session_id)
    row = store.session(session_id)
    return Exported(rows=write_feed(items, target, mark(row) if row is not None else ""), left_out=left_out)
