"""The REMS monitoring summary, filled from a recorded session (the severe-peak sample feed)."""
from __future__ import annotations

from pathlib import Path

from dashboard.engine import SessionEngine, load_config, session_status
from dashboard.reports.rems import rems_summary
from devices.feed import item_row, read_feed
from devices.readings import Reading, SessionEvent

FEED = Path(__file__).resolve().parent.parent / "sample_data" / "feeds" / "esketamine-severe-peak.csv"
CONFIG = load_config()


def _recorded(items):
    engine = SessionEngine(CONFIG, "esketamine-84")
    for item in items:
        engine.apply(item)
    readings = [dict(item_row(i), offset_s=i.offset_s, sbp=i.sbp, dbp=i.dbp, hr=i.hr) for i in items
                if isinstance(i, Reading)]
    events = [{"kind": i.kind, "detail": i.detail, "offset_s": i.offset_s} for i in items if isinstance(i, SessionEvent)]
    return session_status(engine), readings, events


def test_rems_fields_come_from_what_was_recorded():
    items = read_feed(FEED).items
    status, readings, events = _recorded(items)
    summary = rems_summary(status, readings, events, CONFIG, dose="84 mg")
    dose = status["dose_at"]
    baseline = status["baseline"]
    assert summary.predose_bp.startswith(f"{baseline['sbp']:.0f}/{baseline['dbp']:.0f} mmHg")
    in_window = [r for r in readings if r["sbp"] is not None and 35 * 60 <= r["offset_s"] - dose <= 45 * 60]
    nearest = min(in_window, key=lambda r: abs(r["offset_s"] - dose - 40 * 60))
    assert summary.bp_40_min.startswith(f"{nearest['sbp']:.0f}/{nearest['dbp']:.0f}")
    assert summary.total_minutes == (status["discharged_at"] - dose) / 60 >= 120
    assert summary.ready_minute is None  # the latched severe alarm was never acknowledged
    assert summary.vitals_ok_before is True and summary.vitals_ok_before_completion is True
    assert summary.sedation and summary.dissociation and not summary.respiratory_depression
    answers = dict(summary.rows())
    assert answers["Ready to leave at (minutes from start of administration)"] == "–"
    assert answers["Vitals acceptable before administration"] == "Yes"


def test_a_missed_40_minute_check_reads_not_recorded():
    items = [SessionEvent("session_start", "esketamine-56", offset_s=0), Reading("nibp", sbp=150, dbp=92, offset_s=60),
             SessionEvent("dose_start", offset_s=300), Reading("nibp", sbp=130, dbp=80, offset_s=300 + 60 * 60)]
    status, readings, events = _recorded(items)
    summary = rems_summary(status, readings, events, CONFIG)
    assert summary.bp_40_min == "not recorded" and summary.vitals_ok_before is False
