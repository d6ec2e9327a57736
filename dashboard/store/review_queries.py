"""Reads for the clinician's review: the filtered sessions list, a patient's course, chart windows.

Filtering, sorting and paging happen in SQL so the list stays fast with many
thousands of sessions: a page reads `page_size` rows plus one count, never the
whole table. Each function takes the `Store` and only reads.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any, Literal, Sequence

import numpy as np
import sqlalchemy as sa

from .schema import alarms, readings, sessions
from .signoff import signoffs
from .store import SessionRow, Store

SessionState = Literal["open", "finished"]
PAGE_SIZES = (25, 50, 100)


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """What the clinician asked for. Times are epoch seconds; `patient` matches part of the label."""

    started_from: float | None = None  # inclusive
    started_before: float | None = None  # exclusive
    site: str | None = None
    chair: str | None = None
    protocol: str | None = None
    patient: str | None = None
    had_alarms: bool | None = None
    state: SessionState | None = None
    sort: str = "started"
    descending: bool = True
    page: int = 0
    page_size: int = 50

    def turned_to(self, page: int) -> SessionFilter:
        return replace(self, page=max(page, 0))


@dataclass(frozen=True, slots=True)
class SessionListRow:
    id: int
    site: str
    chair: str
    patient_label: str
    protocol: str
    dose: str
    started_at: float
    ended_at: float | None
    phase: str
    peak_sbp: float | None
    peak_dbp: float | None
    alarms: int  # alarm conditions raised in the session
    signed: bool
    scenario: str | None = None  # a simulated session's scenario
    clock: str = "wall"  # "feed": a tester's replay

@dataclass(frozen=True, slots=True)
class SessionPage:
    rows: tuple[SessionListRow, ...]
    total: int  # sessions matching the filter, over all pages
    filter: SessionFilter

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.filter.page_size))


def _raised_count() -> Any:
    """Alarm conditions raised in the session (a correlated subquery: used only to sort by it)."""
    return (sa.select(sa.func.count()).where(alarms.c.session_id == sessions.c.id, alarms.c.state == "raised")
            .correlate(sessions).scalar_subquery())


def _peak(key: str) -> Any:
    return sessions.c.status[("peak", key)].as_float()


SORTS: dict[str, Any] = {
    "started": lambda: sessions.c.started_at, "chair": lambda: sessions.c.chair,
    "patient": lambda: sessions.c.patient_label, "protocol": lambda: sessions.c.protocol,
    "peak": lambda: _peak("sbp"), "alarms": _raised_count, "id": lambda: sessions.c.id,
}


def _conditions(f: SessionFilter) -> list[Any]:
    where: list[Any] = []
    if f.started_from is not None:
        where.append(sessions.c.started_at >= f.started_from)
    if f.started_before is not None:
        where.append(sessions.c.started_at < f.started_before)
    if f.site:
        where.append(sessions.c.site == f.site)
    if f.chair:
        where.append(sessions.c.chair == f.chair)
    if f.protocol:
        where.append(sessions.c.protocol == f.protocol)
    if f.patient and f.patient.strip():
        where.append(sa.func.lower(sessions.c.patient_label).contains(f.patient.strip().lower(), autoescape=True))
    if f.state == "open":
        where.append(sessions.c.ended_at.is_(None))
    elif f.state == "finished":
        where.append(sessions.c.ended_at.is_not(None))
    if f.had_alarms is not None:
        raised = sa.exists().where(alarms.c.session_id == sessions.c.id, alarms.c.state == "raised")
        where.append(raised if f.had_alarms else ~raised)
    return where


def list_sessions(store: Store, f: SessionFilter) -> SessionPage:
    """One page of the sessions matching `f`, sorted in SQL, with the total count."""
    where = _conditions(f)
    key = SORTS.get(f.sort, SORTS["started"])()
    order = [key.desc().nulls_last() if f.descending else key.asc().nulls_last(),
             sessions.c.id.desc() if f.descending else sessions.c.id.asc()]  # a stable order across pages
    query = (sa.select(sessions.c.id, sessions.c.site, sessions.c.chair, sessions.c.patient_label, sessions.c.protocol,
                       sessions.c.dose, sessions.c.started_at, sessions.c.ended_at, sessions.c.phase,
                       _peak("sbp").label("peak_sbp"), _peak("dbp").label("peak_dbp"),
                       (signoffs.c.id.is_not(None)).label("signed"), sessions.c.scenario, sessions.c.clock)
             .select_from(sessions.outerjoin(signoffs, signoffs.c.session_id == sessions.c.id))
             .where(*where).order_by(*order).limit(f.page_size).offset(f.page * f.page_size))
    with store.engine.connect() as conn:
        total = int(conn.scalar(sa.select(sa.func.count()).select_from(sessions).where(*where)) or 0)
        rows = conn.execute(query).mappings().all()
        counts = _raised_counts(conn, [r["id"] for r in rows])
    return SessionPage(tuple(SessionListRow(**r, alarms=counts.get(r["id"], 0)) for r in rows), total, f)


def _raised_counts(conn: sa.Connection, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    query = (sa.select(alarms.c.session_id, sa.func.count()).where(alarms.c.session_id.in_(ids),
                                                                   alarms.c.state == "raised")
             .group_by(alarms.c.session_id))
    return {sid: int(n) for sid, n in conn.execute(query)}


def filter_choices(store: Store) -> dict[str, list[str]]:
    """The sites, chairs and protocols that occur, for the filter drop-downs."""
    with store.engine.connect() as conn:
        return {name: list(conn.scalars(sa.select(column).distinct().order_by(column)).all())
                for name, column in (("site", sessions.c.site), ("chair", sessions.c.chair),
                                     ("protocol", sessions.c.protocol))}


# ---- a patient's course ------------------------------------------------------------


def course_of(store: Store, session_id: int) -> list[SessionRow]:
    """Every session of the patient of `session_id` (same patient label), oldest first; [] if unknown."""
    label = sa.select(sessions.c.patient_label).where(sessions.c.id == session_id).scalar_subquery()
    query = sessions.select().where(sessions.c.patient_label == label).order_by(sessions.c.started_at, sessions.c.id)
    with store.engine.connect() as conn:
        return [SessionRow(**row) for row in conn.execute(query).mappings()]


def bp_readings_of(store: Store, session_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The BP readings of several sessions in one query, each list in session-time order."""
    query = (sa.select(readings.c.session_id, readings.c.offset_s, readings.c.source, readings.c.provenance,
                       readings.c.sbp, readings.c.dbp, readings.c.map, readings.c.hr)
             .where(readings.c.session_id.in_(list(session_ids)), readings.c.sbp.is_not(None))
             .order_by(readings.c.session_id, readings.c.offset_s, readings.c.id))
    return by_session(store, query)


def by_session(store: Store, query: sa.Select) -> dict[int, list[dict[str, Any]]]:
    """The rows of a query over several sessions, grouped by their session_id (each group in the query's order)."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    with store.engine.connect() as conn:
        for row in conn.execute(query).mappings():
            out[row["session_id"]].append(dict(row))
    return dict(out)


def transitions_of(store: Store, session_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The alarm transitions of several sessions in one query, each list in session-time order."""
    query = (alarms.select().where(alarms.c.session_id.in_(list(session_ids)))
             .order_by(alarms.c.session_id, alarms.c.offset_s, alarms.c.id))
    return by_session(store, query)


# ---- chart windows -----------------------------------------------------------------


@dataclass(frozen=True)
class Continuous:
    """HR and SpO2 of a session time window as arrays (session seconds; NaN where a reading lacks it)."""

    offset_s: np.ndarray
    hr: np.ndarray
    spo2: np.ndarray


def continuous_between(store: Store, session_id: int, start_s: float | None = None,
                       end_s: float | None = None) -> Continuous:
    """Every reading with HR or SpO2 in [start_s, end_s], in session-time order (uses the offset index)."""
    query = sa.select(readings.c.offset_s, readings.c.hr, readings.c.spo2).where(
        readings.c.session_id == session_id, sa.or_(readings.c.hr.is_not(None), readings.c.spo2.is_not(None)))
    if start_s is not None:
        query = query.where(readings.c.offset_s >= start_s)
    if end_s is not None:
        query = query.where(readings.c.offset_s <= end_s)
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(readings.c.offset_s, readings.c.id)).all()
    # plain tuples first: numpy reads Row objects one by one, 80x slower; None becomes nan
    table = np.array([tuple(r) for r in rows], dtype=float).reshape(-1, 3) if rows else np.empty((0, 3))
    return Continuous(table[:, 0], table[:, 1], table[:, 2])


def readings_of(store: Store, session_id: int) -> list[dict[str, Any]]:
    """Every reading of the session with all its clocks, in session-time order (for exports)."""
    query = (readings.select().where(readings.c.session_id == session_id)
             .order_by(readings.c.offset_s, readings.c.seq))
    with store.engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]



def spo2_overview(store: Store, session_id: int, low: float, high: float) -> dict[str, Any]:
    """What the REMS form reads of the session's SpO2, counted in SQL (a live page asks it at every poll, and a
    session's stream holds thousands of readings): plausible readings (within [low, high], not flagged as artifacts)
    from the oximeter's stream and from manual checks, and the lowest of them (the earliest if tied)."""
    plausible = sa.and_(readings.c.session_id == session_id, readings.c.spo2.between(low, high),
                        readings.c.artifact.is_(sa.false()))
    counts = sa.select(readings.c.provenance == "manual", sa.func.count()).where(plausible).group_by(
        readings.c.provenance == "manual")
    lowest = (sa.select(readings.c.offset_s, readings.c.spo2, readings.c.provenance).where(plausible)
              .order_by(readings.c.spo2, readings.c.offset_s).limit(1))
    with store.engine.connect() as conn:
        by_kind = {bool(manual): int(n) for manual, n in conn.execute(counts)}
        low_row = conn.execute(lowest).mappings().first()
    return {"stream": by_kind.get(False, 0), "manual": by_kind.get(True, 0),
            "lowest": dict(low_row) if low_row else None}
