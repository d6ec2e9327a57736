"""What a site's administrator met on the command line (issue 25): each answered in one clear line, nothing
made or changed by a refused command, and the demo clinic of one site leaving the others' demo accounts alone."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.service.clinic import demo_logins
from dashboard.store import Store
from dashboard.store.security import users

from ..waits import wait_until

ROOT = Path(__file__).resolve().parents[2]


def app(*argv: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None):
    return subprocess.run([sys.executable, str(ROOT / "app.py"), *argv], cwd=cwd, capture_output=True, text=True,
                          input=stdin, env={**os.environ, **(env or {})}, timeout=180)


def test_db_current_on_an_unreachable_database_says_so_in_one_line(tmp_path):
    done = app("db", "current", "--database-url", "postgresql://monitor@127.0.0.1:1/monitor", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    [line] = [line for line in done.stderr.splitlines() if not line.startswith("Database:")]
    assert line.startswith("db current: cannot use the database:") and "Connection refused" in line


@pytest.mark.parametrize("how", ["option", "environment"])
def test_an_empty_database_url_is_refused_not_read_as_the_default_file(tmp_path, how):
    argv, env = (["--database-url", ""], {}) if how == "option" else ([], {"MONITOR_DATABASE_URL": ""})
    done = app("users", "list", *argv, cwd=tmp_path, env=env)
    assert done.returncode == 2 and "empty" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize("password", ["Summer2024!!", "short"])
def test_a_refused_users_add_creates_no_database(tmp_path, password):
    done = app("users", "add", "alice", "--role", "admin", "--database", "var/clinic.db", cwd=tmp_path,
               stdin=f"{password}\n")
    assert done.returncode == 2 and done.stderr.startswith("users: ")
    assert not (tmp_path / "var").exists()
    done = app("users", "passwd", "alice", "--database", "var/clinic.db", cwd=tmp_path, stdin="violet kettle harbour\n")
    assert done.returncode == 2 and "no database" in done.stderr and not (tmp_path / "var").exists()


def test_another_site_s_demo_clinic_leaves_the_shared_demo_accounts_alone(tmp_path):
    main = Store.open(tmp_path / "clinic.db")
    north = Store.open(tmp_path / "clinic.db", site="north")
    demo_logins(main)
    before = _hashes(main)
    made = demo_logins(north)
    assert set(made) == {f"{name}-north" for name in before}
    after = _hashes(main)
    assert {name: after[name] for name in before} == before  # demo-nurse's password as main printed it
    main.close()
    north.close()


def _hashes(store: Store) -> dict[str, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(users.c.username, users.c.password_hash)).all())


def test_the_web_server_names_no_product_in_its_server_header(tmp_path):
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "serve", "--no-simulator", "--port", "0",
                               "--database", str(tmp_path / "clinic.db")], cwd=tmp_path, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        found = wait_until(lambda: re.search(r"Dashboard: (http://\S+)", (tmp_path / "serve.log").read_text()),
                           "the dashboard's address")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(found.group(1) + "login", timeout=30) as answer:
            assert answer.headers["Server"] == "monitor"
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)
        log.close()


def test_an_export_from_the_command_line_is_audited_as_the_web_s(tmp_path):
    from dashboard.auth import audit_log

    store = Store.open(tmp_path / "clinic.db")
    sid = store.create_session(chair="C1", patient_label="P", protocol="esketamine", started_at=1.0e9)
    store.close()
    for fmt in ("feed", "csv"):
        done = app("export", str(sid), "--format", fmt, "--out", f"s.{fmt}", "--database", "clinic.db", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    store = Store.open(tmp_path / "clinic.db")
    rows = [(r["who"], r["action"], r["detail"], r["session_id"]) for r in audit_log(store) if r["action"] == "export"]
    store.close()
    assert rows == [("command line", "export", "csv: s.csv", sid), ("command line", "export", "feed: s.feed", sid)]
