"""Opening a session shows its chart; acknowledging an alarm survives a page reload."""
from __future__ import annotations

import time
from pathlib import Path


from dashboard.engine import load_config
from dashboard.ingest import Ingest
from dashboard.store import Store
from devices.readings import Reading, SessionEvent

from .conftest import login

SEVERE = "185/112"


def _session_with_a_severe_bp(db: Path) -> int:
    """A session 20 min in, written by a real ingest (as the ingest process would) before the web starts."""
    store = Store.open(db)
    started = time.time() - 1200
    sid = store.create_session(chair="Chair 3", patient_label="Demo 03", protocol="esketamine-84", started_at=started)
    ingest = Ingest(store, load_config())
    ingest.refresh()
    items = [SessionEvent("session_start", "esketamine-84", offset_s=0), Reading("nibp", sbp=128, dbp=82, hr=70, offset_s=60),
             SessionEvent("dose_start", "84 mg", offset_s=300), Reading("nibp", sbp=185, dbp=112, hr=88, offset_s=1100)]
    items += [Reading("oximeter", hr=80, spo2=97, offset_s=float(t)) for t in range(300, 1190)]
    assert ingest.submit("Chair 3", items) and ingest.step() is None
    store.close()
    return sid


def test_session_page_shows_the_chart_and_an_acknowledgement_survives_reload(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    sid = _session_with_a_severe_bp(db)
    server = start_server("serve", "--no-simulator", "--database", str(db), "--poll-ms", "500")
    login(dash_br, server.url, "nurse", then=f"/session/{sid}")

    dash_br.wait_for_element("#session-chart .js-plotly-plot")
    systolic = dash_br.driver.execute_script(
        "return document.querySelector('#session-chart .js-plotly-plot').data[1].y")
    assert systolic == [128, 185]
    dash_br.wait_for_contains_text("#session-alarms", "BP severe")

    dash_br.find_element("#session-alarms .alarm-item.prio-high .ack-button").click()
    dash_br.wait_for_contains_text("#session-alarms .alarm-item.prio-high", "Acknowledged by nurse1")

    dash_br.driver.refresh()
    dash_br.wait_for_contains_text("#session-alarms .alarm-item.prio-high", "Acknowledged by nurse1", timeout=15)
    acks = [a for a in Store.open(db).alarms_of(sid) if a["state"] == "acknowledged"]
    assert [(a["code"], a["value"]) for a in acks] == [("bp.severe", "nurse1")]
    from dashboard.auth import audit_log
    assert [(r["who"], r["action"], r["session_id"]) for r in audit_log(Store.open(db)) if r["action"] == "acknowledge"] \
        == [("nurse1", "acknowledge", sid)]


def test_review_lists_sessions_and_opens_one(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    sid = _session_with_a_severe_bp(db)
    server = start_server("serve", "--no-simulator", "--database", str(db))
    login(dash_br, server.url, "clinician", then="/review")
    dash_br.wait_for_contains_text(".sessions-table", "Demo 03")
    dash_br.find_element(f"a[href='/review/{sid}']").click()
    dash_br.wait_for_element("#session-chart .js-plotly-plot")
    dash_br.wait_for_contains_text("#session-log", SEVERE)
    assert not dash_br.find_elements(".ack-button")  # review is read-only
