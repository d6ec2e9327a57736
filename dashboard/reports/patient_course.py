"""A patient's course read from the store: the review's course page, the start page and the REMS form use it."""
from __future__ import annotations

from typing import Sequence

from ..engine import Config
from ..store import SessionRow, Store
from ..store.course_queries import assessments_of, sessions_of_patient
from ..store.review_queries import bp_readings_of, transitions_of
from .course import CourseAtStart, CourseSession, course_at_start, course_sessions, series_of


def load_course(store: Store, rows: Sequence[SessionRow], config: Config) -> list[CourseSession]:
    """One line per session of `rows` (oldest first), each read in one query per kind."""
    ids = [r.id for r in rows]
    if not ids:
        return []
    return course_sessions(rows, bp_readings_of(store, ids), transitions_of(store, ids), config,
                           assessments_of(store, ids))


def course_for_start(store: Store, patient_label: str, protocol: str, config: Config) -> CourseAtStart:
    """What a new session of `protocol` for this patient label takes from the earlier ones."""
    rows = sessions_of_patient(store, patient_label)
    return course_at_start(protocol, rows, load_course(store, rows, config), config)


def first_treatment(store: Store, row: SessionRow) -> bool:
    """The REMS form's "first treatment?": the nurse's confirmed answer, else derived from the course kept at the
    start, else (a session from before either was kept) from the earlier sessions of the same treatment."""
    if row.first_treatment is not None:
        return bool(row.first_treatment)
    if row.course:
        return bool(row.course.get("first_treatment"))
    series = series_of(row.protocol)
    return not any(series_of(r.protocol) == series for r in sessions_of_patient(store, row.patient_label, row.id))
