"""The current REMS Patient Monitoring Form (dashboard/reports/rems/revisions.py, CURRENT): every item filled from
a realistic esketamine session and carried by the PDF and the FHIR export (validated as the other exports are);
the session keeping the revision it was started under (an old one keeps 11/2021 through migration 0015); the
enrolment asked at the start of a first treatment and the serious adverse event at discharge; pulse oximetry from
the oximeter's stream or from manual checks; the monitoring provider named from who acted."""
from __future__ import annotations

import dataclasses
import io
import json
import time

import pytest
import sqlalchemy as sa
from alembic import command
from fhir.resources.R4B.bundle import Bundle as R4BBundle
from fhirclient.models.bundle import Bundle as R4Bundle
from pypdf import PdfReader

from dashboard.engine import load_config
from dashboard.reports.exports import export_session
from dashboard.reports.exports.pdf_report import session_pdf
from dashboard.reports.record import load_record, session_wall_time
from dashboard.reports.rems import CURRENT, NOT_APPLICABLE, REVISION_2021, rems_form, spo2_bounds
from dashboard.service.ingest import Ingest
from dashboard.store import SessionRow, Store
from dashboard.store.migrate import alembic_config
from dashboard.store.review_queries import spo2_overview
from dashboard.ui import workflow
from dashboard.ui.forms import FormError
from dashboard.ui.start import MEDICINE_LABELS, start_session
from devices.feed import read_feed
from devices.readings import Reading, SessionEvent

from ..review_sessions import SEVERE_ACTIONS, SEVERE_FEED, recorded_session

CONFIG = load_config()
TAKING = {"benzodiazepines": False, "non_benzodiazepine_hypnotics": False, "psychostimulants": True,
          "maois": False, "opioids": True}
ALL_NO = {key: "no" for key in MEDICINE_LABELS}
_ROW = SessionRow(id=1, chair="Chair 1", patient_label="P-1", protocol="esketamine-84", dose="84 mg", started_at=1.7e9,
                  speed=1.0, ended_at=None, phase="observation", status={}, rev=0, scenario=None, seed=None,
                  rems_revision=CURRENT.date)
MANUAL_SPO2_AT = 3000.0  # a nurse's spot check, 40 min after the dose (at 600 s): the session's lowest


def _realistic_items():
    """The severe-peak feed (oximeter stream, BP, assessments, discharge; its actions acknowledge the severe
    alarm, so the patient has a time ready to leave) as the web records its people: the
    dose and discharge by RN-AB, assessments shared with RN-CD, the serious-adverse-event answer at discharge,
    and one manual SpO2 check lower than anything the stream saw (its lowest is 96 %)."""
    out, turn = [], 0
    for item in read_feed(SEVERE_FEED).items:
        if isinstance(item, SessionEvent) and item.kind == "assessment":
            turn += 1
            item = dataclasses.replace(item, who="RN-CD" if turn % 2 else "RN-AB")
        elif isinstance(item, SessionEvent) and item.kind in ("dose_start", "discharge"):
            if item.kind == "discharge":
                out.append(SessionEvent("serious_adverse_event", "no", who="RN-AB", offset_s=item.offset_s))
            item = dataclasses.replace(item, who="RN-AB")
        out.append(item)
    out.append(Reading("manual", spo2=93, provenance="manual", offset_s=MANUAL_SPO2_AT))
    # no saturation: a value no oximeter reports, and one the device flagged as disturbed
    out += [Reading("oximeter", spo2=35, offset_s=3500.5), Reading("oximeter", spo2=80, artifact=True, offset_s=3600.5)]
    return sorted(out, key=lambda i: i.offset_s or 0.0)


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def realistic(store):
    started = time.mktime((2026, 12, 1, 9, 0, 0, 0, 0, -1))
    sid = recorded_session(store, items=_realistic_items(), actions=SEVERE_ACTIONS, patient="P-31", started=started,
                           patient_identifier="MRN-0042", lot="LOT 24K17B", first_treatment=True,
                           rems_enrolled=True, concomitant=TAKING, rems_revision=CURRENT.date)
    return load_record(store, sid)


def test_every_current_item_is_filled_and_the_form_is_complete(realistic):
    form = realistic.rems(CONFIG)
    assert form.revision is CURRENT and CURRENT.date == "12/2024"
    answers = {f.link_id: f.answer for f in form.fields()}
    assert form.missing() == []  # complete: nothing left for the nurse but what the software cannot know
    assert answers["first-treatment"] == "Yes (confirmed at the start)"
    assert answers["rems-enrolled"] == "Yes"
    # the current form's medicines, opioids among them, in the walk-through's order
    assert [f.answer for f in form.fields() if f.link_id.startswith("concomitant-")] == ["No", "No", "Yes", "Yes", "No"]
    assert [f.question for f in form.fields() if f.link_id.startswith("concomitant-")][2] == "Opioids"
    assert answers["provider"] == "RN-AB, RN-CD"  # who acted, the dose's nurse first: never "Not recorded"
    assert answers["treatment-date"] == "12/01/2026"
    assert answers["bp-40-min"] == "190/111 mmHg (40 min after the first device)"
    stream = sum(1 for r in realistic.readings if r["spo2"] is not None and r["provenance"] == "device"
                 and r["spo2"] >= 50 and not r["artifact"])
    assert answers["pulse-oximetry"] == f"Yes ({stream:,} stream readings, 1 manual check)"
    clock = time.strftime("%H:%M", time.localtime(realistic.wall_time(MANUAL_SPO2_AT)))
    assert answers["spo2-lowest"] == f"93 % at {clock}, 40 min after the first device (manual check)"
    assert answers["sedation-dissociation-respiratory-depression"] == "Yes (sedation, dissociation)"
    assert answers["serious-adverse-event"] == "No"
    assert int(answers["ready-minutes"]) >= 120 and answers["total-minutes"] == "125"


def test_the_pdf_prints_every_current_item_in_order_with_its_revision(realistic):
    form = realistic.rems(CONFIG)
    pdf = PdfReader(io.BytesIO(session_pdf(realistic, CONFIG)))
    printed = " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)
    block = printed[printed.index("SPRAVATO REMS Patient Monitoring Form (revision 12/2024)"):printed.index("Session log")]
    assert "revision 12/2024" in block and form.medicines_question in block
    at = 0
    for f in form.fields():  # each question, then its answer, in the form's order
        at = block.index(" ".join(f.question.split()), at)
        at = block.index(" ".join(f.answer.split()), at)
    text = form.text()
    assert text.startswith("SPRAVATO REMS Patient Monitoring Form (revision 12/2024)")
    assert "Lowest oxygen saturation (SpO2) during monitoring, and when: 93 % at" in text


def test_fhir_carries_every_current_item_under_the_revisions_questionnaire(store, realistic):
    bundle = json.loads(export_session(store, CONFIG, realistic.id, "fhir").content)
    R4BBundle.model_validate(bundle)
    R4Bundle(bundle, strict=True)
    (questionnaire,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Questionnaire"]
    (response,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    assert questionnaire["version"] == "12/2024" and "revision 12/2024" in questionnaire["title"]
    assert response["questionnaire"] == f"{questionnaire['url']}|12/2024"
    form = realistic.rems(CONFIG)
    assert [i["linkId"] for i in questionnaire["item"]] == [f.link_id for f in form.fields()]
    answers = {i["linkId"]: i.get("answer") for i in response["item"]}
    assert all(answers[f.link_id] for f in form.fields())  # every item answered
    assert answers["rems-enrolled"] == [{"valueBoolean": True}]
    assert answers["concomitant-opioids"] == [{"valueBoolean": True}]
    assert answers["pulse-oximetry"] == [{"valueBoolean": True}]
    assert answers["spo2-lowest"][0]["valueString"].startswith("93 % at ")
    assert answers["sedation-dissociation-respiratory-depression"] == [{"valueBoolean": True}]
    assert answers["serious-adverse-event"] == [{"valueBoolean": False}]
    assert answers["provider"] == [{"valueString": "RN-AB, RN-CD"}]


def test_a_session_from_before_migration_0015_keeps_the_2021_form(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url=url), "0014")
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # a session as 0014 stored it
        conn.execute(sa.text("INSERT INTO sessions (chair, patient_label, protocol, dose, started_at, status) "
                             "VALUES ('Chair 1', 'P-1', 'esketamine-56', '56 mg', 1.7e9, '{}')"))
    engine.dispose()
    store = Store(url)
    try:
        old_row = store.session(1)
        assert old_row.rems_revision == "11/2021"
        new_sid = start_session(store, CONFIG, "nurse1", "Chair 2", "P-2", "esketamine-56", "56 mg", "", "", "", "no",
                                ALL_NO)
        for sid, revision, present, absent in ((1, REVISION_2021, "sedation", "pulse-oximetry"),
                                               (new_sid, CURRENT, "pulse-oximetry", "sedation")):
            record = load_record(store, sid)
            links = [f.link_id for f in record.rems(CONFIG).fields()]
            assert record.rems(CONFIG).revision is revision and present in links and absent not in links
            bundle = json.loads(export_session(store, CONFIG, sid, "fhir").content)
            R4Bundle(bundle, strict=True)
            (q,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Questionnaire"]
            assert q["version"] == revision.date
            assert f"revision {revision.date}" in record.rems(CONFIG).text().splitlines()[0]
    finally:
        store.close()


def test_a_first_treatment_is_not_started_without_the_enrolment_answer(store):
    with pytest.raises(FormError, match="enrolled in the SPRAVATO REMS"):
        start_session(store, CONFIG, "nurse1", "Chair 4", "P-4", "esketamine-84", "84 mg", "", "LOT 1", "MRN-4", "yes",
                      ALL_NO)
    assert store.open_sessions() == []  # refused: nothing opened, nothing audited
    sid = start_session(store, CONFIG, "nurse1", "Chair 4", "P-4", "esketamine-84", "84 mg", "", "LOT 1", "MRN-4",
                        "yes", ALL_NO, enrolled="no")
    row = store.session(sid)
    assert (row.first_treatment, row.rems_enrolled, row.rems_revision) == (True, False, CURRENT.date)
    form = load_record(store, sid).rems(CONFIG)
    assert {f.link_id: f.answer for f in form.fields()}["rems-enrolled"] == "No"
    # not a first treatment: not asked, not applicable, and not missing from a complete form
    later = start_session(store, CONFIG, "nurse1", "Chair 5", "P-5", "esketamine-84", "84 mg", "", "LOT 1", "MRN-5",
                          "no", ALL_NO, enrolled="yes")
    assert store.session(later).rems_enrolled is None
    form = load_record(store, later).rems(CONFIG)
    enrolled = next(f for f in form.fields() if f.link_id == "rems-enrolled")
    assert enrolled.answer.startswith(NOT_APPLICABLE) and enrolled.question not in form.missing()
    # an IV session is asked nothing of the REMS
    iv = start_session(store, CONFIG, "nurse1", "Chair 6", "P-6", "iv-ketamine", "other", "0.5 mg/kg", "", "", "yes",
                       {})
    assert store.session(iv).rems_enrolled is None


def _open_esketamine(store, chair: str = "Chair 7", protocol: str = "esketamine-84") -> int:
    sid = store.create_session(chair=chair, patient_label="P-7", protocol=protocol, started_at=time.time() - 1200,
                               rems_revision=CURRENT.date)
    ingest = Ingest(store, CONFIG)
    ingest.refresh()
    ingest.submit(chair, [SessionEvent("session_start", protocol, offset_s=0),
                          Reading("nibp", sbp=128, dbp=82, offset_s=60), SessionEvent("dose_start", offset_s=300)])
    ingest.step()
    return sid


def test_the_serious_adverse_event_is_asked_at_discharge_and_kept(store):
    sid = _open_esketamine(store)
    with pytest.raises(FormError, match="serious adverse event"):
        workflow.discharge(store, store.session(sid), "nurse1", "escort waiting", CONFIG, None)
    assert store.pending_actions() == []  # refused before anything was queued, the override included
    said = workflow.discharge(store, store.session(sid), "nurse1", "escort waiting", CONFIG, "yes")
    assert "Report the serious adverse event" in said
    assert [a["kind"] for a in store.pending_actions()] == ["override", "serious_adverse_event", "discharge"]
    ingest = Ingest(store, CONFIG)
    ingest.refresh()
    ingest.step()
    assert store.session(sid).ended_at is not None
    form = load_record(store, sid).rems(CONFIG)
    sae = next(f for f in form.fields() if f.link_id == "serious-adverse-event")
    assert (sae.value, sae.answer) == (True, "Yes")
    assert form.provider == "nurse1"
    # an IV session's discharge asks no such question
    iv = store.create_session(chair="Chair 8", patient_label="P-8", protocol="iv-ketamine", started_at=time.time())
    workflow.discharge(store, store.session(iv), "nurse1", "escort waiting", CONFIG, None)
    assert [a["kind"] for a in store.pending_actions() if a["session_id"] == iv] == ["override", "discharge"]


def test_a_form_without_the_discharge_answer_is_a_draft(store):
    sid = _open_esketamine(store)
    form = load_record(store, sid).rems(CONFIG)
    assert "Did the patient experience a serious adverse event during the treatment session?" in form.missing()


def _form(readings, events=(), dose_at: float | None = 600.0):
    row = dataclasses.replace(_ROW, status={"dose_at": dose_at, "now": 8000.0})
    return rems_form(row, readings, events, CONFIG, lambda offset: session_wall_time(row, offset))


def _spo2(offset: float, value: float, provenance: str = "device", artifact: bool = False) -> dict:
    return {"offset_s": offset, "spo2": value, "provenance": provenance, "artifact": artifact, "sbp": None}


def test_pulse_oximetry_from_the_stream_from_manual_checks_and_from_nothing():
    stream = _form([_spo2(700 + i, 97 - (i == 5)) for i in range(10)]).pulse_oximetry
    assert (stream.monitored, stream.stream_readings, stream.manual_checks) == (True, 10, 0)
    assert stream.lowest.spo2 == 96 and stream.lowest.minutes_from_dose == pytest.approx(105 / 60)
    assert not stream.lowest.manual
    manual = _form([_spo2(1800, 95, "manual"), _spo2(3000, 94, "manual")])
    ox = manual.pulse_oximetry
    assert (ox.monitored, ox.stream_readings, ox.manual_checks, ox.lowest.spo2) == (True, 0, 2, 94)
    assert ox.text() == "Yes (2 manual checks)" and ox.lowest.text().endswith("40 min after the first device (manual check)")
    assert manual.missing() == [q for q in manual.missing() if "SpO2" not in q and "pulse oximetry" not in q]
    # an implausible value or a device-flagged artifact is no saturation, and never the lowest
    noisy = _form([_spo2(700, 30), _spo2(701, 88, artifact=True), _spo2(702, 97)]).pulse_oximetry
    assert (noisy.stream_readings, noisy.lowest.spo2) == (1, 97)
    nothing = _form([])
    fields = {f.link_id: f for f in nothing.fields()}
    assert fields["pulse-oximetry"].value is False and fields["pulse-oximetry"].answer == "No (no SpO2 in the record)"
    assert fields["spo2-lowest"].answer == NOT_APPLICABLE and fields["spo2-lowest"].question not in nothing.missing()


def test_the_monitoring_provider_is_who_acted_never_the_simulator_or_a_replay():
    events = [{"kind": "session_start", "who": "RN-ZZ", "detail": "", "offset_s": 0},  # opened it: not monitoring
              {"kind": "assessment", "who": "RN-CD", "detail": "moaas=5;dissociation=no;resp=ok", "offset_s": 500},
              {"kind": "dose_start", "who": "RN-AB", "detail": "", "offset_s": 600},
              {"kind": "assessment", "who": "simulator", "detail": "moaas=5;dissociation=no;resp=ok", "offset_s": 900},
              {"kind": "assessment", "who": "RN-CD", "detail": "moaas=5;dissociation=no;resp=ok", "offset_s": 1500},
              {"kind": "discharge", "who": "RN-EF", "detail": "", "offset_s": 8000}]
    assert _form([], events).provider == "RN-AB, RN-CD, RN-EF"
    for machine in ("simulator", "replay"):  # a simulated clinic's or a replayed feed's: nobody monitored
        unattended = _form([], [dict(e, who=machine) for e in events])
        assert {f.link_id: f.answer for f in unattended.fields()}["provider"] == "Not recorded", machine


def test_the_pages_count_the_spo2_in_the_store_as_the_exports_do_from_the_readings(store, realistic):
    """The session and review pages draw the form at every poll from the store's count of the SpO2 (a stream holds
    thousands of readings); the exports from the readings: both say the same, implausible and artifact excluded."""
    from dashboard.ui import panels

    overview = spo2_overview(store, realistic.id, *spo2_bounds(CONFIG))
    assert overview["manual"] == 1 and overview["lowest"]["spo2"] == 93
    from_store = rems_form(realistic.row, realistic.bp_readings, realistic.events, CONFIG, realistic.wall_time,
                           realistic.first_treatment, overview)
    assert from_store.pulse_oximetry == realistic.rems(CONFIG).pulse_oximetry
    assert from_store.rows() == realistic.rems(CONFIG).rows()
    page = json.dumps(panels.rems_table(realistic.row, realistic.bp_readings, realistic.events, CONFIG,
                                        realistic.first_treatment, overview).to_plotly_json(), default=str)
    assert "revision 12/2024" in page and "93 % at" in page
