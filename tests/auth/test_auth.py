"""Logins, roles and audit: every page and every callback refuses an anonymous request and a wrong role."""
from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from dashboard.auth import AuthError, AuthSettings, add_user, audit_log, verify
from dashboard.auth.roles import POLICY, ROLES, first_output_id, required_roles
from dashboard.engine import load_config
from dashboard.store import Store
from dashboard.store.security import audit, users
from dashboard.ui import create_app

from tests.waits import DEADLINE_S

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"
PAGES = ["/", "/session/1", "/start", "/review", "/replay", "/settings", "/admin/users", "/admin/audit"]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "clinic.db")
    for role in ROLES:
        add_user(store, f"{role}1", role, PASSWORD)
    return store


@pytest.fixture
def app(store: Store, tmp_path: Path):
    return create_app(store, load_config(), secret_path=tmp_path / "secret", auth=AuthSettings(idle_minutes=30))


def signed_in(app, role: str):
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    response = client.post("/login?next=/", data={"csrf": token, "username": f"{role}1", "password": PASSWORD},
                           headers={"Origin": "http://localhost"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def call(client, key: str):
    """POST a Dash callback request for the callback `key`, from our own origin."""
    return client.post("/_dash-update-component", json={"output": key, "outputs": [], "inputs": [],
                                                        "changedPropIds": []}, headers={"Origin": "http://localhost"})


def server_callbacks(app) -> list[str]:
    return [key for key, spec in app.callback_map.items() if "callback" in spec]  # clientside ones run in the browser


def test_every_callback_has_a_policy(app):
    missing = [key for key in server_callbacks(app) if first_output_id(key) not in POLICY]
    assert not missing, f"callbacks with no role policy (refused for everyone until given one): {missing}"


def test_anonymous_requests_are_refused_everywhere(app):
    client = app.server.test_client()
    for page in PAGES + ["/_dash-layout", "/_dash-dependencies"]:
        response = client.get(page)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), page
    for key in server_callbacks(app):
        assert call(client, key).status_code == 401, key


@pytest.mark.parametrize("role", ROLES)
def test_each_role_runs_only_its_callbacks(app, role):
    client = signed_in(app, role)
    for key in server_callbacks(app):
        status = call(client, key).status_code
        if role in required_roles(key):
            assert status != 403, (role, key)  # allowed through the guard (the empty payload may then fail)
        else:
            assert status == 403, (role, key)


def test_a_callback_missing_from_the_policy_is_refused_for_everyone(app):
    assert required_roles("..made-up-output.children..") == frozenset()
    assert call(signed_in(app, "admin"), "made-up-output.children").status_code == 403


def test_requests_from_another_origin_are_refused(app):
    client = signed_in(app, "nurse")
    key = next(k for k in server_callbacks(app) if first_output_id(k) == "board")
    response = client.post("/_dash-update-component", json={"output": key}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403


def test_security_headers_and_cookie_flags(app):
    response = app.server.test_client().get("/login")
    assert response.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in response.headers[
        "Content-Security-Policy"] and response.headers["X-Content-Type-Options"] == "nosniff"
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    login = client.post("/login", data={"csrf": token, "username": "nurse1", "password": PASSWORD},
                        headers={"Origin": "http://localhost"})
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_every_response_says_its_server_time(app):
    """Server-Timing, as browser devtools show it: tests/e2e/test_load.py holds the board poll's p95 to it."""
    client = signed_in(app, "nurse")
    key = next(k for k in server_callbacks(app) if first_output_id(k) == "board")
    poll = client.post("/_dash-update-component", headers={"Origin": "http://localhost"}, json={
        "output": key, "outputs": [{"id": "board", "property": "children"}, {"id": "board-seen", "property": "data"}],
        "inputs": [{"id": "board-poll", "property": "n_intervals", "value": 1}],
        "state": [{"id": "board-seen", "property": "data", "value": None}], "changedPropIds": ["board-poll.n_intervals"]})
    refused = client.post("/_dash-update-component", json={"output": key}, headers={"Origin": "http://evil.example"})
    assert (poll.status_code, refused.status_code) == (200, 403)
    for response in (poll, refused, app.server.test_client().get("/login")):
        assert re.fullmatch(r"app;dur=\d+\.\d\d, cpu;dur=\d+\.\d\d", response.headers["Server-Timing"])


def test_login_form_needs_its_token(app):
    client = app.server.test_client()
    client.get("/login")
    response = client.post("/login", data={"csrf": "forged", "username": "nurse1", "password": PASSWORD},
                           headers={"Origin": "http://localhost"})
    assert response.status_code == 400


def test_session_expires_after_inactivity_but_not_while_a_person_acts(store, tmp_path):
    from dashboard.store.security import user_sessions

    app = create_app(store, load_config(), secret_path=tmp_path / "secret", auth=AuthSettings(idle_minutes=1))
    client = signed_in(app, "nurse")
    with store.engine.begin() as conn:
        conn.execute(user_sessions.update().values(active_at=time.time() - 50))
    assert client.get("/").status_code == 200  # a page opened: the idle clock starts again
    with store.engine.begin() as conn:
        conn.execute(user_sessions.update().values(active_at=time.time() - 61))
    assert client.get("/").status_code == 302  # idle for longer than the setting: signed out
    assert client.get("/").status_code == 302  # and stays so
    assert [r["action"] for r in audit_log(store)].count("signed_out_idle") == 1


def test_passwords_are_argon2id_hashes_and_never_stored(store):
    with store.engine.connect() as conn:
        stored = conn.scalar(sa.select(users.c.password_hash).where(users.c.username == "nurse1"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)
    with pytest.raises(AuthError, match="at least 12"):
        add_user(store, "short", "nurse", "123")


def test_outside_the_suite_hashes_cost_full_and_a_test_cost_hash_is_remade_at_sign_in(tmp_path):
    """The suite hashes cheaply (MONITOR_TEST_CHEAP_HASHES, tests/conftest.py); a real installation never does."""
    db = tmp_path / "clinic.db"
    store = Store.open(db)
    add_user(store, "nurse9", "nurse", PASSWORD)  # at the suite's cost
    script = ("import sys; from dashboard.auth import verify; from dashboard.store import Store; "
              "from dashboard.auth.credentials import hash_password; "
              "verify(Store.open(sys.argv[1]), 'nurse9', sys.argv[2]); print(hash_password('x' * 12))")
    env = {name: value for name, value in os.environ.items() if name != "MONITOR_TEST_CHEAP_HASHES"}
    done = subprocess.run([sys.executable, "-c", script, str(db), PASSWORD], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=DEADLINE_S)
    assert done.returncode == 0, done.stderr
    full = PasswordHasher()  # argon2-cffi's recommended cost
    assert not full.check_needs_rehash(done.stdout.strip())
    with store.engine.connect() as conn:
        remade = conn.scalar(sa.select(users.c.password_hash).where(users.c.username == "nurse9"))
    store.close()
    assert not full.check_needs_rehash(remade) and full.verify(remade, PASSWORD)


def test_repeated_failures_from_one_address_make_its_next_try_wait(store):
    settings = AuthSettings(lockout_after=3, lockout_minutes=15)
    now = time.time()
    for _ in range(3):
        with pytest.raises(AuthError):
            verify(store, "nurse1", "wrong password!", remote="10.0.0.9", settings=settings, now=now)
    with pytest.raises(AuthError):  # waits there: even the right password
        verify(store, "nurse1", PASSWORD, remote="10.0.0.9", settings=settings, now=now + 0.5)
    assert verify(store, "nurse1", PASSWORD, remote="10.0.0.5", settings=settings, now=now).role == "nurse"
    assert verify(store, "nurse1", PASSWORD, remote="10.0.0.9", settings=settings, now=now + 2).role == "nurse"
    actions = [r["action"] for r in audit_log(store)]
    assert actions.count("login_failed") == 4 and actions[0] == "login"


def test_the_audit_log_is_append_only_in_the_database(store):
    verify(store, "nurse1", PASSWORD)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(audit.update().values(who="someone else"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(audit.delete())


def test_acknowledge_override_and_discharge_are_audited(store, app):
    from dashboard.ui import workflow

    sid = store.create_session(chair="Chair 1", patient_label="P-1", protocol="esketamine-56", started_at=time.time())
    row = dataclasses.replace(store.session(sid), status={"alarms": [SEVERE_BP]})  # as ingest's status shows it
    with app.server.test_request_context("/", environ_base={"REMOTE_ADDR": "10.0.0.7"}):
        import flask
        flask.session.update(user="nurse1", role="nurse")
        workflow.acknowledge(store, row, "nurse1", '["bp.severe", ""]')
        workflow.discharge(store, row, "nurse1", "transferred", load_config(), "no")  # the REMS form's SAE answer
    rows = [(r["who"], r["role"], r["action"], r["remote"], r["session_id"]) for r in reversed(audit_log(store))]
    assert ("nurse1", "nurse", "acknowledge", "10.0.0.7", sid) in rows
    assert ("nurse1", "nurse", "override", "10.0.0.7", sid) in rows
    assert ("nurse1", "nurse", "serious_adverse_event", "10.0.0.7", sid) in rows
    assert ("nurse1", "nurse", "discharge", "10.0.0.7", sid) in rows


SEVERE_BP = {"code": "bp.severe", "source": "", "acked_by": None}


@pytest.mark.parametrize("alarms", [[], [{**SEVERE_BP, "code": "hr.high"}], [{**SEVERE_BP, "acked_by": "nurse2"}]],
                         ids=["no alarm", "another alarm", "already acknowledged"])
def test_acknowledging_an_alarm_that_is_not_awaiting_it_is_refused_and_records_nothing(store, app, alarms):
    from dashboard.ui import workflow
    from dashboard.ui.forms import FormError

    sid = store.create_session(chair="Chair 1", patient_label="P-1", protocol="esketamine-56", started_at=time.time())
    row = dataclasses.replace(store.session(sid), status={"alarms": alarms})
    before = len(audit_log(store))
    with app.server.test_request_context("/"), pytest.raises(FormError, match="not an active alarm"):
        workflow.acknowledge(store, row, "nurse1", '["bp.severe", ""]')
    assert store.pending_actions() == [] and len(audit_log(store)) == before
