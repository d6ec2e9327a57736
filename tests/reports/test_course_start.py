"""A course-aware start: the earlier sessions summarised, first treatment derived, medicines carried, the
start form's answers validated, the tile's course line, and the per-patient baseline policy of the engine."""
from __future__ import annotations

import time

import pytest

from dashboard.engine import ConfigError, SessionEngine, load_config
from dashboard.reports.course import CourseAtStart
from dashboard.reports.patient_course import course_for_start
from dashboard.ui import forms
from dashboard.ui.course_glance import course_line
from dashboard.ui.forms import FormError
from dashboard.ui.start import MEDICINE_LABELS, start_session
from devices.readings import Reading, SessionEvent

from ..review_sessions import induction_series, recorded_session

CONFIG = load_config()
DAY = 86400.0
ALL_NO = {key: "no" for key in MEDICINE_LABELS}


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def test_the_fourth_infusion_sees_three_earlier_ones(store):
    earlier = induction_series(store, 3)
    course = course_for_start(store, "P-40", "iv-ketamine", CONFIG)
    assert (course.number, course.induction, course.phase, course.first_treatment) == (4, 6, "induction", False)
    assert [s.session_id for s in course.earlier] == earlier
    assert [s.series_number for s in course.earlier] == [1, 2, 3]
    for s in course.earlier:
        assert s.peak is not None and s.rise is not None and s.ready_minutes is not None
    assert course.usual_baseline is not None  # three baselines: enough for the median
    # an esketamine session of the same patient starts its own series, as a first treatment
    first = course_for_start(store, "P-40", "esketamine-84", CONFIG)
    assert (first.number, first.first_treatment, first.induction) == (1, True, 8)
    # the course survives the session row's JSON
    assert CourseAtStart.from_dict(course.to_dict()) == course


def test_medicines_are_carried_from_the_last_answers(store):
    recorded_session(store, patient="P-50", concomitant={**{k: False for k in MEDICINE_LABELS}, "opioids": True},
                     started=time.time() - 4 * DAY)
    course = course_for_start(store, "P-50", "esketamine-84", CONFIG)
    assert course.concomitant["opioids"] is True and course.concomitant_from is not None
    assert not course.first_treatment


def test_start_keeps_the_answers_and_the_course_and_the_tile_shows_it(store):
    induction_series(store, 3)
    sid = start_session(store, CONFIG, "nurse1", "Chair 9", "P-40", "iv-ketamine", "other", "0.5 mg/kg", "",
                        "MRN-9", "no", ALL_NO)
    row = store.session(sid)
    assert (row.dose, row.patient_identifier, row.first_treatment) == ("0.5 mg/kg", "MRN-9", False)
    assert row.concomitant == {k: False for k in MEDICINE_LABELS}
    line = course_line(row)
    assert line.startswith("Session 4/6 induction · last: peak ")
    assert "ready" in line


@pytest.mark.parametrize("protocol,choice,other,first,medicines,message", [
    ("esketamine-84", "56 mg", "", "no", ALL_NO, "The protocol gives 84 mg"),
    ("esketamine-56", None, "", "no", ALL_NO, "Choose the dose given: 56 mg or Other"),
    ("esketamine-56", "other", " ", "no", ALL_NO, "Write the dose given"),
    ("iv-ketamine", "84 mg", "", None, {}, "84 mg is an esketamine dose"),
    ("esketamine-56", "56 mg", "", None, ALL_NO, "first treatment"),
    ("esketamine-56", "56 mg", "", "yes", {**ALL_NO, "opioids": None}, "Answer every concomitant medicine"),
])
def test_wrong_start_answers_say_what_is_wrong(protocol, choice, other, first, medicines, message):
    with pytest.raises(FormError, match=message):
        forms.start_answers(protocol, choice, other, "", "", first, medicines, MEDICINE_LABELS)


def test_start_answers_for_an_esketamine_session():
    answers = forms.start_answers("esketamine-56", "other", "28 mg", " LOT  1 ", "MRN 7", "yes",
                                  {**ALL_NO, "maois": "yes"}, MEDICINE_LABELS, enrolled="yes")
    assert (answers.dose, answers.lot, answers.first_treatment, answers.concomitant["maois"], answers.rems_enrolled) \
        == ("28 mg", "LOT 1", True, True, True)


def _rise_alarms(config, course_baseline):
    engine = SessionEngine(config, "esketamine-84", course_baseline=course_baseline)
    out = []
    for item in (SessionEvent("session_start", "esketamine-84", offset_s=0),
                 Reading("nibp", sbp=148, dbp=88, offset_s=60),  # anxious today: 20 above the usual 128
                 SessionEvent("dose_start", offset_s=300), Reading("nibp", sbp=172, dbp=98, offset_s=2700)):
        out += engine.apply(item)
    return [t.state for t in out if t.code == "bp.rise"], engine


def test_baseline_policy_is_off_by_default_and_takes_the_usual_bp_when_on(tmp_path):
    assert CONFIG.baseline_policy == "session"
    states, engine = _rise_alarms(CONFIG, (128, 80))
    assert states == [] and engine.baseline_from == "session"  # +24 over today's 148: no label outlier
    clinic = tmp_path / "clinic.toml"
    clinic.write_text('[baseline]\npolicy = "course-lower"\n')
    states, engine = _rise_alarms(load_config(clinic), (128, 80))
    assert states == ["raised"] and engine.baseline_from == "course"  # +44 over the usual 128
    assert (engine.baseline.sbp, engine.rise_baseline.sbp) == (148, 128)  # the label's baseline is still shown
    states, _ = _rise_alarms(load_config(clinic), None)  # no history passed in: the label's definition
    assert states == []


def test_a_bad_baseline_policy_is_refused(tmp_path):
    clinic = tmp_path / "clinic.toml"
    clinic.write_text('[baseline]\npolicy = "yesterday"\n')
    with pytest.raises(ConfigError, match="baseline.policy"):
        load_config(clinic)


def test_prefill_for_a_new_patient_leaves_the_medicines_to_the_nurse(store):
    from dash import no_update

    from dashboard.ui.start import prefill

    _, first, hint, *medicines, med_hint = prefill(course_for_start(store, "P-new", "esketamine-56", CONFIG))
    assert (first, medicines) == ("yes", [no_update] * len(MEDICINE_LABELS))
    assert "first treatment" in hint and "ask the patient" in med_hint


def test_ingest_passes_the_usual_baseline_kept_at_the_start(store, tmp_path):
    """The engine never reads the store: ingest hands it the usual pre-dose BP the start page kept on the row,
    so the session folds the same after a restart."""
    from dashboard.service.ingest import Ingest

    clinic = tmp_path / "clinic.toml"
    clinic.write_text('[baseline]\npolicy = "course-lower"\n')
    config = load_config(clinic)
    course = CourseAtStart((), "esketamine", 5, 8, False, (128.0, 80.0), None, None)
    sid = store.create_session(chair="Chair 2", patient_label="P-2", protocol="esketamine-84",
                               started_at=time.time() - 3000, course=course.to_dict())
    items = [SessionEvent("session_start", "esketamine-84", offset_s=0), Reading("nibp", sbp=148, dbp=88, offset_s=60),
             SessionEvent("dose_start", offset_s=300), Reading("nibp", sbp=172, dbp=98, offset_s=2700)]
    for run in range(2):  # the second: a restarted ingest rebuilds the engine from the stored items
        ingest = Ingest(store, config)
        ingest.refresh()
        if run == 0:
            ingest.submit("Chair 2", items)
            ingest.step()
        status = store.session(sid).status
        assert status["baseline"]["sbp"] == 148 and status["rise_baseline"]["sbp"] == 128
        assert ingest.live(sid).engine.baseline_from == "course"
    assert [t["state"] for t in store.alarms_of(sid) if t["code"] == "bp.rise"] == ["raised"]
