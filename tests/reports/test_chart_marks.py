"""The charts' phases (from the engine's history of phase changes, live and in review) and alarm-limit lines."""
from __future__ import annotations

from dashboard.engine import SessionEngine, load_config, session_status
from dashboard.reports.charts.marks import limit_lines, limit_marks, phase_label, phase_spans
from dashboard.reports.charts.figures import OPEN_PHASE, TRACE, extend_payload, open_phase, session_figure
from devices.readings import Assessment, Reading, SessionEvent


def _status_ready_then_lost() -> dict:
    """An esketamine session that became ready for discharge, then was not (a BP above the limit), then was again."""
    config = load_config()
    engine = SessionEngine(config, "esketamine-56")
    ok = Assessment(5, False, True).to_detail()
    items = [SessionEvent("session_start", "esketamine-56", offset_s=0), Reading("nibp", sbp=128, dbp=80, offset_s=60),
             SessionEvent("dose_start", "56 mg", offset_s=300), SessionEvent("assessment", ok, offset_s=7000),
             Reading("nibp", sbp=126, dbp=80, offset_s=7700), Reading("nibp", sbp=166, dbp=104, offset_s=8000),
             Reading("nibp", sbp=124, dbp=78, offset_s=8600)]
    for item in items:
        engine.advance(item.offset_s or 0.0)
        engine.apply(item)
    engine.advance(9000)
    return session_status(engine)


def test_phases_follow_every_change_not_only_the_first_ready():
    status = _status_ready_then_lost()
    names = [name for name, _, _ in phase_spans(status, 9000)]
    assert names[:2] == ["dosing", "observation"] and names[-3:] == ["ready", "observation", "ready"]
    spans = phase_spans(status, 9000)
    assert all(a[2] == b[1] for a, b in zip(spans, spans[1:])) and spans[-1][2] == 9000  # contiguous, up to now
    older = {k: v for k, v in status.items() if k != "phases"}  # a snapshot stored before the history was kept
    assert [name for name, _, _ in phase_spans(older, 9000)] == ["dosing", "observation", "ready"]


def test_the_live_chart_shades_the_phase_under_way_with_traces_the_poll_extends():
    status = _status_ready_then_lost()
    fig = session_figure([], [], [], status, 9000, live=True)
    ready_since = phase_spans(status, 9000)[-1][1]
    assert open_phase(status, 9000) == ("ready", ready_since, 9000)
    assert [fig.data[i].x for i in OPEN_PHASE] == [(ready_since / 60, 150.0)] * 3  # BP, HR and SpO2 panels
    extend, indices, _ = extend_payload([], open_phase_now=9060)
    assert indices == OPEN_PHASE and extend["x"] == [[151.0]] * 3
    review = session_figure([], [], [], status, 9000)  # not live: every phase a shape, no extra traces
    assert len(review.data) == len(TRACE)


def test_alarm_limits_are_drawn_from_the_settings_in_force():
    lines = limit_lines(load_config(), "iv-ketamine")
    assert [(line.axis, line.value, line.priority) for line in lines] == [
        ("y", 180, "high"), ("y", 160, "medium"), ("y", 110, "high"), ("y", 100, "medium"),
        ("y2", 110, "medium"), ("y2", 50, "medium"), ("y3", 92, "medium"), ("y3", 88, "high")]
    shapes, notes = limit_marks(lines)
    assert all(s["xref"] == "x domain" and (s["x0"], s["x1"]) == (0, 1) for s in shapes)  # full width, any zoom
    assert all(n["xref"] == "x domain" and n["x"] == 1 and n["xanchor"] == "right" for n in notes)  # inside the edge


def test_a_label_near_the_right_edge_is_written_leftwards():
    assert phase_label("ready", 95 * 60, 100 * 60)["xanchor"] == "right"
    assert phase_label("ready", 50 * 60, 100 * 60)["xanchor"] == "left"
