"""The review chart drawn into the PDF report with fpdf2's own vector drawing: no browser, sharp in print.

The same chart as the review page, from the same values (charts/review_data.py): BP bars from diastolic to
systolic with the systolic (▼) and diastolic (▲) marks, HR and SpO2 on a shared time axis, the phases shaded,
a lane per alarm above the BP, the events and the alarm limits. Kaleido started a Chromium for every export
(4.5-6.5 s); this draws in milliseconds. The time axis reads local clock time with session minutes under each
tick; a replay's, time into its feed (h:mm): a replay has no clock time of its own (its feed has none), and the
clock it ran on would put its end after the report was printed.

Colours are the screen's; where the screen draws with transparency the colour is mixed with white here
(the same look on paper, and no transparency groups for old PDF readers).
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from fpdf import FPDF

from ..charts.decimate import Reduced
from ..charts.figures import PRIORITY_COLOURS
from ..charts.marks import LABEL_COLOURS, LINE_COLOURS, PHASE_COLOURS, phase_label
from ..charts.review_data import HR_RANGE, LANE_MMHG, SPO2_RANGE, ReviewData
from ..format import PHASE_LABELS, session_clock

BP_COLOUR, DBP_COLOUR, HR_COLOUR, SPO2_COLOUR = "#c0392b", "#7f1d1d", "#1f6feb", "#6f42c1"
BP_BAR_OPACITY, ALARM_OPACITY = 0.45, 0.55  # as the screen's traces and shapes
GRID, AXIS_TEXT, FRAME = "#e5e5e5", "#444444", "#bbbbbb"
PANEL_SHARES = (0.54, 0.23, 0.23)  # BP, HR, SpO2: the review figure's row heights
GUTTER_L, GUTTER_R, LEGEND_H, AXIS_H, GAP = 13.0, 2.0, 5.0, 10.0, 2.5  # mm
TICK_STEPS_S = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 14400)
MAX_TICKS = 9
CLOCK_TITLE = "clock time (minutes from session start)"
FEED_TITLE = "time into the replayed feed (h:mm): a replay has no clock time"
DASHES = {"dash": (1.6, 1.0), "dot": (0.35, 0.8)}  # mm
AXES = {"y": "bp", "y2": "hr", "y3": "spo2"}  # a LimitLine's plotly axis -> its panel
Y_TICKS = {"bp": 20.0, "hr": 20.0, "spo2": 5.0}


@dataclass(frozen=True, slots=True)
class Panel:
    """One panel's box on the page (mm) and its value range."""
    name: str
    x: float
    y: float
    w: float
    h: float
    low: float
    high: float

    def py(self, value: float) -> float:
        return self.y + self.h * (self.high - value) / (self.high - self.low)


@dataclass(frozen=True, slots=True)
class Tick:
    offset_s: float
    clock: str  # HH:MM (HH:MM:SS for a sped-up simulation)
    minutes: str  # session minutes


def rgb(colour: str, opacity: float = 1.0) -> tuple[int, int, int]:
    """"#rrggbb" or "rgba(r,g,b,a)" as RGB, mixed with white for what shows through."""
    if colour.startswith("#"):
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    else:
        parts = [float(p) for p in re.findall(r"[\d.]+", colour)]
        (r, g, b), opacity = parts[:3], opacity * (parts[3] if len(parts) > 3 else 1.0)
    return tuple(round(255 - (255 - c) * opacity) for c in (r, g, b))  # type: ignore[return-value]


def clock_ticks(wall: Callable[[float], float], x_end_s: float) -> list[Tick]:
    """Ticks on round local clock times (every 5, 10, 15, 30... minutes: at most MAX_TICKS), each with its
    session minute. `wall`: session seconds -> epoch seconds (linear: the session's clock)."""
    start, end = wall(0.0), wall(x_end_s)
    rate = (end - start) / x_end_s if x_end_s > 0 else 1.0  # wall seconds per session second (1/speed)
    step = next((s for s in TICK_STEPS_S if (end - start) / s <= MAX_TICKS), TICK_STEPS_S[-1])
    zone = time.localtime(start).tm_gmtoff
    first = math.ceil((start + zone) / step) * step - zone  # a round time on the local clock
    pattern = "%H:%M:%S" if step < 60 else "%H:%M"
    ticks = []
    at = first
    while at <= end + 1e-6:
        offset = (at - start) / rate
        minutes = f"{offset / 60:.0f} min" if step >= 60 else session_clock(offset)  # seconds apart: m:ss
        ticks.append(Tick(offset, time.strftime(pattern, time.localtime(at)), minutes))
        at += step
    return ticks


def feed_ticks(x_end_s: float) -> list[Tick]:
    """A replay's ticks: round times into the feed (h:mm), at most MAX_TICKS."""
    step = next((s for s in TICK_STEPS_S if x_end_s / s <= MAX_TICKS), TICK_STEPS_S[-1])
    return [Tick(float(at), f"{at // 3600}:{at % 3600 // 60:02d}", "") for at in range(0, int(x_end_s) + 1, step)]


def draw_chart(pdf: FPDF, data: ReviewData, wall: Callable[[float], float] | None, x: float, y: float, w: float,
               h: float, face: str, safe: Callable[[str], str] = str) -> list[Panel]:
    """The chart in the box (mm); returns the panels drawn (their boxes and ranges). `wall`: session seconds ->
    epoch seconds, for the clock-time axis; None for a replay (time into the feed)."""
    panels = _panels(data, x + GUTTER_L, y + LEGEND_H, w - GUTTER_L - GUTTER_R, h - LEGEND_H - AXIS_H)
    bp, hr, spo2 = panels
    sx = _x_scale(bp, data.x_end_s)
    pdf.set_line_width(0.15)
    for panel in panels:
        _phases(pdf, panel, data, sx)
        _grid(pdf, panel, face)
    ticks = clock_ticks(wall, data.x_end_s) if wall else feed_ticks(data.x_end_s)
    _time_axis(pdf, panels, ticks, sx, face, CLOCK_TITLE if wall else FEED_TITLE)
    for panel in panels:
        with pdf.rect_clip(panel.x, panel.y, panel.w, panel.h):  # off-scale values end at the edge, as on screen
            _limits(pdf, panel, data)
            if panel is bp:
                _bp(pdf, bp, data, sx)
                _alarms(pdf, bp, data, sx)
            else:
                _series(pdf, panel, data.hr if panel is hr else data.spo2, HR_COLOUR if panel is hr else SPO2_COLOUR,
                        sx)
    _limit_names(pdf, panels, data, face)
    _alarm_names(pdf, bp, data, sx, face, safe)
    _events(pdf, bp, data, sx, face, safe)
    _phase_names(pdf, bp, data, sx, face, safe)
    _legend(pdf, x + GUTTER_L, y, face)
    for panel, title in zip(panels, ("BP mmHg", "HR /min", "SpO2 %")):
        _frame(pdf, panel)
        with pdf.rotation(90, panel.x - GUTTER_L + 2.2, panel.y + panel.h / 2):  # up the left edge, as on screen
            _text(pdf, face, 6.5, AXIS_TEXT, panel.x - GUTTER_L + 2.2, panel.y + panel.h / 2, title, align="C")
    pdf.set_draw_color(0)
    pdf.set_fill_color(255)
    pdf.set_text_color(0)
    pdf.set_line_width(0.2)
    return panels


def _panels(data: ReviewData, x: float, y: float, w: float, h: float) -> list[Panel]:
    usable = h - GAP * (len(PANEL_SHARES) - 1)
    ranges = (("bp", *data.bp_range), ("hr", *HR_RANGE), ("spo2", *SPO2_RANGE))
    panels, top = [], y
    for (name, low, high), share in zip(ranges, PANEL_SHARES):
        panels.append(Panel(name, x, top, w, usable * share, low, high))
        top += usable * share + GAP
    return panels


def _x_scale(panel: Panel, x_end_s: float) -> Callable[[float], float]:
    return lambda offset_s: panel.x + panel.w * offset_s / x_end_s


def _phases(pdf: FPDF, panel: Panel, data: ReviewData, sx: Callable[[float], float]) -> None:
    for phase, start, end in data.phases:
        pdf.set_fill_color(*rgb(PHASE_COLOURS[phase]))
        left, right = max(sx(start), panel.x), min(sx(end), panel.x + panel.w)
        if right > left:
            pdf.rect(left, panel.y, right - left, panel.h, style="F")


def _grid(pdf: FPDF, panel: Panel, face: str) -> None:
    step = Y_TICKS[panel.name]
    value = math.ceil(panel.low / step) * step
    pdf.set_draw_color(*rgb(GRID))
    while value <= panel.high:
        y = panel.py(value)
        pdf.line(panel.x, y, panel.x + panel.w, y)
        _text(pdf, face, 6, AXIS_TEXT, panel.x - 1.0, y + 0.9, f"{value:.0f}", align="R")
        value += step


def _time_axis(pdf: FPDF, panels: Sequence[Panel], ticks: Sequence[Tick], sx: Callable[[float], float],
               face: str, title: str) -> None:
    bottom = panels[-1].y + panels[-1].h
    pdf.set_draw_color(*rgb(GRID))
    for tick in ticks:
        x = sx(tick.offset_s)
        for panel in panels:
            pdf.line(x, panel.y, x, panel.y + panel.h)
        _text(pdf, face, 6.5, AXIS_TEXT, x, bottom + 3.0, tick.clock, align="C")
        if tick.minutes:
            _text(pdf, face, 5.5, "#777777", x, bottom + 5.6, tick.minutes, align="C")
    _text(pdf, face, 6, "#555555", panels[-1].x + panels[-1].w, bottom + 8.8, title, align="R")


def _limits(pdf: FPDF, panel: Panel, data: ReviewData) -> None:
    for line in data.limits:
        if AXES[line.axis] != panel.name or not panel.low <= line.value <= panel.high:
            continue
        y = panel.py(line.value)
        pdf.set_draw_color(*rgb(LINE_COLOURS[line.priority]))
        pdf.set_dash_pattern(*DASHES.get(line.dash, DASHES["dash"]))
        pdf.line(panel.x, y, panel.x + panel.w, y)
        pdf.set_dash_pattern()


def _limit_names(pdf: FPDF, panels: Sequence[Panel], data: ReviewData, face: str) -> None:
    by_name = {panel.name: panel for panel in panels}
    for line in data.limits:
        panel = by_name[AXES[line.axis]]
        if panel.low <= line.value <= panel.high:
            below = line.dash == "dot"  # DBP under its line, SBP over, as on screen
            _text(pdf, face, 5.5, LABEL_COLOURS[line.priority], panel.x + panel.w - 0.5,
                  panel.py(line.value) + (2.2 if below else -0.6), line.label, align="R")


def _bp(pdf: FPDF, panel: Panel, data: ReviewData, sx: Callable[[float], float]) -> None:
    pdf.set_draw_color(*rgb(BP_COLOUR, BP_BAR_OPACITY))
    pdf.set_line_width(1.1)
    for r in data.bp:
        x = sx(r["offset_s"])
        pdf.line(x, panel.py(r["dbp"]), x, panel.py(r["sbp"]))
    pdf.set_line_width(0.15)
    size = 0.9
    for r, colour, down in ((r, c, d) for r in data.bp for c, d in ((BP_COLOUR, True), (DBP_COLOUR, False))):
        x, y = sx(r["offset_s"]), panel.py(r["sbp"] if down else r["dbp"])
        pdf.set_fill_color(*rgb(colour))
        tip = y + size if down else y - size
        base = y - size if down else y + size
        pdf.polygon([(x - size, base), (x + size, base), (x, tip)], style="F")


def _series(pdf: FPDF, panel: Panel, series: Reduced, colour: str, sx: Callable[[float], float]) -> None:
    """A line through the thinned points, broken where decimate.py put a None (a gap in the data)."""
    pdf.set_draw_color(*rgb(colour))
    pdf.set_line_width(0.3)
    for run in runs(series):
        points = [(sx(minute * 60), panel.py(value)) for minute, value in run]
        if len(points) == 1:
            points.append((points[0][0] + 0.2, points[0][1]))  # a lone sample still shows
        pdf.polyline(points, style="D")
    pdf.set_line_width(0.15)


def runs(series: Reduced) -> list[list[tuple[float, float]]]:
    """The series' unbroken stretches of (minute, value)."""
    out: list[list[tuple[float, float]]] = [[]]
    for minute, value in zip(series.x, series.y):
        if minute is None or value is None:
            out.append([])
        else:
            out[-1].append((minute, value))
    return [run for run in out if run]


def _alarms(pdf: FPDF, panel: Panel, data: ReviewData, sx: Callable[[float], float]) -> None:
    half = (panel.py(0) - panel.py(LANE_MMHG)) * 0.35
    for bar in data.alarms:
        y = panel.py(bar.lane_y)
        pdf.set_fill_color(*rgb(PRIORITY_COLOURS.get(bar.priority, "#888888"), ALARM_OPACITY))
        pdf.rect(sx(bar.start_s), y - half, max(sx(bar.stop_s) - sx(bar.start_s), 0.3), 2 * half, style="F")
        pdf.set_fill_color(*rgb(PRIORITY_COLOURS.get(bar.priority, "#888888")))
        pdf.set_draw_color(*rgb("#333333"))
        x, r = sx(bar.start_s), half * 1.3
        pdf.polygon([(x - r, y), (x, y - r), (x + r, y), (x, y + r)], style="DF")


def _alarm_names(pdf: FPDF, panel: Panel, data: ReviewData, sx: Callable[[float], float], face: str,
                 safe: Callable[[str], str]) -> None:
    """Each lane's name left of its first raise (right of it when there is no room on the left)."""
    for bar in data.alarms:
        if not bar.label:
            continue
        x, y = sx(bar.start_s), panel.py(bar.lane_y) + 0.8
        pdf.set_font(face, "", 5.5)
        room = pdf.get_string_width(safe(bar.label)) + 2.0
        if x - room >= panel.x:
            _text(pdf, face, 5.5, "#333333", x - 1.5, y, safe(bar.label), align="R")
        else:
            _text(pdf, face, 5.5, "#333333", x + 1.5, y, safe(bar.label))


def _events(pdf: FPDF, panel: Panel, data: ReviewData, sx: Callable[[float], float], face: str,
            safe: Callable[[str], str]) -> None:
    y = panel.py(48)  # where the screen puts them: just above the BP floor
    pdf.set_draw_color(*rgb("#444444"))
    pdf.set_fill_color(*rgb("#444444"))
    pdf.set_line_width(0.25)
    for event in data.events:
        x = sx(event.offset_s)
        _event_mark(pdf, event.kind, x, y, 1.1)
        if event.shown_label:
            late = x > panel.x + panel.w * 0.9  # near the right edge: written leftwards, as on screen
            _text(pdf, face, 6, "#333333", x, y - 1.8, safe(event.shown_label), align="R" if late else "C")
    pdf.set_line_width(0.15)


def _event_mark(pdf: FPDF, kind: str, x: float, y: float, r: float) -> None:
    """The screen's symbols: dose ▶, infusion end ◀, discharge ■, assessment ○, override ×, a note |."""
    if kind == "dose_start":
        pdf.polygon([(x - r, y - r), (x + r, y), (x - r, y + r)], style="F")
    elif kind == "infusion_end":
        pdf.polygon([(x + r, y - r), (x - r, y), (x + r, y + r)], style="F")
    elif kind == "discharge":
        pdf.rect(x - r * 0.8, y - r * 0.8, 1.6 * r, 1.6 * r, style="F")
    elif kind == "assessment":
        pdf.circle(x, y, r * 0.8, style="D")
    elif kind == "override":
        pdf.line(x - r, y - r, x + r, y + r)
        pdf.line(x - r, y + r, x + r, y - r)
    else:
        pdf.line(x, y - r, x, y + r)


def _phase_names(pdf: FPDF, panel: Panel, data: ReviewData, sx: Callable[[float], float], face: str,
                 safe: Callable[[str], str]) -> None:
    for phase, start, _ in data.phases:
        place = phase_label(phase, start, data.x_end_s)  # the screen's rule for where the name goes
        x = sx(place["x"] * 60) + (-0.8 if place["xanchor"] == "right" else 0.8)
        _text(pdf, face, 6, "#555555", x, panel.y + 2.6, safe(PHASE_LABELS[phase]),
              align="R" if place["xanchor"] == "right" else "L")


def _legend(pdf: FPDF, x: float, y: float, face: str) -> None:
    at = x
    for label, colour, kind in (("BP: bar from diastolic to systolic", BP_COLOUR, "bar"),
                                ("systolic", BP_COLOUR, "down"), ("diastolic", DBP_COLOUR, "up"),
                                ("HR", HR_COLOUR, "line"), ("SpO2", SPO2_COLOUR, "line"),
                                ("alarm (colour: priority)", PRIORITY_COLOURS["high"], "diamond")):
        cy = y + 2.2
        pdf.set_fill_color(*rgb(colour))
        pdf.set_draw_color(*rgb(colour, BP_BAR_OPACITY if kind == "bar" else 1.0))
        if kind == "bar":
            pdf.set_line_width(1.1)
            pdf.line(at + 1, cy - 1.2, at + 1, cy + 1.2)
        elif kind == "line":
            pdf.set_line_width(0.3)
            pdf.line(at, cy, at + 3, cy)
        elif kind == "diamond":
            pdf.polygon([(at, cy), (at + 1, cy - 1), (at + 2, cy), (at + 1, cy + 1)], style="F")
        else:
            tip, base = (cy + 0.9, cy - 0.9) if kind == "down" else (cy - 0.9, cy + 0.9)
            pdf.polygon([(at, base), (at + 1.8, base), (at + 0.9, tip)], style="F")
        pdf.set_line_width(0.15)
        at += 4 if kind == "line" else 3
        width = _text(pdf, face, 6.5, AXIS_TEXT, at, cy + 0.9, label)
        at += width + 4


def _frame(pdf: FPDF, panel: Panel) -> None:
    pdf.set_draw_color(*rgb(FRAME))
    pdf.set_line_width(0.2)
    pdf.rect(panel.x, panel.y, panel.w, panel.h, style="D")
    pdf.set_line_width(0.15)


def _text(pdf: FPDF, face: str, size: float, colour: str, x: float, y: float, text: str, align: str = "L") -> float:
    """Text with its baseline at y, starting at x (L), ending at it (R) or centred on it (C); returns its width."""
    pdf.set_font(face, "", size)
    pdf.set_text_color(*rgb(colour))
    width = pdf.get_string_width(text)
    pdf.text(x - (width if align == "R" else width / 2 if align == "C" else 0), y, text)
    return width
