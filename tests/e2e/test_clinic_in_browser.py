"""The simulated clinic end to end: `python app.py` shows the chairs and their values move on their own."""
from __future__ import annotations

import re
import time

from dashboard.store import Store

from .conftest import login


TILES_JS = """return Array.from(document.querySelectorAll('.tile')).map(t => Object.fromEntries(
    ['chair', 'phase', 'bp', 'hr', 'spo2'].map(k => [k, t.querySelector('.tile-' + k).textContent])));"""


MARKS_JS = "return Array.from(document.querySelectorAll('.tile .tile-mark')).map(m => ({mark: m.textContent}))"


def tiles(dash_br) -> dict[str, dict[str, str]]:
    """Every tile's slots, read in one script: the board patches itself while we look."""
    return {t["chair"]: t for t in dash_br.driver.execute_script(TILES_JS)}


def test_board_shows_the_clinic_and_a_tile_updates_on_its_own(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    server = start_server("--database", str(db), "--poll-ms", "500")
    assert f"Database: {db}" in server.log.read_text()
    login(dash_br, server.url, "nurse")

    dash_br.wait_for_contains_text(".board", "Chair 4", timeout=20)
    # a server running the simulated clinic is a demo: said on every screen, its chairs marked on the board
    dash_br.wait_for_contains_text("#demo-banner", "DEMO / TRAINING", timeout=20)
    assert {t["mark"] for t in dash_br.driver.execute_script(MARKS_JS)} == {"SIMULATED"}

    def phases() -> dict[str, str]:
        return {chair: t["phase"].split(" · ")[0] for chair, t in tiles(dash_br).items()}

    # Each chair's history up to now is backfilled through ingest at start; the board settles within seconds.
    expected = {"Chair 1": "Infusion", "Chair 2": "Observation", "Chair 3": "Observation", "Chair 4": "Pre-dose"}
    deadline = time.monotonic() + 20
    while phases() != expected and time.monotonic() < deadline:
        time.sleep(0.3)
    assert phases() == expected
    assert re.fullmatch(r"\d+/\d+", tiles(dash_br)["Chair 3"]["bp"])

    # The oximeter streams at 1 Hz: HR or SpO2 on some tile changes within a few polls, with no reload.
    def vitals() -> list[str]:
        return [t["hr"] + t["spo2"] for t in tiles(dash_br).values()]

    before = vitals()
    deadline = time.monotonic() + 15
    while vitals() == before and time.monotonic() < deadline:
        time.sleep(0.3)
    assert vitals() != before

    # Opening a chair shows its session chart.
    dash_br.driver.execute_script(
        "Array.from(document.querySelectorAll('.tile')).find(t => t.textContent.includes('Chair 3')).click()")
    dash_br.wait_for_element("#session-chart .js-plotly-plot")
    sid = int(dash_br.driver.current_url.rstrip("/").rsplit("/", 1)[1])
    assert Store.open(db).session(sid).chair == "Chair 3"
    hr_points = dash_br.driver.execute_script(
        "return document.querySelector('#session-chart .js-plotly-plot').data[3].x.length")
    assert hr_points > 60 * 20  # the backfilled half hour of 1 Hz oximetry


def test_restart_on_the_same_database_shows_the_same_sessions(start_server, tmp_path):
    db = tmp_path / "clinic.db"
    first = start_server("--database", str(db))
    time.sleep(2)
    first.stop()
    before = [(row.id, row.chair, row.scenario) for row in Store.open(db).open_sessions()]
    assert len(before) == 4
    second = start_server("--database", str(db))
    time.sleep(2)
    second.stop()
    store = Store.open(db)
    assert [(row.id, row.chair, row.scenario) for row in store.open_sessions()] == before
    for sid, _, _ in before:  # the simulated streams resumed where they stopped: no reading stored twice
        offsets = [r["offset_s"] for r in store.readings_after(sid) if r["source"] == "oximeter"]
        assert offsets and len(offsets) == len(set(offsets))
