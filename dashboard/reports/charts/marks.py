"""What the session charts draw besides the readings: the phases shaded, and the alarm limits as reference lines.

Plain layout dicts (one `update_layout` per figure: plotly's add_vrect/add_shape per subplot cost ~10 ms each).
The three panels are BP (y), HR (y2) and SpO2 (y3), sharing one time axis on x (axis.py: the clock, or session
minutes); positions are computed in session seconds and placed through it.

Phases come from the status snapshot's history of phase changes (readiness can be met and lost again, so
`ready_at`, the first time, is not enough). On the live chart the phase still under way is not a shape but a
filled trace per panel (OPEN_PHASE_TRACES) that the poll extends with the readings, so its shading keeps up
with the clock without re-sending the figure.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import plotly.graph_objects as go

from ...engine import Config
from ..format import PHASE_LABELS
from .axis import SessionMinutes, TimeAxis

PHASE_COLOURS = {"dosing": "rgba(255,165,0,0.12)", "infusion": "rgba(255,165,0,0.12)",
                 "observation": "rgba(31,119,180,0.08)", "ready": "rgba(44,160,44,0.10)"}
AXES = ("y", "y2", "y3")  # BP, HR, SpO2
PANEL_TOPS = (230.0, 160.0, 101.0)  # the live chart's fixed ranges: an open phase's fill reaches to the top
LINE_COLOURS = {"high": "#d62728", "medium": "#e0a800", "low": "#17becf"}  # IEC 60601-1-8, as the board
LABEL_COLOURS = {"high": "#b01e1e", "medium": "#7a5c00", "low": "#0d6f7a"}  # darker: readable on white
RIGHT_EDGE = 0.9  # a label starting past this share of the x range is anchored to its right, not clipped


@dataclass(frozen=True, slots=True)
class LimitLine:
    axis: str  # y, y2 or y3
    value: float
    priority: str
    label: str
    dash: str = "dash"


def limit_lines(config: Config, protocol: str) -> list[LimitLine]:
    """The alarm limits in force for the protocol (dashboard/engine/defaults.toml, with its overrides)."""
    c = config.for_protocol(protocol)
    return [
        LimitLine("y", c.value("bp.severe.sbp"), c.priority("bp.severe"), f"SBP {c.value('bp.severe.sbp'):g}"),
        LimitLine("y", c.value("bp.high.sbp"), c.priority("bp.high"), f"SBP {c.value('bp.high.sbp'):g}"),
        LimitLine("y", c.value("bp.severe.dbp"), c.priority("bp.severe"), f"DBP {c.value('bp.severe.dbp'):g}", "dot"),
        LimitLine("y", c.value("bp.high.dbp"), c.priority("bp.high"), f"DBP {c.value('bp.high.dbp'):g}", "dot"),
        LimitLine("y2", c.value("hr.high.above"), c.priority("hr.high"), f"HR {c.value('hr.high.above'):g}"),
        LimitLine("y2", c.value("hr.low.below"), c.priority("hr.low"), f"HR {c.value('hr.low.below'):g}"),
        LimitLine("y3", c.value("spo2.low.medium_below"), "medium", f"SpO2 {c.value('spo2.low.medium_below'):g}"),
        LimitLine("y3", c.value("spo2.low.high_below"), "high", f"SpO2 {c.value('spo2.low.high_below'):g}"),
    ]


def limit_marks(limits: Sequence[LimitLine]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(shapes, annotations): a line across the panel at each limit, its label inside the right edge."""
    shapes, notes = [], []
    for line in limits:
        shapes.append({"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": line.axis, "y0": line.value,
                       "y1": line.value, "layer": "below",
                       "line": {"color": LINE_COLOURS[line.priority], "width": 1, "dash": line.dash}})
        notes.append({"xref": "x domain", "x": 1, "xanchor": "right", "yref": line.axis, "y": line.value,
                      "yanchor": "top" if line.dash == "dot" else "bottom",  # DBP under its line, SBP over
                      "showarrow": False, "text": line.label,
                      "font": {"size": 10, "color": LABEL_COLOURS[line.priority]}})
    return shapes, notes


def phase_spans(status: Mapping[str, Any], now_s: float) -> list[tuple[str, float, float]]:
    """(phase, start s, end s) of each shaded phase, the last one up to the discharge or `now_s`."""
    history = status.get("phases")
    if not history:
        return _spans_before_history(status, now_s)
    end = status.get("discharged_at") or now_s
    spans = []
    for (phase, start), following in zip(history, [*history[1:], None]):
        stop = following[1] if following else end
        if phase in PHASE_COLOURS and stop > start:
            spans.append((phase, start, stop))
    return spans


def _spans_before_history(status: Mapping[str, Any], now_s: float) -> list[tuple[str, float, float]]:
    """A snapshot stored before the phase history was kept: the phases from the dose, infusion end and first ready."""
    dose = status.get("dose_at")
    if dose is None:
        return []
    end = status.get("discharged_at") or now_s
    dosing_end = status.get("infusion_end_at") or status.get("dosing_end_at") or dose
    first = "infusion" if status.get("infusion_end_at") is not None or status.get("phase") == "infusion" else "dosing"
    if status.get("phase") in ("dosing", "infusion"):
        return [(first, dose, end)]
    ready = status.get("ready_at")
    spans = [(first, dose, max(dosing_end, dose)),
             ("observation", max(dosing_end, dose), ready if ready is not None else end)]
    if ready is not None:
        spans.append(("ready", ready, end))
    return [s for s in spans if s[2] > s[1]]


def phase_marks(spans: Sequence[tuple[str, float, float]], x_end_s: float, time_axis: TimeAxis = SessionMinutes()
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(shapes, annotations): each phase shaded in all three panels, its name at its start on the BP panel."""
    shapes, notes = [], []
    for phase, start, end in spans:
        for axis in AXES:
            shapes.append({"type": "rect", "xref": "x", "yref": f"{axis} domain", "x0": time_axis.x(start),
                           "x1": time_axis.x(end), "y0": 0, "y1": 1, "fillcolor": PHASE_COLOURS[phase],
                           "line": {"width": 0}, "layer": "below"})
        notes.append(phase_label(phase, start, x_end_s, time_axis))
    return shapes, notes


def phase_label(phase: str, start_s: float, x_end_s: float, time_axis: TimeAxis = SessionMinutes()
                ) -> dict[str, Any]:
    late = x_end_s > 0 and start_s > RIGHT_EDGE * x_end_s  # near the right edge: written leftwards from there
    return {"x": time_axis.x(x_end_s if late else start_s), "y": 0.99, "xref": "x", "yref": "y domain",
            "xanchor": "right" if late else "left", "yanchor": "top", "showarrow": False,
            "text": PHASE_LABELS[phase], "font": {"size": 10, "color": "#555"}}


def open_phase_traces(span: tuple[str, float, float] | None, time_axis: TimeAxis = SessionMinutes()
                      ) -> list[go.Scatter]:
    """The phase under way on the live chart, one filled trace per panel in BP, HR, SpO2 order (empty when there
    is none)."""
    traces = []
    for axis, top in zip(AXES, PANEL_TOPS):
        traces.append(go.Scatter(
            name=f"phase {axis}", x=[time_axis.x(span[1]), time_axis.x(span[2])] if span else [],
            y=[top, top] if span else [],
            mode="lines", line={"width": 0}, fill="tozeroy", fillcolor=PHASE_COLOURS[span[0]] if span else None,
            hoverinfo="skip", showlegend=False))
    return traces


def extend_open_phase(now_s: float, time_axis: TimeAxis = SessionMinutes()
                      ) -> tuple[list[list[float]], list[list[float]]]:
    """extendData's x and y for the open phase's traces: one more point, at the panel tops, now."""
    return [[time_axis.x(now_s)]] * len(AXES), [[top] for top in PANEL_TOPS]


def edge_positions(offsets_s: Sequence[float], end_s: float) -> list[str]:
    """Where an event's label goes (session seconds): centred on it, or to its left near the right edge (not
    clipped there)."""
    return ["top left" if end_s > 0 and x > RIGHT_EDGE * end_s else "top center" for x in offsets_s]
