"""The pre-dose checklist gates the nurse's dose and goes into the record; manual SpO2 sits beside manual BP.

Through the page's own actions (dashboard/ui/checklist.py, workflow.py) into a real store, folded by the real
Ingest, read back from the exports: the PDF's text (pypdf), the CSV's event rows and the FHIR bundle validated by
fhir.resources (R4B) and the SMART fhirclient (R4, strict)."""
from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle as R4BBundle
from fhirclient.models.bundle import Bundle as R4Bundle
from pypdf import PdfReader

from dashboard.cli.check import run_check
from dashboard.engine import ChecklistAnswer, load_config
from dashboard.reports.exports import export_session
from dashboard.reports.exports.fhir_bundle import CHECKLIST_URL
from dashboard.reports.exports.pdf_report import session_pdf
from dashboard.reports.record import load_record, log_entries
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from dashboard.ui import checklist, forms, workflow
from dashboard.ui.forms import FormError
from devices.readings import Reading, SessionEvent

CONFIG = load_config()
ESKETAMINE = CONFIG.checklist("esketamine-56")
REASON = "patient arrived by taxi: clinic booked the ride home"


def _refusal(action, *args) -> str:
    with pytest.raises(FormError) as refused:
        action(*args)
    return str(refused.value)


def _session(store: Store, protocol: str = "esketamine-56", ago: float = 300.0,
             more: tuple = ()) -> tuple[int, Ingest]:
    sid = store.create_session(chair="Chair 4", patient_label="P-4", protocol=protocol, started_at=time.time() - ago,
                               dose="56 mg")
    ingest = Ingest(store, CONFIG)
    ingest.refresh()
    ingest.submit("Chair 4", [SessionEvent("session_start", protocol, offset_s=0),
                              Reading("nibp", sbp=124, dbp=78, hr=72, offset_s=60), *more])
    ingest.step()
    ingest.step()  # the wall clock's timers run once the queue is empty
    return sid, ingest


def test_the_dose_is_refused_until_every_item_is_answered_or_overridden(tmp_path: Path):
    store = Store.open(tmp_path / "clinic.db")
    sid, ingest = _session(store)
    row = store.session(sid)
    texts = [item.text for item in ESKETAMINE.items]
    refused = _refusal(workflow.dose_start, store, row, "nurse1", "", CONFIG)
    assert refused == (f"Not ready to dose: 5 items of the pre-dose checklist not answered ({'; '.join(texts)}). "
                       "Mark each one done, or override it with a reason.")
    assert store.pending_actions() == []  # refused: nothing queued

    for key in ("rems_enrolled", "prescriber_on_site", "fasting"):
        assert checklist.answer(store, row, "nurse1", CONFIG, key, True, "").endswith(": done.")
    refused = _refusal(workflow.dose_start, store, row, "nurse1", "an override reason answers no item", CONFIG)
    assert refused.startswith("Not ready to dose: 2 items") and f"({texts[3]}; {texts[4]})" in refused
    assert "override" in _refusal(checklist.answer, store, row, "nurse2", CONFIG, "transport_home", False, "  ")
    assert "not an item" in _refusal(checklist.answer, store, row, "nurse1", CONFIG, "no_such_item", True, "")
    checklist.answer(store, row, "nurse1", CONFIG, "nasal_spray_timing", True, "")
    checklist.answer(store, row, "nurse2", CONFIG, "transport_home", False, REASON)
    assert checklist.unanswered(store, row, CONFIG) == []  # counted before ingest folds them

    assert workflow.dose_start(store, row, "nurse1", "", CONFIG) == "Dose start recorded."
    assert "dose has started" in _refusal(checklist.answer, store, row, "nurse1", CONFIG, "fasting", True, "")
    ingest.step()
    events = [e for e in store.events_of(sid) if e["kind"] in ("checklist", "dose_start")]
    assert [e["kind"] for e in events] == ["checklist"] * 5 + ["dose_start"]  # every answer before the dose
    last = ChecklistAnswer.parse(events[4]["detail"])
    assert (last.item, last.done, last.reason, events[4]["who"]) == ("transport_home", False, REASON, "nurse2")
    assert store.session(sid).status["dose_at"] is not None
    store.close()


def test_a_protocol_without_a_checklist_doses_at_once(tmp_path: Path):
    clinic = tmp_path / "clinic.toml"
    clinic.write_text("[checklist.iv-ketamine]\nitems = []\n")
    store = Store.open(tmp_path / "clinic.db")
    sid, _ = _session(store, protocol="iv-ketamine")
    assert workflow.dose_start(store, store.session(sid), "nurse1", "", load_config(clinic)) == "Dose start recorded."
    store.close()


@pytest.fixture(scope="module")
def answered(tmp_path_factory):
    """An esketamine session whose checklist was answered (one item overridden), dosed and discharged."""
    store = Store.open(tmp_path_factory.mktemp("checklist") / "clinic.db")
    sid, ingest = _session(store, ago=1200.0)
    row = store.session(sid)
    for item in ESKETAMINE.items:
        checklist.answer(store, row, "nurse1", CONFIG, item.key, item.key != "transport_home",
                         REASON if item.key == "transport_home" else "")
    workflow.dose_start(store, row, "nurse1", "", CONFIG)
    ingest.step()
    workflow.manual_spo2(store, store.session(sid), "nurse1", CONFIG, "95", "70")
    ingest.step()
    store.submit_action(sid, "discharge", "nurse1", detail="override")
    ingest.step()
    yield store, sid
    store.close()


def test_the_log_lists_each_answer_and_the_manual_spo2(answered):
    store, sid = answered
    record = load_record(store, sid)
    entries = log_entries(record.bp_readings + record.spot_checks, record.transitions, record.events)
    lines = [(what, detail, who) for _, what, detail, who in entries]
    assert ("Pre-dose checklist", f"{ESKETAMINE.item('fasting').text}: done", "nurse1") in lines
    assert ("Pre-dose checklist", f"{ESKETAMINE.item('transport_home').text}: overridden ({REASON})",
            "nurse1") in lines
    assert ("SpO2", "95 %, HR 70 (manual check)", "") in lines


def test_the_pdf_has_a_pre_dose_checklist_section(answered):
    store, sid = answered
    pdf = session_pdf(load_record(store, sid), CONFIG)
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Pre-dose checklist" in text
    assert "Patient enrolled in the SPRAVATO REMS" in text and "overridden: patient arrived by taxi" in text
    assert text.count("done") >= 4 and "No answer was recorded" not in text
    assert "95 %, HR 70 (manual check)" in text


def test_the_csv_has_each_answer_as_an_event_row(answered):
    store, sid = answered
    rows = list(csv.DictReader(io.StringIO(export_session(store, CONFIG, sid, "csv").content.decode())))
    answers = [ChecklistAnswer.parse(r["detail"]) for r in rows if r["record"] == "event" and r["event"] == "checklist"]
    assert [a.item for a in answers] == [item.key for item in ESKETAMINE.items]
    manual = [r for r in rows if r["record"] == "reading" and r["provenance"] == "manual"]
    assert [(r["spo2"], r["hr"], r["sbp"]) for r in manual] == [("95.0", "70.0", "")]


def test_the_fhir_bundle_carries_the_checklist_as_a_questionnaire_response(answered):
    store, sid = answered
    bundle = json.loads(export_session(store, CONFIG, sid, "fhir").content)
    R4BBundle.model_validate(bundle)
    R4Bundle(bundle, strict=True)
    resources = [entry["resource"] for entry in bundle["entry"]]
    (response,) = [r for r in resources if r.get("questionnaire", "").startswith(CHECKLIST_URL)]
    (questionnaire,) = [r for r in resources if r["resourceType"] == "Questionnaire"
                        and r["url"] == response["questionnaire"]]
    assert [i["linkId"] for i in questionnaire["item"]] == [i["linkId"] for i in response["item"]] == [
        item.key for item in ESKETAMINE.items]
    answers = {i["linkId"]: i["answer"][0]["valueString"] for i in response["item"]}
    assert answers["fasting"] == "done (nurse1)" and answers["transport_home"] == f"overridden: {REASON} (nurse1)"
    assert response["status"] == "completed" and response["encounter"]["reference"].startswith("urn:uuid:")
    spo2 = [r for r in resources if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "59408-5"]
    assert [o["valueQuantity"]["value"] for o in spo2] == [95] and "device" not in spo2[0]


@pytest.mark.parametrize("spo2,hr,message", [
    ("", "", "SpO2 is empty"), ("9x", "", "not a whole number"), ("49", "", "outside 50–100"),
    ("101", "", "outside 50–100"), ("96", "15", "Heart rate 15 is outside 20–300"),
])
def test_manual_spo2_is_refused_outside_the_plausible_limits(spo2, hr, message):
    with pytest.raises(FormError, match=message):
        forms.manual_spo2(spo2, hr, CONFIG)


def test_a_manual_spo2_is_a_manual_reading_that_ends_the_pulse_oximetry_advisory(tmp_path: Path):
    store = Store.open(tmp_path / "clinic.db")
    # A monitor's dose_start at 2:00 (not the nurse's button: no checklist asked) and no oximeter: due at 17:00.
    sid, ingest = _session(store, ago=1500.0, more=(SessionEvent("dose_start", "56 mg", offset_s=120),))
    raised = [(a["offset_s"], a["state"]) for a in store.alarms_of(sid) if a["code"] == "spo2.unmonitored"]
    assert raised == [(1020.0, "raised")]
    assert "outside" in _refusal(workflow.manual_spo2, store, store.session(sid), "nurse1", CONFIG, "30", "")
    assert workflow.manual_spo2(store, store.session(sid), "nurse1", CONFIG, " 97 ", "") == "Manual SpO2 97 % recorded."
    ingest.step()
    ingest.step()
    manual = [r for r in store.readings_after(sid) if r["provenance"] == "manual"]
    assert [(r["spo2"], r["hr"], r["sbp"]) for r in manual] == [(97.0, None, None)]
    states = [a["state"] for a in store.alarms_of(sid) if a["code"] == "spo2.unmonitored"]
    assert states == ["raised", "cleared"]
    assert not [a for a in store.alarms_of(sid) if a["code"] == "data.stale" and a["source"] == "continuous"]

    # The exported feed and actions give `check` the same history: the manual check stays a manual reading.
    store.submit_action(sid, "discharge", "nurse1", detail="override", at=time.time() + 60)  # a minute later
    ingest.step()
    feed, actions = tmp_path / "feed.csv", tmp_path / "actions.csv"
    feed.write_bytes(export_session(store, CONFIG, sid, "feed").content)
    actions.write_bytes(export_session(store, CONFIG, sid, "actions").content)
    assert ",manual,,,,,97," in feed.read_text()
    replayed = [(t.offset_s, t.code, t.state, t.source) for t in run_check(feed, CONFIG, actions).transitions]
    stored = [(round(a["offset_s"], 3), a["code"], a["state"], a["source"]) for a in store.alarms_of(sid)]
    assert replayed == stored and ("spo2.unmonitored", "cleared") in [(code, state) for _, code, state, _ in stored]
    store.close()
