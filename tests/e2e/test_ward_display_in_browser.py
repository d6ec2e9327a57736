"""A ward display (issue 22) in a real Chromium started as a kiosk would be, against the real server: it signs in,
shows the board read-only (no Acknowledge button, no link into a record, no patient label), is refused a
session page, sounds without anyone touching it (Chromium's `--autoplay-policy=no-user-gesture-required`, see
docs/ward-display.md), and once an admin deactivates it on the users page, every request it makes is refused.
"""
from __future__ import annotations

from tests.ward import make_ward

from .screen import Screen

KIOSK_AUTOPLAY = "--autoplay-policy=no-user-gesture-required"  # docs/ward-display.md
SOUND_JS = "return Object.assign({}, window.__alarmSound, {context: null})"
TILES_JS = "return document.querySelectorAll('.board > .tile').length"
# What a passer-by could press or follow anywhere on the screen (the Night view and sound-on buttons excepted).
# What a passer-by could press: the night view, the sound and the alarm bar's "+N more" (it shows more of the same
# board) are the display's only controls.
ACTIONABLE_JS = """return Array.from(document.querySelectorAll('a[href], button, form, input, select, textarea'))
  .filter(e => !['theme-toggle', 'sound-on', 'alarm-bar-more'].includes(e.id)).map(e => e.outerHTML.slice(0, 120));"""
REFUSED_JS = """const done = arguments[arguments.length - 1];
fetch('/_dash-update-component', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'})
  .then(r => done(r.status), () => done(-1));"""


def test_a_ward_display_sounds_without_a_touch_never_opens_a_record_and_is_revoked(start_server, screen, tmp_path):
    db = tmp_path / "clinic.db"
    sids = make_ward(db, 2, states=("high", "calm"))  # Chair 01: an unacknowledged severe BP (a HIGH alarm)
    server = start_server("serve", "--no-simulator", "--database", str(db))
    display = Screen(flags=(KIOSK_AUTOPLAY,))
    try:
        display.size(1920, 1080)
        display.sign_in(server.url, "display")
        display.until(lambda: display.js(TILES_JS) == 2, "both chairs on the display's board")
        # Sound on at load, nobody having touched the page: the high alarm plays.
        played = display.until(lambda: display.js(SOUND_JS)["played"], "the HIGH alarm played without a click")
        sound = display.js(SOUND_JS)
        assert sound["state"] == "running" and sound["tests"] == 1 and sound["oscillators"] >= 2  # the load's test tone
        assert played[0]["priority"] == "high" and played[0]["key"].startswith(f"{sids['Chair 01']}:")
        assert display.js("return document.getElementById('sound-off').hidden") is True
        # Read-only: the alarm shows in the bar, with nothing to press or follow, and no patient label.
        display.until(lambda: "BP severe" in (display.js("return document.getElementById('alarm-bar')?.innerText")
                                              or ""), "the alarm in the bar")
        display.until(lambda: "Chair 01" in (display.js(
            "return document.getElementById('escalation-banner').innerText") or ""), "the escalation banner")
        assert display.js(ACTIONABLE_JS) == []  # the banner's chair too: text, not a link
        text = display.js("return document.body.innerText")
        assert "Chair 01" in text and "P-01" not in text and "P-02" not in text and "Acknowledge" not in text
        # No record: the session page is refused (the router's "not found"), and the board comes back at "/".
        display.go(f"/session/{sids['Chair 01']}")
        assert "Not found" in display.js("return document.getElementById('page').innerText")
        display.go("/")
        display.until(lambda: display.js(TILES_JS) == 2, "the board back")

        # The admin deactivates the display on the users page: its requests are refused at once.
        screen.sign_in(server.url, "admin")
        screen.until(lambda: screen.js("return !!document.getElementById('users-name')"), "the users page")
        screen.driver.find_element("id", "users-name").send_keys("display1")
        screen.driver.find_element("id", "users-deactivate").click()
        screen.until(lambda: "deactivated" in screen.js("return document.getElementById('users-message').innerText"),
                     "the deactivation confirmed")
        assert display.driver.execute_async_script(REFUSED_JS) == 401
        display.until(lambda: any("_dash-update-component" in e["message"] and "status of 401" in e["message"]
                                  for e in display.logs()), "the display's own polls refused (401)")
    finally:
        display.quit()
