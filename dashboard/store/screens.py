"""The screens showing the monitor: one row per page load, so the server knows which screens are live and which
of them can sound (IEC 60601-1-8's distributed alarm system; docs/alarms.md).

The web writes a screen's row from the shell's poll (dashboard/ui/shell.py): when what it reports changed (the
page, its sound, who is signed in), and otherwise at least every `refresh` seconds, so a poll of a screen that
changed nothing costs no write. Who is signed in comes from the server's session, never from the browser; the
browser says only its page-load id, the page it shows and its AudioContext's state. Rows of screens gone for a
day are dropped when a new screen first reports.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from .schema import NAME_LENGTH, screens
from .store import Store

SOUNDING = "running"  # the AudioContext state in which a screen can play an alarm
FORGET_AFTER_S = 24 * 3600  # a screen not heard of for a day is gone: its row is dropped
SCREEN_ID = re.compile(r"[A-Za-z0-9-]{8,40}")  # what a page makes at load (crypto.randomUUID); anything else: ignored
PAGE_LENGTH = screens.c.page.type.length


@dataclass(frozen=True, slots=True)
class Screen:
    """One page load as last reported: who is signed in there, what it shows, whether it can sound."""

    id: str
    site: str
    username: str
    role: str
    page: str
    audio: str  # the AudioContext's state: "running" (can sound), "suspended", "closed", or "none" (not made yet)
    seen_at: float  # epoch seconds of its last report written
    sounding_at: float | None = None  # epoch seconds of its last report with sound running

    @property
    def sounding(self) -> bool:
        return self.audio == SOUNDING


def valid_id(value: object) -> bool:
    return isinstance(value, str) and SCREEN_ID.fullmatch(value) is not None


def report(store: Store, screen_id: str, username: str, role: str, page: str, audio: str, now: float) -> None:
    """Write what a screen reported at `now`: its row updated, or made (and rows gone for a day dropped)."""
    values = {"site": store.site, "username": username[:NAME_LENGTH], "role": role[:20], "page": page[:PAGE_LENGTH],
              "audio": audio[:20], "seen_at": now}
    if audio == SOUNDING:
        values["sounding_at"] = now
    try:
        with store.engine.begin() as conn:
            if conn.execute(screens.update().where(screens.c.id == screen_id).values(**values)).rowcount:
                return
            conn.execute(screens.delete().where(screens.c.seen_at < now - FORGET_AFTER_S))
            conn.execute(screens.insert().values(id=screen_id, **values))
    except sa.exc.IntegrityError:  # the page's other poll in flight made the row a moment ago (PostgreSQL)
        with store.engine.begin() as conn:
            conn.execute(screens.update().where(screens.c.id == screen_id).values(**values))


def screens_of(store: Store, since: float) -> list[Screen]:
    """This site's screens that reported at or after `since`, newest first."""
    query = (screens.select().where(screens.c.site == store.site, screens.c.seen_at >= since)
             .order_by(screens.c.seen_at.desc()))
    with store.engine.connect() as conn:
        return [Screen(**row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True, slots=True)
class Sounding:
    """When screens of one role last could sound: what the coverage rule needs (who hears which chairs is the
    role's and the site's, dashboard/service/coverage.py)."""

    role: str
    running_at: float | None  # the newest report of a screen of this role whose sound runs now
    sounded_at: float | None  # the newest report of any screen of this role with its sound running (then)


def sounding_by_role(store: Store) -> dict[str, Sounding]:
    """This site's screens per role, in one aggregate query (the shell's poll asks it every second)."""
    running = sa.case((screens.c.audio == SOUNDING, screens.c.sounding_at))
    query = (sa.select(screens.c.role, sa.func.max(running), sa.func.max(screens.c.sounding_at))
             .where(screens.c.site == store.site).group_by(screens.c.role))
    with store.engine.connect() as conn:
        return {role: Sounding(role, running_at, sounded_at) for role, running_at, sounded_at in conn.execute(query)}
