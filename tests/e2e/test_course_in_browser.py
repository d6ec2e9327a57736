"""A course-aware start in the browser: a nurse opens the fourth infusion of a patient's IV ketamine induction
and sees the three before it at a glance, with first treatment and the medicines prefilled for her to confirm;
the board's tile then carries the patient's course line."""
from __future__ import annotations

from selenium.webdriver.common.keys import Keys

from dashboard.reports.rems import CONCOMITANT
from dashboard.store import Store

from ..review_sessions import induction_series
from .conftest import login

TAKING = {key: key == "opioids" for key, _ in CONCOMITANT}


def _induction(db) -> list[int]:
    store = Store.open(db)
    ids = induction_series(store, 3, "P-40", concomitant=TAKING)
    store.close()
    return ids


def test_the_fourth_infusion_opens_with_the_patients_course(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    _induction(db)
    server = start_server("serve", "--no-simulator", "--database", str(db), "--poll-ms", "500")
    login(dash_br, server.url, "nurse", then="/start")
    dash_br.wait_for_element("#new-label", timeout=30)
    dash_br.find_element("#new-chair").send_keys("Chair 4")
    dash_br.select_dcc_dropdown("#new-protocol", value="IV ketamine 0.5 mg/kg over 40 min")
    dash_br.find_element("#new-label").send_keys("P-40", Keys.ENTER)

    # The history at a glance: three earlier infusions, each with its peak, rise, alarms, readiness and what was seen.
    dash_br.wait_for_contains_text("#course-series", "Session 4 of the IV ketamine induction (6)", timeout=30)
    rows = dash_br.find_elements("#course-glance-table tbody tr")
    assert [r.find_elements("css selector", "td")[0].text for r in rows] == ["1", "2", "3"]
    for row in rows:
        cells = [c.text for c in row.find_elements("css selector", "td")]
        assert "/" in cells[4] and cells[5].startswith("+") and cells[7].endswith("min")  # peak, rise, ready
    # Derived and carried answers, for the nurse to confirm: not a first treatment; opioids as last time.
    dash_br.wait_for_contains_text("#new-first-hint", "3 earlier sessions", timeout=30)
    assert dash_br.find_element("#new-first input[value='no']").is_selected()
    assert dash_br.find_element("#new-med-opioids input[value='yes']").is_selected()
    assert dash_br.find_element("#new-med-benzodiazepines input[value='no']").is_selected()
    assert "Carried from session" in dash_br.find_element("#new-med-hint").text
    assert dash_br.find_element("#new-dose-choice input[value='other']").is_selected()

    dash_br.find_element("#new-start").click()
    dash_br.wait_for_element("#session-chart .js-plotly-plot", timeout=30)
    sid = int(dash_br.driver.current_url.rsplit("/", 1)[1])
    row = Store.open(db).session(sid)
    assert row.first_treatment is False and row.concomitant["opioids"] is True
    assert row.course["number"] == 4 and len(row.course["earlier"]) == 3

    # The board: the tile carries the patient's course line.
    dash_br.driver.get(server.url + "/")
    dash_br.wait_for_contains_text(".tile-extra", "Session 4/6 induction · last: peak", timeout=30)
