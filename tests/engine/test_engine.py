"""The engine's rules at their boundaries, timers, phases and readiness."""
from __future__ import annotations

import pytest

from dashboard.engine import SessionEngine, Transition, load_config
from devices.readings import Reading, SessionEvent

CONFIG = load_config()


def bp(t: float, sbp: float, dbp: float, hr: float | None = None) -> Reading:
    return Reading("nibp", sbp=sbp, dbp=dbp, hr=hr, offset_s=t)


def ox(t: float, hr: float | None = 75, spo2: float | None = 97) -> Reading:
    return Reading("oximeter", hr=hr, spo2=spo2, offset_s=t)


def ev(t: float, kind: str, detail: str = "", source: str = "") -> SessionEvent:
    return SessionEvent(kind, detail=detail, source=source, offset_s=t)


def run(items, protocol: str = "esketamine-84", until: float | None = None) -> list[Transition]:
    engine = SessionEngine(CONFIG, protocol)
    out: list[Transition] = []
    for item in items:
        out.extend(engine.apply(item))
    if until is not None:
        out.extend(engine.advance(until))
    return out


def observation(out: list[Transition]) -> list[tuple[float, str]]:
    return [(t.offset_s, t.code) for t in out if t.code.startswith("observation.")]


def raised(out: list[Transition], code: str) -> list[Transition]:
    return [t for t in out if t.code == code and t.state == "raised"]


def dosed(*items) -> list:
    """A session with a 120/80 baseline and the dose at 300 s."""
    return [ev(0, "session_start", "esketamine-84"), bp(120, 120, 80), ev(300, "dose_start"), *items]


@pytest.mark.parametrize("sbp,dbp,code", [
    (159, 99, None), (160, 80, "bp.high"), (120, 100, "bp.high"),
    (179, 109, "bp.high"), (180, 80, "bp.severe"), (120, 110, "bp.severe"),
])
def test_bp_level_boundaries(sbp, dbp, code):
    out = run(dosed(bp(600, sbp, dbp)))
    codes = {t.code for t in out if t.state == "raised"} & {"bp.high", "bp.severe"}
    assert codes == ({code} if code else set())


def test_severe_supersedes_high_and_priority_comes_from_config():
    out = run(dosed(bp(600, 165, 90), bp(900, 185, 95), bp(1200, 150, 90)))
    states = [(t.offset_s, t.code, t.state, t.priority) for t in out
              if t.code in ("bp.high", "bp.severe") and t.state in ("raised", "cleared")]
    assert states == [
        (600, "bp.high", "raised", "medium"),
        (900, "bp.severe", "raised", "high"), (900, "bp.high", "cleared", "medium"),
        (1200, "bp.severe", "cleared", "high"),
    ]


@pytest.mark.parametrize("sbp,dbp,expected", [
    (159, 104, False), (159, 104.9, False), (160, 80, True), (120, 105, True), (159, 105, True),
])
def test_rise_over_baseline_boundaries(sbp, dbp, expected):
    # baseline 120/80: a rise is +40 systolic or +25 diastolic
    assert bool(raised(run(dosed(bp(600, sbp, dbp))), "bp.rise")) is expected


def test_rise_needs_a_baseline_and_uses_the_last_one_before_the_dose():
    out = run([ev(0, "session_start", "esketamine-84"), bp(60, 150, 80), bp(120, 110, 70),
               ev(300, "dose_start"), bp(600, 150, 95)])
    assert raised(out, "bp.rise") and "over baseline 110/70" in raised(out, "bp.rise")[0].message
    assert not raised(run([ev(0, "session_start", "esketamine-84"), ev(300, "dose_start"), bp(600, 170, 99)]),
                      "bp.rise")


def test_predose_high_is_strictly_above_the_guide_and_clears_at_dose():
    assert not raised(run([ev(0, "session_start", "esketamine-56"), bp(60, 140, 90)]), "bp.predose_high")
    out = run([ev(0, "session_start", "esketamine-56"), bp(60, 141, 90), ev(300, "dose_start")])
    assert [(t.offset_s, t.state) for t in out if t.code == "bp.predose_high"] == [(60, "raised"), (300, "cleared")]


def hr_run(values: list[float], start: float = 400) -> list[Transition]:
    return run(dosed(*[ox(start + i, hr=v) for i, v in enumerate(values)]))


def test_hr_high_needs_ten_seconds_held():
    # 111 from 400 to 410 inclusive: held 10 s -> raised at 410 (the hold's due time)
    assert [t.offset_s for t in raised(hr_run([111] * 11 + [90]), "hr.high")] == [410]
    # 111 for 10 readings (400..409), back to 90 at 410: the reading at the due instant cancels it
    assert not raised(hr_run([111] * 10 + [90]), "hr.high")
    assert not raised(hr_run([110] * 30), "hr.high")  # 110 is not above 110


def test_hr_low_boundary_and_clear():
    out = hr_run([49] * 12 + [50])
    assert [(t.offset_s, t.state) for t in out if t.code == "hr.low"] == [(410, "raised"), (412, "cleared")]
    assert not raised(hr_run([50] * 30), "hr.low")


def test_hold_fires_at_due_time_without_a_reading():
    engine = SessionEngine(CONFIG, "esketamine-84")
    for item in dosed(ox(400, hr=130)):
        engine.apply(item)
    assert engine.advance(409.9) == []
    fired = engine.advance(415)
    assert [(t.offset_s, t.code, t.value) for t in fired] == [(410, "hr.high", "130")]


def test_spo2_priority_follows_the_level_held():
    values = [91] * 11 + [87] * 11 + [90] * 2 + [95]
    out = run(dosed(*[ox(400 + i, spo2=v) for i, v in enumerate(values)]))
    got = [(t.offset_s, t.state, t.priority) for t in out if t.code == "spo2.low" and t.state != "escalated"]
    # Once high, the alarm stays high until acknowledged even as SpO2 eases to the medium band; then it latches.
    assert got == [(410, "raised", "medium"), (421, "raised", "high"), (424, "cleared", "high"),
                   (424, "latched", "high")]


def test_spo2_priority_eases_once_the_high_alarm_was_acknowledged():
    values = [87] * 11 + [90] * 3 + [95]
    items = [ox(400 + i, spo2=v) for i, v in enumerate(values)]
    items.insert(11, ev(410.5, "acknowledge", "spo2.low"))
    out = run(dosed(*items))
    got = [(t.offset_s, t.state, t.priority) for t in out if t.code == "spo2.low"]
    assert got == [(410, "raised", "high"), (410.5, "acknowledged", "high"), (411, "raised", "medium"),
                   (414, "cleared", "medium")]


def test_a_sudden_deep_dip_raises_once_at_the_level_reached():
    out = run(dosed(*[ox(400 + i, spo2=86) for i in range(12)]))
    assert [(t.offset_s, t.state, t.priority) for t in out if t.code == "spo2.low"] == [(410, "raised", "high")]


def test_spo2_short_dip_does_not_alarm():
    out = run(dosed(*[ox(400 + i, spo2=v) for i, v in enumerate([91] * 6 + [96] * 10)]))
    assert not raised(out, "spo2.low")


@pytest.mark.parametrize("reading,channel", [
    (bp(600, 320, 80), "bp"), (bp(600, 49, 30), "bp"), (bp(600, 120, 19), "bp"),
    (bp(600, 120, 120), "bp"), (ox(600, hr=19), "hr"), (ox(600, hr=301), "hr"), (ox(600, spo2=49), "spo2"),
])
def test_implausible_readings_feed_no_physiological_alarm(reading, channel):
    out = run(dosed(reading), until=2000)
    assert [(t.code, t.source) for t in raised(out, "reading.implausible")] == [("reading.implausible", channel)]
    assert not [t for t in out if t.code in ("bp.severe", "bp.high", "bp.rise", "hr.high", "hr.low")]


def test_plausible_extremes_are_accepted():
    out = run(dosed(bp(600, 300, 200 - 1), ox(601, hr=20, spo2=50)))
    assert not raised(out, "reading.implausible")


def test_check_due_fires_at_45_minutes_without_a_bp_in_the_window():
    out = run(dosed(bp(300 + 34 * 60, 130, 80)), until=300 + 60 * 60)
    assert [t.offset_s for t in raised(out, "bp.check_due")] == [300 + 45 * 60]


@pytest.mark.parametrize("minute", [35, 40, 45])
def test_check_due_is_satisfied_by_a_bp_inside_the_window(minute):
    out = run(dosed(bp(300 + minute * 60, 130, 80)), until=300 + 60 * 60)
    assert not raised(out, "bp.check_due")


def test_stale_nibp_from_the_dose_and_continuous_after_30s():
    out = run(dosed(ox(400), ox(401)), until=300 + 15 * 60)
    assert [(t.offset_s, t.source) for t in raised(out, "data.stale")] == [(431, "continuous"), (1200, "nibp")]


def test_no_stale_nibp_before_the_dose():
    out = run([ev(0, "session_start", "esketamine-84"), bp(60, 120, 80)], until=5000)
    assert not raised(out, "data.stale")


def test_technical_events():
    out = run(dosed(ev(400, "nibp_failed", "cuff leak"), ev(500, "device_disconnect", source="oximeter"),
                    ev(510, "device_reconnect", source="oximeter"), bp(600, 120, 80), ev(700, "sensor_off")))
    got = [(t.offset_s, t.code, t.state) for t in out if t.code != "data.stale" or t.offset_s == 700]
    assert got == [(400, "nibp.failed", "raised"), (500, "device.disconnected", "raised"),
                   (510, "device.disconnected", "cleared"), (600, "nibp.failed", "cleared"),
                   (700, "data.stale", "raised")]


RECOVERED = "moaas=5;dissociation=no;resp=ok"


def test_esketamine_phases_and_readiness_at_the_minimum_observation():
    engine = SessionEngine(CONFIG, "esketamine-84")
    for item in dosed(bp(300 + 40 * 60, 150, 90), bp(300 + 100 * 60, 130, 82),
                      ev(300 + 110 * 60, "assessment", RECOVERED)):
        engine.apply(item)
    assert engine.phase == "observation"
    out = engine.advance(300 + 130 * 60)
    assert observation(out) == [(300 + 120 * 60, "observation.ready")]
    assert engine.phase == "ready" and all(engine.readiness().values())
    out = engine.apply(ev(300 + 131 * 60, "discharge"))
    assert observation(out) == [(300 + 131 * 60, "observation.complete")] and engine.phase == "discharged"


def test_readiness_waits_for_assessment_bp_and_alarms():
    engine = SessionEngine(CONFIG, "esketamine-84")
    for item in dosed(bp(300 + 40 * 60, 150, 90), bp(300 + 100 * 60, 165, 90)):
        engine.apply(item)
    assert observation(engine.advance(300 + 125 * 60)) == []
    checklist = engine.readiness()
    assert checklist["minimum observation passed"] and not checklist["BP below the elevated limit and not rising"]
    engine.apply(bp(300 + 126 * 60, 140, 85))
    assert engine.phase == "observation"  # no post-dose assessment yet
    out = engine.apply(ev(300 + 127 * 60, "assessment", RECOVERED))
    assert observation(out) == [(300 + 127 * 60, "observation.ready")] and engine.ready_at == 300 + 127 * 60


def test_rising_bp_is_not_ready():
    engine = SessionEngine(CONFIG, "esketamine-84")
    for item in dosed(bp(300 + 40 * 60, 130, 80), bp(300 + 100 * 60, 140, 85),
                      ev(300 + 110 * 60, "assessment", RECOVERED)):
        engine.apply(item)
    engine.advance(300 + 125 * 60)
    assert engine.phase == "observation" and engine.ready_at is None
    engine.apply(bp(300 + 126 * 60, 135, 85))  # now below the post-dose peak of 140
    assert engine.phase == "ready" and engine.ready_at == 300 + 126 * 60


def test_iv_observation_counts_from_infusion_end():
    engine = SessionEngine(CONFIG, "iv-ketamine")
    for item in [ev(0, "session_start", "iv-ketamine"), bp(60, 120, 80), ev(300, "dose_start")]:
        engine.apply(item)
    assert engine.phase == "infusion" and engine.next_due().label == "infusion end"
    engine.apply(bp(300 + 40 * 60, 135, 85))
    engine.apply(ev(300 + 40 * 60, "infusion_end"))
    engine.apply(ev(300 + 90 * 60, "assessment", RECOVERED))
    engine.apply(bp(300 + 95 * 60, 125, 80))
    assert engine.phase == "observation"
    out = engine.advance(300 + 101 * 60)
    assert observation(out) == [(300 + 100 * 60, "observation.ready")]


def test_discharge_clears_every_alarm_and_stops_timers():
    out = run(dosed(bp(600, 190, 100), ox(601, hr=130), ev(700, "discharge")), until=99_999)
    cleared = {t.code for t in out if t.state == "cleared" and t.offset_s == 700}
    assert {"bp.severe", "bp.rise", "hr.high"} <= cleared
    assert not [t for t in out if t.offset_s > 700]


def test_unknown_protocol_is_refused():
    with pytest.raises(ValueError, match="unknown protocol"):
        SessionEngine(CONFIG, "propofol")
