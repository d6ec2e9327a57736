"""Signed-in sessions live on the server and end at once: logout (even a copied cookie is dead), a password
reset, a role change, a deactivation (web and command line), the idle limit and the absolute lifetime."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.auth import AuthError, AuthSettings, add_user, audit_log, set_active, set_password, set_role
from dashboard.engine import load_config
from dashboard.store import Store
from dashboard.store.security import user_sessions, users
from dashboard.ui import create_app

from ..webclient import ORIGIN, PASSWORD, admin_action, call, request_for, sign_in

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config()


@pytest.fixture
def clinic(tmp_path: Path):
    store = Store.open(tmp_path / "clinic.db")
    for name, role in (("nurse1", "nurse"), ("clinician1", "clinician"), ("admin1", "admin")):
        add_user(store, name, role, PASSWORD)
    sid = store.create_session(chair="Chair 1", patient_label="P-1", protocol="esketamine-84", started_at=time.time())
    app = create_app(store, CONFIG, secret_path=tmp_path / "key", auth=AuthSettings(max_session_hours=13))
    yield store, app, sid
    store.close()


def _poll_board(app, client) -> int:
    return call(client, request_for(app, "board.children", {("board-poll", "n_intervals"): 1},
                                    "board-poll.n_intervals")).status_code


def _export(app, client, sid: int) -> int:
    return call(client, request_for(app, "review-download",
                                    {("review-sid", "data"): sid, ("export-csv", "n_clicks"): 1},
                                    "export-csv.n_clicks")).status_code


def test_logout_ends_the_session_and_a_copied_cookie_with_it(clinic):
    store, app, _ = clinic
    client = sign_in(app, "nurse1")
    copied = client.get_cookie("session").value
    with client.session_transaction() as cookie:
        csrf = cookie["csrf"]
    assert client.post("/logout", data={"csrf": csrf}, headers=ORIGIN).status_code == 302
    thief = app.server.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/").status_code == 302 and _poll_board(app, thief) == 401
    assert [r["action"] for r in audit_log(store)][:2] == ["logout", "login"]


def test_a_password_reset_by_an_admin_signs_the_user_out_everywhere(clinic):
    store, app, _ = clinic
    desk, tablet = sign_in(app, "nurse1", remote="10.0.0.1"), sign_in(app, "nurse1", remote="10.0.0.2")
    assert _poll_board(app, desk) == 200 == _poll_board(app, tablet)
    assert "signed out everywhere" in admin_action(app, sign_in(app, "admin1"), "users-reset", "nurse1",
                                             password="new kettle harbour")
    assert _poll_board(app, desk) == 401 and _poll_board(app, tablet) == 401
    sign_in(app, "nurse1", expect=401)  # the old password no longer works
    assert _poll_board(app, sign_in(app, "nurse1", password="new kettle harbour")) == 200


def test_a_demoted_clinician_can_no_longer_export(clinic):
    store, app, sid = clinic
    clinician = sign_in(app, "clinician1")
    assert _export(app, clinician, sid) == 200
    assert "now nurse" in admin_action(app, sign_in(app, "admin1"), "users-role-change", "clinician1", role="nurse")
    assert _export(app, clinician, sid) == 401  # that session ended with the role change
    again = sign_in(app, "clinician1")  # signed in again: the new role
    assert _export(app, again, sid) == 403
    assert [r["action"] for r in audit_log(store)].count("role_changed") == 1


def test_a_deactivated_user_is_signed_out_cannot_sign_in_and_keeps_their_history(clinic):
    store, app, sid = clinic
    nurse = sign_in(app, "nurse1")
    store.submit_action(sid, "note", "nurse1", "water given")
    assert "deactivated" in admin_action(app, sign_in(app, "admin1"), "users-deactivate", "nurse1")
    assert _poll_board(app, nurse) == 401
    sign_in(app, "nurse1", expect=401)
    with store.engine.connect() as conn:
        assert conn.scalar(sa.select(users.c.active).where(users.c.username == "nurse1")) is False
    assert any(r["who"] == "nurse1" and r["action"] == "login" for r in audit_log(store))
    assert store.action(1)["who"] == "nurse1"  # what they did stays
    admin_action(app, sign_in(app, "admin1"), "users-reactivate", "nurse1")
    assert _poll_board(app, sign_in(app, "nurse1")) == 200


def test_the_last_active_admin_stays(clinic):
    store, _, _ = clinic
    for change in (lambda: set_active(store, "admin1", False), lambda: set_role(store, "admin1", "nurse"),
                   lambda: set_password(store, "admin1", "violet kettle harbour", role="nurse")):
        with pytest.raises(AuthError, match="admin must remain"):
            change()
    add_user(store, "admin2", "admin", PASSWORD)
    set_active(store, "admin1", False)  # another admin remains


def test_sessions_end_after_their_absolute_lifetime_even_when_active(clinic):
    store, app, _ = clinic
    nurse = sign_in(app, "nurse1")
    now = time.time()
    with store.engine.begin() as conn:
        conn.execute(user_sessions.update().values(started_at=now - 12.9 * 3600, active_at=now))
    assert nurse.get("/").status_code == 200  # a 12 h shift and some
    with store.engine.begin() as conn:
        conn.execute(user_sessions.update().values(started_at=now - 13.1 * 3600, active_at=now))
    assert nurse.get("/").status_code == 302 and _poll_board(app, nurse) == 401
    assert [r["action"] for r in audit_log(store)].count("session_expired") == 1


def test_deactivate_and_reactivate_from_the_command_line(clinic, tmp_path):
    store, app, _ = clinic
    nurse = sign_in(app, "nurse1")

    def users_cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "app.py", "users", *args, "--database", str(tmp_path / "clinic.db")],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)

    done = users_cli("deactivate", "nurse1")
    assert done.returncode == 0, done.stderr
    assert _poll_board(app, nurse) == 401
    assert "nurse1\tnurse\tdeactivated" in users_cli("list").stdout
    assert users_cli("deactivate", "nobody").returncode == 2
    assert users_cli("reactivate", "nurse1").returncode == 0
    assert _poll_board(app, sign_in(app, "nurse1")) == 200
    assert [r["action"] for r in audit_log(store) if r["who"] == "command line"][:2] == \
        ["user_reactivated", "user_deactivated"]
