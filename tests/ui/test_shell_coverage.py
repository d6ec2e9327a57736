"""The shell's poll keeps each screen's report (written when it changes or every third of the live window, never
on every poll) and shows the chairs no live, sounding screen covers in a banner of their own, beside the
escalation banner, sounding as a technical alarm; through the real app and its guard (Flask's test client)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from dashboard.auth import add_user
from dashboard.engine import load_config
from dashboard.service.coverage import Uncovered
from dashboard.store import Batch, Store
from dashboard.store.screens import screens_of
from dashboard.ui import create_app
from dashboard.ui.shell import COVERAGE_KEY, COVERAGE_NAMED, coverage_banner, record_screen, shell_state

from ..webclient import PASSWORD, body, call, server_callbacks, sign_in

CONFIG = load_config()
SCREEN = "fedcba9876543210fedcba9876543210"


@pytest.fixture
def clinic(tmp_path: Path):
    store = Store.open(tmp_path / "clinic.db")
    for name, role in (("nurse1", "nurse"), ("admin1", "admin"), ("tester1", "tester")):
        add_user(store, name, role, PASSWORD)
    store.create_session(chair="Chair 1", patient_label="P-1", protocol="esketamine-84", started_at=time.time() - 3600)
    # an ingest writing (stamped ahead, so a slow test never sees it silent): no storage banner
    store.write_batch(Batch(heartbeat=(store.site, time.time() + 3600, 0, False)))
    app = create_app(store, CONFIG, secret_path=tmp_path / "key")
    yield store, app
    store.close()


def _poll(app, client, audio: str | None, written: object = None) -> dict:
    key = next(k for k in server_callbacks(app) if "escalation-banner.children" in k)
    report = {"screen": SCREEN, "audio": audio, "page": "/"} if audio else None
    response = call(client, body(key, app.callback_map[key], {
        ("shell-poll", "n_intervals"): 1, ("screen-report", "data"): report, ("screen-written", "data"): written},
        "shell-poll.n_intervals"))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]


def test_a_screen_without_sound_sees_the_uncovered_chair_in_its_own_banner_then_covers_it(clinic):
    store, app = clinic
    nurse = sign_in(app, "nurse1")
    answer = _poll(app, nurse, "suspended")
    banner = str(answer["coverage-banner"]["children"])
    assert "NO SCREEN SOUNDS FOR 1 CHAIR" in banner and "Chair 1" in banner and "bedside" in banner
    assert answer["escalation-banner"]["children"] is None  # never inside the escalation banner
    assert answer["alarm-sound"]["data"] == {"priority": "medium", "key": COVERAGE_KEY}  # a technical alarm's sound
    [screen] = screens_of(store, 0)
    assert (screen.id, screen.username, screen.role, screen.audio) == (SCREEN, "nurse1", "nurse", "suspended")
    written = answer["screen-written"]["data"]

    # Sound turned on: the report changed, so it is written, and this screen covers the chair.
    answer = _poll(app, nurse, "running", written)
    assert answer["coverage-banner"]["children"] is None and answer["alarm-sound"]["data"] == {}
    assert screens_of(store, 0)[0].audio == "running"


def test_an_unchanged_report_is_not_written_again_until_a_third_of_the_live_window_has_passed(clinic):
    store, app = clinic
    nurse = sign_in(app, "nurse1")
    written = _poll(app, nurse, "running")["screen-written"]["data"]
    first = screens_of(store, 0)[0].seen_at
    answer = _poll(app, nurse, "running", {**written, "at": time.time()})  # as if written just now (a slow machine)
    assert "screen-written" not in answer and screens_of(store, 0)[0].seen_at == first  # no write
    aged = {**written, "at": written["at"] - CONFIG.value("screen.live_within") / 3}
    assert "screen-written" in _poll(app, nurse, "running", aged)
    assert screens_of(store, 0)[0].seen_at > first


def test_no_report_or_a_forged_id_writes_nothing(clinic):
    store, app = clinic
    nurse = sign_in(app, "nurse1")
    _poll(app, nurse, None)
    with app.server.test_request_context("/"):
        assert record_screen(store, {"screen": "../x", "audio": "running"}, None, time.time(), 5) is None
    assert screens_of(store, 0) == []


@pytest.mark.parametrize("user", ["admin1", "tester1"])
def test_screens_whose_board_does_not_hold_the_chair_show_no_banner_for_it(clinic, user: str):
    _, app = clinic
    answer = _poll(app, sign_in(app, user), "suspended")
    assert answer.get("coverage-banner", {}).get("children") is None


def test_a_patient_alarm_sounds_over_the_coverage_alarm_and_many_chairs_are_counted():
    chairs = [Uncovered(f"Chair {n}", n, 1_800_000_000.0) for n in range(1, COVERAGE_NAMED + 4)]
    assert shell_state([], None, now=1_800_000_100.0, uncovered=chairs)[1] == {"priority": "medium", "key": COVERAGE_KEY}
    text = str(coverage_banner(chairs))
    assert f"NO SCREEN SOUNDS FOR {len(chairs)} CHAIRS" in text and "and 3 more" in text
    assert f"Chair {COVERAGE_NAMED}" in text and f"Chair {COVERAGE_NAMED + 1}" not in text  # the rest counted
    assert coverage_banner([]) is None
