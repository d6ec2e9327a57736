"""Test data kept apart: which board a session belongs to, and how a screen marks it.

The rule (README, "The board"):
- A tester's replay (a feed-clocked session) is test data everywhere: only on the test board, only in a
  tester's sound, never escalated to the nurses.
- A simulated-clinic session is test data too, except on a demo server: an ingest started with the simulated
  clinic says so in its heartbeat, every screen of the site then carries a DEMO banner, and its simulated chairs
  are on the clinical board and sound there, each marked SIMULATED.
- Every other session is a real patient's: on the clinical board.
- The test board shows all test data: replays, and the simulated clinic's chairs (a demo's too).

Nurses and clinicians watch, hear and see escalations of the clinical board; testers of the test board. The
role decides, not the page: a replay never reaches a nurse's sound, whichever page the nurse has open.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Literal, Mapping

__all__ = ["kind", "mark"]  # re-exported: the screens import them from here

from ..store import SessionRow
from ..store.test_data import kind, mark
from .identity import role, viewer_may_see, viewer_may_watch

Board = Literal["clinical", "test"]
CLINICAL: Board = "clinical"
TEST: Board = "test"


def board_of(row: SessionRow, demo: bool) -> Board:
    what = kind(row)
    if what == "replay" or (what == "simulated" and not demo):
        return TEST
    return CLINICAL


def is_demo(heartbeats: Iterable[Mapping[str, Any]]) -> bool:
    """The site's ingest runs the simulated clinic (see the module docstring)."""
    return any(beat.get("demo") for beat in heartbeats)


def board_for(user_role: str | None) -> Board:
    return TEST if user_role == "tester" else CLINICAL


def viewer_board() -> Board:
    return board_for(role())


def on_board(row: SessionRow, board: Board, demo: bool) -> bool:
    """The test board shows all test data, a demo's simulated chairs too; the clinical board what board_of says."""
    return kind(row) != "real" if board == TEST else board_of(row, demo) == CLINICAL


def on_viewers_board(demo: bool, site: str | None = None) -> Callable[[SessionRow], bool]:
    """The sessions the signed-in user's board shows, hears and escalates (their role read once); `site`: the one
    this web serves (auth/records.py)."""
    board = viewer_board()
    may_see = viewer_may_watch(site) if site is not None else viewer_may_see(None)  # a ward display: its site's
    return lambda row: may_see(row) and on_board(row, board, demo)
