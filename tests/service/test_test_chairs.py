"""Test data never takes a real chair, through a real Ingest into a real store (SQLite and PostgreSQL): a replay is
refused on a chair a real monitor feeds, saying which device sent what, when; a real reading never lands in a test
session, whichever came first; the nurses' board still shows the chair and a nurse opens its real session."""
from __future__ import annotations

import pytest

from dashboard.engine import load_config
from dashboard.service.clinic import ChairPlan, Clinic
from dashboard.service.ingest import Ingest
from dashboard.service.replay import open_replay_session
from dashboard.service.test_chairs import ChairRule, ChairTaken
from dashboard.store import Store, device_data
from dashboard.ui.forms import FormError
from dashboard.ui.replay_page import start_replay
from dashboard.ui.start import MEDICINE_LABELS, start_session
from dashboard.ui.waiting import waiting_values
from devices.readings import Reading, SessionEvent

from .test_ingest import START, Clock, store  # noqa: F401  (the store fixture, on SQLite and PostgreSQL)
from .test_placement import settle

FEED = [SessionEvent("session_start", "esketamine-84", offset_s=0.0), Reading("nibp", sbp=128, dbp=80, offset_s=60.0)]
MONITOR = "0123456789ABCDEF"
WINDOW_S = load_config().value("baseline.pre_session_window") * 60


def _real_bp(ingest: Ingest, clock: Clock, sbp: float, dbp: float) -> None:
    ingest.submit("Chair R9", [Reading("monitor nibp", sbp=sbp, dbp=dbp, hr=90, received_time=clock.t,
                                       device_id=MONITOR)])
    settle(ingest, clock)


def _in_session(store: Store, sid: int) -> list[tuple[float | None, float | None]]:
    return [(i.sbp, i.dbp) for i in store.session_items(sid) if isinstance(i, Reading)]


def test_device_first_then_replay_is_refused_saying_which_device_sent_what_when(store):
    clock = Clock(START)
    ingest = Ingest(store, load_config(), clock)
    _real_bp(ingest, clock, 131, 84)  # a real monitor sends for Chair R9, no session yet
    rule = ChairRule(store, WINDOW_S, clock)

    why = rule.refusal("Chair R9")
    assert why is not None and "Chair R9 is a real chair" in why and MONITOR in why and "BP 131/84" in why
    assert "Pick another chair" in why and '"Replay 1"' in why  # what to do instead: a free test chair
    with pytest.raises(ChairTaken, match="real chair"):
        open_replay_session(store, FEED, "Chair R9", "Replay", 60.0, rule)
    with pytest.raises(FormError, match=MONITOR):  # the replay page says the same
        start_replay(store, "tester1", "feeds/esketamine-severe-peak", "Chair R9", "60", rule)
    assert not store.open_sessions()  # nothing was opened
    assert rule.refusal("Replay 1") is None  # a test chair of its own is fine

    clock.t += WINDOW_S + 60  # the monitor fell silent longer than the pre-session window ago: a free chair again
    assert rule.refusal("Chair R9") is None


def test_replay_first_then_device_the_real_reading_never_lands_in_the_test_session(store):
    clock = Clock(START)
    ingest = Ingest(store, load_config(), clock)
    rule = ChairRule(store, WINDOW_S, clock)
    replay = open_replay_session(store, FEED, "Chair R9", "Replay", 60.0, rule)  # no real data there yet: accepted
    store.submit_items(replay, FEED, "replay", tick=60.0)
    settle(ingest, clock)
    assert _in_session(store, replay) == [(128, 80)]

    _real_bp(ingest, clock, 203, 121)  # the real monitor's severe BP
    assert (203, 121) not in _in_session(store, replay)  # never in the test session...
    assert not [a for a in store.alarms_of(replay) if a["code"] == "bp.severe"]  # ...nor its alarm on the test board
    kept = device_data.waiting_rows(store.engine, store.site, chair="Chair R9")
    assert [(row["sbp"], row["dbp"], row["demo"], row["session_id"]) for row in kept] == [(203, 121, False, None)]
    _, tiles = waiting_values(store, WINDOW_S, clock.t)  # the nurses' board still shows the chair, with its BP
    assert [(tile["chair"], tile["bp"].split()[0]) for tile in tiles] == [("Chair R9", "203/121")]
    assert "open session (a replay" in (rule.refusal("Chair R9") or "")  # and no second test session goes there

    # The nurse opens the real session beside the replay: it takes the monitor's reading, and raises its alarm.
    real = start_session(store, load_config(), "nurse1", "Chair R9", "P-9", "esketamine-84", "other", "84 mg", "",
                         "MRN-9", "yes", {key: "no" for key in MEDICINE_LABELS}, enrolled="yes")
    clock.t += 1
    settle(ingest, clock)
    assert _in_session(store, real) == [(203, 121)]
    assert ("bp.severe", "raised") in {(a["code"], a["state"]) for a in store.alarms_of(real)}
    _real_bp(ingest, clock, 188, 112)  # and the monitor's next one goes to the real session, not the replay
    assert _in_session(store, real)[-1] == (188, 112) and (188, 112) not in _in_session(store, replay)
    assert not waiting_values(store, WINDOW_S, clock.t)[1]  # the chair is on the board as a session now


def test_a_simulated_session_takes_the_simulator_s_data_and_never_a_real_monitor_s(store):
    clock = Clock(START)
    ingest = Ingest(store, load_config(), clock)
    sim = store.create_session(chair="Chair R9", patient_label="Demo", protocol="esketamine-84", started_at=START,
                               scenario="esketamine-84-quiet", seed=1)
    ingest.simulator().submit("Chair R9", [Reading("nibp", sbp=125, dbp=78, received_time=clock.t)])
    _real_bp(ingest, clock, 203, 121)
    assert _in_session(store, sim) == [(125, 78)]
    kept = device_data.waiting_rows(store.engine, store.site, chair="Chair R9")
    assert [(row["sbp"], row["demo"]) for row in kept] == [(203, False)]


def test_the_simulated_clinic_gives_no_simulated_patient_to_a_chair_a_real_monitor_feeds(store):
    clock = Clock(START)
    ingest = Ingest(store, load_config(), clock)
    _real_bp(ingest, clock, 131, 84)
    plans = (ChairPlan("Chair R9", "Demo 09", "iv-quiet", 5), ChairPlan("Chair 8", "Demo 08", "iv-quiet", 5))
    clinic = Clinic(store, ingest, speed=1.0, seed=1, plans=plans)
    clinic.rule = ChairRule(store, WINDOW_S, clock)
    assert [row.chair for row in clinic.open()] == ["Chair 8"]
