"""The review pages render from the store: the list's filters, a session's review, a patient's course."""
from __future__ import annotations

import json
import time
from pathlib import Path

import flask
import plotly

from dashboard.engine import load_config
from dashboard.store import Store
from dashboard.store.signoff import sign_off
from dashboard.ui import create_app, review
from dashboard.ui.app import route

from ..clock_zone import local_zone, utc_epoch
from ..review_sessions import SAMPLES, recorded_session

CONFIG = load_config()


def _page(tmp_path: Path, store: Store, path: str, role: str = "clinician") -> str:
    app = create_app(store, CONFIG, secret_path=tmp_path / "secret")
    with app.server.test_request_context(path):
        flask.session.update(user=f"{role}1", role=role)
        return json.dumps(route(store, CONFIG, path, "", 1000), cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def test_filters_from_the_controls():
    f = review.session_filter({"start_date": "2026-03-01", "end_date": "2026-03-01", "chair": "Chair 2",
                               "patient": "P-1", "alarms": "yes", "state": "finished", "sort": "peak",
                               "order": "asc", "size": 25}, page=3)
    assert f.started_before - f.started_from == 86400 and time.localtime(f.started_from).tm_hour == 0
    assert (f.chair, f.patient, f.had_alarms, f.state, f.sort, f.descending, f.page, f.page_size) == \
        ("Chair 2", "P-1", True, "finished", "peak", False, 3, 25)
    empty = review.session_filter({}, 0)
    assert (empty.had_alarms, empty.state, empty.started_from, empty.sort, empty.descending) == \
        (None, None, None, "started", True)


def test_review_page_has_chart_alarms_rems_log_exports_and_sign_off(tmp_path):
    store = Store.open(tmp_path / "clinic.db")
    sid = recorded_session(store, started=utc_epoch("2026-12-08T14:00:00"))
    with local_zone("America/New_York"):  # the session started at 09:00 EST: its times read as the clock there
        page = _page(tmp_path, store, f"/review/{sid}")
    for part in ('"review-chart"', '"review-alarms"', "RN-AB at 09:42:30", "120 s", "REMS Patient Monitoring Form",
                 '"session-log"', '"export-pdf"', '"signoff-button"', "as clinician1",
                 "started 2026-12-08 09:00 (clock times in EST)", "Time (EST)", '"clock time (EST)"'):
        assert part in page, part
    sign_off(store, sid, "clinician1", "ok")
    signed = _page(tmp_path, store, f"/review/{sid}")
    assert "read-only" in signed and '"signoff-button"' not in signed
    assert "not found" in _page(tmp_path, store, "/review/99999999999999999999").lower()


def test_open_session_cannot_be_signed_and_nurses_do_not_review(tmp_path):
    store = Store.open(tmp_path / "clinic.db")
    sid = store.create_session(chair="Chair 1", patient_label="P-2", protocol="iv-ketamine", started_at=time.time())
    assert "Sign-off opens once the session has ended" in _page(tmp_path, store, f"/review/{sid}")
    for path in (f"/review/{sid}", f"/course/{sid}"):
        assert "Not found" in _page(tmp_path, store, path, role="nurse")


def test_course_page_lists_the_patients_sessions_oldest_first(tmp_path):
    store = Store.open(tmp_path / "clinic.db")
    now = time.time()
    first = recorded_session(store, patient="P-77", started=now - 10 * 86400)
    recorded_session(store, feed=SAMPLES / "feeds" / "iv-quiet.csv", actions=None, patient="Other",
                     chair="Chair 4", started=now - 9 * 86400)
    second = recorded_session(store, feed=SAMPLES / "feeds" / "predose-high.csv", actions=None, patient="P-77",
                              started=now - 3 * 86400)
    page = _page(tmp_path, store, f"/course/{second}")
    assert "Course of P-77" in page and "2 sessions" in page and "Other" not in page
    assert page.rindex(f"/review/{first}") < page.rindex(f"/review/{second}")  # in the table, after the header link
    assert "BP severe ×1" in page and "+64/+29" in page and '"course-chart"' in page
    assert "P-77" not in f"/course/{second}"  # the URL names a session, never the patient
