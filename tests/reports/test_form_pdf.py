"""The fax-ready REMS form (dashboard/reports/exports/form_pdf.py): the form alone on one page, in the form's
order, read back with pypdf; a day's forms one page each; a test session's form watermarked TEST; none for IV."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from dashboard.engine import load_config
from dashboard.reports.exports import export_session
from dashboard.reports.exports.form_pdf import NoForm, fitting_size, form_pdf, forms_pdf
from dashboard.reports.form_queue import forms_of_day
from dashboard.reports.record import SessionNotFound, load_record
from dashboard.reports.rems import FormField

from .form_sessions import esketamine_session, iv_session

CONFIG = load_config()
PARIS = ZoneInfo("Europe/Paris")


def text_of(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def _dosed(hour: int, day: int = 7) -> float:
    return dt.datetime(2026, 12, day, hour, 0, tzinfo=PARIS).timestamp()


def test_a_full_form_fits_one_page_in_the_forms_order_and_nothing_else(store):
    sid = esketamine_session(store, _dosed(9))  # the patient label Demo 03 (tests/review_sessions.py)
    record = load_record(store, sid)
    form = record.rems(CONFIG)
    assert form.missing() == []  # a complete, realistic form
    (page,) = text_of(form_pdf(record, CONFIG))
    assert page.startswith("SPRAVATO REMS Patient Monitoring Form")
    order = [" ".join(q.split()) for _, q, _ in form.rows()]
    positions = [page.find(" ".join(q.split()[:6])) for q in order]
    assert -1 not in positions and positions == sorted(positions), list(zip(order, positions))
    for _, question, answer in form.rows():
        assert " ".join(answer.split()) in page, question
    assert form.title in page and "(revision 12/2024)" in form.title
    assert "MRN-0042" in page and " ".join(form.medicines_question.split()[:8]) in page
    assert "Demo 03" not in page and f"Session {sid}" not in page and "TEST" not in page  # the form alone


def test_a_longer_form_still_fits_one_page_in_smaller_type(store):
    """A later revision adds items (helper forms grow): the type shrinks, the page count stays one."""
    record = load_record(store, esketamine_session(store, _dosed(9)))
    form = record.rems(CONFIG)
    extra = [FormField(f"added-{n}-{k}", f"Added section {n}", f"An added question {n}.{k} " + "with words " * 8,
                       "boolean", True, "Yes") for n in range(3) for k in range(4)]
    later = dataclasses.replace(form.revision, date="03/2026", fields=lambda f: form.revision.fields(f) + extra)
    grown = dataclasses.replace(form, revision=later)
    assert fitting_size(grown) < fitting_size(form)
    object.__setattr__(record, "rems", lambda config: grown)  # the record as the later revision fills it
    (page,) = text_of(forms_pdf([record], CONFIG))
    assert "(revision 03/2026)" in page and "An added question 2.3" in page


def test_a_days_forms_are_one_file_a_page_each_and_test_sessions_stay_out(store):
    first = esketamine_session(store, _dosed(9), chair="Chair 1", patient_identifier="MRN-1")
    second = esketamine_session(store, _dosed(14), chair="Chair 2", patient_identifier="MRN-2")
    esketamine_session(store, _dosed(9, day=8), chair="Chair 3", patient_identifier="MRN-3")  # the next day
    esketamine_session(store, _dosed(11), chair="Chair 4", patient_identifier="MRN-4", scenario="demo", seed=1)
    records = forms_of_day(store, dt.date(2026, 12, 7), PARIS)
    assert [r.id for r in records] == [first, second]
    pages = text_of(forms_pdf(records, CONFIG))
    assert len(pages) == 2 and "MRN-1" in pages[0] and "MRN-2" in pages[1]


def test_a_test_sessions_form_printed_directly_carries_a_test_watermark(store):
    sid = esketamine_session(store, _dosed(9), scenario="demo", seed=1)
    (page,) = text_of(export_session(store, CONFIG, sid, "rems").content)
    assert "TEST DATA (SIMULATED): no real patient" in page and "TEST" in page.replace("TEST DATA", "")


def test_an_iv_session_has_no_form_to_print(store):
    sid = iv_session(store, _dosed(9))
    with pytest.raises(NoForm, match="iv-ketamine: only esketamine sessions have a REMS form"):
        export_session(store, CONFIG, sid, "rems")
    assert issubclass(NoForm, SessionNotFound)  # every export caller's refusal path says it
