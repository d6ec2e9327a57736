"""The esketamine REMS Patient Monitoring Form of 11/2021: every field filled from a recorded session, printed in
the form's own order and wording (dashboard/reports/rems/revisions.py names the public copies of the form it
follows). A session started under 11/2021 keeps it; the current revision: test_rems_current.py."""
from __future__ import annotations

import dataclasses
import io
import time

import pytest
from pypdf import PdfReader

from dashboard.engine import load_config
from dashboard.reports.exports.pdf_report import session_pdf
from dashboard.reports.record import load_record
from dashboard.reports.rems import CONCOMITANT, NOT_ASSESSED, form_dose
from devices.feed import read_feed
from devices.readings import Reading, SessionEvent

from ..review_sessions import SEVERE_FEED, recorded_session

CONFIG = load_config()
TAKING = {"benzodiazepines": True, "non_benzodiazepine_hypnotics": False, "psychostimulants": False,
          "maois": False, "opioids": True}

OLD = "11/2021"
# The form's fields in its order, with its wording (section headings, then each question as printed).
FORM_ORDER = [
    "Patient Information",
    "Patient (the site's identifier)",
    "Is this the patient's first treatment?",
    "Concomitant Medication",
    "Is the patient currently taking any of the following medication(s) that may cause sedation or blood "
    "pressure changes?",
    "Benzodiazepines", "Non-benzodiazepine sedative hypnotics", "Psychostimulants",
    "Monoamine oxidase inhibitors (MAOIs)", "Opioids",
    "Healthcare Provider Conducting Patient Monitoring",
    "Healthcare Setting Information",
    "Patient Treatment Session Information (Administration and Monitoring)",
    "Treatment Date (MM/DD/YYYY)", "Dose Administered", "Lot Number",
    "Treatment Duration: total time (minutes, from 1st device administration to completion of monitoring)",
    "REMS Evaluation Question: if there was not a 2-hour minimum monitoring requirement",
    "Vital signs were in acceptable range prior to administration?",
    "Vital signs were in acceptable range prior to treatment session completion?",
    "Blood pressure prior to administration", "Blood pressure 40 mins post-administration",
    "Blood pressure prior to treatment session completion",
    "Did the patient experience sedation?", "Did the patient experience dissociation?",
    "Did the patient experience respiratory depression?",
]


def _severe_peak_items(nurse: str = "RN-AB"):
    """The severe-peak sample feed with the dose started by a nurse, as the web records it."""
    return [dataclasses.replace(i, who=nurse) if isinstance(i, SessionEvent) and i.kind == "dose_start" else i
            for i in read_feed(SEVERE_FEED).items]


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def test_every_field_is_filled_from_the_recorded_session(store):
    started = time.mktime((2026, 11, 23, 9, 0, 0, 0, 0, -1))
    sid = recorded_session(store, items=_severe_peak_items(), actions=None, patient="P-31", started=started,
                           patient_identifier="MRN-0042", lot="LOT 24K17B", first_treatment=False,
                           concomitant=TAKING, rems_revision=OLD)
    record = load_record(store, sid)
    form = record.rems(CONFIG)
    answers = {question: answer for _, question, answer in form.rows()}
    assert answers["Patient (the site's identifier)"] == "MRN-0042"
    assert answers["Is this the patient's first treatment?"] == "No (confirmed at the start)"
    assert [answers[label] for _, label in CONCOMITANT] == ["Yes", "No", "No", "No", "Yes"]
    assert answers["Healthcare provider conducting patient monitoring"] == "RN-AB"
    assert answers["Healthcare Setting Name"] == "main"
    assert answers["Treatment Date (MM/DD/YYYY)"] == "11/23/2026"
    assert (answers["Dose Administered"], answers["Lot Number"]) == ("84 mg", "LOT 24K17B")
    # first device at 10:00 of session time, discharge at 2:15:00: 125 minutes; the latched severe alarm held
    # readiness until it was acknowledged, which it never was here
    assert form.total_minutes == pytest.approx(125) and answers[FORM_ORDER[16]] == "125"
    assert form.ready_minute is None
    assert answers["Vital signs were in acceptable range prior to administration?"] == "Yes"
    assert answers["Vital signs were in acceptable range prior to treatment session completion?"] == "Yes"
    assert answers["Blood pressure prior to administration"] == "126/84 mmHg (1 min before the first device)"
    # 40 min from the dose (at 50:30 of session time), not from the session start (40:00 would give 183/106)
    assert answers["Blood pressure 40 mins post-administration"] == "190/111 mmHg (40 min after the first device)"
    assert answers["Blood pressure prior to treatment session completion"] == "134/82 mmHg (120 min after the first device)"
    assert [answers[f"Did the patient experience {what}?"] for what in
            ("sedation", "dissociation", "respiratory depression")] == ["Yes", "Yes", "No"]


def test_the_printout_follows_the_forms_order_and_wording_in_text_and_pdf(store):
    sid = recorded_session(store, items=_severe_peak_items(), actions=None, patient="P-31",
                           patient_identifier="MRN-0042", lot="LOT 24K17B", first_treatment=True,
                           concomitant=TAKING, rems_revision=OLD)
    record = load_record(store, sid)
    text = record.rems(CONFIG).text()
    assert text.startswith("SPRAVATO REMS Patient Monitoring Form (revision 11/2021)")
    assert _positions(text, FORM_ORDER) == sorted(_positions(text, FORM_ORDER))
    pdf = PdfReader(io.BytesIO(session_pdf(record, CONFIG)))
    printed = " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)
    block = printed[printed.index("SPRAVATO REMS Patient Monitoring Form"):printed.index("Session log")]
    words = [" ".join(label.split()) for label in FORM_ORDER]
    assert _positions(block, words) == sorted(_positions(block, words))
    for answer in ("MRN-0042", "LOT 24K17B", "190/111 mmHg (40 min after the first device)", "Yes (confirmed"):
        assert answer in block


def test_nothing_assessed_reads_not_assessed_never_no(store):
    items = [SessionEvent("session_start", "esketamine-56", offset_s=0),
             Reading("nibp", sbp=132, dbp=84, offset_s=60), SessionEvent("dose_start", offset_s=1200),
             Reading("nibp", sbp=150, dbp=92, offset_s=2400),  # 40 min of session time: 20 after the dose
             Reading("nibp", sbp=158, dbp=96, offset_s=3660),  # 41 min after the dose
             Reading("nibp", sbp=128, dbp=80, offset_s=1200 + 7500),
             SessionEvent("discharge", offset_s=1200 + 7560)]
    sid = recorded_session(store, items=items, actions=None, dose="56 mg", rems_revision=OLD)
    record = load_record(store, sid)
    answers = {q: a for _, q, a in record.rems(CONFIG).rows()}
    for what in ("sedation", "dissociation", "respiratory depression"):
        assert answers[f"Did the patient experience {what}?"] == NOT_ASSESSED
    assert answers["Blood pressure 40 mins post-administration"] == "158/96 mmHg (41 min after the first device)"
    # a session from before the start form asked: nothing invented
    assert answers["Patient (the site's identifier)"] == "Not recorded"
    assert answers["Is this the patient's first treatment?"] == "Yes (from the patient's earlier sessions)"
    assert answers["Benzodiazepines"] == answers["Lot Number"] == "Not recorded"
    assert answers["Dose Administered"] == "56 mg"


def test_a_missed_40_minute_check_reads_not_recorded(store):
    items = [SessionEvent("session_start", "esketamine-56", offset_s=0), Reading("nibp", sbp=150, dbp=92, offset_s=60),
             SessionEvent("dose_start", offset_s=300), Reading("nibp", sbp=130, dbp=80, offset_s=300 + 60 * 60)]
    sid = recorded_session(store, items=items, actions=None, dose="56 mg")
    answers = {q: a for _, q, a in load_record(store, sid).rems(CONFIG).rows()}
    assert answers["Blood pressure 40 mins post-administration"] == "Not recorded"
    assert answers["Vital signs were in acceptable range prior to administration?"] == "No"


def test_dose_answers_are_the_forms_boxes_or_other():
    assert [form_dose(d) for d in ("56 mg", "84  mg", "28 mg", "")] == ["56 mg", "84 mg", "Other: 28 mg", ""]


def test_an_iv_session_has_no_rems_form(store):
    from ..review_sessions import SAMPLES

    sid = recorded_session(store, feed=SAMPLES / "feeds" / "iv-quiet.csv", actions=None, dose="0.5 mg/kg")
    assert load_record(store, sid).rems(CONFIG) is None


def _positions(text: str, needles: list[str]) -> list[int]:
    """Where each needle first appears at or after the previous one's place; -1 fails the order check."""
    out, start = [], 0
    for needle in needles:
        at = text.find(needle, start)
        out.append(at if at >= 0 else -1)
        assert at >= 0, f"{needle!r} missing or out of order"
        start = at + 1
    return out
