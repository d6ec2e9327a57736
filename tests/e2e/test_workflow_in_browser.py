"""A nurse's session in the browser: start, manual BP, the pre-dose gate, assessment, discharge gate;
and the alarm sound and escalation banner following acknowledgement."""
from __future__ import annotations

import time
from pathlib import Path

from dashboard.service.replay import STEP_S
from dashboard.reports.rems import CONCOMITANT
from dashboard.auth import audit_log
from dashboard.store import Store

from tests.sessions import severe_bp_session
from tests.waits import wait_until
from .servers import POLL_MS
from .browser import click, follow, login, select, text_of, type_into, wait_for_text


def _click_and_read(dash_br, button: str, expected: str) -> None:
    click(dash_br, button)
    wait_for_text(dash_br, "#act-message", expected)


def _events(db: Path, sid: int) -> list[tuple[str, str, str]]:
    return [(e["kind"], e["detail"], e["who"]) for e in Store.open(db).events_of(sid)]


def test_a_session_from_start_to_discharge_with_its_gates(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    server = start_server("serve", "--no-simulator", "--database", str(db))
    login(dash_br, server.url, "nurse", then="/start")
    type_into(dash_br, "#new-chair", "Chair 7")
    type_into(dash_br, "#new-label", "P-77")
    select(dash_br, "#new-protocol", label="Esketamine 56 mg intranasal (2 devices)")
    for key, _ in CONCOMITANT:  # the REMS form's medicines, asked at the start of every esketamine session
        click(dash_br, f"#new-med-{key} input[value='no']")
    wait_for_text(dash_br, "#new-first-hint", "first treatment")
    # A first treatment: the start is refused until the REMS enrolment is answered, and nothing is opened.
    click(dash_br, "#new-start")
    wait_for_text(dash_br, "#new-message", "enrolled in the SPRAVATO REMS")
    assert Store.open(db).open_sessions() == []
    click(dash_br, "#new-enrolled input[value='yes']")
    click(dash_br, "#new-start")
    dash_br.wait_for_element("#session-chart .js-plotly-plot")
    sid = int(dash_br.driver.current_url.rsplit("/", 1)[1])
    assert Store.open(db).session(sid).chair == "Chair 7"
    wait_until(lambda: ("session_start", "esketamine-56", "nurse1") in _events(db, sid), "the session's start")

    # A BP no cuff can measure is refused with the reason, and nothing is stored.
    type_into(dash_br, "#bp-sbp", "999")
    type_into(dash_br, "#bp-dbp", "10")
    _click_and_read(dash_br, "#act-bp", "Systolic 999 is outside 50–300")
    type_into(dash_br, "#bp-sbp", "15O")
    _click_and_read(dash_br, "#act-bp", "is not a whole number")
    assert Store.open(db).pending_actions() == [] and Store.open(db).readings_after(sid) == []

    type_into(dash_br, "#bp-sbp", "150")
    type_into(dash_br, "#bp-dbp", "95")
    _click_and_read(dash_br, "#act-bp", "Manual BP 150/95 recorded")
    dash_br.wait_for_contains_text("#session-alarms", "Pre-dose BP above guide")

    # The pre-dose checklist gates the dose: refused while any item is unanswered, each answer stored with who.
    _click_and_read(dash_br, "#act-dose", "Not ready to dose: 5 items of the pre-dose checklist not answered")
    for key in ("rems_enrolled", "prescriber_on_site", "fasting", "nasal_spray_timing"):
        click(dash_br, f"[data-item='{key}'] .check-done")
        wait_for_text(dash_br, f"[data-item='{key}'] .check-state", "done (nurse1")
    _click_and_read(dash_br, "#act-dose", "Not ready to dose: 1 item of the pre-dose checklist not answered "
                                          "(Transport home arranged")
    click(dash_br, "[data-item='transport_home'] .check-override")
    wait_for_text(dash_br, "#checklist-message", "Give a reason for the override")
    type_into(dash_br, "[data-item='transport_home'] input", "taxi booked by the clinic")
    click(dash_br, "[data-item='transport_home'] .check-override")
    wait_for_text(dash_br, "[data-item='transport_home'] .check-state", "overridden: taxi booked by the clinic")
    assert "dose_start" not in [kind for kind, _, _ in _events(db, sid)]
    wait_until(lambda: [kind for kind, _, _ in _events(db, sid)].count("checklist") == 5, "the checklist answers")

    # The pre-dose gate: dosing above the label's guide needs a reason, which is logged with who.
    _click_and_read(dash_br, "#act-dose", "BP 150/95 is above the label's pre-dose guide (140/90): give an override reason")
    assert "dose_start" not in [kind for kind, _, _ in _events(db, sid)]
    type_into(dash_br, "#act-override", "rechecked after rest, prescriber agrees")
    _click_and_read(dash_br, "#act-dose", "Dose start recorded with the override reason")
    wait_until(lambda: "dose_start" in [kind for kind, _, _ in _events(db, sid)], "the dose start")
    assert ("override", "dose despite pre-dose BP 150/95: rechecked after rest, prescriber agrees", "nurse1") \
        in _events(db, sid)
    dash_br.wait_for_contains_text("#session-log", "rechecked after rest")
    dash_br.wait_for_contains_text("#session-log", "Transport home arranged: the patient will not drive until the "
                                                   "next day after a restful sleep: overridden (taxi booked")

    # A manual SpO2 check beside the manual BP: refused outside the plausible range, else a manual reading.
    type_into(dash_br, "#spo2-value", "45")
    _click_and_read(dash_br, "#act-spo2", "SpO2 45 is outside 50–100")
    type_into(dash_br, "#spo2-value", "96")
    _click_and_read(dash_br, "#act-spo2", "Manual SpO2 96 % recorded")
    wait_until(lambda: [r["spo2"] for r in Store.open(db).readings_after(sid) if r["provenance"] == "manual"
                        and r["sbp"] is None] == [96.0], "the manual SpO2")
    dash_br.wait_for_contains_text("#session-log", "96 % (manual check)")

    # An assessment, then the discharge gate: not ready, so a reason is required.
    select(dash_br, "#as-moaas", index=2)
    click(dash_br, "#as-dissociation input[value='yes']")
    click(dash_br, "#as-breathing input[value='ok']")
    _click_and_read(dash_br, "#act-assess", "Assessment recorded: MOAA/S 3")
    wait_until(lambda: ("assessment", "moaas=3;dissociation=yes;resp=ok", "nurse1") in _events(db, sid),
               "the assessment")
    type_into(dash_br, "#act-override", "")
    _click_and_read(dash_br, "#act-discharge", "Not ready for discharge: the minimum observation ends at")
    refusal = text_of(dash_br, "#act-message")  # what holds the chair first, then the override
    assert refusal.index("the latest assessment") < refusal.index("shows dissociation and MOAA/S 3") \
        < refusal.index("To discharge anyway, give an override reason"), refusal
    type_into(dash_br, "#act-override", "transferred to the emergency department")
    # The REMS form's serious-adverse-event question is asked at discharge: refused until answered.
    _click_and_read(dash_br, "#act-discharge", "serious adverse event")
    assert Store.open(db).session(sid).ended_at is None
    click(dash_br, "#act-sae input[value='no']")
    _click_and_read(dash_br, "#act-discharge", "Discharge recorded")
    wait_until(lambda: Store.open(db).session(sid).ended_at is not None, "the discharge")
    kinds = [kind for kind, _, _ in _events(db, sid)]
    assert kinds[-3:] == ["override", "serious_adverse_event", "discharge"]
    assert ("serious_adverse_event", "no", "nurse1") in _events(db, sid)
    row = Store.open(db).session(sid)
    assert (row.first_treatment, row.rems_enrolled, row.rems_revision) == (True, True, "12/2024")


def _sounding(dash_br) -> str | None:
    """The priority the page is sounding (a hidden element: selenium's .text would read it as empty)."""
    return text_of(dash_br, "#alarm-sound-playing")


def test_unacknowledged_high_alarm_sounds_and_escalates_until_acknowledged(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    sid = severe_bp_session(db)  # raised at 1100 s; the session is at 1200 s: past the 60 s escalation
    server = start_server("serve", "--no-simulator", "--database", str(db))
    login(dash_br, server.url, "nurse")
    wait_for_text(dash_br, "#escalation-banner", "Chair 3: BP severe 185/112")
    # The browser allows sound once someone touched the site: the sign-in click counts (Chromium's autoplay rule),
    # so the page turned its sound on at load, with no sound-off bar to press.
    wait_until(lambda: dash_br.driver.execute_script("return window.__alarmSound.state") == "running", "sound on")
    wait_until(lambda: _sounding(dash_br) == "high", "the high alarm sound")
    wait_until(lambda: dash_br.driver.execute_script("return window.__alarmSound.played.length"), "a sound played")
    played = dash_br.driver.execute_script("return window.__alarmSound.played.map(s => s.priority)")
    assert played and set(played) == {"high"}

    follow(dash_br, ".escalation-link", f"/session/{sid}")
    click(dash_br, "#session-alarms .alarm-item.prio-high .ack-button")
    dash_br.wait_for_contains_text("#session-alarms .alarm-item.prio-high", "Acknowledged by nurse1")
    # Silenced but still shown while the BP stays high; the banner goes; the medium rise alarm is what sounds now.
    wait_until(lambda: _sounding(dash_br) == "medium", "the medium alarm sound")
    wait_until(lambda: not dash_br.find_elements("#escalation-banner .escalation-link"), "the banner to go")
    assert "escalation-checklist" in dash_br.find_element("#session-alarms").get_attribute("innerHTML")
    dash_br.wait_for_contains_text("#session-log", "acknowledged by nurse1")
    assert [a["value"] for a in Store.open(db).alarms_of(sid) if a["state"] == "acknowledged"] == ["nurse1"]


def _replay_position(db: Path) -> float:
    store = Store.open(db)
    try:
        return store.replays()[0]["position_s"]
    finally:
        store.close()


def _held_position(db: Path) -> float:
    """The paused replay's position once it holds still: the step in flight when the pause came may still report."""
    def held() -> tuple[float] | None:
        first = _replay_position(db)
        time.sleep(5 * STEP_S)  # five replay steps: a running replay reports at every one
        return (first,) if _replay_position(db) == first else None

    return wait_until(held, "the paused replay to hold its position")[0]


def test_a_tester_replays_a_scenario_onto_a_chair_and_controls_it(dash_br, start_server, tmp_path):
    from dashboard.cli.check import run_check
    from dashboard.ui.replay_page import scenario_files

    db = tmp_path / "clinic.db"
    server = start_server("serve", "--no-simulator", "--database", str(db))
    login(dash_br, server.url, "tester", then="/replay")
    select(dash_br, "#rp-scenario", label="feeds/iv-quiet")  # 2 h: still running when paused
    click(dash_br, "#rp-start")
    wait_for_text(dash_br, "#rp-message", "Replaying on session 1")
    wait_for_text(dash_br, "#rp-table", "running")

    click(dash_br, "nav a[href='/test']")  # the chair shows on the test board like a live one
    wait_for_text(dash_br, ".board", "Replay 1")
    wait_for_text(dash_br, ".tile .tile-mark", "REPLAY")

    click(dash_br, "nav a[href='/replay']")
    click(dash_br, "#rp-table .rp-pause")
    wait_for_text(dash_br, "#rp-table", "paused")
    paused_at = _held_position(db)
    time.sleep(1.5)  # a window to see nothing move in (not a wait for something to happen)
    assert _replay_position(db) == paused_at
    # Resume resumes: the replay runs on past several polls of the page (each redrew the buttons' row, and a pause
    # nobody clicked used to follow the first), and the audit holds the one pause the tester made.
    click(dash_br, "#rp-table .rp-resume")
    wait_for_text(dash_br, "#rp-table", "running")
    polls = 4 * POLL_MS / 1000 * 60  # session seconds the 60x replay runs during four of the page's polls
    wait_until(lambda: _replay_position(db) > paused_at + polls, "the resumed replay to run past four polls")
    assert [r["action"] for r in audit_log(Store.open(db)) if r["action"].startswith("replay_")] == \
        ["replay_resume", "replay_pause", "replay_start"]  # newest first
    click(dash_br, "#rp-table .rp-stop")
    wait_for_text(dash_br, "#rp-table", "stopped")
    wait_until(lambda: not Store.open(db).pending_actions(), "ingest to fold the replay")
    store = Store.open(db)
    position = store.session(1).session_now()
    expected = [(t.offset_s, t.code, t.state) for t in run_check(scenario_files()["feeds/iv-quiet"]).transitions
                if t.offset_s <= position]
    assert [(a["offset_s"], a["code"], a["state"]) for a in store.alarms_of(1)] == expected
    assert store.session(1).ended_at is not None and store.replays()[0]["who"] == "tester1"  # stopped: it ended
