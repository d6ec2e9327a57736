"""A ward display (issue 22): a wall screen signed in once, in front of patients. Its board is read-only and
shows no patient label; it opens no record; neither the idle limit nor the absolute lifetime ends it; an
admin's deactivation revokes it at once; its creation, sign-in and revocation are in the audit log; its cookie
works only from the address that signed in.

The real app (Flask test client) on a real SQLite database, signed in through the real login form; the clock
is moved by writing the session's own times, as the idle and lifetime checks read them."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.auth import AuthSettings, add_user, audit_log
from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from dashboard.store.security import user_sessions
from dashboard.ui import create_app
from devices.readings import Reading, SessionEvent

from ..webclient import PASSWORD, admin_action, call, request_for, sign_in

CONFIG = load_config()
LABEL = "P-WARD-7"
SETTINGS = AuthSettings(idle_minutes=30, max_session_hours=13)


@pytest.fixture
def clinic(tmp_path: Path):
    store = Store.open(tmp_path / "clinic.db")
    for name, role in (("nurse1", "nurse"), ("admin1", "admin")):
        add_user(store, name, role, PASSWORD)
    sid = store.create_session(chair="Chair 1", patient_label=LABEL, protocol="esketamine-84",
                               started_at=time.time() - 1200)
    ingest = Ingest(store, CONFIG)  # a severe BP through the real ingest: an alarm with its Acknowledge button
    ingest.refresh()
    ingest.submit("Chair 1", [SessionEvent("session_start", "esketamine-84", offset_s=0),
                              Reading("nibp", sbp=128, dbp=82, hr=70, offset_s=60),
                              SessionEvent("dose_start", "84 mg", offset_s=300),
                              Reading("nibp", sbp=186, dbp=112, hr=88, offset_s=1100)])
    ingest.step()
    app = create_app(store, CONFIG, secret_path=tmp_path / "key", auth=SETTINGS)
    yield store, app, sid
    store.close()


def _board(app, client):
    return call(client, request_for(app, "board.children", {("board-poll", "n_intervals"): 1},
                                    "board-poll.n_intervals"))


def _route(app, client, path: str) -> str:
    request = request_for(app, "page.children", {("url", "pathname"): path, ("url", "search"): ""}, "url.pathname")
    response = call(client, request)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _age_sessions(store: Store, idle_s: float, lived_s: float) -> None:
    """Every open session as if its last action were `idle_s` ago and it had started `lived_s` ago."""
    now = time.time()
    with store.engine.begin() as conn:
        conn.execute(user_sessions.update().where(user_sessions.c.ended_at.is_(None)).values(
            active_at=now - idle_s, started_at=now - lived_s))


def _button_ids(tree) -> set[str]:
    """The ids of every button in a layout as JSON."""
    if isinstance(tree, dict):
        own = {json.dumps(tree["props"].get("id"))} if tree.get("type") == "Button" else set()
        return own.union(*(_button_ids(value) for value in tree.values()))
    if isinstance(tree, list):
        return set().union(*(_button_ids(value) for value in tree))
    return set()


def _types(tree) -> set[str]:
    """Every component type in a layout as JSON."""
    found = set()
    if isinstance(tree, dict):
        if "type" in tree and "props" in tree:
            found.add(tree["type"])
        for value in tree.values():
            found |= _types(value)
    elif isinstance(tree, list):
        for value in tree:
            found |= _types(value)
    return found


@pytest.fixture
def display(clinic):
    """A display account added by the admin on the users page, and the wall screen signed in with it."""
    store, app, _ = clinic
    assert "added as display" in admin_action(app, sign_in(app, "admin1"), "users-add", "ward-tv", "display", PASSWORD)
    return sign_in(app, "ward-tv", remote="10.1.2.3")


def test_the_display_board_is_read_only_and_shows_no_patient_label(clinic, display):
    store, app, sid = clinic
    response = _board(app, display)
    assert response.status_code == 200
    text = json.dumps(response.get_json())  # the answer as the browser reads it ("/" unescaped)
    tree = response.get_json()["response"]["board"]["children"]
    assert "Chair 1" in text and "BP severe 186/112" in json.dumps(tree)  # the tile, its alarm in the bar too
    assert LABEL not in text, "a patient label on a screen patients can see"
    assert "Link" not in _types(tree), "a link on the display's board"
    assert _button_ids(tree) <= {'"alarm-bar-more"'}, "a button on the display's board but the bar's \"+N more\""
    assert f"/session/{sid}" not in text
    nurse = json.dumps(_board(app, sign_in(app, "nurse1")).get_json())  # the same board for a nurse: links, labels
    assert LABEL in nurse and f"/session/{sid}" in nurse and "Acknowledge" in nurse


def test_the_display_opens_no_record_and_acts_on_nothing(clinic, display):
    store, app, sid = clinic
    assert '"not-found"' not in _route(app, display, "/") and "ward-display" in _route(app, display, "/")
    assert [r["action"] for r in audit_log(store) if r["who"] == "ward-tv"][:2] == ["open_ward_display"] * 2
    for path in (f"/session/{sid}", f"/review/{sid}", f"/course/{sid}", "/review", "/start", "/devices"):
        assert '"not-found"' in _route(app, display, path), path
    ack = request_for(app, "board-message", {}, None)
    ack["inputs"] = [[{"id": {"type": "bar-ack", "sid": sid, "alarm": json.dumps(["bp.severe", ""])},
                       "property": "n_clicks", "value": 1}]]
    assert call(display, ack).status_code == 403
    export = request_for(app, "review-download", {("review-sid", "data"): sid, ("export-csv", "n_clicks"): 1},
                         "export-csv.n_clicks")
    assert call(display, export).status_code == 403
    layout = json.dumps(display.get("/_dash-layout").get_json())
    assert '"sign-out"' not in layout and '"href"' not in layout, "a link or sign-out on the wall screen's shell"
    assert '"sound-off"' in layout  # it hears alarms: its screen watches that the browser lets it


def test_idle_and_lifetime_do_not_end_a_display_but_end_a_nurse(clinic, display):
    store, app, _ = clinic
    nurse = sign_in(app, "nurse1")
    _age_sessions(store, idle_s=3 * 24 * 3600, lived_s=30 * 24 * 3600)  # three days idle, a month old
    assert _board(app, display).status_code == 200
    assert _board(app, nurse).status_code == 401
    actions = [r["action"] for r in audit_log(store)]
    assert "signed_out_idle" in actions and all(r["who"] != "ward-tv" or r["action"] != "signed_out_idle"
                                                for r in audit_log(store))


def test_an_admin_revokes_a_display_at_once_and_it_is_all_audited(clinic, display):
    store, app, _ = clinic
    assert _board(app, display).status_code == 200
    assert "signed out everywhere" in admin_action(app, sign_in(app, "admin1"), "users-deactivate", "ward-tv")
    assert _board(app, display).status_code == 401
    with store.engine.connect() as conn:
        reasons = list(conn.scalars(sa.select(user_sessions.c.end_reason).where(user_sessions.c.ended_at.isnot(None))))
    assert reasons == ["deactivated"]
    sign_in(app, "ward-tv", remote="10.1.2.3", expect=401)  # and it cannot sign in again
    trail = [(r["who"], r["action"], r["detail"]) for r in reversed(audit_log(store))]
    assert ("admin1", "user_added", "ward-tv as display") in trail
    assert trail.index(("ward-tv", "login", "")) < trail.index(("admin1", "user_deactivated", "ward-tv"))


def test_a_display_cookie_works_only_from_the_screen_that_signed_in(clinic, display):
    store, app, _ = clinic
    copied = display.get_cookie("session").value
    elsewhere = app.server.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    elsewhere.set_cookie("session", copied)
    assert _board(app, elsewhere).status_code == 401
    assert _board(app, display).status_code == 200  # the screen itself stays signed in
