"""Production mode: `app.py ingest` and gunicorn workers as separate processes on one database; a reading
that ingest stores shows in a browser served by a worker."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dashboard.store import Store

from tests.waits import wait_until
from .browser import login, wait_for_text
from .servers import GUNICORN, ROOT, seed_users

TILE_HR_JS = "return Array.from(document.querySelectorAll('.tile .tile-hr')).map(e => e.textContent)"


def test_ingest_and_gunicorn_workers_apart_share_the_store(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    seed_users(db)
    log = tmp_path / "ingest.log"
    ingest = subprocess.Popen([sys.executable, "app.py", "ingest", "--database", str(db)],
                              cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        def clinic_open() -> bool:
            assert ingest.poll() is None, log.read_text()
            return len(_open_sessions(db)) >= 4

        wait_until(clinic_open, "ingest to open the simulated clinic's four chairs")
        web = start_server(command=[GUNICORN, "--workers", "2", "--bind", "127.0.0.1:{port}", "dashboard.wsgi:server"],
                           env={"MONITOR_DATABASE": str(db), "MONITOR_SECRET_FILE": str(tmp_path / "secret")})
        assert "Booting worker" in web.log.read_text()
        login(dash_br, web.url, "nurse")
        wait_for_text(dash_br, ".board", "Chair 4")
        before = dash_br.driver.execute_script(TILE_HR_JS)
        before_count = _stored_readings(db)
        # New readings from ingest reach the screen through the store...
        wait_until(lambda: dash_br.driver.execute_script(TILE_HR_JS) != before, "a tile's HR to change")
        # ...and are newer than the count taken (the screen may have shown readings stored before it).
        wait_until(lambda: _stored_readings(db) > before_count, "ingest to store newer readings")
    finally:
        ingest.terminate()
        ingest.wait(timeout=60)


def _open_sessions(db: Path) -> list:
    store = Store.open(db)
    try:
        return store.open_sessions()
    finally:
        store.close()


def _stored_readings(db: Path) -> int:
    store = Store.open(db)
    try:
        return sum(len(store.readings_after(row.id)) for row in store.open_sessions())
    finally:
        store.close()
