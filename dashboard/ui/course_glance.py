"""A patient's earlier sessions at a glance: the start page's course panel and the board tile's course line.

Both read a `CourseAtStart` (reports/course.py): the panel the one the start page just read, the tile the one
kept on the session row when it was opened, so a board poll reads nothing more from the store.
"""
from __future__ import annotations

import time
from typing import Any, Mapping

from dash import html

from ..reports.course import CourseAtStart, CourseSession
from ..store import SessionRow

SERIES_LABELS = {"iv": "IV ketamine", "esketamine": "esketamine"}
LINE_KEY = "tile_line"


def series_text(course: CourseAtStart) -> str:
    """"Session 4 of the IV ketamine induction (6)" or "Maintenance session 9 of esketamine"."""
    name = SERIES_LABELS.get(course.series, course.series)
    if course.phase == "induction":
        return f"Session {course.number} of the {name} induction ({course.induction})"
    return f"Maintenance session {course.number} of {name} (induction of {course.induction} done)"


def course_panel(course: CourseAtStart, baseline_policy: str) -> Any:
    """The start page's history: per earlier session the BP peak and rise over baseline, severe alarms, time to
    readiness, sedation and dissociation seen, and the session's number in its series."""
    if not course.earlier:
        return html.Div([html.H3("No earlier session"), html.P(
            "This patient label has no session in this database: first treatment.")],
            className="course-glance", id="course-glance")
    head = ("#", "Date", "Treatment", "Baseline", "Peak", "Rise over baseline", "Severe alarms", "Ready after",
            "Sedation", "Dissociation", "Resp. depression")
    body = [html.Tr([html.Td(str(s.series_number)), html.Td(_day(s.started_at)), html.Td(_treatment(s)),
                     html.Td(_pair(s.baseline)), html.Td(_pair(s.peak)), html.Td(rise_text(s)),
                     html.Td(str(s.severe_alarms), className="severe" if s.severe_alarms else ""),
                     html.Td(_ready(s)), html.Td(seen_text(s.sedation)), html.Td(seen_text(s.dissociation)),
                     html.Td(seen_text(s.respiratory_depression))]) for s in course.earlier]
    usual = ("Usual pre-dose BP (median of the earlier sessions): " + _pair(course.usual_baseline)
             + (" — the rise alarm measures from the lower of it and today's pre-dose BP."
                if baseline_policy == "course-lower" else " (shown only: the rise alarm uses today's pre-dose BP)."))\
        if course.usual_baseline else ""
    return html.Div([
        html.H3(series_text(course), id="course-series"),
        html.P(f"{len(course.earlier)} earlier session{'s' if len(course.earlier) != 1 else ''}." + (
            f" {usual}" if usual else ""), className="session-meta"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
                   className="sessions-table course-glance-table", id="course-glance-table"),
    ], className="course-glance", id="course-glance")


def course_line(row: SessionRow) -> str:
    """The tile's one line: where the session sits in the series and how the last one went. Empty without a
    course kept at the start (replays, the simulated clinic, sessions from before 0009). Written once when the
    session opens (`LINE_KEY`): a board poll reads it for every tile, every second."""
    if not row.course:
        return ""
    line = row.course.get(LINE_KEY)
    return line if isinstance(line, str) else course_line_text(CourseAtStart.from_dict(row.course))


def course_record(course: CourseAtStart) -> dict[str, Any]:
    """The course as kept on the session row, with the tile's line made once."""
    return {**course.to_dict(), LINE_KEY: course_line_text(course)}


def course_line_text(course: CourseAtStart) -> str:
    where = (f"Session {course.number}/{course.induction} induction" if course.phase == "induction"
             else f"Maintenance session {course.number}")
    if not course.earlier:
        return f"{where} · first treatment"
    last = course.earlier[-1]
    parts = [where, f"last: peak {_pair(last.peak)} ({rise_text(last)})"]
    severe = sum(s.severe_alarms for s in course.earlier)
    if severe:
        parts.append(f"severe alarms ×{severe} in {len(course.earlier)}")
    if last.ready_minutes is not None:
        parts.append(f"ready {last.ready_minutes:.0f} min")
    seen = [name for name, flag in (("sedation", last.sedation), ("dissociation", last.dissociation)) if flag]
    if seen:
        parts.append(" + ".join(seen))
    return " · ".join(parts)


def rise_text(s: CourseSession) -> str:
    return "–" if s.rise is None else f"+{s.rise[0]:.0f}/+{s.rise[1]:.0f}"


def seen_text(flag: bool | None) -> str:
    return "not assessed" if flag is None else ("yes" if flag else "no")


def _treatment(s: CourseSession) -> str:
    return SERIES_LABELS["esketamine" if s.protocol.startswith("esketamine") else "iv"] + (
        f" {s.dose}" if s.dose else "")


def _ready(s: CourseSession) -> str:
    return "not reached" if s.ready_minutes is None else f"{s.ready_minutes:.0f} min"


def _pair(pair: tuple[float, float] | None) -> str:
    return "–" if pair is None else f"{pair[0]:.0f}/{pair[1]:.0f}"


def _day(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(epoch))


def concomitant_hint(course: CourseAtStart, labels: Mapping[str, str]) -> str:
    """Where the medicine answers shown came from."""
    if course.concomitant is None:
        return "Not answered before: ask the patient about each."
    taking = [labels[key] for key, value in course.concomitant.items() if value and key in labels]
    return (f"Carried from session {course.concomitant_from}: confirm each with the patient"
            + (f" (taking: {', '.join(taking)})." if taking else " (none taken)."))
