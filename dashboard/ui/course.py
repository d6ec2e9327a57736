"""A patient's course (`/course/<session id>`): every session of the patient of that session.

The URL names a session, never the patient: the label is read from the store.
Per session: its number in its series, baseline and peak BP (with the peak's minute after the dose), the
largest rise, alarms by code and how many were severe, minutes to ready, and sedation, dissociation and
respiratory depression seen; then the same per session across the series as charts.
"""
from __future__ import annotations

import time
from typing import Any

from dash import dcc, html

from ..engine import Config
from ..reports.charts.figures import course_figure
from ..reports.course import CourseSession
from ..reports.format import alarm_label
from ..reports.patient_course import load_course
from ..store import Store
from ..store.review_queries import course_of
from .course_glance import seen_text
from .scope import mark


def layout(store: Store, config: Config, sid: int) -> Any:
    rows = course_of(store, sid) if sid < 2**63 else []
    if not rows:
        return html.Div([html.H2("Course not found"), html.P(f"There is no session {sid}."),
                         dcc.Link("Back to the sessions", href="/review")], className="not-found")
    sessions = load_course(store, rows, config)
    dates = [_day(r.started_at) for r in rows]
    limits = (config.value("bp.rise.sbp"), config.value("bp.rise.dbp"))
    return html.Div([
        html.Div([dcc.Link("← Sessions", href="/review"), dcc.Link(f"Session {sid}", href=f"/review/{sid}")],
                 className="review-links no-print"),
        html.H2(f"Course of {rows[0].patient_label}"),
        html.P(f"{len(rows)} session{'s' if len(rows) != 1 else ''}, {dates[0]} to {dates[-1]}.",
               className="session-meta"),
        course_table(sessions, dates, sid, {r.id: mark(r) for r in rows}),
        dcc.Graph(id="course-chart", figure=course_figure(sessions, limits, dates), config={"displaylogo": False}),
    ], className="course-page")


def course_table(sessions: list[CourseSession], dates: list[str], current: int,
                 marks: dict[int, str] | None = None) -> Any:
    """One row per session; `marks`: REPLAY or SIMULATED by session id, for the ones that are test data."""
    marks = marks or {}
    head = ("#", "In series", "Session", "Date", "Protocol", "Dose", "Baseline BP", "Peak BP", "Peak at",
            "Largest rise", "Alarms", "Severe", "Minutes to ready", "Sedation", "Dissociation", "Resp. depression")
    body = [html.Tr([
        html.Td(str(s.number)), html.Td(str(s.series_number)),
        html.Td([dcc.Link(f"Session {s.session_id}", href=f"/review/{s.session_id}"),
                 *([html.Span(marks[s.session_id], className="test-mark")] if marks.get(s.session_id) else [])]),
        html.Td(day), html.Td(s.protocol), html.Td(s.dose or "–"), html.Td(_bp(s.baseline)), html.Td(_bp(s.peak)),
        html.Td("–" if s.peak_minute is None else f"{s.peak_minute:.0f} min after dose"),
        html.Td("–" if s.rise is None else f"+{s.rise[0]:.0f}/+{s.rise[1]:.0f}"),
        html.Td(", ".join(f"{alarm_label(code)} ×{n}" for code, n in s.alarms) or "none"),
        html.Td(str(s.severe_alarms)),
        html.Td("–" if s.ready_minutes is None else f"{s.ready_minutes:.0f}" + ("" if s.finished else " (open)")),
        html.Td(seen_text(s.sedation)), html.Td(seen_text(s.dissociation)), html.Td(seen_text(s.respiratory_depression)),
    ], className="current" if s.session_id == current else "") for s, day in zip(sessions, dates)]
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
                      className="sessions-table course-table", id="course-table")


def _bp(pair: tuple[float, float] | None) -> str:
    return "–" if pair is None else f"{pair[0]:.0f}/{pair[1]:.0f}"


def _day(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(epoch))
