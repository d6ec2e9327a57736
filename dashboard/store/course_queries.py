"""Reads for a patient's course: the earlier sessions of a patient label, and their assessments.

Each function takes the `Store` and only reads; a course is a handful of sessions, each read in one query.
"""
from __future__ import annotations

from typing import Any, Sequence

import sqlalchemy as sa

from .review_queries import by_session
from .schema import events, sessions
from .store import SessionRow, Store


def sessions_of_patient(store: Store, patient_label: str, before_id: int | None = None) -> list[SessionRow]:
    """Every session of the patient label (exact, as typed on the start page), oldest first; with `before_id`, only
    those stored before that session."""
    query = sessions.select().where(sessions.c.patient_label == patient_label.strip())
    if before_id is not None:
        query = query.where(sessions.c.id < before_id)
    with store.engine.connect() as conn:
        return [SessionRow(**row) for row in conn.execute(query.order_by(sessions.c.started_at, sessions.c.id))
                .mappings()]


def assessments_of(store: Store, session_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The assessment events of several sessions in one query, each list in session-time order."""
    query = (sa.select(events.c.session_id, events.c.offset_s, events.c.kind, events.c.detail)
             .where(events.c.session_id.in_(list(session_ids)), events.c.kind == "assessment")
             .order_by(events.c.session_id, events.c.offset_s, events.c.id))
    return by_session(store, query)
