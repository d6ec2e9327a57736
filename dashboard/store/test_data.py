"""Which sessions are test data, and the word every screen and export marks them with.

A tester's replay runs on the feed's clock; a simulated-clinic session carries its scenario. Neither is a real
patient's: the board keeps them apart (dashboard/ui/scope.py) and every screen and export says so.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .schema import sessions

MARKS = {"replay": "REPLAY", "simulated": "SIMULATED"}


def kind(row: Any) -> str:
    """'replay', 'simulated' or 'real', of anything with a session's `clock` and `scenario`."""
    if row.clock == "feed":
        return "replay"
    return "simulated" if row.scenario is not None else "real"


def mark(row: Any) -> str:
    """REPLAY, SIMULATED, or nothing for a real patient's session."""
    return MARKS.get(kind(row), "")


def is_real() -> sa.ColumnElement[bool]:
    """`kind(row) == "real"` as SQL on the sessions table: neither feed-clocked (replay) nor simulated."""
    return sa.and_(sessions.c.clock != "feed", sessions.c.scenario.is_(None))
