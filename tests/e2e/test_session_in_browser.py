"""Opening a session shows its chart; acknowledging an alarm survives a page reload."""
from __future__ import annotations

from dashboard.store import Store

from tests.sessions import severe_bp_session
from .browser import click, follow, login, script_until

SEVERE = "185/112"


def test_session_page_shows_the_chart_and_an_acknowledgement_survives_reload(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    sid = severe_bp_session(db, oximeter=True)
    server = start_server("serve", "--no-simulator", "--database", str(db))
    login(dash_br, server.url, "nurse", then=f"/session/{sid}")

    systolic = script_until(dash_br, "const g = document.querySelector('#session-chart .js-plotly-plot'); "
                                     "return g && g.data && g.data[1] && g.data[1].y", "the chart's systolic trace")
    assert systolic == [128, 185]
    dash_br.wait_for_contains_text("#session-alarms", "BP severe")

    click(dash_br, "#session-alarms .alarm-item.prio-high .ack-button")
    dash_br.wait_for_contains_text("#session-alarms .alarm-item.prio-high", "Acknowledged by nurse1")

    dash_br.driver.refresh()
    dash_br.wait_for_contains_text("#session-alarms .alarm-item.prio-high", "Acknowledged by nurse1")
    acks = [a for a in Store.open(db).alarms_of(sid) if a["state"] == "acknowledged"]
    assert [(a["code"], a["value"]) for a in acks] == [("bp.severe", "nurse1")]
    from dashboard.auth import audit_log
    assert [(r["who"], r["action"], r["session_id"]) for r in audit_log(Store.open(db)) if r["action"] == "acknowledge"] \
        == [("nurse1", "acknowledge", sid)]


def test_review_lists_sessions_and_opens_one(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    sid = severe_bp_session(db, oximeter=True)
    server = start_server("serve", "--no-simulator", "--database", str(db))
    login(dash_br, server.url, "clinician", then="/review")
    dash_br.wait_for_contains_text(".sessions-table", "Demo 03")
    follow(dash_br, f"a[href='/review/{sid}']", f"/review/{sid}")
    dash_br.wait_for_element("#session-chart .js-plotly-plot")
    dash_br.wait_for_contains_text("#session-log", SEVERE)
    assert not dash_br.find_elements(".ack-button")  # review is read-only
