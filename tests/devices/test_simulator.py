"""The simulator: deterministic sessions whose physiology the engine recognises, and its pacing."""
from __future__ import annotations

import dataclasses
import importlib.util
import io
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from dashboard.engine import PHYSIOLOGICAL, SessionEngine, Transition, load_config
from devices.adapter import Ticket
from devices.simulator.episodes import ClockJump, HrEpisode, Outage, Window, trapezoid
from devices.feed import write_feed
from devices.readings import Assessment, Item, Reading, SessionEvent
from devices.simulator import (
    BACKFILL_CHUNK, PHYSIOLOGY, SCENARIOS, Scenario, SimulatedChair, draw_patient, scenario, session_items,
)
from tests.waits import DEADLINE_S, wait_until

ROOT = Path(__file__).resolve().parents[2]

CONFIG = load_config()
SEEDS = (0, 1, 2, 3, 4)
QUIET = ("iv-quiet", "esketamine-84-quiet", "esketamine-56-quiet", "esketamine-56-predose-wait")
MIN = 60.0


def items_of(name: str, seed: int = 0) -> list[Item]:
    return list(session_items(name, seed, CONFIG))


def replay(items: Sequence[Item], protocol: str) -> tuple[list[Transition], list[str]]:
    """The engine's transitions and the phases it went through, in order."""
    engine = SessionEngine(CONFIG, protocol)
    out: list[Transition] = []
    phases = [engine.phase]
    for item in items:
        out.extend(engine.apply(item))
        if engine.phase != phases[-1]:
            phases.append(engine.phase)
    return out, phases


def events(items: Sequence[Item], kind: str) -> list[SessionEvent]:
    return [i for i in items if isinstance(i, SessionEvent) and i.kind == kind]


def bp_readings(items: Sequence[Item]) -> list[Reading]:
    return [i for i in items if isinstance(i, Reading) and i.source == "nibp"]


def dose_at(items: Sequence[Item]) -> float:
    return events(items, "dose_start")[0].offset_s or 0.0


def raised(out: Sequence[Transition], code: str) -> list[Transition]:
    return [t for t in out if t.code == code and t.state == "raised"]


# ---- determinism and the shape of the stream -------------------------------------


def test_same_seed_gives_the_same_session_and_another_seed_a_different_one():
    assert items_of("esketamine-84-typical", 7) == items_of("esketamine-84-typical", 7)
    assert items_of("esketamine-84-typical", 7) != items_of("esketamine-84-typical", 8)
    assert items_of("esketamine-84-quiet", 7) != items_of("esketamine-56-quiet", 7)


def test_unknown_scenario_names_the_known_ones():
    with pytest.raises(ValueError, match="esketamine-84-severe"):
        scenario("propofol-quiet")
    assert scenario("iv-quiet") is SCENARIOS["iv-quiet"]


def test_scenario_refuses_a_dose_without_room_for_a_baseline():
    with pytest.raises(ValueError, match="two pre-dose BP"):
        Scenario("rushed", "esketamine-84", "dosed at once", dose_at_s=120)


@pytest.mark.parametrize("name", SCENARIOS)
def test_stream_is_ordered_and_shaped_like_a_session(name):
    items = items_of(name)
    offsets = [i.offset_s for i in items]
    assert all(isinstance(o, float) for o in offsets)
    assert offsets == sorted(offsets)
    first = items[0]
    assert isinstance(first, SessionEvent) and first.kind == "session_start"
    assert first.offset_s == 0 and first.detail == SCENARIOS[name].protocol
    assert len(events(items, "dose_start")) == 1 and dose_at(items) == SCENARIOS[name].dose_at_s
    predose = [r for r in bp_readings(items) if (r.offset_s or 0) < dose_at(items)]
    assert len(predose) >= 2
    assert all(e.who == "simulator" for e in items if isinstance(e, SessionEvent))
    assert all(r.provenance == "device" for r in items if isinstance(r, Reading))
    for r in (i for i in items if isinstance(i, Reading)):  # whole numbers, like the devices
        assert all(v is None or float(v).is_integer() for v in (r.sbp, r.dbp, r.map, r.hr, r.spo2))


@pytest.mark.parametrize("name", ["esketamine-84-quiet", "iv-quiet"])
def test_oximeter_reports_every_second(name):
    seconds = [r.offset_s for r in items_of(name) if isinstance(r, Reading) and r.source == "oximeter"]
    assert seconds[0] == 1.0
    assert {b - a for a, b in zip(seconds, seconds[1:])} == {1.0}


def test_dropouts_leave_gaps_on_the_one_second_grid():
    seconds = [r.offset_s or 0 for r in items_of("esketamine-84-artifacts") if r.source == "oximeter"]
    gaps = [b - a for a, b in zip(seconds, seconds[1:])]
    assert all(g.is_integer() for g in gaps) and max(gaps) >= 2
    missing = sum(g - 1 for g in gaps) / (seconds[-1] - seconds[0])
    assert 0.01 < missing < 0.06  # the scenario asks for 3 %


def test_dose_details_and_the_iv_infusion_length_come_from_the_protocol():
    assert events(items_of("esketamine-84-quiet"), "dose_start")[0].detail == "84 mg"
    assert events(items_of("esketamine-56-quiet"), "dose_start")[0].detail == "56 mg"
    iv = items_of("iv-quiet")
    assert events(iv, "dose_start")[0].detail == "0.5 mg/kg"
    infusion = CONFIG.protocols["iv-ketamine"].dosing_s
    assert [e.offset_s for e in events(iv, "infusion_end")] == [dose_at(iv) + infusion]
    assert not events(items_of("esketamine-84-quiet"), "infusion_end")


def test_a_clinic_config_moves_the_infusion_end_and_the_discharge(tmp_path):
    path = tmp_path / "clinic.toml"
    path.write_text("[protocol.iv-ketamine]\ninfusion = { value = 30 }\n")
    iv = list(session_items("iv-quiet", 0, load_config(path)))
    assert events(iv, "infusion_end")[0].offset_s == dose_at(iv) + 30 * MIN
    assert events(iv, "discharge")[0].offset_s < events(items_of("iv-quiet"), "discharge")[0].offset_s


@pytest.mark.parametrize("name", ["esketamine-84-quiet", "iv-quiet"])
def test_discharge_follows_the_minimum_observation(name):
    items = items_of(name)
    spec = CONFIG.protocols[SCENARIOS[name].protocol]
    anchor = events(items, "infusion_end")[0].offset_s if spec.is_infusion else dose_at(items)
    discharge = events(items, "discharge")
    assert len(discharge) == 1 and discharge[0] is items[-1]
    assert anchor + spec.observation_s < discharge[0].offset_s <= anchor + spec.observation_s + 15 * MIN


def test_without_discharge_the_stream_just_ends():
    scn = dataclasses.replace(SCENARIOS["esketamine-84-quiet"], discharge=False)
    assert not events(list(session_items(scn, 0, CONFIG)), "discharge")


def test_assessments_follow_the_sedation_course():
    items = items_of("esketamine-84-quiet")
    dose = dose_at(items)
    course = {round(((e.offset_s or 0) - dose) / MIN): Assessment.parse(e.detail)
              for e in events(items, "assessment")}
    assert list(course)[:8] == [15, 30, 45, 60, 75, 90, 105, 120]
    assert course[30].moaas < 5 and course[30].dissociation  # peak sedation 30-45 min
    assert course[90] == Assessment(5, False, True)  # resolved by 60-90 min
    assert all(a.breathing_ok for a in course.values())


# ---- the physiology the engine sees -----------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_runs_through_the_engine_to_discharge(name):
    out, phases = replay(items_of(name), SCENARIOS[name].protocol)
    during = "infusion" if SCENARIOS[name].protocol == "iv-ketamine" else "dosing"
    # a high alarm nobody acknowledges stays latched and holds readiness: the simulated nurse discharges anyway
    latched = any(t.state == "latched" for t in out)
    expected = ["pre-dose", during, "observation"] + ([] if latched else ["ready"]) + ["discharged"]
    assert phases == expected
    events_seen = [t.code for t in out if t.state == "event"]
    assert events_seen == (["observation.complete"] if latched else ["observation.ready", "observation.complete"])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", QUIET)
def test_quiet_sessions_raise_no_physiological_alarm(name, seed):
    out, _ = replay(items_of(name, seed), SCENARIOS[name].protocol)
    assert [t for t in out if t.state == "raised"] == []
    assert not [t for t in out if t.code in PHYSIOLOGICAL]


@pytest.mark.parametrize("seed", SEEDS)
def test_severe_scenario_peaks_near_40_minutes_and_clears_as_it_decays(seed):
    items = items_of("esketamine-84-severe", seed)
    dose = dose_at(items)
    out, _ = replay(items, "esketamine-84")
    peak = max((r for r in bp_readings(items) if (r.offset_s or 0) > dose), key=lambda r: r.sbp or 0)
    assert 30 * MIN <= (peak.offset_s or 0) - dose <= 50 * MIN
    assert (peak.sbp or 0) >= 185 and max(r.dbp or 0 for r in bp_readings(items)) >= 112
    severe = [t for t in out if t.code == "bp.severe" and t.state in ("raised", "cleared")
              and "session ended" not in t.message]  # the condition's own transitions, not the discharge
    first_high, first_severe = raised(out, "bp.high")[0], raised(out, "bp.severe")[0]
    assert first_high.offset_s < first_severe.offset_s <= (peak.offset_s or 0)  # high on the way up
    assert severe[-1].state == "cleared" and severe[-1].offset_s - dose <= 70 * MIN  # cleared on the way down
    assert raised(out, "bp.rise") and raised(out, "bp.high")[-1].offset_s > first_severe.offset_s
    # nobody acknowledges in a simulated stream: the high alarm escalates and stays latched once clear
    lifecycle = {t.state for t in out if t.code == "bp.severe"}
    assert {"escalated", "latched"} <= lifecycle


@pytest.mark.parametrize("seed", SEEDS)
def test_outlier_rises_40_25_over_baseline_but_stays_below_severe(seed):
    items = items_of("esketamine-84-outlier", seed)
    dose = dose_at(items)
    baseline = [r for r in bp_readings(items) if (r.offset_s or 0) < dose][-1]
    after = [r for r in bp_readings(items) if (r.offset_s or 0) > dose]
    assert max((r.sbp or 0) - (baseline.sbp or 0) for r in after) >= 40
    assert max((r.dbp or 0) - (baseline.dbp or 0) for r in after) >= 25
    out, _ = replay(items, "esketamine-84")
    assert raised(out, "bp.rise") and raised(out, "bp.high") and not raised(out, "bp.severe")


@pytest.mark.parametrize("seed", SEEDS)
def test_predose_high_alarms_before_the_dose_and_clears_at_it(seed):
    items = items_of("predose-high", seed)
    dose = dose_at(items)
    assert all((r.sbp or 0) > 140 or (r.dbp or 0) > 90 for r in bp_readings(items) if (r.offset_s or 0) < dose)
    out, _ = replay(items, "esketamine-56")
    predose = [(t.state, t.offset_s) for t in out if t.code == "bp.predose_high"]
    assert predose[0][0] == "raised" and predose[0][1] < dose and predose[-1] == ("cleared", dose)


def test_predose_wait_is_still_before_its_dose_ten_minutes_in():
    items = items_of("esketamine-56-predose-wait")
    assert 11 * MIN <= dose_at(items) <= 13 * MIN
    engine = SessionEngine(CONFIG, "esketamine-56")
    for item in (i for i in items if (i.offset_s or 0) <= 10 * MIN):
        engine.apply(item)
    assert engine.phase == "pre-dose" and engine.baseline is None and engine.last_bp is not None


def test_desaturation_scenario_alarms_at_each_dip_after_the_hold():
    items = items_of("esketamine-84-desaturation")
    dose = dose_at(items)
    out, _ = replay(items, "esketamine-84")
    got = [(round(t.offset_s - dose), t.state, t.priority) for t in out
           if t.code == "spo2.low" and t.state in ("raised", "cleared") and "session ended" not in t.message]
    # 89 % from 30 min for 40 s; 86 % from 45 min for 25 s: each raised 10 s in, cleared on recovery
    assert got == [(30 * 60 + 10, "raised", "medium"), (30 * 60 + 40, "cleared", "medium"),
                   (45 * 60 + 10, "raised", "high"), (45 * 60 + 25, "cleared", "high")]


def test_artifact_scenario_raises_only_technical_alarms():
    out, _ = replay(items_of("esketamine-84-artifacts"), "esketamine-84")
    codes = {t.code for t in out if t.state == "raised"}
    assert codes & {"nibp.failed", "reading.implausible"} and not codes & PHYSIOLOGICAL


def test_drawn_rises_follow_the_published_esketamine_distribution():
    typical = SCENARIOS["esketamine-84-typical"]
    patients = [draw_patient(typical, seed) for seed in range(2000)]
    outliers = [p for p in patients if p.rise_sbp >= 40 and p.rise_dbp >= 25]
    assert 0.09 <= len(outliers) / len(patients) <= 0.15  # 10-15 % of sessions
    rest = [p for p in patients if p not in outliers]
    assert statistics.mean(p.rise_sbp for p in rest) == pytest.approx(13, abs=1.5)
    assert statistics.mean(p.rise_dbp for p in rest) == pytest.approx(9, abs=1.5)
    low, high = PHYSIOLOGY.baseline_sbp
    assert all(low <= p.sbp <= high and p.dbp < p.sbp - 20 for p in patients)


# ---- SimulatedChair pacing ----------------------------------------------------------


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeStop:
    """Stands in for threading.Event: waiting moves the fake clock on; set after `after` waits."""

    def __init__(self, clock: FakeClock, after: int | None = None) -> None:
        self.clock, self.after, self.waits = clock, after, []
        self._set = False

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        if self.after is not None and len(self.waits) >= self.after:
            self._set = True
            return True
        self.clock.now += timeout
        return False


class RecordingSink:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.submits: list[tuple[float, str, list[Item]]] = []

    def submit(self, chair: str, items: Sequence[Item], message: str | None = None) -> Ticket:
        self.submits.append((self.clock.now, chair, list(items)))
        ticket = Ticket()
        ticket.resolve()
        return ticket

    @property
    def items(self) -> list[Item]:
        return [item for _, _, batch in self.submits for item in batch]


START = 1_000_000.0


def play(scn: str = "esketamine-84-quiet", *, ago: float = 0.0, speed: float = 1.0, skip: int = 0,
         after: int | None = None) -> tuple[RecordingSink, FakeStop]:
    clock = FakeClock(START + ago)
    sink, stop = RecordingSink(clock), FakeStop(clock, after)
    chair = SimulatedChair("chair 3", scn, seed=0, started_at=START, speed=speed, skip=skip, clock=clock,
                           config=CONFIG)
    chair.run(sink, stop)  # type: ignore[arg-type]
    return sink, stop


def plain(item: Item) -> Item:
    return dataclasses.replace(item, device_time=None, received_time=None)


def test_backfill_is_submitted_at_once_in_chunks_then_items_when_due():
    sink, _ = play(ago=20 * MIN)
    expected = items_of("esketamine-84-quiet")
    assert [plain(i) for i in sink.items] == expected  # everything, in order, offsets kept
    backfill = [s for s in sink.submits if s[0] == START + 20 * MIN]
    assert sum(len(b) for _, _, b in backfill) == sum(1 for i in expected if (i.offset_s or 0) <= 20 * MIN)
    assert len(backfill) > 1 and all(len(b) <= BACKFILL_CHUNK for _, _, b in backfill)
    for at, chair, batch in sink.submits:
        assert chair == "chair 3"
        assert all(i.received_time == at for i in batch)
        assert all(START + (i.offset_s or 0) <= at for i in batch)  # never early
        if at > START + 20 * MIN:
            assert {START + (i.offset_s or 0) for i in batch} == {at}  # live: exactly when due


def test_items_due_at_the_same_instant_share_one_submit():
    sink, _ = play(ago=0)
    dose = next(i for i in sink.items if isinstance(i, SessionEvent) and i.kind == "dose_start")
    batch = next(b for _, _, b in sink.submits if dose in b)
    assert {i.offset_s for i in batch} == {dose.offset_s} and len(batch) >= 2  # dose and that second's oximetry


def test_speed_compresses_wall_time_and_stamps_device_time():
    sink, stop = play(speed=60)
    readings = [i for i in sink.items if isinstance(i, Reading)]
    assert all(r.device_time == START + (r.offset_s or 0) / 60 for r in readings)
    assert sum(stop.waits) == pytest.approx((sink.items[-1].offset_s or 0) / 60)
    assert all(isinstance(i, SessionEvent) and i.device_time is None for i in sink.items if not isinstance(i, Reading))


def test_skip_resumes_after_the_items_already_stored():
    sink, _ = play(ago=5 * MIN, skip=100)
    assert [plain(i) for i in sink.items] == items_of("esketamine-84-quiet")[100:]


def test_stop_ends_the_run_at_the_next_wait():
    sink, stop = play(ago=0, after=3)
    assert len(stop.waits) == 3
    last_due = START + (sink.items[-1].offset_s or 0)
    assert last_due <= START + sum(stop.waits[:2])  # nothing after the stop
    assert len(sink.items) < 10


def test_stop_interrupts_a_real_wait_promptly():
    stop = threading.Event()
    sink = RecordingSink(FakeClock(0))
    # At 1/200 speed the first reading (1 s in) is due 200 s after session_start: a wait longer than the deadline.
    chair = SimulatedChair("chair 1", "iv-quiet", seed=1, started_at=time.time(), speed=1 / 200, config=CONFIG)
    worker = threading.Thread(target=chair.run, args=(sink, stop))
    worker.start()
    wait_until(lambda: sink.items, "session_start, due at once")  # then the chair waits for the next item
    stop.set()
    worker.join(timeout=DEADLINE_S)
    assert not worker.is_alive()
    assert [plain(i) for i in sink.items] == items_of("iv-quiet", 1)[:1]  # only session_start was due


# ---- the scenario knobs of the testers' library ---------------------------------------------


def _make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", ROOT / "sample_data" / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_samples", module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_simulated_sample_feeds_come_out_byte_for_byte_as_committed():
    for name, (scenario_name, seed) in _make_samples().SIMULATED.items():
        buffer = io.StringIO()
        write_feed(session_items(scenario_name, seed, CONFIG), buffer)
        assert buffer.getvalue() == (ROOT / "sample_data" / "feeds" / f"{name}.csv").read_text(), name


def test_windows_and_ramps_hold_where_they_say():
    window = Window(at_min=2, seconds=30)
    assert window.start(600) == 720 and window.end(600) == 750
    assert window.holds(720, 600) and window.holds(749, 600) and not window.holds(750, 600)
    assert [trapezoid(t, 100, 40, 10) for t in (99, 100, 105, 110, 125, 135, 140)] == [0, 0, 0.5, 1, 1, 0.5, 0]
    assert trapezoid(120, 100, 40, 0) == 1.0
    episode = HrEpisode(at_min=0, seconds=60, level=40, ramp_s=20)
    assert episode.apply(610, 80, 600) == 60 and episode.apply(630, 80, 600) == 40 and episode.apply(660, 80, 600) == 80
    jump = ClockJump("oximeter", at_min=5, seconds=-3600)
    assert jump.error("oximeter", 899, 600) == 0 and jump.error("oximeter", 900, 600) == -3600
    assert jump.error("nibp", 900, 600) == 0


@pytest.mark.parametrize("make,message", [
    (lambda: Window(1, 0), "positive length"),
    (lambda: HrEpisode(1, 30, 40, ramp_s=20), "cannot ramp"),
    (lambda: Outage("", 1, 30), "source label"),
    (lambda: ClockJump("oximeter", 1, 0), "non-zero"),
    (lambda: dataclasses.replace(SCENARIOS["iv-induction-1"], infusion=7), "infusion must be 1-6"),
    (lambda: dataclasses.replace(SCENARIOS["bradycardia"], deepest_moaas=6), "MOAA/S is 0-5"),
])
def test_knobs_refuse_values_that_make_no_session(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def _without(name: str, **knobs) -> list[Item]:
    return list(session_items(dataclasses.replace(SCENARIOS[name], **knobs), 0, CONFIG))


def test_a_probe_off_drops_only_its_samples_and_says_sensor_off():
    scn, items, plain_items = SCENARIOS["probe-off"], items_of("probe-off"), _without("probe-off", probe_off=())
    windows = [(w.start(scn.dose_at_s), w.end(scn.dose_at_s)) for w in scn.probe_off]
    offs = events(items, "sensor_off")
    assert [(e.offset_s, e.source, e.detail) for e in offs] == [(s, "oximeter", "sensor alarm") for s, _ in windows]
    kept = set(items)  # items are frozen dataclasses: sets, not quadratic list look-ups, over ~10,000 of them
    dropped = [i for i in plain_items if i not in kept]
    assert dropped and all(isinstance(i, Reading) and i.source == "oximeter"
                           and any(s <= (i.offset_s or 0) < e for s, e in windows) for i in dropped)
    gone = set(dropped)
    assert [i for i in items if i not in offs] == [i for i in plain_items if i not in gone]  # nothing else moved


def test_a_disconnect_silences_its_device_between_the_events():
    scn, items = SCENARIOS["device-disconnect"], items_of("device-disconnect")
    for outage in scn.disconnects:
        start, end = outage.window.start(scn.dose_at_s), outage.window.end(scn.dose_at_s)
        assert [(e.offset_s, e.detail) for e in events(items, "device_disconnect") if e.source == outage.source] == [
            (start, outage.detail)]
        assert [e.offset_s for e in events(items, "device_reconnect") if e.source == outage.source] == [end]
        assert not [r for r in items if isinstance(r, Reading) and r.source == outage.source
                    and start <= (r.offset_s or 0) < end]
        assert [r for r in items if isinstance(r, Reading) and r.source == outage.source and (r.offset_s or 0) >= end]


def test_skipped_cuff_cycles_leave_the_other_readings_as_they_were():
    scn = SCENARIOS["missed-40min-check"]
    kept, all_bp = bp_readings(items_of("missed-40min-check")), bp_readings(_without("missed-40min-check", nibp_skipped=()))
    skipped = [r for r in all_bp if r not in kept]
    assert [round(((r.offset_s or 0) - scn.dose_at_s) / MIN, 1) for r in skipped] == [36.5, 39.5, 42.5]
    assert kept == [r for r in all_bp if r not in skipped]


def test_heart_rate_episodes_reach_their_level_and_come_back():
    for name in ("bradycardia", "tachycardia"):
        scn, items = SCENARIOS[name], items_of(name)
        episode = scn.hr_episodes[0]
        start = scn.dose_at_s + episode.at_min * MIN
        plateau = [r.hr or 0 for r in items if isinstance(r, Reading) and r.source == "oximeter"
                   and start + episode.ramp_s <= (r.offset_s or 0) < start + episode.seconds - episode.ramp_s]
        assert abs(statistics.mean(plateau) - episode.level) < 4
        after = [r.hr or 0 for r in items if isinstance(r, Reading) and r.source == "oximeter"
                 and start + episode.seconds + 60 <= (r.offset_s or 0) < start + episode.seconds + 120]
        assert 55 <= statistics.mean(after) <= 100


def test_a_ramped_desaturation_falls_gradually_to_its_nadir():
    scn, items = SCENARIOS["respiratory-depression"], items_of("respiratory-depression")
    dip = scn.spo2_dips[0]
    start = scn.dose_at_s + dip.at_min * MIN
    falling = [r.spo2 or 0 for r in items if isinstance(r, Reading) and r.source == "oximeter"
               and start <= (r.offset_s or 0) < start + dip.ramp_s]
    assert len(set(falling)) >= 8 and falling[0] >= 94 and falling[-1] <= 87  # not a step
    assert min(r.spo2 or 100 for r in items if isinstance(r, Reading)) == dip.nadir


def test_depressed_breathing_and_deep_sedation_show_in_the_assessments():
    scn, items = SCENARIOS["respiratory-depression"], items_of("respiratory-depression")
    course = {round(((e.offset_s or 0) - scn.dose_at_s) / MIN): Assessment.parse(e.detail)
              for e in events(items, "assessment")}
    assert [m for m, a in course.items() if not a.breathing_ok] == [30, 45]
    assert course[30].moaas == 2
    last = list(course.values())[-1]
    assert last == Assessment(5, False, True)  # discharged only once all of it has resolved


def test_a_clock_jump_moves_device_time_only():
    epoch = 1_700_000_000.0
    quiet = list(session_items("esketamine-84-quiet", 0, CONFIG, device_epoch=epoch))
    assert all(r.device_time == epoch + (r.offset_s or 0) for r in quiet if isinstance(r, Reading))
    assert all(e.device_time is None for e in quiet if isinstance(e, SessionEvent))
    assert all(i.device_time is None for i in items_of("esketamine-84-quiet"))  # without an epoch: none
    scn = SCENARIOS["clock-jump"]
    jumped = list(session_items(scn, 0, CONFIG, device_epoch=epoch))
    jump_at = scn.dose_at_s + scn.clock_jump.at_min * MIN
    for r in (i for i in jumped if isinstance(i, Reading)):
        late = r.source == "oximeter" and (r.offset_s or 0) >= jump_at
        assert r.device_time == epoch + (r.offset_s or 0) - (3600 if late else 0)
    assert [e.offset_s for e in events(jumped, "note")] == [jump_at]


def test_the_live_chair_stamps_the_clock_jump_into_device_time():
    sink, _ = play("clock-jump", speed=60)
    scn = SCENARIOS["clock-jump"]
    jump_at = scn.dose_at_s + scn.clock_jump.at_min * MIN
    for r in (i for i in sink.items if isinstance(i, Reading)):
        late = r.source == "oximeter" and (r.offset_s or 0) >= jump_at
        assert r.device_time == START + (r.offset_s or 0) / 60 - (3600 if late else 0)


def test_an_induction_course_is_one_person_with_a_response_that_shrinks():
    course = [SCENARIOS[f"iv-induction-{n}"] for n in range(1, 7)]
    assert {s.patient for s in course} == {"PT-0601"} and [s.infusion for s in course] == list(range(1, 7))
    for seed in SEEDS:
        patients = [draw_patient(s, seed) for s in course]
        sbp = [p.sbp for p in patients]
        assert max(sbp) - min(sbp) < 6 * PHYSIOLOGY.day_sbp_sd  # day-to-day variation of one person
        rises = [p.rise_sbp for p in patients]
        assert min(rises[:3]) > max(rises[3:])  # more in the first three infusions
    other = [draw_patient(s, 99) for s in course]
    assert abs(statistics.mean(p.sbp for p in other) - statistics.mean(p.sbp for p in patients)) > 0  # seed family


def test_a_minimum_session_length_moves_the_discharge():
    items = _without("esketamine-84-quiet", min_session_s=150 * MIN)
    assert events(items, "discharge")[0].offset_s == 150 * MIN and items[-1].kind == "discharge"


def test_an_hr_trend_moves_the_heart_rate_from_the_dose_on():
    base = SCENARIOS["esketamine-84-quiet"]
    trended, plain_items = _without("esketamine-84-quiet", hr_trend_per_h=-12), items_of("esketamine-84-quiet")

    def mean_hr(items: list[Item], start: float, stop: float) -> float:
        return statistics.mean(r.hr or 0 for r in items
                               if isinstance(r, Reading) and r.source == "oximeter" and start <= (r.offset_s or 0) < stop)

    dose = base.dose_at_s
    assert mean_hr(trended, 0, dose) == mean_hr(plain_items, 0, dose)
    hour = dose + 60 * MIN
    assert mean_hr(plain_items, hour - 60, hour + 60) - mean_hr(trended, hour - 60, hour + 60) == pytest.approx(12, abs=0.5)
