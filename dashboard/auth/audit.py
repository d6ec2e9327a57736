"""The audit log: who did what, when, to which session, from where. Append-only (the database refuses
UPDATE, DELETE and, on PostgreSQL, TRUNCATE) and tamper-evident: every row is chained to the one before by a
keyed hash (store/chain.py; `python app.py audit verify`).

A row says what happened and to which session, never the clinical content (values, notes, reasons): those are
in the session's own record, where only its carers and clinicians read them. The admin reads this log.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..store import Store, chain
from ..store.schema import NAME_LENGTH
from ..store.security import ADDRESS_LENGTH, audit

DETAIL_LENGTH = 2000
# People's actions on a session (Store.submit_action) whose detail the audit keeps: it is not clinical.
KEEP_DETAIL = frozenset({"discharge"})  # "override" when discharged before ready


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting in this request, as the audit records them."""

    who: str
    role: str
    remote: str


def row(who: str, action: str, detail: str = "", role: str = "", remote: str = "", session_id: int | None = None,
        at: float | None = None) -> dict[str, Any]:
    return {"at": time.time() if at is None else at, "who": who[:NAME_LENGTH], "role": role, "action": action[:40],
            "detail": detail[:DETAIL_LENGTH], "remote": remote[:ADDRESS_LENGTH], "session_id": session_id}


def record(store: Store, who: str, action: str, detail: str = "", role: str = "", remote: str = "",
           session_id: int | None = None) -> None:
    """Append to the audit log. There is deliberately no way to change or remove a row."""
    with store.engine.begin() as conn:
        chain.append(conn, audit, [row(who, action, detail, role, remote, session_id)])


def record_action(conn: sa.Connection, actor: Actor | None, session_id: int, kind: str, detail: str) -> None:
    """The audit row of a person's action on a session, in the transaction that queues the action
    (Store.submit_action calls it: no action without its row, and never two)."""
    if actor is None:
        return
    kept = detail if kind in KEEP_DETAIL else ""
    chain.append(conn, audit, [row(actor.who, kind, kept, actor.role, actor.remote, session_id)])


@dataclass(frozen=True, slots=True)
class AuditFilter:
    who: str | None = None
    session_id: int | None = None
    action: str | None = None
    limit: int = 500


def audit_log(store: Store, limit: int = 500, where: AuditFilter | None = None) -> list[dict[str, Any]]:
    """Rows newest first, filtered by user, session and action."""
    where = where or AuditFilter(limit=limit)
    query = audit.select().order_by(audit.c.id.desc()).limit(where.limit)
    if where.who:
        query = query.where(audit.c.who == where.who)
    if where.session_id is not None:
        query = query.where(audit.c.session_id == where.session_id)
    if where.action:
        query = query.where(audit.c.action == where.action)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def audit_actions(store: Store) -> list[str]:
    """Every action name in the log (the admin's filter)."""
    with store.engine.connect() as conn:
        return list(conn.scalars(sa.select(audit.c.action).distinct().order_by(audit.c.action)))
