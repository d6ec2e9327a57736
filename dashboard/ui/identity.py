"""Who is acting, from the signed-in session (never from a field the browser could fill), and the audit trail."""
from __future__ import annotations

from typing import Callable

import flask

from ..auth import record
from ..auth.roles import sees_real_patients
from ..auth.web import current_user
from ..store import SessionRow, Store


def signed_in() -> str | None:
    user = current_user()
    return user.username if user else None


def role() -> str | None:
    user = current_user()
    return user.role if user else None


def may_see(row: SessionRow) -> bool:
    """Nurses and clinicians see every session; a tester only simulated and replayed ones."""
    return viewer_may_see()(row)


def viewer_may_see() -> Callable[[SessionRow], bool]:
    """`may_see` for the signed-in user, their role read once: a board poll asks it of every open session."""
    current = role()
    return lambda row: sees_real_patients(current) or (current == "tester" and row.is_simulated)


def audit(store: Store, who: str, action: str, detail: str = "", session_id: int | None = None) -> None:
    remote = (flask.request.remote_addr or "") if flask.has_request_context() else ""
    record(store, who, action, detail, role=role() or "", remote=remote, session_id=session_id)
