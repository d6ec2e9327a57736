"""The audit log and people's actions are tamper-evident: rows altered behind the monitor's back (its triggers
dropped, the SQLite file edited with another program) make `python app.py audit verify` fail, naming the row;
an intact record passes. The admin's audit page shows the same verdict."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.auth import add_user, verify
from dashboard.engine import load_config
from dashboard.store import Store, chain
from dashboard.ui import create_app

from ..webclient import PASSWORD, body, call, server_callbacks, sign_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite clinic with sign-ins (audit rows) and a nurse's actions on a session (action rows)."""
    monkeypatch.setenv(chain.KEY_FILE_ENV, str(tmp_path / "audit_key"))
    monkeypatch.delenv(chain.KEY_ENV, raising=False)
    store = Store.open(tmp_path / "clinic.db")
    add_user(store, "nurse1", "nurse", PASSWORD)
    for _ in range(3):
        verify(store, "nurse1", PASSWORD, remote="10.0.0.7")
    sid = store.create_session(chair="Chair 1", patient_label="P1", protocol="esketamine", started_at=1.0e9)
    for kind in ("dose", "note", "acknowledge"):
        store.submit_action(sid, kind, "nurse1", detail=f"{kind} detail")
    store.close()
    return tmp_path / "clinic.db"


def audit_verify(database: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "app.py", "audit", "verify", "--database", str(database)], cwd=ROOT,
                          env=os.environ.copy(), capture_output=True, text=True, timeout=120)


def behind_the_back(database: Path, *statements: str) -> None:
    """Another program on the file: the monitor's triggers dropped, then the statements."""
    with sqlite3.connect(database) as conn:
        for trigger in ("audit_no_update", "audit_no_delete", "actions_fixed", "actions_no_delete"):
            conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for statement in statements:
            conn.execute(statement)


def test_an_intact_record_passes(clinic):
    done = audit_verify(clinic)
    assert done.returncode == 0, done.stderr
    assert "audit: intact, 3 rows" in done.stdout and "actions: intact, 3 rows" in done.stdout


def test_an_audit_row_and_an_action_row_altered_behind_the_monitor_s_back_are_named(clinic):
    behind_the_back(clinic, "UPDATE audit SET remote = '10.9.9.9' WHERE id = 2",
                    "UPDATE actions SET detail = 'no dose given' WHERE id = 1")
    done = audit_verify(clinic)
    assert done.returncode == 1
    assert "audit: BROKEN at audit row 2:" in done.stderr and "actions: BROKEN at actions row 1:" in done.stderr


@pytest.mark.parametrize("statement, named", [
    ("INSERT OR REPLACE INTO audit (id, at, who, role, action, detail, remote, session_id, chain) "
     "SELECT id, at, 'admin', role, action, detail, remote, session_id, chain FROM audit WHERE id = 3", "audit row 3"),
    ("DELETE FROM audit WHERE id = 2", "audit row 3"),  # a row removed: the next no longer follows
    ("DELETE FROM actions WHERE id = 3", "the head names 3 rows, the table holds 2"),  # the last one removed
    ("INSERT INTO actions (session_id, kind, detail, who, at, source, chain) "
     "SELECT session_id, 'dose', '', 'nurse1', at, '', chain FROM actions WHERE id = 3", "actions row 4"),
])
def test_replaced_removed_and_forged_rows_are_named(clinic, statement, named):
    behind_the_back(clinic, statement)
    done = audit_verify(clinic)
    assert done.returncode == 1 and named in done.stderr, done.stderr


def test_a_row_written_with_another_key_is_named(clinic, tmp_path, monkeypatch):
    monkeypatch.setenv(chain.KEY_ENV, "not the monitor's key")
    store = Store.open(clinic)
    add_user(store, "intruder", "admin", PASSWORD)
    verify(store, "intruder", PASSWORD)
    store.close()
    monkeypatch.delenv(chain.KEY_ENV)
    done = audit_verify(clinic)
    assert done.returncode == 1 and "audit row 4:" in done.stderr


def test_the_admin_s_audit_page_shows_the_verdict(clinic, tmp_path):
    store = Store.open(clinic)
    add_user(store, "admin1", "admin", PASSWORD)
    app = create_app(store, load_config(), secret_path=tmp_path / "key")
    admin = sign_in(app, "admin1")
    assert "Tamper check: intact." in _page(app, admin, "/admin/audit")
    behind_the_back(clinic, "UPDATE audit SET detail = 'nothing' WHERE id = 1")
    page = _page(app, admin, "/admin/audit")
    assert "Tamper check: BROKEN" in page and "audit row 1:" in page
    store.close()


def _page(app, client, path: str) -> str:
    key = "page.children"
    response = call(client, body(key, server_callbacks(app)[key], {("url", "pathname"): path, ("url", "search"): ""},
                                 "url.pathname"))
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.dumps(response.get_json())
