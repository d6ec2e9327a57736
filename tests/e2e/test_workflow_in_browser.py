"""A nurse's session in the browser: start, manual BP, the pre-dose gate, assessment, discharge gate;
and the alarm sound and escalation banner following acknowledgement."""
from __future__ import annotations

import time
from pathlib import Path

from selenium.webdriver.common.keys import Keys

from dashboard.store import Store

from tests.sessions import severe_bp_session
from .conftest import login


def _type(dash_br, selector: str, text: str) -> None:
    field = dash_br.find_element(selector)
    field.send_keys(Keys.CONTROL, "a")  # clear() does not reach React's state: select and overwrite instead
    field.send_keys(Keys.DELETE)
    if text:
        field.send_keys(text)


def _click_and_read(dash_br, button: str, expected: str) -> None:
    dash_br.find_element(button).click()
    dash_br.wait_for_contains_text("#act-message", expected, timeout=10)


def _events(db: Path, sid: int) -> list[tuple[str, str, str]]:
    return [(e["kind"], e["detail"], e["who"]) for e in Store.open(db).events_of(sid)]


def _wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def test_a_session_from_start_to_discharge_with_its_gates(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    server = start_server("serve", "--no-simulator", "--database", str(db), "--poll-ms", "500")
    login(dash_br, server.url, "nurse", then="/start")
    _type(dash_br, "#new-chair", "Chair 7")
    _type(dash_br, "#new-label", "P-77")
    dash_br.select_dcc_dropdown("#new-protocol", value="Esketamine 56 mg intranasal (2 devices)")
    dash_br.find_element("#new-start").click()
    dash_br.wait_for_element("#session-chart .js-plotly-plot")
    sid = int(dash_br.driver.current_url.rsplit("/", 1)[1])
    assert Store.open(db).session(sid).chair == "Chair 7"
    _wait(lambda: ("session_start", "esketamine-56", "nurse1") in _events(db, sid))

    # A BP no cuff can measure is refused with the reason, and nothing is stored.
    _type(dash_br, "#bp-sbp", "999")
    _type(dash_br, "#bp-dbp", "10")
    _click_and_read(dash_br, "#act-bp", "Systolic 999 is outside 50–300")
    _type(dash_br, "#bp-sbp", "15O")
    _click_and_read(dash_br, "#act-bp", "is not a whole number")
    assert Store.open(db).pending_actions() == [] and Store.open(db).readings_after(sid) == []

    _type(dash_br, "#bp-sbp", "150")
    _type(dash_br, "#bp-dbp", "95")
    _click_and_read(dash_br, "#act-bp", "Manual BP 150/95 recorded")
    dash_br.wait_for_contains_text("#session-alarms", "Pre-dose BP above guide", timeout=10)

    # The pre-dose gate: dosing above the label's guide needs a reason, which is logged with who.
    _click_and_read(dash_br, "#act-dose", "Give a reason for the override")
    assert "dose_start" not in [kind for kind, _, _ in _events(db, sid)]
    _type(dash_br, "#act-override", "rechecked after rest, prescriber agrees")
    _click_and_read(dash_br, "#act-dose", "Dose start recorded with the override reason")
    _wait(lambda: "dose_start" in [kind for kind, _, _ in _events(db, sid)])
    assert ("override", "dose despite pre-dose BP 150/95: rechecked after rest, prescriber agrees", "nurse1") \
        in _events(db, sid)
    dash_br.wait_for_contains_text("#session-log", "rechecked after rest", timeout=10)

    # An assessment, then the discharge gate: not ready, so a reason is required.
    dash_br.select_dcc_dropdown("#as-moaas", index=2)
    dash_br.find_element("#as-dissociation input[value='yes']").click()
    dash_br.find_element("#as-breathing input[value='ok']").click()
    _click_and_read(dash_br, "#act-assess", "Assessment recorded: MOAA/S 3")
    _wait(lambda: ("assessment", "moaas=3;dissociation=yes;resp=ok", "nurse1") in _events(db, sid))
    _type(dash_br, "#act-override", "")
    _click_and_read(dash_br, "#act-discharge", "Not ready for discharge (minimum observation passed")
    _type(dash_br, "#act-override", "transferred to the emergency department")
    _click_and_read(dash_br, "#act-discharge", "Discharge recorded")
    _wait(lambda: Store.open(db).session(sid).ended_at is not None)
    kinds = [kind for kind, _, _ in _events(db, sid)]
    assert kinds[-2:] == ["override", "discharge"]


def _sounding(dash_br) -> str:
    """The priority the page is sounding (a hidden element: selenium's .text would read it as empty)."""
    return dash_br.driver.execute_script("return document.querySelector('#alarm-sound-playing').textContent")


def test_unacknowledged_high_alarm_sounds_and_escalates_until_acknowledged(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    sid = severe_bp_session(db)  # raised at 1100 s; the session is at 1200 s: past the 60 s escalation
    server = start_server("serve", "--no-simulator", "--database", str(db), "--poll-ms", "500")
    login(dash_br, server.url, "nurse")
    dash_br.wait_for_contains_text("#escalation-banner", "Chair 3: BP severe 185/112", timeout=15)
    dash_br.find_element("#sound-on").click()  # the browser allows sound once someone touches the page
    _wait(lambda: _sounding(dash_br) == "high")
    _wait(lambda: dash_br.driver.execute_script("return window.__alarmSound.played.length"))
    played = dash_br.driver.execute_script("return window.__alarmSound.played.map(s => s.priority)")
    assert played and set(played) == {"high"}

    dash_br.find_element(".escalation-link").click()
    dash_br.wait_for_element("#session-alarms .alarm-item.prio-high .ack-button").click()
    dash_br.wait_for_contains_text("#session-alarms .alarm-item.prio-high", "Acknowledged by nurse1", timeout=10)
    # Silenced but still shown while the BP stays high; the banner goes; the medium rise alarm is what sounds now.
    _wait(lambda: _sounding(dash_br) == "medium")
    _wait(lambda: not dash_br.find_elements("#escalation-banner .escalation-link"))
    assert "escalation-checklist" in dash_br.find_element("#session-alarms").get_attribute("innerHTML")
    dash_br.wait_for_contains_text("#session-log", "acknowledged by nurse1")
    assert [a["value"] for a in Store.open(db).alarms_of(sid) if a["state"] == "acknowledged"] == ["nurse1"]


def test_a_tester_replays_a_scenario_onto_a_chair_and_controls_it(dash_br, start_server, tmp_path):
    from dashboard.check import run_check
    from dashboard.ui.replay_page import scenario_files

    db = tmp_path / "clinic.db"
    server = start_server("serve", "--no-simulator", "--database", str(db), "--poll-ms", "500")
    login(dash_br, server.url, "tester", then="/replay")
    dash_br.select_dcc_dropdown("#rp-scenario", value="feeds/iv-quiet")  # 2 h: still running when paused
    dash_br.find_element("#rp-start").click()
    dash_br.wait_for_contains_text("#rp-message", "Replaying on session 1")
    dash_br.wait_for_contains_text("#rp-table", "running", timeout=30)

    dash_br.find_element("nav a[href='/test']").click()  # the chair shows on the test board like a live one
    dash_br.wait_for_contains_text(".board", "Replay 1", timeout=30)
    dash_br.wait_for_contains_text(".tile .tile-mark", "REPLAY", timeout=30)

    dash_br.find_element("nav a[href='/replay']").click()
    dash_br.wait_for_element("#rp-table .rp-pause", timeout=30).click()
    dash_br.wait_for_contains_text("#rp-table", "paused", timeout=30)
    paused_at = Store.open(db).replays()[0]["position_s"]
    time.sleep(1.5)
    assert Store.open(db).replays()[0]["position_s"] == paused_at
    dash_br.wait_for_element("#rp-table .rp-stop").click()
    dash_br.wait_for_contains_text("#rp-table", "stopped", timeout=30)
    _wait(lambda: not Store.open(db).pending_actions())
    store = Store.open(db)
    position = store.session(1).session_now()
    expected = [(t.offset_s, t.code, t.state) for t in run_check(scenario_files()["feeds/iv-quiet"]).transitions
                if t.offset_s <= position]
    assert [(a["offset_s"], a["code"], a["state"]) for a in store.alarms_of(1)] == expected
    assert store.session(1).ended_at is not None and store.replays()[0]["who"] == "tester1"  # stopped: it ended
