"""spo2.unmonitored: an esketamine session with no SpO2 source and no manual SpO2 check for 15 min from the dose
raises a low technical advisory that never latches, cleared by the next SpO2; not for IV ketamine by default."""
from __future__ import annotations

from pathlib import Path

from dashboard.engine import TECHNICAL, SessionEngine, Transition, load_config
from devices.readings import Reading, SessionEvent

CONFIG = load_config()
DOSE = 300.0
AFTER = CONFIG.value("spo2.unmonitored.after") * 60


def bp(t: float) -> Reading:
    return Reading("nibp", sbp=124, dbp=78, hr=72, offset_s=t)


def ox(t: float) -> Reading:
    return Reading("oximeter", hr=75, spo2=97, offset_s=t)


def manual_spo2(t: float, spo2: float = 96) -> Reading:
    return Reading("manual", spo2=spo2, provenance="manual", offset_s=t)


def ev(t: float, kind: str, detail: str = "") -> SessionEvent:
    return SessionEvent(kind, detail=detail, offset_s=t)


def cuff_only(until: float, step: float = 300) -> list[Reading]:
    return [bp(t) for t in range(60, int(until) + 1, int(step))]


def fold(items, protocol: str = "esketamine-56", until: float | None = None, config=CONFIG) -> list[Transition]:
    engine = SessionEngine(config, protocol)
    out: list[Transition] = []
    for item in sorted(items, key=lambda i: i.offset_s):
        out.extend(engine.apply(item))
    if until is not None:
        out.extend(engine.advance(until))
    return [t for t in out if t.code == "spo2.unmonitored"]


def session(*items, protocol: str = "esketamine-56") -> list:
    return [ev(0, "session_start", protocol), ev(DOSE, "dose_start"), *items]


def test_the_default_is_15_min_with_a_source():
    setting = CONFIG.settings["spo2.unmonitored.after"]
    assert setting.value == 15 and "REMS" in setting.source
    assert CONFIG.priority("spo2.unmonitored") == "low" and "spo2.unmonitored" in TECHNICAL


def test_raised_15_min_after_the_dose_without_any_spo2():
    out = fold(session(*cuff_only(DOSE + AFTER - 1)), until=DOSE + AFTER + 60)
    assert [(t.offset_s, t.state, t.priority) for t in out] == [(DOSE + AFTER, "raised", "low")]
    assert "15 min" in out[0].message


def test_not_raised_a_second_early():
    assert fold(session(*cuff_only(DOSE + AFTER - 1)), until=DOSE + AFTER - 1) == []


def test_not_raised_with_an_oximeter_streaming():
    stream = [ox(t) for t in range(0, int(DOSE + 3 * AFTER), 5)]
    assert fold(session(*cuff_only(DOSE + 3 * AFTER), *stream), until=DOSE + 3 * AFTER) == []


def test_manual_checks_every_15_min_keep_it_quiet_and_a_late_one_clears_it():
    checks = [manual_spo2(DOSE + 600), manual_spo2(DOSE + 600 + AFTER - 1)]
    assert fold(session(*checks), until=DOSE + 600 + 2 * AFTER - 2) == []
    late = fold(session(manual_spo2(DOSE + AFTER + 120)), until=DOSE + 2 * AFTER)
    assert [(t.offset_s, t.state) for t in late] == [(DOSE + AFTER, "raised"), (DOSE + AFTER + 120, "cleared")]


def test_cleared_by_an_oximeter_sample_then_raised_again_after_15_min_more():
    out = fold(session(ox(DOSE + AFTER + 30)), until=DOSE + 2 * AFTER + 30)
    assert [(t.offset_s, t.state) for t in out] == [
        (DOSE + AFTER, "raised"), (DOSE + AFTER + 30, "cleared"), (DOSE + 2 * AFTER + 30, "raised")]


def test_not_before_the_dose_and_cleared_at_discharge_without_latching():
    assert fold([ev(0, "session_start"), *cuff_only(2 * AFTER)], until=2 * AFTER) == []
    out = fold(session(ev(DOSE + AFTER + 60, "discharge")), until=DOSE + 3 * AFTER)
    assert [t.state for t in out] == ["raised", "cleared"]  # no "latched": a technical advisory


def test_an_implausible_spo2_does_not_count_as_monitored():
    out = fold(session(manual_spo2(DOSE + 60, spo2=30)), until=DOSE + AFTER)
    assert [(t.offset_s, t.state) for t in out] == [(DOSE + AFTER, "raised")]


def test_a_manual_spo2_never_arms_the_continuous_stale_alarm():
    engine = SessionEngine(CONFIG, "esketamine-56")
    out: list[Transition] = []
    for item in session(manual_spo2(DOSE + 60)):
        out.extend(engine.apply(item))
    out.extend(engine.advance(DOSE + 600))
    assert not [t for t in out if t.code == "data.stale"]


def test_not_raised_for_iv_ketamine_unless_the_clinic_asks(tmp_path: Path):
    items = session(*cuff_only(DOSE + 2 * AFTER), protocol="iv-ketamine")
    assert fold(items, protocol="iv-ketamine", until=DOSE + 2 * AFTER) == []
    clinic = tmp_path / "clinic.toml"
    clinic.write_text("[protocol.iv-ketamine]\nspo2_required = true\n[spo2.unmonitored]\nafter = { value = 10 }\n")
    out = fold(items, protocol="iv-ketamine", until=DOSE + 2 * AFTER, config=load_config(clinic))
    assert [(t.offset_s, t.state) for t in out][:1] == [(DOSE + 600, "raised")]
