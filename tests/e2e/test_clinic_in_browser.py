"""The simulated clinic end to end: `python app.py` shows the chairs and their values move on their own."""
from __future__ import annotations

import re
import time
from pathlib import Path

from dashboard.store import Store
from devices.readings import Reading

from tests.waits import wait_until
from .browser import login, script_until


TILES_JS = """return Array.from(document.querySelectorAll('.tile')).map(t => Object.fromEntries(
    ['chair', 'phase', 'bp', 'hr', 'spo2'].map(k => [k, (t.querySelector('.tile-' + k) || {}).textContent])));"""
OPEN_CHAIR_3_JS = """const tile = Array.from(document.querySelectorAll('.tile')).find(t => t.textContent.includes('Chair 3'));
    if (tile) tile.click(); return !!tile;"""
CHART_JS = "const g = document.querySelector('#session-chart .js-plotly-plot');"
HR_POINTS_JS = """const graph = document.querySelector('#session-chart .js-plotly-plot');
    return graph && graph.data && graph.data[3] ? graph.data[3].x.length : 0;"""


MARKS_JS = "return Array.from(document.querySelectorAll('.tile .tile-mark')).map(m => ({mark: m.textContent}))"


def tiles(dash_br) -> dict[str, dict[str, str]]:
    """Every tile's slots, read in one script: the board patches itself while we look."""
    return {t["chair"]: t for t in dash_br.driver.execute_script(TILES_JS)}


def test_board_shows_the_clinic_and_a_tile_updates_on_its_own(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    server = start_server("--database", str(db))
    assert f"Database: {db}" in server.log.read_text()
    login(dash_br, server.url, "nurse")

    dash_br.wait_for_contains_text(".board", "Chair 4", timeout=20)
    # a server running the simulated clinic is a demo: said on every screen, its chairs marked on the board
    dash_br.wait_for_contains_text("#demo-banner", "DEMO / TRAINING", timeout=20)
    assert {t["mark"] for t in dash_br.driver.execute_script(MARKS_JS)} == {"SIMULATED"}

    def phases() -> dict[str, str]:
        return {chair: (t["phase"] or "").split(" · ")[0] for chair, t in tiles(dash_br).items()}

    # Each chair's history up to now is backfilled through ingest at start; the board settles on its own.
    expected = {"Chair 1": "Infusion", "Chair 2": "Observation", "Chair 3": "Observation", "Chair 4": "Pre-dose"}
    wait_until(lambda: phases() == expected, f"the board's phases to be {expected}")
    assert re.fullmatch(r"\d+/\d+", tiles(dash_br)["Chair 3"]["bp"])

    # The oximeter streams at 1 Hz: HR or SpO2 on some tile changes with no reload.
    def vitals() -> list[str]:
        return [f"{t['hr']}{t['spo2']}" for t in tiles(dash_br).values()]

    before = vitals()
    wait_until(lambda: vitals() != before, "a tile's HR or SpO2 to change")

    # Opening a chair shows its session chart, with the backfilled half hour of 1 Hz oximetry.
    def opened() -> bool:  # clicked again if a poll redrew the board just as it was clicked
        if "/session/" not in dash_br.driver.current_url:
            dash_br.driver.execute_script(OPEN_CHAIR_3_JS)
        return "/session/" in dash_br.driver.current_url

    wait_until(opened, "Chair 3's session page to open", every=1.0)
    hr_points = script_until(dash_br, HR_POINTS_JS, "the session chart's HR trace")
    sid = int(dash_br.driver.current_url.rstrip("/").rsplit("/", 1)[1])
    assert Store.open(db).session(sid).chair == "Chair 3"
    assert hr_points > 60 * 20

    # The chart's time axis is the clock (local time on a date axis), and the poll's extendData appends in it: a
    # new HR sample sits at about now on the wall clock (in session minutes it would sit in January 1970).
    assert dash_br.driver.execute_script(f"{CHART_JS} return g._fullLayout.xaxis.type;") == "date"
    newest = script_until(dash_br, f"{CHART_JS} const x = g.data[3].x; return x.length > {hr_points} && x[x.length - 1];",
                          "the poll to append an HR sample")
    assert abs(newest - (time.time() + time.localtime().tm_gmtoff) * 1000) < 5 * 60_000


def _oximeter_readings(db: Path) -> dict[int, list[float]]:
    """Each open session's oximeter readings, each named by its device time: the simulator stamps every reading
    with its own, while its session time may be shared (a reading that comes late is placed at the engine's now)."""
    store = Store.open(db)
    try:
        return {row.id: [item.device_time for item in store.session_items(row.id)
                         if isinstance(item, Reading) and item.source == "oximeter"] for row in store.open_sessions()}
    finally:
        store.close()


def test_restart_on_the_same_database_shows_the_same_sessions(start_server, tmp_path):
    db = tmp_path / "clinic.db"
    first = start_server("--database", str(db))
    wait_until(lambda: len(stored := _oximeter_readings(db)) == 4 and all(stored.values()),
               "the clinic's four chairs streaming")
    first.stop()
    before = [(row.id, row.chair, row.scenario) for row in Store.open(db).open_sessions()]
    stored = _oximeter_readings(db)
    second = start_server("--database", str(db))
    wait_until(lambda: all(len(now) > len(stored.get(sid, [])) for sid, now in _oximeter_readings(db).items()),
               "every chair to stream again after the restart")
    second.stop()
    store = Store.open(db)
    assert [(row.id, row.chair, row.scenario) for row in store.open_sessions()] == before
    for readings in _oximeter_readings(db).values():  # the simulated streams resumed where they stopped
        assert len(readings) == len(set(readings))  # no reading stored twice
