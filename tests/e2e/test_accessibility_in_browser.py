"""Every page, as each role sees it, passes axe-core with no critical or serious violation (issue 22): the language
declared, every field labelled, no control inside another, contrast; and on the pages a nurse and a clinician use
most, each control a keyboard reaches shows a focus ring of at least 2 px at 3:1 (axe does not measure that).

One real server (its HL7 listener fed so the board shows a chair without a session, a device in demo mode and a
device with no chair), a ward with an unacknowledged severe BP, a tester's replay and a finished session for
review. axe-core comes from npm (`make axe`); see tests/e2e/axe.py.
"""
from __future__ import annotations

import signal

import pytest

from dashboard.store import Store

from ..review_sessions import recorded_session
from ..ward import make_ward
from .axe import AXE_JS, MISSING, RING_CONTRAST, RING_PX, problems, report, weak_focus_rings
from .conftest import free_port
from .screen import DRAWN_JS
from .test_devices_in_browser import send

# Each role's pages, with what shows the page is drawn with its data (a CSS selector) before axe looks.
PAGES = {
    "nurse": [("/", "#board-waiting .tile.waiting.no-session"), ("/", "#unplaced-devices a"),
              ("/session/{high}", "#session-alarms .ack-button"), ("/start", "#new-chair"),
              ("/devices", "#assoc-unplaced tbody tr"), ("/settings", "#page h2")],
    "clinician": [("/review", ".sessions-table a"), ("/review/{done}", "#review-chart .js-plotly-plot .main-svg"),
                  ("/course/{done}", "#page .js-plotly-plot .main-svg")],
    "tester": [("/test", ".board > .tile"), ("/replay", "#page h2"),
               ("/session/{replay}", "#session-chart .js-plotly-plot .main-svg")],
    "admin": [("/admin/users", "#page table"), ("/admin/audit", "#page table"), ("/admin/devices", "#page h2"),
              ("/settings", "#page h2")],
    "display": [("/ward", ".board > .tile")],  # a ward display: no sign-out form, so it goes last
}
CHART = "#session-chart .js-plotly-plot .main-svg"
TABS = 12  # keyboard steps through each page whose focus rings are measured
RINGS = {"signed out /login", "nurse /", "nurse /session/{high}", "nurse /start", "clinician /review"}


@pytest.mark.timeout(900)  # five roles, seventeen pages and the liveness alarm, axe over each
def test_every_page_of_every_role_passes_axe(start_server, screen, tmp_path):
    assert AXE_JS.is_file(), MISSING
    db, hl7_port = tmp_path / "clinic.db", free_port()
    sids = make_ward(db, 2, replays=1)  # Chair 01 calm, Chair 02 an unacknowledged severe BP
    store = Store.open(db)
    done = recorded_session(store, chair="Chair 5", patient="P-55")
    store.close()
    server = start_server("serve", "--no-simulator", "--database", str(db), "--hl7-port", str(hl7_port))
    assert send(hl7_port, 1, location="CHAIR9") == "AA"  # a chair with no session
    assert send(hl7_port, 2, location="CHAIR8", device="00A0B1FFFEC2D3E4", mode="T") == "AA"  # demo mode
    assert send(hl7_port, 3) == "AA"  # a device with no chair
    ids = {"high": sids["Chair 02"], "replay": sids["Replay 1"], "done": done}
    screen.size(1280, 900)
    found: list[str] = []

    def check(where: str, drawn: str) -> None:
        screen.until(lambda: screen.js("return !!document.querySelector(arguments[0])", drawn), f"{where}: {drawn}")
        if where.split()[-1].startswith("/session/"):
            screen.until(lambda: screen.js("return !!document.querySelector(arguments[0])", CHART), f"{where} chart")
        if violations := problems(screen.driver):
            found.append(report(where, violations))
        if where in RINGS and (weak := weak_focus_rings(screen.driver, TABS)):
            found.append(f"{where}: focus rings under {RING_PX} px or {RING_CONTRAST}:1: {weak}")

    screen.driver.get(f"{server.url}/login")
    check("signed out /login", "#login-submit")
    for role, pages in PAGES.items():
        screen.sign_in(server.url, role)
        screen.until(lambda: screen.js(DRAWN_JS), f"{role}: the home page drawn")  # before routing elsewhere
        for path, drawn in pages:
            screen.go(path.format(**ids))
            check(f"{role} {path}", drawn)
        if role != "display":
            screen.sign_out()
    # The board cannot update: its full-width liveness alarm is checked too (the stale page behind it is greyed on
    # purpose, old data must not read as current: only the alarm is held to the contrast rules).
    server.proc.send_signal(signal.SIGSTOP)
    try:
        screen.until(lambda: screen.js("return !!document.getElementById('liveness-alarm')"), "the liveness alarm")
        if violations := problems(screen.driver, "#liveness-alarm"):
            found.append(report("display, server not answering", violations))
    finally:
        server.proc.send_signal(signal.SIGCONT)
    assert not found, "\n".join(found)
