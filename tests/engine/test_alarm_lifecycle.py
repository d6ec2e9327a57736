"""The alarm lifecycle on session time: latching, acknowledge, re-alarm, escalation, audio pause."""
from __future__ import annotations

from pathlib import Path

from dashboard.engine import SessionEngine, Transition, load_config
from devices.readings import Reading, SessionEvent

CONFIG = load_config()


def bp(t: float, sbp: float, dbp: float) -> Reading:
    return Reading("nibp", sbp=sbp, dbp=dbp, offset_s=t)


def ev(t: float, kind: str, detail: str = "", who: str = "") -> SessionEvent:
    return SessionEvent(kind, detail=detail, offset_s=t, who=who)


def ack(t: float, code: str, who: str = "AB") -> SessionEvent:
    return ev(t, "acknowledge", code, who)


def session(*items, config=CONFIG) -> tuple[SessionEngine, list[Transition]]:
    engine = SessionEngine(config, "esketamine-84")
    out: list[Transition] = []
    for item in [ev(0, "session_start", "esketamine-84"), bp(120, 120, 80), ev(300, "dose_start"), *items]:
        if isinstance(item, (int, float)):
            out.extend(engine.advance(item))
        else:
            out.extend(engine.apply(item))
    return engine, out


def history(out: list[Transition], code: str) -> list[tuple[float, str]]:
    return [(t.offset_s, t.state) for t in out if t.code == code]


def test_a_high_alarm_latches_after_its_condition_clears_until_acknowledged():
    engine, out = session(bp(900, 185, 100), ack(905, "bp.severe"), bp(1000, 130, 80))
    assert ("bp.severe", "") not in engine.active  # acknowledged, then cleared: gone

    engine, out = session(bp(900, 185, 100), bp(1200, 130, 80), 1250)
    assert history(out, "bp.severe") == [(900, "raised"), (960, "escalated"), (1200, "cleared"), (1200, "latched")]
    latched = engine.active[("bp.severe", "")]
    assert latched.latched and not latched.condition
    out = engine.apply(ack(1300, "bp.severe", "CD"))
    assert history(out, "bp.severe") == [(1300, "acknowledged")] and out[0].value == "CD"
    assert ("bp.severe", "") not in engine.active


def test_medium_and_technical_alarms_never_latch(tmp_path: Path):
    engine, out = session(bp(900, 165, 95), bp(1200, 130, 80))
    assert history(out, "bp.high") == [(900, "raised"), (1200, "cleared")] and not engine.active

    clinic = tmp_path / "clinic.toml"
    clinic.write_text('[nibp.failed]\npriority = "high"\n')
    engine, out = session(ev(900, "nibp_failed", "cuff leak"), bp(1000, 125, 80), config=load_config(clinic))
    assert [s for _, s in history(out, "nibp.failed")] == ["raised", "escalated", "cleared"]
    assert ("nibp.failed", "") not in engine.active  # no "latched": a technical alarm goes when it clears


def test_acknowledged_alarm_still_active_sounds_again_after_two_minutes():
    engine, out = session(bp(900, 185, 100), ack(930, "bp.severe"), 930 + 119)
    alarm = engine.active[("bp.severe", "")]
    assert alarm.acked_by == "AB" and alarm.acked_at == 930 and alarm.condition  # silenced, still shown
    out = engine.advance(930 + 200)
    assert history(out, "bp.severe") == [(1050, "realarm"), (1110, "escalated")]
    assert not engine.active[("bp.severe", "")].acknowledged  # needs a new acknowledgement


def test_no_realarm_when_the_condition_ends_after_the_acknowledgement():
    _, out = session(bp(900, 185, 100), ack(930, "bp.severe"), bp(1000, 130, 80), 2000)
    assert history(out, "bp.severe") == [(900, "raised"), (930, "acknowledged"), (1000, "cleared")]


def test_acknowledging_in_time_prevents_escalation():
    _, out = session(bp(900, 185, 100), ack(959, "bp.severe"), 1000)
    assert "escalated" not in {s for _, s in history(out, "bp.severe")}


def test_a_new_alarm_sounds_even_after_another_was_acknowledged():
    engine, _ = session(bp(900, 165, 95), ack(910, "bp.high"), bp(1200, 190, 100))
    assert not engine.active[("bp.severe", "")].acknowledged


def test_acknowledging_what_is_not_active_changes_nothing():
    _, out = session(ack(400, "bp.severe"))
    assert history(out, "bp.severe") == []


def test_audio_pause_is_time_limited_by_the_clinic():
    engine, out = session(bp(900, 185, 100), ev(910, "audio_pause", "600", "AB"))
    assert [(t.code, t.value) for t in out if t.code == "audio.paused"] == [("audio.paused", "120 s")]
    assert engine.audio_paused and engine.audio_paused_until == 910 + 120
    engine.advance(910 + 120)
    assert not engine.audio_paused


def test_lifecycle_is_the_same_whatever_the_advance_cadence():
    items = [bp(900, 185, 100), ack(1000, "bp.severe"), bp(1500, 182, 100), bp(1800, 130, 80)]
    _, once = session(*items, 3000)
    stepped = [x for item in items for x in (item.offset_s - 0.5, item)] + list(range(1801, 3001, 7)) + [3000]
    _, often = session(*stepped)
    assert once == often


RECOVERED = "moaas=5;dissociation=no;resp=ok"


def test_a_latched_alarm_holds_discharge_readiness_until_acknowledged():
    items = [bp(900, 185, 100), bp(1500, 130, 80), ev(6000, "assessment", RECOVERED), bp(7000, 125, 80)]
    engine, out = session(*items, 300 + 125 * 60)
    assert engine.ready_at is None and not engine.readiness()["no physiological alarm active"]
    out = engine.apply(ack(300 + 126 * 60, "bp.severe"))
    assert [(t.offset_s, t.code) for t in out if t.state == "event"] == [(300 + 126 * 60, "observation.ready")]


def test_discharge_logs_a_latched_alarm_left_unacknowledged():
    _, out = session(bp(900, 185, 100), bp(1500, 130, 80), ev(1600, "discharge"))
    [last] = [t for t in out if t.code == "bp.severe" and t.offset_s == 1600]
    assert last.state == "cleared" and "latched alarm unacknowledged" in last.message
