"""The session chart: BP as bars from diastolic to systolic, HR and SpO2 on a shared time axis.

Time is session minutes. Trace order is fixed (TRACE) so the live page can
extend the series in place with `extendData` instead of re-sending the figure.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..engine import PRIORITY_RANK
from .format import PHASE_LABELS

TRACE = {"bp_bar": 0, "sbp": 1, "dbp": 2, "hr": 3, "spo2": 4, "alarms": 5, "events": 6}
PRIORITY_COLOURS = {"high": "#d62728", "medium": "#f2b705", "low": "#17becf", "info": "#2ca02c"}
PHASE_COLOURS = {"dosing": "rgba(255,165,0,0.12)", "infusion": "rgba(255,165,0,0.12)",
                 "observation": "rgba(31,119,180,0.08)", "ready": "rgba(44,160,44,0.10)"}
EVENT_LABELS = {"dose_start": "Dose", "infusion_end": "Infusion end", "assessment": "Assessment",
                "discharge": "Discharge", "nibp_failed": "NIBP failed", "sensor_off": "Sensor off",
                "device_disconnect": "Disconnected", "device_reconnect": "Reconnected", "note": "Note"}
MAX_LIVE_POINTS = 4 * 3600 * 2  # the rolling window kept by extendData: a long session at 1 Hz, with margin


def series(readings: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, list]]:
    """Readings as {trace name: {"x": [...], "y": [...]}} in session minutes, ready to plot or extend."""
    out: dict[str, dict[str, list]] = {name: {"x": [], "y": []} for name in ("bp_bar", "sbp", "dbp", "hr", "spo2")}
    for r in readings:
        minute = r["offset_s"] / 60
        if r.get("sbp") is not None and r.get("dbp") is not None:
            out["bp_bar"]["x"] += [minute, minute, None]
            out["bp_bar"]["y"] += [r["dbp"], r["sbp"], None]
            out["sbp"]["x"].append(minute)
            out["sbp"]["y"].append(r["sbp"])
            out["dbp"]["x"].append(minute)
            out["dbp"]["y"].append(r["dbp"])
        if r.get("hr") is not None:
            out["hr"]["x"].append(minute)
            out["hr"]["y"].append(r["hr"])
        if r.get("spo2") is not None:
            out["spo2"]["x"].append(minute)
            out["spo2"]["y"].append(r["spo2"])
    return out


def extend_payload(readings: Sequence[Mapping[str, Any]]) -> tuple[dict[str, list], list[int], int] | None:
    """The `extendData` value that appends these readings to a live chart, or None if nothing to add."""
    data = series(readings)
    names = [name for name, xy in data.items() if xy["x"]]
    if not names:
        return None
    return ({"x": [data[n]["x"] for n in names], "y": [data[n]["y"] for n in names]},
            [TRACE[n] for n in names], MAX_LIVE_POINTS)


def session_figure(readings: Sequence[Mapping[str, Any]], transitions: Sequence[Mapping[str, Any]],
                   events: Sequence[Mapping[str, Any]], status: Mapping[str, Any], now_s: float) -> go.Figure:
    data = series(readings)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=[0.5, 0.25, 0.25])
    fig.add_trace(go.Scatter(name="BP", mode="lines", line={"color": "#c0392b", "width": 6}, opacity=0.45,
                             hoverinfo="skip", showlegend=False, **data["bp_bar"]), row=1, col=1)
    fig.add_trace(go.Scatter(name="Systolic", mode="markers", marker={"symbol": "triangle-down", "size": 9,
                             "color": "#c0392b"}, hovertemplate="%{y:.0f} mmHg systolic<extra></extra>",
                             **data["sbp"]), row=1, col=1)
    fig.add_trace(go.Scatter(name="Diastolic", mode="markers", marker={"symbol": "triangle-up", "size": 9,
                             "color": "#7f1d1d"}, hovertemplate="%{y:.0f} mmHg diastolic<extra></extra>",
                             **data["dbp"]), row=1, col=1)
    fig.add_trace(go.Scatter(name="HR", mode="lines", line={"color": "#1f6feb", "width": 1.5},
                             hovertemplate="HR %{y:.0f}/min<extra></extra>", **data["hr"]), row=2, col=1)
    fig.add_trace(go.Scatter(name="SpO2", mode="lines", line={"color": "#6f42c1", "width": 1.5},
                             hovertemplate="SpO2 %{y:.0f} %<extra></extra>", **data["spo2"]), row=3, col=1)
    fig.add_trace(_alarm_markers(transitions), row=1, col=1)
    fig.add_trace(_event_markers(events), row=1, col=1)
    _shade_phases(fig, status, now_s)
    fig.update_yaxes(title_text="BP mmHg", range=[40, 230], row=1, col=1)
    fig.update_yaxes(title_text="HR /min", range=[30, 160], row=2, col=1)
    fig.update_yaxes(title_text="SpO2 %", range=[80, 101], row=3, col=1)
    fig.update_xaxes(title_text="minutes from session start", row=3, col=1)
    fig.update_layout(height=560, margin={"l": 60, "r": 20, "t": 40, "b": 40}, hovermode="x unified",
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"}, uirevision="session", template="plotly_white")
    return fig


def _alarm_markers(transitions: Sequence[Mapping[str, Any]]) -> go.Scatter:
    raised = sorted((t for t in transitions if t["state"] == "raised"),
                    key=lambda t: PRIORITY_RANK.get(t["priority"], 0))  # the highest drawn last, on top
    return go.Scatter(
        name="Alarms", mode="markers", x=[t["offset_s"] / 60 for t in raised], y=[222] * len(raised),
        marker={"symbol": "diamond", "size": 11, "color": [PRIORITY_COLOURS.get(t["priority"], "#888") for t in raised],
                "line": {"width": 1, "color": "#333"}},
        text=[f"{t['code']} {t['value']}: {t['message']}" for t in raised], hovertemplate="%{text}<extra></extra>")


def _event_markers(events: Sequence[Mapping[str, Any]]) -> go.Scatter:
    shown = [e for e in events if e["kind"] in EVENT_LABELS]
    return go.Scatter(
        name="Events", mode="markers+text", x=[e["offset_s"] / 60 for e in shown], y=[48] * len(shown),
        marker={"symbol": "line-ns-open", "size": 14, "color": "#444"}, textposition="top center",
        text=[EVENT_LABELS[e["kind"]] if e["kind"] in ("dose_start", "infusion_end", "discharge") else ""
              for e in shown],
        customdata=[f"{EVENT_LABELS[e['kind']]} {e['detail']}".strip() for e in shown],
        hovertemplate="%{customdata}<extra></extra>")


def phase_spans(status: Mapping[str, Any], now_s: float) -> list[tuple[str, float, float]]:
    """(phase, start s, end s) of each phase after the dose, from the status snapshot."""
    dose = status.get("dose_at")
    if dose is None:
        return []
    end = status.get("discharged_at") or now_s
    dosing_end = status.get("infusion_end_at") or status.get("dosing_end_at") or dose
    spans = []
    ready = status.get("ready_at")
    first = "infusion" if status.get("infusion_end_at") is not None or status.get("phase") == "infusion" else "dosing"
    if status.get("phase") in ("dosing", "infusion"):
        return [(first, dose, end)]
    spans.append((first, dose, max(dosing_end, dose)))
    spans.append(("observation", max(dosing_end, dose), ready if ready is not None else end))
    if ready is not None:
        spans.append(("ready", ready, end))
    return [s for s in spans if s[2] > s[1]]


def _shade_phases(fig: go.Figure, status: Mapping[str, Any], now_s: float) -> None:
    for phase, start, end in phase_spans(status, now_s):
        fig.add_vrect(x0=start / 60, x1=end / 60, fillcolor=PHASE_COLOURS[phase], line_width=0, layer="below")
        fig.add_annotation(x=start / 60, y=0.99, yref="y domain", xanchor="left", yanchor="top", showarrow=False,
                           text=PHASE_LABELS[phase], font={"size": 10, "color": "#555"})


# ---- the review chart --------------------------------------------------------------------------------

REVIEW_EVENTS = {**EVENT_LABELS, "override": "Override"}
EVENT_SYMBOLS = {"dose_start": "triangle-right", "infusion_end": "triangle-left", "discharge": "square",
                 "assessment": "circle-open", "override": "x", "note": "line-ns-open"}
LABELLED_EVENTS = frozenset({"dose_start", "infusion_end", "discharge"})
SPAN_FILL = {"high": "rgba(214,39,40,0.18)", "medium": "rgba(242,183,5,0.22)", "low": "rgba(23,190,207,0.15)"}
ALARM_ROW = {"bp": 1, "hr": 2, "spo2": 3}  # each physiological alarm spans its own vital's panel


def review_figure(bp_readings: Sequence[Mapping[str, Any]], hr: Any, spo2: Any,
                  transitions: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]],
                  status: Mapping[str, Any], end_s: float, episodes: Sequence[Any], for_print: bool = False) -> go.Figure:
    """The whole session for review: exact NIBP bars, reduced HR/SpO2 (`hr`, `spo2` have .x/.y in minutes),
    phases, event markers and alarm spans. Trace order is TRACE, so a zoom can replace HR and SpO2 in place."""
    bp = series(bp_readings)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.035, row_heights=[0.5, 0.25, 0.25])
    fig.add_trace(go.Scatter(name="BP", mode="lines", line={"color": "#c0392b", "width": 6}, opacity=0.45,
                             hoverinfo="skip", showlegend=False, **bp["bp_bar"]), row=1, col=1)
    fig.add_trace(go.Scatter(name="Systolic", mode="markers", marker={"symbol": "triangle-down", "size": 9,
                             "color": "#c0392b"}, hovertemplate="%{y:.0f} mmHg systolic<extra></extra>",
                             **bp["sbp"]), row=1, col=1)
    fig.add_trace(go.Scatter(name="Diastolic", mode="markers", marker={"symbol": "triangle-up", "size": 9,
                             "color": "#7f1d1d"}, hovertemplate="%{y:.0f} mmHg diastolic<extra></extra>",
                             **bp["dbp"]), row=1, col=1)
    fig.add_trace(go.Scatter(name="HR", mode="lines", x=hr.x, y=hr.y, line={"color": "#1f6feb", "width": 1.2},
                             hovertemplate="HR %{y:.0f}/min<extra></extra>"), row=2, col=1)
    fig.add_trace(go.Scatter(name="SpO2", mode="lines", x=spo2.x, y=spo2.y, line={"color": "#6f42c1", "width": 1.2},
                             hovertemplate="SpO2 %{y:.0f} %<extra></extra>"), row=3, col=1)
    fig.add_trace(_alarm_markers(transitions), row=1, col=1)
    fig.add_trace(_review_event_markers(events), row=1, col=1)
    _shade_phases(fig, status, end_s)
    _alarm_spans(fig, episodes, end_s)
    top = max([230.0] + [r["sbp"] + 10 for r in bp_readings if r.get("sbp") is not None])
    fig.update_yaxes(title_text="BP mmHg", range=[40, top], row=1, col=1)
    fig.update_yaxes(title_text="HR /min", range=[30, 160], row=2, col=1)
    fig.update_yaxes(title_text="SpO2 %", range=[80, 101], row=3, col=1)
    fig.update_xaxes(showspikes=True, spikemode="across", spikethickness=1, spikecolor="#888")
    fig.update_xaxes(title_text="minutes from session start", range=[0, max(end_s, 60) / 60], row=3, col=1)
    if not for_print:
        fig.update_xaxes(rangeslider={"visible": True, "thickness": 0.07}, row=3, col=1)
    fig.update_layout(height=640 if not for_print else 620, hovermode="x unified", template="plotly_white",
                      margin={"l": 60, "r": 20, "t": 40, "b": 40}, uirevision="review",
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"})
    return fig


def _review_event_markers(events: Sequence[Mapping[str, Any]]) -> go.Scatter:
    shown = [e for e in events if e["kind"] in REVIEW_EVENTS]
    return go.Scatter(
        name="Events", mode="markers+text", x=[e["offset_s"] / 60 for e in shown], y=[48] * len(shown),
        marker={"symbol": [EVENT_SYMBOLS.get(e["kind"], "line-ns-open") for e in shown], "size": 12,
                "color": "#444", "line": {"width": 1.5, "color": "#444"}},
        textposition="top center", text=[REVIEW_EVENTS[e["kind"]] if e["kind"] in LABELLED_EVENTS else ""
                                         for e in shown],
        customdata=[f"{REVIEW_EVENTS[e['kind']]} {e['detail']}{' (' + e['who'] + ')' if e.get('who') else ''}".strip()
                    for e in shown],
        hovertemplate="%{customdata}<extra></extra>")


def _alarm_spans(fig: go.Figure, episodes: Sequence[Any], end_s: float) -> None:
    """Each alarm from its raise to its clear (or acknowledgement, if latched) as a band in its vital's panel."""
    for ep in episodes:
        stop = ep.cleared_at if ep.cleared_at is not None else end_s
        if ep.latched and ep.acknowledged_at is not None:
            stop = max(stop, ep.acks[-1][1])  # a latched alarm stays shown until seen
        row = ALARM_ROW.get(ep.code.split(".")[0], 1)
        fig.add_vrect(x0=ep.raised_at / 60, x1=max(stop, ep.raised_at + 5) / 60, row=row, col=1, line_width=0,
                      fillcolor=SPAN_FILL.get(ep.priority, "rgba(120,120,120,0.15)"), layer="below")
