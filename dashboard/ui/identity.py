"""Who is acting, from the signed-in session (never from a field the browser could fill), and the audit trail."""
from __future__ import annotations

from typing import Callable

from ..auth import record
from ..auth.records import LIVE, may_see as _may_see, may_watch
from ..auth.roles import DISPLAY
from ..auth.web import client_address, current_user, current_viewer
from ..store import SessionRow, Store


def signed_in() -> str | None:
    user = current_user()
    return user.username if user else None


def role() -> str | None:
    user = current_user()
    return user.role if user else None


def may_see(row: SessionRow, site: str | None = None) -> bool:
    """Whether the signed-in user may open this session live (auth/records.py); `site` is the one this web
    serves (None: the row's own, when the caller listed this site's sessions already)."""
    return viewer_may_see(site)(row)


def viewer_may_see(site: str | None = None) -> Callable[[SessionRow], bool]:
    """`may_see` for the signed-in user, read once: a board poll asks it of every open session."""
    user = current_user()
    if site is not None:
        viewer = current_viewer(site)
        return lambda row: _may_see(viewer, row, LIVE)
    return lambda row: _may_see(current_viewer(row.site) if user else None, row, LIVE)


def is_display() -> bool:
    """The signed-in screen is a ward display (auth/roles.py): read-only, no patient label, no link to a record."""
    return role() in DISPLAY


def viewer_may_watch(site: str) -> Callable[[SessionRow], bool]:
    """Whether a session is on the signed-in user's board (auth/records.py `may_watch`), read once per poll."""
    viewer = current_viewer(site)
    return lambda row: may_watch(viewer, row)


def audit(store: Store, who: str, action: str, detail: str = "", session_id: int | None = None) -> None:
    record(store, who, action, detail, role=role() or "", remote=client_address(), session_id=session_id)
