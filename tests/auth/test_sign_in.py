"""Sign-in that resists abuse without locking out the ward: throttling per address and per name from an
address, one argon2 verification whatever the answer, user names and passwords validated, the client address
from X-Forwarded-For only behind a configured proxy, the cookie key from MONITOR_SECRET_FILE everywhere.
(The timing itself is measured in bench/login_timing.py, not asserted here.)"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.auth import AuthError, AuthSettings, add_user, audit_log, set_active, verify
from dashboard.auth import accounts as accounts_module
from dashboard.auth import sessions, throttle
from dashboard.auth.credentials import dummy_hash
from dashboard.engine import load_config
from dashboard.store import Store
from dashboard.store.security import users
from dashboard.ui import create_app

from ..webclient import PASSWORD, sign_in

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = AuthSettings(lockout_after=3, address_lockout_after=6, account_lockout_after=10, lockout_minutes=15)
T0 = 1_900_000_000.0  # the clock the throttle tests pass: the waits are seconds, the test decides when "now" is


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "clinic.db")
    add_user(store, "demo-nurse", "nurse", PASSWORD)
    add_user(store, "nurse-b", "nurse", PASSWORD)
    return store


def _fail(store: Store, name: str, remote: str, times: int = 1, now: float | None = None) -> None:
    for _ in range(times):
        with pytest.raises(AuthError):
            verify(store, name, "not-the-password!", remote=remote, settings=SETTINGS, now=now)


def _signs_in(store: Store, name: str, remote: str, now: float, settings: AuthSettings = SETTINGS) -> bool:
    try:
        return verify(store, name, PASSWORD, remote=remote, settings=settings, now=now).username == name
    except AuthError:
        return False


def test_guessing_from_one_address_slows_that_address_only(store):
    _fail(store, "demo-nurse", "10.0.0.66", times=3, now=T0)
    assert not _signs_in(store, "demo-nurse", "10.0.0.66", T0 + 0.5)  # waits there, even the right password
    assert _signs_in(store, "demo-nurse", "10.0.0.12", T0 + 0.5)  # the nurse elsewhere: at once
    assert _signs_in(store, "nurse-b", "10.0.0.66", T0 + 0.5)  # another name there: at once
    assert _signs_in(store, "demo-nurse", "10.0.0.66", T0 + 1.5)  # the first wait: a second


def test_the_wait_doubles_with_each_failure_up_to_a_minute(store):
    now = T0
    waits = []
    for _ in range(12):
        _fail(store, "demo-nurse", "10.0.0.66", now=now)
        with store.engine.connect() as conn:
            wait = throttle.wait_s(conn, "demo-nurse", "10.0.0.66", None, SETTINGS.limits, now)
        waits.append(wait)
        now += wait
    assert waits == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60, 60]


def test_25_made_up_names_from_a_ward_computer_leave_the_next_nurse_signing_in_there(store, tmp_path):
    """The issue's ward computer, through the real login form at the real time: 25 failed sign-ins under
    made-up names from one address, then the nurse's right password from the same address signs in."""
    app = create_app(store, load_config(), secret_path=tmp_path / "key", auth=AuthSettings())
    for n in range(25):
        sign_in(app, f"made-up-{n}", "not-the-password!", remote="10.0.0.66", expect=401)
    assert sign_in(app, "demo-nurse", PASSWORD, remote="10.0.0.66").get("/").status_code == 200
    assert [r["detail"] for r in audit_log(store)][1:26] == ["unknown user"] * 25  # every try was checked


def test_1000_tries_at_one_account_keep_its_owner_out_for_at_most_a_minute(store):
    """An attacker's 1,000 tries at demo-nurse, from one address and then from 100 (10 each), as fast as they
    come: the owner signs in from their own ward computer throughout, and from a new computer at most a minute
    after the last try. Tries made while waiting do not count, so hammering cannot lengthen the wait."""
    with store.engine.begin() as conn:  # the owner signed in at the ward computer yesterday
        sessions.start(conn, "demo-nurse", "10.0.0.12", T0 - 86400)
    now = T0
    for n in range(1000):
        remote = "203.0.113.9" if n < 500 else f"198.51.100.{n % 100}"
        _fail(store, "demo-nurse", remote, now=now)
        now += 0.01  # 100 tries a second
        if n % 100 == 99:
            assert _signs_in(store, "demo-nurse", "10.0.0.12", now), n  # the ward computer: never kept out
    last_try = now
    assert _signs_in(store, "demo-nurse", "10.0.0.40", last_try + 60.0)  # a computer new to the account
    assert _signs_in(store, "demo-nurse", "203.0.113.9", last_try + 60.0)  # even the attacker's
    counted = [r["detail"] for r in audit_log(store, limit=2000) if r["action"] == "login_failed"]
    assert len(counted) == 1000 and counted.count("refused: too many failures") > 900


def test_a_right_password_clears_that_address_s_failures_for_the_name(store):
    _fail(store, "demo-nurse", "10.0.0.5", times=2, now=T0)
    assert _signs_in(store, "demo-nurse", "10.0.0.5", T0)
    _fail(store, "demo-nurse", "10.0.0.5", times=2, now=T0)  # 2 more, not 4: no wait yet
    assert _signs_in(store, "demo-nurse", "10.0.0.5", T0)


def test_every_answer_costs_one_argon2_verification_and_says_the_same(store, monkeypatch):
    """Unknown, deactivated, waiting and wrong: each one verification (the unknown ones against the dummy
    hash) and the same message, so neither the time nor the words tell which names exist."""
    set_active(store, "nurse-b", False)
    _fail(store, "demo-nurse", "10.0.0.66", times=3, now=T0)  # waits there now
    checked: list[str] = []
    real = accounts_module.password_matches
    monkeypatch.setattr(accounts_module, "password_matches", lambda h, p: checked.append(h) or real(h, p))
    messages = set()
    for name, remote in (("nobody", "10.0.0.1"), ("nurse-b", "10.0.0.1"), ("demo-nurse", "10.0.0.66"),
                         ("demo-nurse", "10.0.0.1")):
        with pytest.raises(AuthError) as refused:
            verify(store, name, "not-the-password!" if remote == "10.0.0.1" and name == "demo-nurse" else PASSWORD,
                   remote=remote, settings=SETTINGS, now=T0 + 0.5)
        messages.add(str(refused.value))
    assert len(checked) == 4 and checked[:3] == [dummy_hash()] * 3 and checked[3] != dummy_hash()
    assert len(messages) == 1
    reasons = [r["detail"] for r in audit_log(store) if r["action"] == "login_failed"][:4]
    assert reasons == ["wrong password", "refused: too many failures", "inactive user", "unknown user"]


def test_the_web_answers_a_waiting_try_like_a_wrong_password(store, tmp_path):
    app = create_app(store, load_config(), secret_path=tmp_path / "key", auth=SETTINGS)
    wrong = _try(app, "demo-nurse", "not-the-password!", "10.0.0.66")
    _fail(store, "demo-nurse", "10.0.0.66", times=6, now=time.time() + 30)  # waits there for a minute or more
    waiting = _try(app, "demo-nurse", PASSWORD, "10.0.0.66")  # the right password, from there
    assert audit_log(store)[0]["detail"] == "refused: too many failures"
    assert waiting == wrong == (401, SETTINGS.failure_message())
    assert sign_in(app, "demo-nurse", PASSWORD, remote="10.0.0.12").get("/").status_code == 200


def _try(app, name: str, password: str, remote: str) -> tuple[int, str]:
    """The login form's answer: its status and the message it shows."""
    import html
    import re

    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = remote
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    answer = client.post("/login", data={"csrf": token, "username": name, "password": password},
                         headers={"Origin": "http://localhost"})
    shown = re.search(r'role="alert">([^<]*)<', answer.get_data(as_text=True))
    return answer.status_code, html.unescape(shown.group(1)) if shown else ""


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
    ("aaaaaaaaaaaa", "easy to guess"), ("ketamine1234", "easy to guess"), ("demo-nurse2!", "easy to guess"),
    ("Summer2024!!", "easy to guess"), ("Winter2023!!", "easy to guess")])
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
