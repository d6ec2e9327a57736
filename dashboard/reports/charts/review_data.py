"""What the review chart shows, as plain values: one step shared by the review page's plotly figure and the PDF
report's drawing (exports/pdf_chart.py), so the screen and the paper cannot drift apart.

NIBP exact; HR and SpO2 thinned by decimate.py (peaks kept); the phases; a lane per alarm above the BP with a bar
per episode; the events; the alarm limits in force. Times are session seconds, but for the thinned HR and SpO2,
whose x is the chart's axis (axis.py: the review figure's clock, the PDF's session minutes, which it labels with
the clock itself).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ...store import SessionRow
from ...store.review_queries import Continuous
from ..alarm_table import AlarmEpisode
from ..format import EVENT_LABELS, alarm_label
from .axis import SessionMinutes, TimeAxis
from .decimate import Reduced, reduce_series
from .marks import LimitLine, phase_spans

REVIEW_EVENTS = {**EVENT_LABELS, "override": "Override"}
LABELLED_EVENTS = frozenset({"dose_start", "infusion_end", "discharge"})  # named on the chart; the rest a mark
LANE_MMHG = 9  # height of one alarm lane above the BP readings
BP_FLOOR, BP_HEADROOM, BP_LEAST_TOP = 40.0, 12.0, 200.0  # mmHg: the BP panel's bottom, space above the lanes
HR_RANGE, SPO2_RANGE = (30.0, 160.0), (80.0, 101.0)


@dataclass(frozen=True, slots=True)
class AlarmBar:
    """One alarm episode in its lane: from its raise to its clear (to its acknowledgement if it latched)."""
    lane: int
    lane_y: float  # mmHg: the lane's centre on the BP panel
    start_s: float
    stop_s: float
    priority: str
    label: str  # the lane's name, on its first bar only
    episode: AlarmEpisode


@dataclass(frozen=True, slots=True)
class ChartEvent:
    offset_s: float
    kind: str
    name: str  # REVIEW_EVENTS' word
    shown_label: str  # written beside the mark: the dose, infusion end and discharge only


@dataclass(frozen=True)
class ReviewData:
    bp: tuple[Mapping[str, Any], ...]  # the NIBP readings, every one
    hr: Reduced  # the axis' x (review_data's `axis`) and values, None where the line breaks
    spo2: Reduced
    phases: tuple[tuple[str, float, float], ...]  # (phase, start s, end s)
    alarms: tuple[AlarmBar, ...]
    events: tuple[ChartEvent, ...]
    limits: tuple[LimitLine, ...]
    end_s: float
    data_top: float  # mmHg: above the highest systolic; the alarm lanes start here
    lanes: int

    @property
    def bp_range(self) -> tuple[float, float]:
        return (BP_FLOOR, self.data_top + LANE_MMHG * self.lanes + BP_HEADROOM)

    @property
    def x_end_s(self) -> float:
        """The time axis' end: the session's, at least an hour wide."""
        return max(self.end_s, 60.0)


def continuous_from(readings: Sequence[Mapping[str, Any]]) -> Continuous:
    """HR and SpO2 arrays from reading dicts already in memory (the exports hold them all)."""
    rows = [(r["offset_s"], r["hr"], r["spo2"]) for r in readings if r["hr"] is not None or r["spo2"] is not None]
    table = np.array(rows, dtype=float).reshape(-1, 3) if rows else np.empty((0, 3))
    return Continuous(table[:, 0], table[:, 1], table[:, 2])


def bp_top(bp_readings: Sequence[Mapping[str, Any]]) -> float:
    return max([BP_LEAST_TOP] + [r["sbp"] + 8 for r in bp_readings if r.get("sbp") is not None])


def alarm_bars(episodes: Sequence[AlarmEpisode], end_s: float, data_top: float) -> list[AlarmBar]:
    lanes: dict[tuple[str, str], int] = {}
    bars = []
    for ep in episodes:
        new = (ep.code, ep.source) not in lanes
        lane = lanes.setdefault((ep.code, ep.source), len(lanes))
        stop = ep.cleared_at if ep.cleared_at is not None else end_s
        if ep.latched and ep.acks:
            stop = max(stop, ep.acks[-1][1])  # a latched alarm stays shown until seen
        bars.append(AlarmBar(lane, data_top + LANE_MMHG * (lane + 0.5), ep.raised_at, max(stop, ep.raised_at + 5),
                             ep.priority, alarm_label(ep.code) if new else "", ep))
    return bars


def chart_events(events: Sequence[Mapping[str, Any]]) -> list[ChartEvent]:
    return [ChartEvent(e["offset_s"], e["kind"], REVIEW_EVENTS[e["kind"]],
                       REVIEW_EVENTS[e["kind"]] if e["kind"] in LABELLED_EVENTS else "")
            for e in events if e["kind"] in REVIEW_EVENTS]


def review_data(row: SessionRow, bp_readings: Sequence[Mapping[str, Any]], continuous: Continuous,
                events: Sequence[Mapping[str, Any]], episodes: Sequence[AlarmEpisode], end_s: float,
                limits: Sequence[LimitLine] = (), axis: TimeAxis = SessionMinutes()) -> ReviewData:
    bp = tuple(r for r in bp_readings if r.get("sbp") is not None and r.get("dbp") is not None)
    top = bp_top(bp)
    bars = alarm_bars(episodes, end_s, top)
    return ReviewData(
        bp=bp, hr=reduce_series(continuous.offset_s, continuous.hr, axis=axis),
        spo2=reduce_series(continuous.offset_s, continuous.spo2, axis=axis),
        phases=tuple(phase_spans(row.status or {}, end_s)), alarms=tuple(bars), events=tuple(chart_events(events)),
        limits=tuple(limits), end_s=end_s, data_top=top, lanes=len({(b.episode.code, b.episode.source) for b in bars}))
