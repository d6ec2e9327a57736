"""The engine with readings from before the session start (the chair's pre-session window), the alarms of a session
folded again with late readings, and the heart rate every screen shows (docs/placement.md). Pure: no store."""
from __future__ import annotations

from dashboard.engine import SessionEngine, load_config, reconcile, session_status
from devices.readings import Reading, SessionEvent

CONFIG = load_config()


def bp(t: float, sbp: float, dbp: float, hr: float | None = None) -> Reading:
    return Reading("nibp", sbp=sbp, dbp=dbp, hr=hr, offset_s=t)


def ev(t: float, kind: str, detail: str = "") -> SessionEvent:
    return SessionEvent(kind, detail=detail, offset_s=t)


def fold(items, until: float | None = None) -> tuple[SessionEngine, list]:
    engine = SessionEngine(CONFIG, "esketamine-84")
    out = [t for item in items for t in engine.apply(item)]
    if until is not None:
        out += engine.advance(until)
    return engine, out


def test_a_bp_taken_before_the_session_opened_is_the_baseline():
    engine, out = fold([bp(-600, 122, 78), ev(0, "session_start", "esketamine-84"), ev(300, "dose_start"),
                        bp(2400, 163, 104)])
    assert (engine.baseline.sbp, engine.baseline.dbp, engine.baseline.offset_s) == (122, 78, -600)
    rise = [t for t in out if t.code == "bp.rise" and t.state == "raised"]
    assert [(t.offset_s, t.value) for t in rise] == [(2400, "163/104")]
    assert "+41/+26 over baseline 122/78" in rise[0].message


def test_a_high_pre_session_bp_raises_the_pre_dose_alarm_at_its_own_time():
    _, out = fold([bp(-300, 152, 96), ev(0, "session_start", "esketamine-84")])
    assert [(t.offset_s, t.code, t.state) for t in out] == [(-300, "bp.predose_high", "raised")]


def test_a_later_bp_in_the_session_replaces_the_pre_session_one():
    engine, _ = fold([bp(-900, 150, 95), ev(0, "session_start", "esketamine-84"), bp(120, 124, 80),
                      ev(300, "dose_start")])
    assert engine.baseline.text == "124/80"


def test_without_a_pre_session_reading_the_clock_starts_at_zero_as_before():
    engine, _ = fold([ev(0, "session_start", "esketamine-84"), bp(-50, 120, 80)])
    assert engine.last_bp.offset_s == 0  # a late item never runs the clock backwards


def test_reconcile_states_the_alarms_a_second_fold_differs_in():
    before, _ = fold([ev(0, "session_start", "esketamine-84"), bp(60, 120, 80)])
    after, _ = fold([bp(-300, 150, 92), ev(0, "session_start", "esketamine-84")])
    changes = reconcile(before.active, after.active, 400.0, "joined late")
    assert [(t.offset_s, t.code, t.state) for t in changes] == [(400.0, "bp.predose_high", "raised")]
    back = reconcile(after.active, before.active, 500.0, "joined late")
    assert [(t.code, t.state) for t in back] == [("bp.predose_high", "cleared")]
    assert reconcile(after.active, after.active, 600.0, "") == []


def test_the_heart_rate_shown_is_the_ecg_while_fresh_then_the_oximeter_then_the_cuff():
    stale_after = CONFIG.value("data.stale.continuous_after")
    engine, _ = fold([ev(0, "session_start", "esketamine-84"), bp(10, 120, 80, hr=66),
                      Reading("oximeter", hr=71, spo2=97, offset_s=20), Reading("ecg", hr=73, offset_s=21)])
    shown = session_status(engine)["hr"]
    assert (shown["value"], shown["source"]) == (73, "ecg")
    assert session_status(engine)["rates"]["nibp"]["value"] == 66  # every source is kept
    engine.apply(Reading("oximeter", hr=72, spo2=97, offset_s=21 + stale_after + 1))
    shown = session_status(engine)["hr"]
    assert (shown["value"], shown["source"]) == (72, "oximeter")  # the ECG went quiet
    engine.advance(21 + 2 * stale_after + 2)
    shown = session_status(engine)["hr"]
    assert (shown["value"], shown["source"]) == (66, "nibp")  # no continuous source: the cuff's pulse
