"""Production mode: `app.py ingest` and gunicorn workers as separate processes on one database; a reading
that ingest stores shows in a browser served by a worker."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from dashboard.store import Store

from .conftest import ROOT, login, seed_users

TILE_HR_JS = "return Array.from(document.querySelectorAll('.tile .tile-hr')).map(e => e.textContent)"


def test_ingest_and_gunicorn_workers_apart_share_the_store(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    seed_users(db)
    ingest = subprocess.Popen([sys.executable, "app.py", "ingest", "--database", str(db)],
                              cwd=ROOT, stdout=(tmp_path / "ingest.log").open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(Store.open(db).open_sessions()) < 4:
            assert ingest.poll() is None, (tmp_path / "ingest.log").read_text()
            time.sleep(0.3)
        web = start_server(command=[str(Path(sys.executable).with_name("gunicorn")), "--workers", "2", "--bind",
                                    "127.0.0.1:{port}", "dashboard.wsgi:server"],
                           env={"MONITOR_DATABASE": str(db), "MONITOR_SECRET_FILE": str(tmp_path / "secret"),
                                "MONITOR_POLL_MS": "500"})
        assert "Booting worker" in web.log.read_text()
        login(dash_br, web.url, "nurse")
        dash_br.wait_for_contains_text(".board", "Chair 4", timeout=20)
        before = dash_br.driver.execute_script(TILE_HR_JS)
        before_count = _stored_readings(db)
        deadline = time.monotonic() + 15
        while dash_br.driver.execute_script(TILE_HR_JS) == before and time.monotonic() < deadline:
            time.sleep(0.3)
        assert dash_br.driver.execute_script(TILE_HR_JS) != before  # new readings from ingest, via the store
        while _stored_readings(db) <= before_count and time.monotonic() < deadline:
            time.sleep(0.3)  # the screen may show readings stored before the count was taken: wait for newer ones
        assert _stored_readings(db) > before_count
    finally:
        ingest.terminate()
        ingest.wait(timeout=15)


def _stored_readings(db: Path) -> int:
    store = Store.open(db)
    try:
        return sum(len(store.readings_after(row.id)) for row in store.open_sessions())
    finally:
        store.close()
