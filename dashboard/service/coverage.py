"""Which chairs in session no live, sounding screen covers: a technical alarm of the distributed alarm system
(IEC 60601-1-8; docs/alarms.md, "Screens that cannot update").

A screen covers a chair when its sound would play that chair's alarms: the shell plays the alarms of the viewer's
board whatever page is open (dashboard/ui/scope.py: nurses and clinicians hear the clinical board of their site,
a tester the test board), so what a screen covers follows from its role and site, and whether it covers them now
from its sound. A screen is live while it reports (dashboard/store/screens.py) and sounding while its AudioContext
runs. The chairs that count are those of the clinical board: real patients, and a demo server's simulated chairs.

    uncovered(store, now) -> [Uncovered(chair, session_id, since), ...]

`since` is when the chair was last covered (the last report of a screen that then had sound on for it), or its
session's start when no screen has covered it yet. A chair is listed once it has gone `screen.uncovered_after`
seconds uncovered: time enough for a reload and a touch that turns sound on again. The shell shows the list on
every other screen and sounds it as a technical alarm; alarm forwarding sends it on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..auth.records import Viewer, may_watch
from ..engine import Config, load_config
from ..store import SessionRow, Store
from ..store.screens import Sounding, sounding_by_role
from ..store.test_data import kind


@dataclass(frozen=True, slots=True)
class CoverageSettings:
    live_within_s: float  # a screen that reported this recently is live
    uncovered_after_s: float  # a chair without a live, sounding screen this long is an alarm

    @classmethod
    def from_config(cls, config: Config) -> CoverageSettings:
        return cls(config.value("screen.live_within"), config.value("screen.uncovered_after"))


@dataclass(frozen=True, slots=True)
class Uncovered:
    """A chair in session that no live, sounding screen covers."""

    chair: str
    session_id: int
    since: float  # epoch seconds: when it was last covered, or its session started


def uncovered(store: Store, now: float | None = None, settings: CoverageSettings | None = None) -> list[Uncovered]:
    """The chairs of this store's site that no live, sounding screen covers at `now` (default: the clock), by chair.
    `settings`: the clinic's (CoverageSettings.from_config); default: defaults.toml's."""
    demo = any(beat.get("demo") for beat in store.heartbeats())
    return uncovered_among(store.open_sessions(), sounding_by_role(store), demo, store.site,
                           time.time() if now is None else now, settings)


def uncovered_among(rows: Iterable[SessionRow], sounding: Mapping[str, Sounding], demo: bool, site: str, now: float,
                    settings: CoverageSettings | None = None) -> list[Uncovered]:
    """`uncovered` over what the caller read already: the open sessions and the screens per role."""
    settings = settings or CoverageSettings.from_config(load_config())
    live_since = now - settings.live_within_s
    found = []
    for row in rows:
        if not on_clinical_board(row, demo):
            continue
        hearing = [s for s in sounding.values() if hears(s.role, site, row, demo)]
        if any(s.running_at is not None and s.running_at >= live_since for s in hearing):
            continue
        since = max([row.started_at, *(s.sounded_at for s in hearing if s.sounded_at is not None)])
        if now - since >= settings.uncovered_after_s:
            found.append(Uncovered(row.chair, row.id, since))
    return found


def on_clinical_board(row: SessionRow, demo: bool) -> bool:
    """A real patient's session, or a demo server's simulated chair (the rule of dashboard/ui/scope.py)."""
    what = kind(row)
    return what == "real" or (what == "simulated" and demo)


def hears(role: str, site: str, row: SessionRow, demo: bool) -> bool:
    """Whether a screen of this role, served by this site's web, plays this session's alarms (dashboard/ui/shell.py):
    the session is one the role's board watches (a ward display's: its site's), on that board (a tester's: the test
    board)."""
    if not may_watch(Viewer("", role, site), row):
        return False
    return kind(row) != "real" if role == "tester" else on_clinical_board(row, demo)
