"""The restore drill: `python app.py db backup PATH` copies a live SQLite clinic while ingest writes to it (the
simulated clinic at 30x), the copy is restored (put in place of a lost database) and opened by the monitor, and
every reading committed before the backup started is in it, as stored, with no hole; the audit chains of the
restored copy verify."""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from ..waits import wait_until

ROOT = Path(__file__).resolve().parents[2]


def _readings(database: Path, up_to: int | None = None) -> list[tuple]:
    with sqlite3.connect(database, timeout=30) as conn:
        query = "SELECT * FROM readings" + ("" if up_to is None else f" WHERE id <= {int(up_to)}") + " ORDER BY id"
        return conn.execute(query).fetchall()


def _last_reading(database: Path) -> int:
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(database, timeout=30) as conn:
            return int(conn.execute("SELECT coalesce(max(id), 0) FROM readings").fetchone()[0])
    except sqlite3.OperationalError:  # the monitor has not made its tables yet
        return 0


def test_a_backup_of_a_live_clinic_restores_with_every_reading(tmp_path: Path):
    live = tmp_path / "var" / "clinic.db"
    env = {**os.environ, "MONITOR_AUDIT_KEY_FILE": str(tmp_path / "audit_key")}
    log = (tmp_path / "clinic.log").open("w")
    clinic = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "serve", "--speed", "30", "--port", "0",
                               "--database", str(live)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _last_reading(live) > 300, "the simulated clinic storing readings")
        before = _last_reading(live)
        done = subprocess.run([sys.executable, str(ROOT / "app.py"), "db", "backup", "backup/clinic-copy.db",
                               "--database", str(live)], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        wait_until(lambda: _last_reading(live) > _last_reading(tmp_path / "backup" / "clinic-copy.db"),
                   "ingest writing on after the backup (it was under load)")
    finally:
        clinic.send_signal(signal.SIGINT)
        clinic.wait(120)
        log.close()
    assert clinic.returncode == 0, (tmp_path / "clinic.log").read_text()

    restored = tmp_path / "restored" / "clinic.db"  # the drill: the database lost, the backup put in its place
    restored.parent.mkdir()
    shutil.copy(tmp_path / "backup" / "clinic-copy.db", restored)
    assert not Path(f"{restored}-wal").exists()
    copied = _readings(restored)
    assert len(copied) >= before and copied == _readings(live, up_to=copied[-1][0])  # every reading, as stored
    assert [row[0] for row in copied] == [row[0] for row in _readings(live, up_to=copied[-1][0])]  # no hole
    verified = subprocess.run([sys.executable, str(ROOT / "app.py"), "audit", "verify", "--database", str(restored)],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert verified.returncode == 0, verified.stderr
    again = subprocess.run([sys.executable, str(ROOT / "app.py"), "db", "backup", "backup/clinic-copy.db",
                            "--database", str(live)], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 2 and "never overwrites" in again.stderr  # the first backup is kept as it was
