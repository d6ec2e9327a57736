"""Alarm sound is never silently off, a tester's replay never reaches a nurse's sound, and every page of every role
loads clean (no console error or warning), in headless Chromium against the real server.

Chromium enforces its autoplay policy headless too: an AudioContext made before a click stays suspended and logs a
warning (a click on the site before the load, such as the sign-in's, lifts it: the page then starts its sound
itself). A page loaded afresh must show the sound-off bar from load, read the AudioContext's real state (here suspended by the
test itself), turn sound on with one click and confirm it with a test tone, and log nothing.
"""
from __future__ import annotations

import threading
import urllib.request

import pytest

from dashboard.store import Store
from tests.ward import keep_live, make_ward

from .screen import Screen

SOUND_JS = "return Object.assign({}, window.__alarmSound, {context: null})"
BAR_HIDDEN_JS = "return document.getElementById('sound-off').hidden"
PLAYING_JS = "return document.getElementById('alarm-sound-playing').textContent"
MIN_BUTTON_PX = 40  # issue 12: buttons on tablet widths


def _noisy(entries: list[dict]) -> list[dict]:
    return [entry for entry in entries if entry["level"] in ("SEVERE", "WARNING")]


def test_sound_is_never_silently_off_and_a_replay_never_sounds_for_a_nurse(start_server, tmp_path):
    db = tmp_path / "clinic.db"
    sids = make_ward(db, 2, states=("calm",), replays=1)  # two calm chairs; the replay has a severe BP, escalated
    stop = threading.Event()
    feeder = threading.Thread(target=keep_live, args=(db, sids, stop), daemon=True)
    feeder.start()
    server = start_server("serve", "--no-simulator", "--database", str(db), "--poll-ms", "500")
    nurse, tester = Screen(), Screen()
    try:
        nurse.size(1280, 800)
        nurse.sign_in(server.url, "nurse")
        # The board loaded afresh, as after a reload or a restart: the sign-in click no longer counts (Chromium lets
        # a page sound after a click on its site in the same navigation, and the page then starts its sound itself).
        nurse.driver.get(server.url + "/")
        nurse.until(lambda: nurse.js("return !!document.querySelector('#page')"), "the board reloaded")
        # After the load: no AudioContext touched, the bar up, for as long as nobody clicks.
        nurse.until(lambda: nurse.js(SOUND_JS)["polls"] >= 4, "a few polls")
        assert nurse.js(SOUND_JS)["state"] == "none" and nurse.js(BAR_HIDDEN_JS) is False
        nurse.driver.find_element("id", "sound-on").click()
        nurse.until(lambda: nurse.js(BAR_HIDDEN_JS), "the bar gone after one click")
        sound = nurse.until(lambda: (s := nurse.js(SOUND_JS))["tests"] == 1 and s, "the test tone")
        assert sound["state"] == "running" and sound["oscillators"] >= 1
        # The system suspends audio (another tab, a device change): the page reads the real state and says so.
        nurse.js("window.__alarmSound.context.suspend()")
        nurse.until(lambda: not nurse.js(BAR_HIDDEN_JS), "the bar back while the AudioContext is suspended")
        nurse.driver.find_element("id", "sound-on").click()
        nurse.until(lambda: nurse.js(BAR_HIDDEN_JS) and nurse.js(SOUND_JS)["tests"] == 2, "on again, a second tone")
        # The replay's escalated high alarm: not on the nurse's board, banner or bar, never in her sound.
        polled = nurse.js(SOUND_JS)["polls"]
        nurse.until(lambda: nurse.js(SOUND_JS)["polls"] >= polled + 6, "six more polls with sound on")
        assert nurse.js(SOUND_JS)["played"] == [] and nurse.js(PLAYING_JS) == ""
        assert nurse.js("return document.querySelectorAll('.board > .tile').length") == 2
        assert "Replay" not in nurse.js("return document.querySelector('.app').textContent")

        # The tester's board is where the replay is, with its sound and its escalation.
        tester.size(1280, 800)
        tester.sign_in(server.url, "tester")
        tester.until(lambda: "REPLAY" in tester.js("return document.querySelector('.board')?.textContent ?? ''"),
                     "the replay on the test board")
        assert tester.js("return document.querySelectorAll('.board > .tile').length") == 1
        # Her click on the sign-in form counts on this site (Chromium's rule): the page turned sound on at load.
        tester.until(lambda: tester.js(BAR_HIDDEN_JS) and tester.js(SOUND_JS)["state"] == "running", "sound on")
        played = tester.until(lambda: tester.js(SOUND_JS)["played"], "the replay's alarm sounding")
        assert played[0]["priority"] == "high" and played[0]["key"].startswith(f"{sids['Replay 1']}:")
        assert "Replay 1" in tester.js("return document.getElementById('escalation-banner').textContent")
        assert not _noisy(nurse.logs()) and not _noisy(tester.logs())  # no autoplay warning, no error
    finally:
        nurse.quit()
        tester.quit()
        stop.set()
        feeder.join(timeout=10)


PAGES = {
    "nurse": ["/", "/session/{real}", "/start", "/settings"],
    "clinician": ["/", "/session/{real}", "/review", "/review/{real}", "/course/{real}", "/settings"],
    "tester": ["/", "/test", "/replay", "/session/{replay}", "/settings"],
    "admin": ["/", "/admin/users", "/admin/audit", "/settings"],
}
BUTTONS_JS = """return Array.from(document.querySelectorAll('button')).filter(b => b.offsetParent)
  .map(b => [b.textContent.trim() || b.id, b.getBoundingClientRect().height]).filter(([, h]) => h < arguments[0]);"""


@pytest.mark.timeout(900)  # four roles, twenty pages
def test_every_page_of_every_role_loads_clean_on_a_tablet(start_server, screen, tmp_path):
    """Each role signs in on one tablet (the page loaded cold, its home), then opens each of its pages as the app's
    links do, and signs out for the next role."""
    db = tmp_path / "clinic.db"
    sids = make_ward(db, 2, replays=1)
    server = start_server("serve", "--no-simulator", "--database", str(db))
    with urllib.request.urlopen(server.url + "/login") as page:  # the sign-in page itself: 200, our stylesheet
        assert page.status == 200 and 'href="/assets/style.css"' in page.read().decode()
    ids = {"real": sids["Chair 01"], "replay": sids["Replay 1"]}
    screen.size(1024, 768)
    for role, paths in PAGES.items():
        screen.sign_in(server.url, role)
        assert screen.js("return getComputedStyle(document.body).backgroundColor") != "rgba(0, 0, 0, 0)"
        if role == "admin":  # the admin lands on a page of theirs
            screen.until(lambda: "Users" in screen.js("return document.getElementById('page').textContent"),
                         "the admin's home: users")
        for path in paths:
            where = f"{role} {path}"
            screen.go(path.format(**ids))
            text = screen.js("return document.getElementById('page').textContent")
            assert "Not found" not in text and "Sign in first" not in text, f"{where}: {text[:200]}"
            if path.startswith(("/session", "/review/")):
                screen.until(lambda: screen.js("return !!document.querySelector('.js-plotly-plot .main-svg')"),
                             f"{where}: the chart")
            assert not screen.js(BUTTONS_JS, MIN_BUTTON_PX), f"{where}: buttons under {MIN_BUTTON_PX} px"
        assert not _noisy(screen.logs()), f"{role}: {_noisy(screen.console)}"
        left = _noisy(screen.sign_out())  # the page being left: only a poll the ended session refused
        assert all("_dash-update-component" in e["message"] and "status of 401" in e["message"] for e in left), left
    assert Store.open(db).session(ids["replay"]).ended_at is None  # nothing here changed the sessions
