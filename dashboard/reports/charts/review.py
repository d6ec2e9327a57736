"""The review chart's data: exact NIBP, HR and SpO2 reduced for the visible range, and zooming in.

The first draw shows the whole session with min/max-reduced continuous series
(decimate.py). When the clinician zooms or moves the range slider, the chart's
`relayoutData` names the visible range; `zoom_patch` reads the session again and
replaces only the HR and SpO2 traces, now at full detail inside that range.
The x axis is the local clock, by the session's own clock (axis.py).
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import plotly.graph_objects as go
from dash import Patch

from ...store import SessionRow, Store
from ...store.review_queries import Continuous, continuous_between
from ..alarm_table import AlarmEpisode
from ..record import session_wall_time
from .axis import ClockAxis, SessionMinutes, TimeAxis
from .decimate import Reduced, reduce_series
from .figures import TRACE, review_figure
from .marks import LimitLine
from .review_data import review_data

_RANGE_KEY = re.compile(r"^xaxis\d*\.range(\[[01]\])?$")
_AUTORANGE_KEY = re.compile(r"^xaxis\d*\.autorange$")


def clock_axis(row: SessionRow) -> ClockAxis:
    """The session's clock as the chart's x axis."""
    return ClockAxis.of(lambda offset_s: session_wall_time(row, offset_s))


def reduced(continuous: Continuous, window: tuple[float, float] | None = None,
            axis: TimeAxis = SessionMinutes()) -> tuple[Reduced, Reduced]:
    start, end = window if window else (None, None)
    return (reduce_series(continuous.offset_s, continuous.hr, start, end, axis=axis),
            reduce_series(continuous.offset_s, continuous.spo2, start, end, axis=axis))


def figure(row: SessionRow, bp_readings: Sequence[Mapping[str, Any]], continuous: Continuous,
           transitions: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]],
           episodes: Sequence[AlarmEpisode], end_s: float, for_print: bool = False,
           limits: Sequence[LimitLine] = ()) -> go.Figure:
    """The review page's chart, on the session's clock: built from review_data(), which the PDF report draws too
    (exports/pdf_chart.py)."""
    axis = clock_axis(row)
    data = review_data(row, bp_readings, continuous, events, episodes, end_s, limits, axis=axis)
    return review_figure(data.bp, data.hr, data.spo2, transitions, events, row.status or {}, data.end_s,
                         [bar.episode for bar in data.alarms], for_print=for_print, limits=data.limits, axis=axis)


def visible_window(relayout: Mapping[str, Any] | None, axis: TimeAxis = SessionMinutes()
                   ) -> tuple[float, float] | None | str:
    """The x range (session seconds) a relayout event shows, read through the chart's axis; "all" when it went
    back to the whole session; None when the event did not touch the x range (a y zoom, a legend click, the first
    draw)."""
    if not relayout:
        return None
    if any(_AUTORANGE_KEY.match(k) and v for k, v in relayout.items()):
        return "all"
    bounds: list[Any] = []
    for key, value in relayout.items():
        if not _RANGE_KEY.match(key):
            continue
        if key.endswith("range"):
            bounds = list(value)
            break
        bounds.append(value)
    if len(bounds) != 2:
        return None
    try:
        start, end = sorted(axis.offset(b) for b in bounds)
    except (TypeError, ValueError, OverflowError):
        return None
    return (start, end)


def zoom_patch(store: Store, session_id: int, relayout: Mapping[str, Any] | None) -> Patch | None:
    """A Patch replacing the HR and SpO2 traces for the range the chart now shows, or None."""
    row = store.session(session_id)
    if row is None:
        return None
    axis = clock_axis(row)
    window = visible_window(relayout, axis)
    if window is None:
        return None
    hr, spo2 = reduced(continuous_between(store, session_id), None if window == "all" else window, axis)  # type: ignore[arg-type]
    patch = Patch()
    for name, data in (("hr", hr), ("spo2", spo2)):
        patch["data"][TRACE[name]]["x"] = data.x
        patch["data"][TRACE[name]]["y"] = data.y
    return patch
