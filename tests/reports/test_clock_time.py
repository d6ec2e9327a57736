"""Clock time where clinicians write clock times: the one formatter every page and export uses, and the charts'
clock axis (a plotly date axis in the server's local time, by the session's own clock), across midnight and DST."""
from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
from pypdf import PdfReader

from dashboard.engine import load_config
from dashboard.reports.charts.axis import ClockAxis
from dashboard.reports.charts.figures import OPEN_PHASE, TRACE, extend_payload, session_figure
from dashboard.reports.charts.marks import phase_spans
from dashboard.reports.exports.csv_file import session_csv
from dashboard.reports.exports.pdf_report import session_pdf
from dashboard.reports.format import clock, clock_and_session, session_clock, zone_name
from dashboard.reports.record import load_record
from dashboard.store import Store

from ..clock_zone import local_zone, utc_epoch
from .test_chart_marks import _status_ready_then_lost
from ..review_sessions import recorded_session


def _as_plotly_reports(x_ms: float) -> str:
    """An x value as plotly's relayout names it: the axis's own (zone-less) date-time."""
    return (dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=x_ms)).isoformat(sep=" ")


def test_clock_times_cross_midnight_in_the_local_zone():
    with local_zone("Europe/Berlin"):
        before = utc_epoch("2026-12-08T22:59:30")  # 23:59:30 CET
        assert clock(before) == "23:59" and clock(before, seconds=True) == "23:59:30"
        assert clock(before + 60, seconds=True) == "00:00:30"
        assert clock_and_session(before + 60, 2405) == "00:00 (session 40:05)"
        assert zone_name(before) == "CET"
    with local_zone("America/New_York"):
        assert clock(utc_epoch("2026-12-08T22:59:30"), seconds=True) == "17:59:30"
    assert clock(None) == "–" and clock_and_session(None, 5) == "–"


def test_clock_times_follow_a_dst_change():
    with local_zone("Europe/Berlin"):  # 2026-03-29 01:00 UTC: 02:00 CET becomes 03:00 CEST
        change = utc_epoch("2026-03-29T01:00:00")
        assert clock(change - 60) == "01:59" and zone_name(change - 60) == "CET"
        assert clock(change + 60) == "03:01" and zone_name(change + 60) == "CEST"


def test_the_clock_axis_plots_local_time_and_reads_a_zoom_back_to_session_seconds():
    with local_zone("Europe/Berlin"):
        start = utc_epoch("2026-03-29T00:30:00")  # 01:30 CET: the session crosses the DST change at 02:00
        axis = ClockAxis.of(lambda offset_s: start + offset_s)
        xs = axis.xs(np.array([0.0, 1799.0, 1801.0, 3600.0]))
        assert [_as_plotly_reports(x)[11:19] for x in xs] == ["01:30:00", "01:59:59", "03:00:01", "03:30:00"]
        assert xs == [axis.x(s) for s in (0.0, 1799.0, 1801.0, 3600.0)]  # the per-point path agrees
        assert axis.offset(_as_plotly_reports(xs[2])) == 1801.0
        assert axis.offset(xs[3]) == 3600.0  # a range given in ms reads back too
        assert axis.layout()["type"] == "date" and axis.title() == "clock time (CET)"
        assert axis.label(1801.0) == "03:00:01"


def test_a_simulated_session_runs_its_clock_at_its_speed():
    with local_zone("UTC"):
        start = utc_epoch("2026-12-08T09:00:00")
        axis = ClockAxis.of(lambda offset_s: start + offset_s / 60)  # 60x: an hour of session in a minute
        assert axis.label(3600.0) == "09:01:00"
        assert axis.offset("2026-12-08 09:01:00") == 3600.0


def test_the_pdf_log_and_alarm_tables_carry_clock_times_with_the_session_time_beside(tmp_path):
    store = Store.open(tmp_path / "clinic.db")
    sid = recorded_session(store, started=utc_epoch("2026-12-08T14:00:00"))  # 09:00 EST
    with local_zone("America/New_York"):
        record = load_record(store, sid)
        pdf = session_pdf(record, load_config())
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Times are clock times (EST)" in text
    severe = next(ep for ep in record.episodes if ep.code == "bp.severe")
    raised = (dt.datetime(2026, 12, 8, 9, 0) + dt.timedelta(seconds=severe.raised_at)).strftime("%H:%M:%S")
    assert f"{raised} ({session_clock(severe.raised_at)})" in text  # the alarm table: clock, session beside
    assert "RN-AB at 09:42:30" in text
    first_bp = record.bp_readings[0]
    bp_at = (dt.datetime(2026, 12, 8, 9, 0) + dt.timedelta(seconds=first_bp["offset_s"])).strftime("%H:%M:%S")
    assert f"{bp_at} {session_clock(first_bp['offset_s'])} BP {first_bp['sbp']:.0f}/{first_bp['dbp']:.0f}" in text


def test_the_csv_carries_the_local_clock_beside_utc(tmp_path):
    store = Store.open(tmp_path / "clinic.db")
    sid = recorded_session(store, started=utc_epoch("2026-12-08T14:00:00"))  # 09:00 EST
    with local_zone("America/New_York"):
        table = pd.read_csv(io.BytesIO(session_csv(load_record(store, sid))))
    ack = table[(table["record"] == "alarm") & (table["state"] == "acknowledged")].iloc[0]
    assert ack["utc"] == "2026-12-08T14:42:30.000+00:00" and ack["local_time"] == "2026-12-08T09:42:30.000-05:00"
    assert (pd.to_datetime(table["utc"]) == pd.to_datetime(table["local_time"], utc=True)).all()  # one instant


def test_the_live_chart_and_its_extend_data_share_the_clock_axis():
    """The poll appends with extendData in the axis the figure was drawn in: readings, the open phase and the phase
    shapes all at local-time milliseconds."""
    status = _status_ready_then_lost()
    with local_zone("Europe/Berlin"):
        axis = ClockAxis(utc_epoch("2026-12-08T08:00:00"))  # 09:00 CET
        fig = session_figure([], [], [], status, 9000, live=True, axis=axis)
        extend, indices, _ = extend_payload([{"offset_s": 9060.0, "hr": 72.0, "spo2": 97.0}], 9060.0, axis)
    nine = utc_epoch("2026-12-08T09:00:00") * 1000  # 09:00 on the zone-less axis
    ready_since = phase_spans(status, 9000)[-1][1]
    assert [fig.data[i].x for i in OPEN_PHASE] == [(nine + ready_since * 1000, nine + 9_000_000)] * 3
    assert fig.layout.xaxis.type == "date" and fig.layout.xaxis3.title.text == "clock time (CET)"
    assert all(s["x0"] >= nine for s in fig.layout.shapes if s["xref"] == "x")
    assert indices == [TRACE["hr"], TRACE["spo2"], *OPEN_PHASE] and extend["x"] == [[nine + 9_060_000]] * 5
