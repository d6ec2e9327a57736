"""A screen that cannot update says so loudly (issue 22), in headless Chromium against the real server.

- An ended sign-in (the admin resets the nurse's password: every poll is then refused with 401) raises the page's
  own technical alarm on the nurse's board within the issue's 10 s of its last fresh data: full width, announced as
  an alert, its own sound played (sound was turned on by a touch), the stale board greyed. "Sign in again" leads
  through the sign-in page back to the board, and the alarm is gone.
- A frozen server (requests hang, as behind a dropped network) raises it too, saying the server does not answer;
  thawed, the page clears it at its next fresh answer; a killed server raises it again.
- Before the nurse touches the page no screen sounds for the ward's chairs: the shell's coverage banner names
  them, apart from the escalation banner; one touch (sound on) and the server knows this screen covers them.

The deadlines are the issue's: `screen.stale_after` (10 s) from the page's last fresh answer, with room for a busy
machine; what the test asserts besides is the mechanism (the reason, the page's own record, the sound requested).
"""
from __future__ import annotations

import signal

from dashboard.auth import set_password
from dashboard.engine import load_config
from dashboard.store import Store
from dashboard.store.screens import screens_of

from .screen import Screen
from .servers import USERS

STALE_AFTER_S = load_config().value("screen.stale_after")  # the 10 s, as configured
LOOK_S = 1.0  # the watchdog looks every second (assets/liveness.js)
BUSY_S = 15.0  # room for a busy machine: Chromium's timers and the server's answers may lag
LIVENESS_JS = "return Object.assign({}, window.__liveness)"
SOUND_JS = "return Object.assign({}, window.__alarmSound, {context: null})"
ALARM_JS = """const a = document.getElementById('liveness-alarm');
return a && {role: a.getAttribute('role'), text: a.textContent, top: a.getBoundingClientRect().top,
  full: Math.abs(a.getBoundingClientRect().width - document.documentElement.clientWidth) < 1, link: a.querySelector('a') && a.querySelector('a').getAttribute('href'),
  grey: getComputedStyle(document.querySelector('main')).filter};"""
NEW_PASSWORD = "another-horse-battery-staple"


def _fresh(screen: Screen) -> dict:
    return screen.until(lambda: (s := screen.js(LIVENESS_JS))["state"] == "fresh" and s["answers"] > 2 and s,
                        "the page fresh, answered a few times")


def _stale_within_deadline(screen: Screen, what: str) -> dict:
    """Waits for the page's own alarm: no later than the issue's 10 s after its last fresh answer, plus room."""
    return screen.until(lambda: (s := screen.js(LIVENESS_JS))["state"] == "stale" and s, what,
                        timeout=STALE_AFTER_S + LOOK_S + BUSY_S)


WARD = ("calm", "high")  # Chair 02: a severe BP, escalated


def test_an_ended_sign_in_raises_the_liveness_alarm_and_sign_in_again_returns_to_the_board(live_ward, tmp_path):
    clinic = tmp_path / "clinic.toml"  # a short grace, so the reload below need not wait the default 30 s
    clinic.write_text("[screen]\nuncovered_after = { value = 5 }\n")
    server, db, sids = live_ward(2, server_args=("--config", str(clinic)), states=WARD)
    nurse = Screen()
    try:
        nurse.size(1280, 800)
        nurse.sign_in(server.url, "nurse")
        # The sign-in click lets the page it leads to start sound by itself (Chromium counts it on the site); a
        # reload is a page nobody has touched: sound off, as after any reload.
        nurse.driver.refresh()
        nurse.until(lambda: nurse.js("return document.querySelectorAll('.board > .tile').length") == 2, "the tiles")
        nurse.until(lambda: nurse.js(SOUND_JS)["state"] != "running" and nurse.js(
            "return document.getElementById('sound-off').hidden") is False, "the sound-off bar after the reload")
        _fresh(nurse)

        # No screen sounds for the ward yet: the coverage banner names both chairs, beside the escalation banner.
        coverage = nurse.until(lambda: nurse.js(
            "return document.getElementById('coverage-alarm')?.textContent ?? ''"), "the coverage banner")
        assert "NO SCREEN SOUNDS FOR 2 CHAIRS" in coverage and "Chair 01" in coverage and "Chair 02" in coverage
        nurse.until(lambda: "Chair 02" in nurse.js("return document.getElementById('escalation-banner').textContent"),
                    "Chair 02 escalated")
        assert "NO SCREEN" not in nurse.js("return document.getElementById('escalation-banner').textContent")
        assert nurse.js("return document.getElementById('coverage-banner').getAttribute('role')") == "alert"
        # One touch turns sound on: this screen now covers the ward, and the server says so.
        nurse.driver.find_element("id", "sound-on").click()
        nurse.until(lambda: nurse.js(SOUND_JS)["state"] == "running", "sound on")
        nurse.until(lambda: not nurse.js("return document.getElementById('coverage-alarm')"), "the banner gone")
        store = Store.open(db)
        try:
            shown = screens_of(store, 0)
        finally:
            store.close()
        assert [(s.username, s.role, s.page, s.audio) for s in shown] == [(USERS["nurse"], "nurse", "/", "running")]
        assert shown[0].id == nurse.js("return window.__liveness.screen")

        # The admin resets the nurse's password: her sign-in ends at once, every poll is refused.
        store = Store.open(db)
        try:
            set_password(store, USERS["nurse"], NEW_PASSWORD)
        finally:
            store.close()
        state = _stale_within_deadline(nurse, "the liveness alarm for the ended sign-in")
        assert state["reason"] == "signed-out" and state["status"] == 401
        assert state["staleSince"] - state["lastFreshAt"] >= STALE_AFTER_S * 1000  # not before its time
        alarm = nurse.js(ALARM_JS)
        assert alarm["role"] == "alert" and "SIGNED OUT" in alarm["text"] and "bedside monitors" in alarm["text"]
        assert alarm["top"] == 0 and alarm["full"] and "grayscale" in alarm["grey"]  # full width, on top
        assert alarm["link"] == "/login?next=%2F"
        # Its own sound: asked for, and played through the AudioContext the nurse turned on.
        sound = nurse.until(lambda: (s := nurse.js(SOUND_JS))["technical"]["played"] >= 1 and s, "the technical sound")
        assert sound["technical"]["requested"] >= 1 and state["soundRequests"] >= 1

        # Sign in again: the sign-in page, then back on the board, fresh.
        nurse.driver.find_element("id", "liveness-sign-in").click()
        nurse.until(lambda: nurse.js("return !!document.getElementById('login-user')"), "the sign-in form")
        nurse.driver.find_element("id", "login-user").send_keys(USERS["nurse"])
        nurse.driver.find_element("id", "login-password").send_keys(NEW_PASSWORD)
        nurse.driver.find_element("id", "login-submit").click()
        nurse.until(lambda: nurse.js("return document.querySelectorAll('.board > .tile').length") == 2,
                    "the board again")
        assert nurse.js("return location.pathname") == "/"
        _fresh(nurse)
        assert not nurse.js("return document.getElementById('liveness-alarm')")
    finally:
        nurse.quit()


def test_a_frozen_then_stopped_server_raises_the_liveness_alarm_and_fresh_data_clears_it(live_ward, screen):
    """Frozen (SIGSTOP: requests hang, as behind a dropped network), the page raises the alarm with no answer to go
    by; thawed, its next fresh answer clears it. Killed (connection refused), it raises it again."""
    server, db, sids = live_ward(1, states=WARD)
    frozen = False
    try:
        screen.size(1280, 800)
        screen.sign_in(server.url, "nurse")
        screen.until(lambda: screen.js("return document.querySelectorAll('.board > .tile').length") == 1, "the tile")
        _fresh(screen)

        server.proc.send_signal(signal.SIGSTOP)
        frozen = True
        state = _stale_within_deadline(screen, "the liveness alarm for the frozen server")
        assert state["reason"] == "no-answer" and state["status"] == 0
        assert state["staleSince"] - state["lastFreshAt"] >= STALE_AFTER_S * 1000
        alarm = screen.js(ALARM_JS)
        assert alarm["role"] == "alert" and "NO CONNECTION TO THE SERVER" in alarm["text"]
        assert "bedside monitors" in alarm["text"] and alarm["link"] is None  # nothing to sign in to
        assert screen.js(SOUND_JS)["technical"]["requested"] >= 1  # asked for (this screen's sound is off)
        server.proc.send_signal(signal.SIGCONT)
        frozen = False
        screen.until(lambda: screen.js(LIVENESS_JS)["state"] == "fresh", "the alarm cleared by fresh data")
        assert not screen.js("return document.getElementById('liveness-alarm')")

        failures = screen.js(LIVENESS_JS)["failures"]
        server.proc.kill()  # no goodbye: as a crash looks from the browser
        server.proc.wait()
        state = _stale_within_deadline(screen, "the liveness alarm for the stopped server")
        assert state["reason"] == "no-answer" and state["failures"] > failures  # refused connections seen
        assert state["staleSince"] - state["lastFreshAt"] >= STALE_AFTER_S * 1000
        assert "NO CONNECTION TO THE SERVER" in screen.js(ALARM_JS)["text"]
    finally:
        if frozen:
            server.proc.send_signal(signal.SIGCONT)
