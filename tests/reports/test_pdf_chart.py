"""The PDF report's chart, drawn by fpdf2 without a browser: the review page's chart from the same data, its time
axis in the session's local clock time with session minutes, read back from the PDF (pypdf's text and the page's
drawing operators)."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import plotly.io as pio
import pytest
from fpdf import FPDF
from pypdf import PdfReader

from dashboard.engine import load_config
from dashboard.reports.charts import review as review_chart
from dashboard.reports.charts.figures import TRACE
from dashboard.reports.charts.marks import limit_lines
from dashboard.reports.charts.review_data import continuous_from, review_data
from dashboard.reports.exports import export_session
from dashboard.reports.exports.pdf_chart import HR_COLOUR, SPO2_COLOUR, clock_ticks, draw_chart, rgb, runs
from dashboard.reports.record import load_record
from dashboard.store import Store
from dashboard.store.review_queries import continuous_between

from ..review_sessions import recorded_session

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config()
PT_PER_MM = 72 / 25.4
DEADLINE_S = 120


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    db = tmp_path_factory.mktemp("pdfchart") / "clinic.db"
    store = Store.open(db)
    sid = recorded_session(store)  # the severe-peak feed: 2 h 15 min at 1 Hz, four alarm episodes, assessments
    yield store, sid, db
    store.close()


@pytest.fixture
def new_york(monkeypatch):
    """A zone that is not UTC, so a label in UTC instead of local time would show."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _text(pdf_bytes: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)


def test_the_chart_is_drawn_with_clock_times_and_session_minutes_in_local_time(recorded, new_york):
    store, sid, _ = recorded
    record = load_record(store, sid)
    pdf = export_session(store, CONFIG, sid, "pdf").content
    reader = PdfReader(io.BytesIO(pdf))
    assert not any(page.images for page in reader.pages)  # vectors, no picture
    text = _text(pdf)
    ticks = clock_ticks(record.wall_time, record.end_s)
    assert len(ticks) >= 5
    for tick in ticks:
        local = time.localtime(record.wall_time(tick.offset_s))
        assert tick.clock == time.strftime("%H:%M", local) and local.tm_min % 5 == 0 and local.tm_sec == 0
        assert tick.minutes == f"{tick.offset_s / 60:.0f} min"
        assert tick.clock in text and tick.minutes in text
    utc_first = time.strftime("%H:%M", time.gmtime(record.wall_time(ticks[0].offset_s)))
    assert utc_first != ticks[0].clock  # local, not UTC
    for label in ("BP mmHg", "HR /min", "SpO2 %", "Dose", "Discharge", "BP severe", "BP elevated",
                  "clock time (minutes from session start)", "SBP 180", "SpO2 88"):
        assert label in text, label


def test_the_pdf_draws_the_review_figures_hr_and_spo2_points(recorded):
    """The review page's figure (as the page builds it, from the store) and the PDF's lines: the same points."""
    store, sid, _ = recorded
    record = load_record(store, sid)
    row = store.session(sid)
    fig = review_chart.figure(row, store.readings_after(sid, bp_only=True), continuous_between(store, sid),
                              store.alarms_of(sid), store.events_of(sid), record.episodes, record.end_s,
                              limits=limit_lines(CONFIG, row.protocol))
    traces = json.loads(pio.to_json(fig))["data"]
    data = review_data(row, record.bp_readings, continuous_from(record.readings), record.events, record.episodes,
                       record.end_s, limit_lines(CONFIG, row.protocol))
    assert [r["sbp"] for r in data.bp] == traces[TRACE["sbp"]]["y"] and len(data.bp) == 26
    assert [r["dbp"] for r in data.bp] == traces[TRACE["dbp"]]["y"]

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_compression(False)
    pdf.add_page()
    panels = draw_chart(pdf, data, record.wall_time, 14, 20, 182, 112, "Helvetica")
    stream = PdfReader(io.BytesIO(bytes(pdf.output()))).pages[0].get_contents().get_data().decode("latin-1")
    page_h = pdf.h
    for name, colour, panel in (("hr", HR_COLOUR, panels[1]), ("spo2", SPO2_COLOUR, panels[2])):
        drawn = []
        for path in _stroked_paths(stream, colour):
            points = [(x / PT_PER_MM, page_h - y / PT_PER_MM) for x, y in path]
            if all(panel.x - 0.01 <= x <= panel.x + panel.w + 0.01 and panel.y - 0.01 <= y <= panel.y + panel.h + 0.01
                   for x, y in points):
                drawn.append([((x - panel.x) / panel.w * data.x_end_s / 60,
                               panel.high - (y - panel.y) / panel.h * (panel.high - panel.low)) for x, y in points])
        trace, axis = traces[TRACE[name]], review_chart.clock_axis(row)  # the screen's x: the clock, in local ms
        minutes = [None if x is None else axis.offset(x) / 60 for x in trace["x"]]
        expected = runs(type(data.hr)(minutes, trace["y"]))
        assert len(expected) >= 1 and sum(len(run) for run in expected) > 1000  # thinned, not 8,100 samples
        assert [len(run) for run in drawn] == [len(run) for run in expected]
        for got_run, want_run in zip(drawn, expected):
            for (gx, gy), (wx, wy) in zip(got_run, want_run):
                assert gx == pytest.approx(wx, abs=0.01) and gy == pytest.approx(wy, abs=0.05)


def _stroked_paths(stream: str, colour: str) -> list[list[tuple[float, float]]]:
    """The paths stroked (m ... l ... S) in the stroke colour `colour`, in page points."""
    want = tuple(round(c / 255, 4) for c in rgb(colour))
    paths, path, stack, current = [], [], [], None
    for token in stream.split():
        if re.fullmatch(r"-?[\d.]+", token):
            stack.append(float(token))
            continue
        if token == "RG":
            current = tuple(round(v, 4) for v in stack[-3:])
        elif token == "m":
            path = [tuple(stack[-2:])]
        elif token == "l":
            path.append(tuple(stack[-2:]))
        elif token == "S" and path and current == want:
            paths.append(path)
            path = []
        elif token not in ("S",):
            path = [] if token in ("n", "f", "B", "re", "h") else path
        stack = []
    return paths


def test_the_pdf_export_starts_no_browser_and_needs_none(recorded, tmp_path):
    """With no Chromium on PATH and nothing browser-like imported, the whole report is made, chart included."""
    _, sid, db = recorded
    out = tmp_path / "report.pdf"
    code = ("import sys\nfrom dashboard.cli import main\n"
            f"status = main(['export', '{sid}', '--format', 'pdf', '--database', {str(db)!r}, '--out', {str(out)!r}])\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('kaleido', 'choreographer', 'selenium'))\n"
            "print('LOADED', loaded, status)")
    env = {**os.environ, "PATH": str(tmp_path)}  # no chromium, no chrome, nothing to start
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=DEADLINE_S)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] in ("LOADED [] 0", "LOADED [] None")
    text = _text(out.read_bytes())
    assert "clock time (minutes from session start)" in text and "No chart" not in text


def test_ticks_of_a_short_session_or_a_sped_up_simulation_say_seconds(new_york):
    """A minute of session (or 2 h run at 120x): round clock seconds, and the session time as m:ss, not "0 min"."""
    start = 1_900_000_007.0  # not on a round second of ten
    ticks = clock_ticks(lambda s: start + s, 60.0)
    assert 3 <= len(ticks) <= 9
    for tick in ticks:
        at = start + tick.offset_s
        assert tick.clock == time.strftime("%H:%M:%S", time.localtime(at)) and round(at) % 10 == 0
        assert tick.minutes == f"0:{int(tick.offset_s):02d}"
    sped = clock_ticks(lambda s: start + s / 120, 7200.0)  # a 2-hour simulated session in one minute
    assert [t.offset_s for t in sped] == pytest.approx([t.offset_s * 120 for t in ticks])
