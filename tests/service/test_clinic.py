"""The simulated clinic: four chairs in different states, caught up through ingest before going live."""
from __future__ import annotations

from pathlib import Path

from dashboard.service.clinic import Clinic
from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from devices.simulator import session_items


def test_the_demo_clinic_opens_four_chairs_in_their_planned_states(tmp_path: Path):
    store = Store.open(tmp_path / "clinic.db")
    ingest = Ingest(store, load_config())
    clinic = Clinic(store, ingest, speed=1.0, seed=7)
    rows = clinic.open()
    ingest.refresh()
    assert clinic.catch_up() > 0
    phases = {row.chair: row.phase for row in store.open_sessions()}
    assert phases == {"Chair 1": "infusion", "Chair 2": "observation", "Chair 3": "observation",
                      "Chair 4": "pre-dose"}
    for row in rows:  # every stored item is the simulator's own, at its own session time: nothing clamped
        stored = [i.offset_s for i in store.session_items(row.id)]
        planned = [i.offset_s for i in session_items(row.scenario, row.seed, load_config())][: len(stored)]
        assert stored == planned
    assert [r.id for r in clinic.open()] == [r.id for r in rows]  # opening again resumes: no new sessions
    assert len(store.list_sessions()) == 4


def test_a_large_catch_up_keeps_every_reading_at_its_own_session_time(tmp_path: Path, monkeypatch):
    import dashboard.service.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "MAX_ITEMS_PER_STEP", 500)  # a backlog larger than one step
    store = Store.open(tmp_path / "clinic.db")
    ingest = Ingest(store, load_config())
    clinic = Clinic(store, ingest, speed=1.0, seed=7)
    rows = clinic.open()
    ingest.refresh()
    clinic.catch_up()
    for row in rows:
        stored = [i.offset_s for i in store.session_items(row.id)]
        assert stored == [i.offset_s for i in session_items(row.scenario, row.seed, load_config())][: len(stored)]
