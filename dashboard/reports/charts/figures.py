"""The session chart: BP as bars from diastolic to systolic, HR and SpO2 on a shared time axis.

Time is the local clock on the session page and the review (axis.py: a date axis, so its ticks follow any zoom),
session minutes where no session clock is given. Trace order is fixed (TRACE) so the live page can extend the
series in place with `extendData` instead of re-sending the figure. Phases and alarm limits are drawn by marks.py.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ...engine import PRIORITY_RANK
from ..format import EVENT_LABELS, alarm_label, event_detail
from .axis import SessionMinutes, TimeAxis
from .review_data import (BP_FLOOR, BP_HEADROOM, HR_RANGE, LABELLED_EVENTS, LANE_MMHG, REVIEW_EVENTS, SPO2_RANGE,
                          alarm_bars, bp_top)
from .marks import (LimitLine, edge_positions, extend_open_phase, limit_marks, open_phase_traces, phase_marks,
                    phase_spans)

# the live chart adds the phase under way as one filled trace per panel (7-9): the review has 0-6 only
TRACE = {"bp_bar": 0, "sbp": 1, "dbp": 2, "hr": 3, "spo2": 4, "alarms": 5, "events": 6}
OPEN_PHASE = [7, 8, 9]
PRIORITY_COLOURS = {"high": "#d62728", "medium": "#f2b705", "low": "#17becf", "info": "#2ca02c"}
MAX_LIVE_POINTS = 4 * 3600 * 2  # the rolling window kept by extendData: a long session at 1 Hz, with margin


def series(readings: Iterable[Mapping[str, Any]], axis: TimeAxis = SessionMinutes()) -> dict[str, dict[str, list]]:
    """Readings as {trace name: {"x": [...], "y": [...]}} on the time axis, ready to plot or extend."""
    out: dict[str, dict[str, list]] = {name: {"x": [], "y": []} for name in ("bp_bar", "sbp", "dbp", "hr", "spo2")}
    for r in readings:
        x = axis.x(r["offset_s"])
        if r.get("sbp") is not None and r.get("dbp") is not None:
            out["bp_bar"]["x"] += [x, x, None]
            out["bp_bar"]["y"] += [r["dbp"], r["sbp"], None]
            out["sbp"]["x"].append(x)
            out["sbp"]["y"].append(r["sbp"])
            out["dbp"]["x"].append(x)
            out["dbp"]["y"].append(r["dbp"])
        if r.get("hr") is not None:
            out["hr"]["x"].append(x)
            out["hr"]["y"].append(r["hr"])
        if r.get("spo2") is not None:
            out["spo2"]["x"].append(x)
            out["spo2"]["y"].append(r["spo2"])
    return out


def extend_payload(readings: Sequence[Mapping[str, Any]], open_phase_now: float | None = None,
                   axis: TimeAxis = SessionMinutes()) -> tuple[dict[str, list], list[int], int] | None:
    """The `extendData` value that appends these readings to a live chart (and, with `open_phase_now`, carries the
    shading of the phase under way to that session time), or None if nothing to add. `axis` is the chart's."""
    data = series(readings, axis)
    names = [name for name, xy in data.items() if xy["x"]]
    xs, ys, indices = [data[n]["x"] for n in names], [data[n]["y"] for n in names], [TRACE[n] for n in names]
    if open_phase_now is not None:
        phase_x, phase_y = extend_open_phase(open_phase_now, axis)
        xs, ys, indices = xs + phase_x, ys + phase_y, indices + OPEN_PHASE
    if not indices:
        return None
    return {"x": xs, "y": ys}, indices, MAX_LIVE_POINTS


def add_bp_traces(fig: go.Figure, data: Mapping[str, Mapping[str, list]]) -> None:
    """BP as bars from diastolic to systolic with each NIBP point exact: traces 0-2 of both the live and review charts."""
    fig.add_trace(go.Scatter(name="BP", mode="lines", line={"color": "#c0392b", "width": 6}, opacity=0.45,
                             hoverinfo="skip", showlegend=False, **data["bp_bar"]), row=1, col=1)
    fig.add_trace(go.Scatter(name="Systolic", mode="markers", marker={"symbol": "triangle-down", "size": 9,
                             "color": "#c0392b"}, hovertemplate="%{y:.0f} mmHg systolic<extra></extra>",
                             **data["sbp"]), row=1, col=1)
    fig.add_trace(go.Scatter(name="Diastolic", mode="markers", marker={"symbol": "triangle-up", "size": 9,
                             "color": "#7f1d1d"}, hovertemplate="%{y:.0f} mmHg diastolic<extra></extra>",
                             **data["dbp"]), row=1, col=1)


def open_phase(status: Mapping[str, Any], now_s: float) -> tuple[str, float, float] | None:
    """The phase still under way on a live chart (none before the dose and after discharge)."""
    spans = phase_spans(status, now_s)
    if not spans or status.get("discharged_at") is not None or status.get("phase") != spans[-1][0]:
        return None
    return spans[-1]


SESSION_HEIGHT = 560  # px: the session page reserves it before its chart comes (ui/session_page.py)


def session_figure(readings: Sequence[Mapping[str, Any]], transitions: Sequence[Mapping[str, Any]],
                   events: Sequence[Mapping[str, Any]], status: Mapping[str, Any], now_s: float,
                   limits: Sequence[LimitLine] = (), live: bool = False, axis: TimeAxis = SessionMinutes()
                   ) -> go.Figure:
    """The session chart; `live`: the phase under way is drawn as traces the poll extends (OPEN_PHASE) - with
    the same `axis` as the poll's extend_payload."""
    data = series(readings, axis)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=[0.5, 0.25, 0.25])
    add_bp_traces(fig, data)
    fig.add_trace(go.Scatter(name="HR", mode="lines", line={"color": "#1f6feb", "width": 1.5},
                             hovertemplate="HR %{y:.0f}/min<extra></extra>", **data["hr"]), row=2, col=1)
    fig.add_trace(go.Scatter(name="SpO2", mode="lines", line={"color": "#6f42c1", "width": 1.5},
                             hovertemplate="SpO2 %{y:.0f} %<extra></extra>", **data["spo2"]), row=3, col=1)
    fig.add_trace(_alarm_markers(transitions, axis), row=1, col=1)
    fig.add_trace(_event_markers(events, now_s, axis), row=1, col=1)
    spans = phase_spans(status, now_s)
    under_way = open_phase(status, now_s) if live else None
    if live:
        for row, trace in enumerate(open_phase_traces(under_way, axis), start=1):
            fig.add_trace(trace, row=row, col=1)
    shapes, notes = phase_marks(spans[:-1] if under_way else spans, now_s, axis)
    if under_way:
        notes.append(phase_marks([under_way], now_s, axis)[1][0])
    limit_shapes, limit_notes = limit_marks(limits)
    fig.update_layout(shapes=shapes + limit_shapes, annotations=notes + limit_notes)
    fig.update_yaxes(title_text="BP mmHg", range=[40, 230], row=1, col=1)
    fig.update_yaxes(title_text="HR /min", range=[30, 160], row=2, col=1)
    fig.update_yaxes(title_text="SpO2 %", range=[80, 101], row=3, col=1)
    fig.update_xaxes(**axis.layout())
    fig.update_xaxes(title_text=axis.title(), row=3, col=1)
    fig.update_layout(height=SESSION_HEIGHT, margin={"l": 60, "r": 30, "t": 40, "b": 40}, hovermode="x unified",
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"}, uirevision="session", template="plotly_white")
    return fig


def _alarm_markers(transitions: Sequence[Mapping[str, Any]], axis: TimeAxis) -> go.Scatter:
    raised = sorted((t for t in transitions if t["state"] == "raised"),
                    key=lambda t: PRIORITY_RANK.get(t["priority"], 0))  # the highest drawn last, on top
    return go.Scatter(
        name="Alarms", mode="markers", x=[axis.x(t["offset_s"]) for t in raised], y=[222] * len(raised),
        marker={"symbol": "diamond", "size": 11, "color": [PRIORITY_COLOURS.get(t["priority"], "#888") for t in raised],
                "line": {"width": 1, "color": "#333"}},
        text=[f"{t['code']} {t['value']}: {t['message']}" for t in raised], hovertemplate="%{text}<extra></extra>")


def _event_markers(events: Sequence[Mapping[str, Any]], end_s: float, axis: TimeAxis) -> go.Scatter:
    shown = [e for e in events if e["kind"] in EVENT_LABELS]
    offsets = [e["offset_s"] for e in shown]
    return go.Scatter(
        name="Events", mode="markers+text", x=[axis.x(o) for o in offsets], y=[48] * len(shown), cliponaxis=False,
        marker={"symbol": "line-ns-open", "size": 14, "color": "#444"}, textposition=edge_positions(offsets, end_s),
        text=[EVENT_LABELS[e["kind"]] if e["kind"] in ("dose_start", "infusion_end", "discharge") else ""
              for e in shown],
        customdata=[f"{EVENT_LABELS[e['kind']]} {event_detail(e)}".strip() for e in shown],
        hovertemplate="%{customdata}<extra></extra>")


# ---- the review chart --------------------------------------------------------------------------------

EVENT_SYMBOLS = {"dose_start": "triangle-right", "infusion_end": "triangle-left", "discharge": "square",
                 "assessment": "circle-open", "override": "x", "note": "line-ns-open"}


def review_figure(bp_readings: Sequence[Mapping[str, Any]], hr: Any, spo2: Any,
                  transitions: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]],
                  status: Mapping[str, Any], end_s: float, episodes: Sequence[Any], for_print: bool = False,
                  limits: Sequence[LimitLine] = (), axis: TimeAxis = SessionMinutes()) -> go.Figure:
    """The whole session for review: exact NIBP bars, reduced HR/SpO2 (`hr`, `spo2` have .x/.y on `axis`),
    phases, event markers and, above the BP, one lane per alarm with its spans coloured by priority.
    Trace order is TRACE, so a zoom can replace HR and SpO2 in place."""
    bp = series(bp_readings, axis)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.035, row_heights=[0.54, 0.23, 0.23])
    add_bp_traces(fig, bp)
    fig.add_trace(go.Scatter(name="HR", mode="lines", x=hr.x, y=hr.y, line={"color": "#1f6feb", "width": 1.2},
                             hovertemplate="HR %{y:.0f}/min<extra></extra>"), row=2, col=1)
    fig.add_trace(go.Scatter(name="SpO2", mode="lines", x=spo2.x, y=spo2.y, line={"color": "#6f42c1", "width": 1.2},
                             hovertemplate="SpO2 %{y:.0f} %<extra></extra>"), row=3, col=1)
    data_top = bp_top(bp_readings)
    shapes: list[dict[str, Any]] = []
    fig.add_trace(_alarm_lanes(shapes, episodes, end_s, data_top, axis), row=1, col=1)
    fig.add_trace(_review_event_markers(events, end_s, axis), row=1, col=1)
    phase_shapes, annotations = phase_marks(phase_spans(status, end_s), end_s, axis)
    limit_shapes, limit_notes = limit_marks(limits)
    # one layout update with plain dicts: plotly's add_vrect/add_shape per subplot cost ~10 ms each
    fig.update_layout(shapes=phase_shapes + shapes + limit_shapes, annotations=annotations + limit_notes)
    lanes = len({(ep.code, ep.source) for ep in episodes})
    fig.update_yaxes(title_text="BP mmHg", range=[BP_FLOOR, data_top + LANE_MMHG * lanes + BP_HEADROOM], row=1, col=1)
    fig.update_yaxes(title_text="HR /min", range=list(HR_RANGE), row=2, col=1)
    fig.update_yaxes(title_text="SpO2 %", range=list(SPO2_RANGE), row=3, col=1)
    fig.update_xaxes(showspikes=True, spikemode="across", spikethickness=1, spikecolor="#888", **axis.layout())
    fig.update_xaxes(title_text=axis.title(), range=[axis.x(0), axis.x(max(end_s, 60))], row=3, col=1)
    if not for_print:
        fig.update_xaxes(rangeslider={"visible": True, "thickness": 0.07}, row=3, col=1)
    fig.update_layout(height=680 if not for_print else 620, hovermode="x unified", template="plotly_white",
                      margin={"l": 60, "r": 30, "t": 40, "b": 40}, uirevision="review",
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"})
    return fig


def _review_event_markers(events: Sequence[Mapping[str, Any]], end_s: float, axis: TimeAxis) -> go.Scatter:
    shown = [e for e in events if e["kind"] in REVIEW_EVENTS]
    offsets = [e["offset_s"] for e in shown]
    return go.Scatter(
        name="Events", mode="markers+text", x=[axis.x(o) for o in offsets], y=[48] * len(shown), cliponaxis=False,
        marker={"symbol": [EVENT_SYMBOLS.get(e["kind"], "line-ns-open") for e in shown], "size": 12,
                "color": "#444", "line": {"width": 1.5, "color": "#444"}},
        textposition=edge_positions(offsets, end_s), text=[REVIEW_EVENTS[e["kind"]] if e["kind"] in LABELLED_EVENTS else ""
                                         for e in shown],
        customdata=[f"{REVIEW_EVENTS[e['kind']]} {event_detail(e)}{' (' + e['who'] + ')' if e.get('who') else ''}".strip()
                    for e in shown],
        hovertemplate="%{customdata}<extra></extra>")


def _alarm_lanes(shapes: list[dict[str, Any]], episodes: Sequence[Any], end_s: float, data_top: float,
                 axis: TimeAxis) -> go.Scatter:
    """A lane per alarm (code and source) above the BP readings: a bar per episode from its raise to its clear
    (to its acknowledgement if it latched), coloured by priority; a diamond at the raise carries the details."""
    xs, ys, colours, texts, hovers = [], [], [], [], []
    for bar in alarm_bars(episodes, end_s, data_top):
        ep, y = bar.episode, bar.lane_y
        shapes.append({"type": "rect", "xref": "x", "yref": "y", "x0": axis.x(bar.start_s),
                       "x1": axis.x(bar.stop_s), "y0": y - LANE_MMHG * 0.35, "y1": y + LANE_MMHG * 0.35,
                       "fillcolor": PRIORITY_COLOURS.get(ep.priority, "#888"), "opacity": 0.55, "line": {"width": 0},
                       "layer": "above"})
        xs.append(axis.x(ep.raised_at))
        ys.append(y)
        colours.append(PRIORITY_COLOURS.get(ep.priority, "#888"))
        texts.append(bar.label)  # the lane's name once, left of its first raise
        acked = "; ".join(f"{who} at {axis.label(at)}" for who, at in ep.acks) or "not acknowledged"
        hovers.append(f"{alarm_label(ep.code)} {ep.value} ({ep.priority}), acknowledged: {acked}")
    return go.Scatter(name="Alarms", mode="markers+text", x=xs, y=ys, text=texts, textposition="middle left",
                      textfont={"size": 10, "color": "#333"}, customdata=hovers, hovertemplate="%{customdata}<extra></extra>",
                      marker={"symbol": "diamond", "size": 10, "color": colours, "line": {"width": 1, "color": "#333"}})


# ---- a patient's course ------------------------------------------------------------------------------


def course_figure(sessions: Sequence[Any], rise_limits: tuple[float, float], dates: Sequence[str]) -> go.Figure:
    """Trends across a patient's sessions (reports.course.CourseSession): BP before the dose and at its peak,
    the largest rise against the label's outlier limits, minutes to ready, alarms by code (severe ones outlined),
    and sedation, dissociation and respiratory depression seen (a hollow mark: nobody assessed)."""
    x = [f"#{s.number} {day}" for s, day in zip(sessions, dates)]
    fig = make_subplots(rows=5, cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        subplot_titles=("BP before the dose and at its peak (mmHg)", "Largest rise over baseline (mmHg)",
                                        "Minutes from dose to ready for discharge", "Alarms by code (severe: red line)",
                                        "Seen after the dose"))

    def pick(attr: str, index: int) -> list[float | None]:
        return [getattr(s, attr)[index] if getattr(s, attr) is not None else None for s in sessions]

    for attr, name, colour, symbol in (("baseline", "Baseline", "#2b8a3e", "circle"),
                                       ("peak", "Peak", "#c0392b", "diamond")):
        for index, part, dash in ((0, "systolic", "solid"), (1, "diastolic", "dot")):
            fig.add_trace(go.Scatter(x=x, y=pick(attr, index), name=f"{name} {part}", mode="lines+markers",
                                     line={"color": colour, "dash": dash}, marker={"symbol": symbol, "size": 9},
                                     connectgaps=False), row=1, col=1)
    fig.add_trace(go.Bar(x=x, y=pick("rise", 0), name="Rise systolic", marker_color="#c0392b"), row=2, col=1)
    fig.add_trace(go.Bar(x=x, y=pick("rise", 1), name="Rise diastolic", marker_color="#7f1d1d"), row=2, col=1)
    for limit, label in zip(rise_limits, ("systolic", "diastolic")):
        fig.add_hline(y=limit, line_dash="dash", line_color="#888", row=2, col=1,
                      annotation_text=f"+{limit:.0f} {label}", annotation_position="top left")
    fig.add_trace(go.Bar(x=x, y=[s.ready_minutes for s in sessions], name="Minutes to ready",
                         marker_color="#1f6feb"), row=3, col=1)
    codes = sorted({code for s in sessions for code, _ in s.alarms})
    for code in codes:
        fig.add_trace(go.Bar(x=x, y=[dict(s.alarms).get(code, 0) for s in sessions], name=alarm_label(code)),
                      row=4, col=1)
    fig.add_trace(go.Scatter(x=x, y=[s.severe_alarms for s in sessions], name="Severe alarms", mode="lines+markers",
                             line={"color": "#b00020"}), row=4, col=1)
    for name, attr in (("Sedation", "sedation"), ("Dissociation", "dissociation"),
                       ("Resp. depression", "respiratory_depression")):
        flags = [getattr(s, attr) for s in sessions]
        fig.add_trace(go.Scatter(
            x=x, y=[name] * len(sessions), name=name, mode="markers", showlegend=False,
            marker={"size": 13, "color": ["#b00020" if f else "#2b8a3e" if f is False else "#fff" for f in flags],
                    "line": {"width": 1.5, "color": "#555"}},
            customdata=["yes" if f else "no" if f is False else "not assessed" for f in flags],
            hovertemplate=f"{name}: %{{customdata}}<extra></extra>"), row=5, col=1)
    fig.update_layout(barmode="group", height=1050, template="plotly_white", hovermode="x unified",
                      margin={"l": 110, "r": 20, "t": 60, "b": 40})
    return fig
