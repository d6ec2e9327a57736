"""Sign-in that resists abuse without locking out the ward: throttling per address and per name from an
address, one argon2 verification whatever the answer, user names and passwords validated, the client address
from X-Forwarded-For only behind a configured proxy, the cookie key from MONITOR_SECRET_FILE everywhere.
(The timing itself is measured in bench/login_timing.py, not asserted here.)"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.auth import AuthError, AuthSettings, add_user, audit_log, set_active, verify
from dashboard.auth import accounts as accounts_module
from dashboard.auth.credentials import dummy_hash
from dashboard.engine import load_config
from dashboard.store import Store
from dashboard.store.security import users
from dashboard.ui import create_app

from ..webclient import PASSWORD, sign_in

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = AuthSettings(lockout_after=3, address_lockout_after=6, lockout_minutes=15)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "clinic.db")
    add_user(store, "demo-nurse", "nurse", PASSWORD)
    add_user(store, "nurse-b", "nurse", PASSWORD)
    return store


def _fail(store: Store, name: str, remote: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(AuthError):
            verify(store, name, "not-the-password!", remote=remote, settings=SETTINGS)


def test_guessing_from_one_address_does_not_lock_the_nurse_out_elsewhere(store):
    _fail(store, "demo-nurse", "10.0.0.66", times=3)
    with pytest.raises(AuthError):  # refused from the guesser's address, even with the right password
        verify(store, "demo-nurse", PASSWORD, remote="10.0.0.66", settings=SETTINGS)
    assert verify(store, "demo-nurse", PASSWORD, remote="10.0.0.12", settings=SETTINGS).username == "demo-nurse"
    assert verify(store, "nurse-b", PASSWORD, remote="10.0.0.66", settings=SETTINGS).username == "nurse-b"


def test_an_address_guessing_across_names_is_refused_for_every_name(store):
    for n in range(6):
        _fail(store, f"guess-{n}", "10.0.0.66")
    with pytest.raises(AuthError):
        verify(store, "nurse-b", PASSWORD, remote="10.0.0.66", settings=SETTINGS)
    assert verify(store, "nurse-b", PASSWORD, remote="10.0.0.12", settings=SETTINGS).username == "nurse-b"


def test_a_right_password_clears_that_address_s_failures_for_the_name(store):
    _fail(store, "demo-nurse", "10.0.0.5", times=2)
    verify(store, "demo-nurse", PASSWORD, remote="10.0.0.5", settings=SETTINGS)
    _fail(store, "demo-nurse", "10.0.0.5", times=2)  # 2 more, not 4: still allowed
    assert verify(store, "demo-nurse", PASSWORD, remote="10.0.0.5", settings=SETTINGS)


def test_every_answer_costs_one_argon2_verification_and_says_the_same(store, monkeypatch):
    """Unknown, deactivated, refused and wrong: each one verification (the unknown ones against the dummy
    hash) and the same message, so neither the time nor the words tell which names exist."""
    set_active(store, "nurse-b", False)
    _fail(store, "demo-nurse", "10.0.0.66", times=3)  # refused from there now
    checked: list[str] = []
    real = accounts_module.password_matches
    monkeypatch.setattr(accounts_module, "password_matches", lambda h, p: checked.append(h) or real(h, p))
    messages = set()
    for name, remote in (("nobody", "10.0.0.1"), ("nurse-b", "10.0.0.1"), ("demo-nurse", "10.0.0.66"),
                         ("demo-nurse", "10.0.0.1")):
        with pytest.raises(AuthError) as refused:
            verify(store, name, "not-the-password!" if remote == "10.0.0.1" and name == "demo-nurse" else PASSWORD,
                   remote=remote, settings=SETTINGS)
        messages.add(str(refused.value))
    assert len(checked) == 4 and checked[:3] == [dummy_hash()] * 3 and checked[3] != dummy_hash()
    assert len(messages) == 1
    reasons = [r["detail"] for r in audit_log(store) if r["action"] == "login_failed"][:4]
    assert reasons == ["wrong password", "refused: too many failures", "inactive user", "unknown user"]


def test_the_web_answers_a_refused_address_like_a_wrong_password(store, tmp_path):
    app = create_app(store, load_config(), secret_path=tmp_path / "key", auth=SETTINGS)
    for _ in range(3):
        sign_in(app, "demo-nurse", "not-the-password!", remote="10.0.0.66", expect=401)
    sign_in(app, "demo-nurse", PASSWORD, remote="10.0.0.66", expect=401)  # the right password, from there
    assert sign_in(app, "demo-nurse", PASSWORD, remote="10.0.0.12").get("/").status_code == 200


@pytest.mark.parametrize("name, why", [("", "1 to 80"), ("x" * 81, "1 to 80"), (" nurse", "space"),
                                       ("nurse\nadmin", "control"), ("nurse\x00", "control"),
                                       ("nurse\u202eesrun", "invisible"), ("a\u200bb", "invisible")])
def test_user_names_are_validated(store, name, why):
    with pytest.raises(AuthError, match=why):
        add_user(store, name, "nurse", PASSWORD)


def test_a_name_as_long_as_the_columns_works_everywhere(store, tmp_path):
    """80 characters, the width of every column that stores a name: signs in, acts, is audited."""
    name = "n" * 80
    add_user(store, name, "nurse", PASSWORD)
    app = create_app(store, load_config(), secret_path=tmp_path / "key")
    client = sign_in(app, name)
    assert client.get("/").status_code == 200
    assert audit_log(store)[0]["who"] == name


def test_a_forged_name_is_audited_printable(store):
    _fail(store, "admin\r\n2026-01-01 admin login ok", "10.0.0.1")
    assert audit_log(store)[0]["who"] == "admin??2026-01-01 admin login ok"


@pytest.mark.parametrize("password, why", [
    ("short-pass1", "at least 12"), ("password1234", "common"), ("qwertyuiop12", "common"),
    ("aaaaaaaaaaaa", "easy to guess"), ("ketamine1234", "easy to guess"), ("demo-nurse2!", "easy to guess")])
def test_weak_passwords_are_refused_with_the_reason(store, password, why):
    with pytest.raises(AuthError, match=why):
        add_user(store, "demo-nurse2", "nurse", password)


def test_a_passphrase_is_accepted(store):
    add_user(store, "nurse-c", "nurse", "violet kettle harbour")
    assert verify(store, "nurse-c", "violet kettle harbour").role == "nurse"


def test_the_client_address_comes_from_x_forwarded_for_only_behind_a_configured_proxy(store, tmp_path):
    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        app = create_app(store, load_config(), secret_path=tmp_path / "key", auth=AuthSettings(trusted_proxies=proxies))
        client = app.server.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
        sign_in_with(client)
        assert audit_log(store)[0]["remote"] == expected, proxies


def sign_in_with(client) -> None:
    import re

    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"csrf": token, "username": "demo-nurse", "password": PASSWORD},
                headers={"Origin": "http://localhost"})


def test_monitor_secret_file_is_honoured_by_the_app_and_the_wsgi_entry_point(store, tmp_path, monkeypatch):
    monkeypatch.delenv("MONITOR_SECRET_KEY", raising=False)
    key = tmp_path / "keys" / "web.key"
    monkeypatch.setenv("MONITOR_SECRET_FILE", str(key))
    create_app(store, load_config())  # as `app.py` and `app.py serve` make it
    assert key.exists() and oct(key.stat().st_mode & 0o777) == "0o600"
    wsgi_key = tmp_path / "keys" / "wsgi.key"
    env = {**os.environ, "MONITOR_SECRET_FILE": str(wsgi_key), "MONITOR_DATABASE": str(tmp_path / "clinic.db")}
    env.pop("MONITOR_SECRET_KEY", None)
    subprocess.run([sys.executable, "-c", "import dashboard.wsgi"], cwd=ROOT, env=env, check=True, timeout=120)
    assert wsgi_key.exists()


def test_the_old_per_account_counters_are_gone(store):
    with store.engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("users")}
    assert set(users.c.keys()) == columns and not columns & {"failed_logins", "locked_until"}
