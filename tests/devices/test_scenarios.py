"""The testers' scenario library (sample_data/scenarios): complete, reproducible, and clinically right.

Each scenario's expected file is what `check` prints; the assertions below read the
feed itself to say when each alarm must come (docs/clinical.md), so a wrong expected file
cannot pass just by matching the engine.
"""
from __future__ import annotations

import dataclasses
import heapq
import io
import json
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path

import pytest

from dashboard.cli.check import run_check
from devices.feed import read_actions
from dashboard.engine import PHYSIOLOGICAL, SessionEngine, Transition, load_config
from devices.feed import Feed, read_feed, write_feed
from devices.readings import Assessment, Reading, SessionEvent
from devices.simulator import SCENARIOS, session_items
from tests.waits import DEADLINE_S

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "sample_data" / "scenarios"
INDEX = tomllib.loads((LIBRARY / "index.toml").read_text(encoding="utf-8"))
NAMES = sorted(INDEX)
CONFIG = load_config()
MIN = 60.0
REQUIRED = {"iv-infusion-quiet", "esketamine-56-quiet", "esketamine-84-outlier", "esketamine-84-severe",
            "predose-override", "bradycardia", "tachycardia", "respiratory-depression", "cuff-artifacts",
            "probe-off", "device-disconnect", "missed-40min-check", "clock-jump",
            *(f"iv-induction-{n}" for n in range(1, 7))}


def actions_of(name: str) -> Path | None:
    return LIBRARY / INDEX[name]["actions"] if "actions" in INDEX[name] else None


@cache
def feed(name: str) -> Feed:
    return read_feed(LIBRARY / f"{name}.csv")


@cache
def out(name: str) -> tuple[Transition, ...]:
    return tuple(run_check(LIBRARY / f"{name}.csv", CONFIG, actions_of(name)).transitions)


def events(name: str, kind: str) -> list[SessionEvent]:
    return [i for i in feed(name).items if isinstance(i, SessionEvent) and i.kind == kind]


def at(name: str, kind: str) -> float:
    return events(name, kind)[0].offset_s or 0.0


def readings(name: str, source: str) -> list[Reading]:
    return [i for i in feed(name).items if isinstance(i, Reading) and i.source == source]


def valid_bp(name: str) -> list[Reading]:
    return [r for r in readings(name, "nibp") if r.sbp is not None and r.dbp is not None
            and 50 <= r.sbp <= 300 and 20 <= r.dbp < r.sbp]


def states(name: str, code: str, source: str = "") -> list[tuple[float, str, str]]:
    """(offset, state, priority) of one alarm, without the discharge's closing clears."""
    return [(t.offset_s, t.state, t.priority) for t in out(name)
            if t.code == code and t.source == source and "session ended" not in t.message]


def raised_codes(name: str) -> set[str]:
    return {t.code for t in out(name) if t.state == "raised"}


def held_since(samples: list[Reading], t: float, abnormal) -> float:
    """The first sample of the abnormal run that is still going at session time `t`."""
    run = [r for r in samples if (r.offset_s or 0) <= t]
    start = t
    for r in reversed(run):
        if not abnormal(r):
            break
        start = r.offset_s or 0.0
    return start


# ---- the library is complete and reproducible ------------------------------------------


def test_every_required_scenario_is_indexed_with_a_description():
    assert REQUIRED <= set(NAMES)
    for name in NAMES:
        assert INDEX[name]["description"].strip(), name
        assert INDEX[name]["scenario"] in SCENARIOS and isinstance(INDEX[name]["seed"], int)


def test_every_file_in_the_folder_belongs_to_an_indexed_scenario():
    expected = {"index.toml"}
    for name in NAMES:
        expected |= {f"{name}.csv", f"{name}.expected.jsonl"}
        if "actions" in INDEX[name]:
            assert INDEX[name]["actions"] == f"{name}.actions.csv"
            expected.add(INDEX[name]["actions"])
    assert {path.name for path in LIBRARY.iterdir()} == expected


@pytest.mark.parametrize("name", NAMES)
def test_feed_is_small_clean_and_the_simulator_writes_it_again(name):
    path = LIBRARY / f"{name}.csv"
    assert path.stat().st_size < 250_000
    assert feed(name).problems == []
    entry = INDEX[name]
    buffer = io.StringIO()
    write_feed(session_items(entry["scenario"], entry["seed"], CONFIG), buffer)
    assert buffer.getvalue() == path.read_text(encoding="utf-8")  # `simulate --scenario S --seed N` gives it


@pytest.mark.parametrize("name", NAMES)
def test_check_reproduces_the_expected_file_field_for_field(name):
    want = [json.loads(line) for line in (LIBRARY / f"{name}.expected.jsonl").read_text().splitlines()]
    result = run_check(LIBRARY / f"{name}.csv", CONFIG, actions_of(name))
    assert result.problems == []
    assert [t.to_dict() for t in result.transitions] == want


@pytest.mark.parametrize("name", ["esketamine-84-severe", "probe-off"])
def test_the_cli_prints_the_expected_lines(name):
    command = [sys.executable, "app.py", "check", str(LIBRARY / f"{name}.csv"), "--json"]
    if actions_of(name):
        command += ["--actions", str(actions_of(name))]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE_S)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == (LIBRARY / f"{name}.expected.jsonl").read_text().splitlines()


@pytest.mark.parametrize("name", NAMES)
def test_every_session_ends_ready_and_discharged_with_nothing_left_showing(name):
    kinds = [t.code for t in out(name) if t.state == "event" and t.code.startswith("observation.")]
    assert kinds == ["observation.ready", "observation.complete"]
    assert not [t for t in out(name) if "session ended" in t.message]  # nothing active at the discharge
    spec = CONFIG.protocols[feed(name).protocol or ""]
    anchor = at(name, "infusion_end") if spec.is_infusion else at(name, "dose_start")
    ready = next(t.offset_s for t in out(name) if t.code == "observation.ready")
    assert ready >= anchor + spec.observation_s


# ---- what each scenario proves (docs/clinical.md) ----------------------------------------------


@pytest.mark.parametrize("name", ["iv-infusion-quiet", "esketamine-56-quiet", "clock-jump",
                                  "iv-induction-4", "iv-induction-5", "iv-induction-6"])
def test_quiet_sessions_raise_nothing(name):
    assert not [t for t in out(name) if t.state != "event"]


def test_quiet_iv_is_ready_an_hour_after_the_infusion_and_esketamine_two_hours_after_the_dose():
    assert out("iv-infusion-quiet")[0].offset_s == at("iv-infusion-quiet", "infusion_end") + 60 * MIN
    assert at("iv-infusion-quiet", "infusion_end") == at("iv-infusion-quiet", "dose_start") + 40 * MIN
    assert out("esketamine-56-quiet")[0].offset_s == at("esketamine-56-quiet", "dose_start") + 120 * MIN


def test_outlier_rises_40_over_baseline_with_bp_rise_and_high_but_not_severe():
    name = "esketamine-84-outlier"
    dose = at(name, "dose_start")
    baseline = [r for r in valid_bp(name) if (r.offset_s or 0) < dose][-1]
    rises = [r for r in valid_bp(name) if (r.offset_s or 0) > dose
             and ((r.sbp or 0) - (baseline.sbp or 0) >= 40 or (r.dbp or 0) - (baseline.dbp or 0) >= 25)]
    assert rises and (rises[0].offset_s or 0) - dose <= 90 * MIN  # within 1.5 h (label)
    assert states(name, "bp.rise")[0] == (rises[0].offset_s, "raised", "medium")
    assert states(name, "bp.high")[0][1:] == ("raised", "medium")
    assert "bp.severe" not in raised_codes(name) and raised_codes(name) <= {"bp.rise", "bp.high"}
    assert max(t for t, state, _ in states(name, "bp.rise") if state == "cleared") - dose <= 90 * MIN


def test_severe_peak_raises_high_priority_latches_and_is_acknowledged():
    name = "esketamine-84-severe"
    dose = at(name, "dose_start")
    severe = [r for r in valid_bp(name) if (r.sbp or 0) >= 180 or (r.dbp or 0) >= 110]
    assert 25 * MIN <= (severe[0].offset_s or 0) - dose <= 50 * MIN  # the peak near 40 min
    got = [(t, s) for t, s, p in states(name, "bp.severe")]
    first, ack = severe[0].offset_s or 0, 2480.0
    assert got[:4] == [(first, "raised"), (ack, "acknowledged"), (ack + 120, "realarm"), (ack + 180, "escalated")]
    cleared = next(r.offset_s for r in valid_bp(name) if (r.offset_s or 0) > (severe[-1].offset_s or 0))
    assert got[4:] == [(cleared, "cleared"), (cleared, "latched"), (3960.0, "acknowledged")]
    assert {p for _, _, p in states(name, "bp.severe")} == {"high"}
    assert raised_codes(name) == {"bp.high", "bp.rise", "bp.severe"}


def test_predose_hypertension_alarms_before_the_dose_and_the_override_is_recorded():
    name = "predose-override"
    dose = at(name, "dose_start")
    first_high = next(r for r in valid_bp(name) if (r.sbp or 0) > 140 or (r.dbp or 0) > 90)
    assert (first_high.offset_s or 0) < dose
    assert states(name, "bp.predose_high") == [(first_high.offset_s, "raised", "medium"), (dose, "cleared", "medium")]
    assert raised_codes(name) == {"bp.predose_high"}
    actions, problems = read_actions(LIBRARY / INDEX[name]["actions"])
    assert problems == [] and [a.kind for a in actions] == ["override"] and (actions[0].offset_s or 0) < dose
    engine = SessionEngine(CONFIG, "esketamine-56")
    for item in heapq.merge(feed(name).items, actions, key=lambda i: i.offset_s or 0.0):
        engine.apply(item)
    assert engine.overrides == [(actions[0].offset_s, "MD-KL", actions[0].detail)]
    logged = [(t.offset_s, t.value, t.message) for t in out(name) if t.code == "override"]
    assert logged == [(actions[0].offset_s, "MD-KL", actions[0].detail)]  # in check's history, with who


@pytest.mark.parametrize("name,code,abnormal,minutes", [
    ("bradycardia", "hr.low", lambda r: (r.hr or 0) < 50, 25),
    ("tachycardia", "hr.high", lambda r: (r.hr or 0) > 110, 20),
])
def test_heart_rate_alarm_comes_after_10_s_held_and_clears_on_recovery(name, code, abnormal, minutes):
    dose = at(name, "dose_start")
    hr = [r for r in feed(name).items if isinstance(r, Reading) and r.hr is not None]
    got = states(name, code)
    assert [s for _, s, _ in got] == ["raised", "cleared"] and {p for _, _, p in got} == {"medium"}
    raised, cleared = got[0][0], got[1][0]
    assert raised - held_since(hr, raised, abnormal) == 10  # the 10 s hold, first to last abnormal sample
    assert minutes * MIN <= raised - dose <= minutes * MIN + 60
    back = next(r for r in hr if (r.offset_s or 0) > raised and not abnormal(r))
    assert cleared == back.offset_s
    assert raised_codes(name) == {code}


def test_respiratory_depression_is_assessed_and_spo2_below_88_held_raises_high():
    name = "respiratory-depression"
    dose = at(name, "dose_start")
    assessed = [(e.offset_s or 0, Assessment.parse(e.detail)) for e in events(name, "assessment")]
    depressed = [t for t, a in assessed if not a.breathing_ok]
    assert depressed == [dose + 30 * MIN, dose + 45 * MIN]
    assert all(a.moaas <= 2 for t, a in assessed if t == dose + 30 * MIN)
    spo2 = readings(name, "oximeter")
    got = states(name, "spo2.low")
    raised = {p: t for t, s, p in got if s == "raised"}
    assert raised["high"] - held_since(spo2, raised["high"], lambda r: (r.spo2 or 100) < 88) == 10
    assert min(r.spo2 or 100 for r in spo2) < 88
    assert [s for _, s, _ in got][:3] == ["raised", "raised", "acknowledged"]  # medium, then high; seen
    assert got[-1][1] == "cleared" and got[-1][0] < depressed[-1]
    assert raised_codes(name) == {"spo2.low"}
    ready = next(t.offset_s for t in out(name) if t.code == "observation.ready")
    assert ready > depressed[-1]  # not ready while breathing was last assessed as depressed


def test_cuff_artifacts_raise_only_technical_alarms_at_each_failed_or_implausible_cycle():
    name = "cuff-artifacts"
    failed = [e.offset_s for e in events(name, "nibp_failed")]
    implausible = [r.offset_s for r in readings(name, "nibp") if r not in valid_bp(name)]
    assert failed and implausible
    assert {t for t, s, _ in states(name, "nibp.failed") if s == "raised"} <= set(failed)
    assert [t for t, s, _ in states(name, "reading.implausible", "bp") if s == "raised"] == implausible
    assert raised_codes(name) == {"nibp.failed", "reading.implausible"}
    assert {t.priority for t in out(name) if t.state != "event"} == {"low"}


def test_probe_off_raises_stale_continuous_at_once_and_clears_when_samples_return():
    name = "probe-off"
    offs = [e for e in events(name, "sensor_off")]
    assert len(offs) == 2 and {e.source for e in offs} == {"oximeter"}
    spo2 = readings(name, "oximeter")
    want = []
    for off in offs:
        back = next(r.offset_s for r in spo2 if (r.offset_s or 0) > (off.offset_s or 0))
        assert (back or 0) - (off.offset_s or 0) >= 45  # a real gap in the data
        want += [(off.offset_s, "raised", "medium"), (back, "cleared", "medium")]
    assert states(name, "data.stale", "continuous") == want
    assert raised_codes(name) == {"data.stale"}


def test_disconnect_raises_and_clears_per_source_with_the_stale_data_of_the_gap():
    name = "device-disconnect"
    for source in ("oximeter", "nibp"):
        down = next(e for e in events(name, "device_disconnect") if e.source == source)
        up = next(e for e in events(name, "device_reconnect") if e.source == source)
        assert states(name, "device.disconnected", source) == [(down.offset_s, "raised", "medium"),
                                                               (up.offset_s, "cleared", "medium")]
        assert not [r for r in readings(name, source) if (down.offset_s or 0) <= (r.offset_s or 0) < (up.offset_s or 0)]
    down = next(e for e in events(name, "device_disconnect") if e.source == "oximeter")
    last = max(r.offset_s or 0 for r in readings(name, "oximeter") if (r.offset_s or 0) < (down.offset_s or 0))
    up = next(e for e in events(name, "device_reconnect") if e.source == "oximeter")
    assert states(name, "data.stale", "continuous") == [(last + 30, "raised", "medium"), (up.offset_s, "cleared", "medium")]
    assert not states(name, "data.stale", "nibp")  # one missed cuff cycle is not 15 min without NIBP
    assert raised_codes(name) == {"device.disconnected", "data.stale"}


def test_missed_40_minute_check_raises_the_reminder_at_45_minutes():
    name = "missed-40min-check"
    dose = at(name, "dose_start")
    assert not [r for r in readings(name, "nibp") if dose + 35 * MIN <= (r.offset_s or 0) <= dose + 45 * MIN]
    after = next(r.offset_s for r in valid_bp(name) if (r.offset_s or 0) > dose + 45 * MIN)
    assert states(name, "bp.check_due") == [(dose + 45 * MIN, "raised", "low"), (after, "cleared", "low")]
    assert raised_codes(name) == {"bp.check_due"}


def test_clock_jump_is_noted_and_leaves_the_engine_unaffected():
    name = "clock-jump"
    notes = events(name, "note")
    assert len(notes) == 1 and "clock jumped -3600 s" in notes[0].detail and notes[0].source == "oximeter"
    scn = SCENARIOS[INDEX[name]["scenario"]]
    assert scn.clock_jump is not None
    without = [i for i in session_items(dataclasses.replace(scn, clock_jump=None), INDEX[name]["seed"], CONFIG)]
    as_read = [dataclasses.replace(i, who="") if isinstance(i, SessionEvent) else i for i in without]
    assert [i for i in feed(name).items if i not in notes] == as_read  # the feed carries no `who`
    engine = SessionEngine(CONFIG, scn.protocol)
    plain = [t for item in without for t in engine.apply(item)] + engine.advance(without[-1].offset_s or 0.0)
    assert list(out(name)) == plain
    # the jump is in the device times the simulator gives, while session offsets keep going forward
    epoch = 1_700_000_000.0
    stamped = [i for i in session_items(scn, INDEX[name]["seed"], CONFIG, device_epoch=epoch)
               if isinstance(i, Reading) and i.source == "oximeter"]
    steps = {round((b.device_time or 0) - (a.device_time or 0)) for a, b in zip(stamped, stamped[1:])}
    assert -3600 + 1 in steps and all((b.offset_s or 0) > (a.offset_s or 0) for a, b in zip(stamped, stamped[1:]))


SERIES = [f"iv-induction-{n}" for n in range(1, 7)]


def test_induction_series_is_six_iv_sessions_of_one_patient():
    patients = {INDEX[name]["patient"] for name in SERIES}
    assert len(patients) == 1
    patient = patients.pop()
    assert [feed(name).protocol for name in SERIES] == ["iv-ketamine"] * 6
    for n, name in enumerate(SERIES, start=1):
        assert [e.detail for e in events(name, "note")] == [f"patient {patient}, infusion {n} of the course"]
    baselines = [[r for r in valid_bp(name) if (r.offset_s or 0) < at(name, "dose_start")][-1] for name in SERIES]
    assert max(b.sbp or 0 for b in baselines) - min(b.sbp or 0 for b in baselines) <= 20  # one person's BP
    assert all((b.sbp or 0) <= 140 and (b.dbp or 0) <= 90 for b in baselines)  # treated: below the pre-dose guide


def test_induction_series_has_more_hypertension_in_the_first_three_infusions():
    def rise(name: str) -> float:
        dose = at(name, "dose_start")
        base = [r for r in valid_bp(name) if (r.offset_s or 0) < dose][-1]
        return max((r.sbp or 0) for r in valid_bp(name) if (r.offset_s or 0) > dose) - (base.sbp or 0)

    early, late = SERIES[:3], SERIES[3:]
    assert all("bp.high" in raised_codes(name) for name in early)
    assert not any(raised_codes(name) for name in late)
    assert min(map(rise, early)) > max(map(rise, late))
    assert len({rise(name) for name in SERIES}) == 6  # no two infusions alike
    assert not any(code in PHYSIOLOGICAL - {"bp.high"} for name in SERIES for code in raised_codes(name))
