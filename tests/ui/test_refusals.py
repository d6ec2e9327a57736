"""The session page's refusals say what holds the chair before they offer the override (issue 22): folded
through the real Ingest into a real store, refused through the page's own actions (dashboard/ui/workflow.py)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from dashboard.ui import checklist, workflow
from dashboard.ui.forms import FormError
from devices.readings import Reading, SessionEvent

from tests.sessions import severe_bp_session


def _fold(store: Store, chair: str, items: list) -> None:
    ingest = Ingest(store, load_config())
    ingest.refresh()
    ingest.submit(chair, items)
    ingest.step()


def _refusal(action, *args) -> str:
    with pytest.raises(FormError) as refused:
        action(*args)
    return str(refused.value)


def test_the_discharge_refusal_names_each_hold_before_the_override(tmp_path: Path):
    db = tmp_path / "clinic.db"
    sid = severe_bp_session(db)  # dose at 5:00, a severe BP 185/112 at 18:20, 20 min in
    store = Store.open(db)
    config = load_config()
    text = _refusal(workflow.discharge, store, store.session(sid), "nurse1", "", config)
    holds, offer = text.split(". To discharge anyway")
    assert holds.startswith("Not ready for discharge: a HIGH alarm (BP severe) is active at 185/112;")
    ends = time.strftime("%H:%M", time.localtime(store.session(sid).started_at + 300 + 7200))  # 120 min after the dose
    assert f"the minimum observation ends at {ends} (in 1" in holds  # the clock time, as the nurse reads the wall
    assert "the latest BP 185/112 is at or above the elevated limit (160/100)" in holds
    assert "no assessment since the dose" in holds
    assert offer.startswith(", give an override reason")

    # The BP comes down (the severe alarm stays latched until acknowledged); the nurse records a dissociated patient.
    _fold(store, "Chair 3", [Reading("nibp", sbp=130, dbp=80, hr=70, offset_s=1150),
                             SessionEvent("assessment", "moaas=3;dissociation=yes;resp=ok", offset_s=1160)])
    text = _refusal(workflow.discharge, store, store.session(sid), "nurse1", " ", config)
    assert text.startswith("Not ready for discharge: a latched HIGH alarm (BP severe) awaits acknowledgement;")
    stored = [e for e in store.events_of(sid) if e["kind"] == "assessment"][-1]["offset_s"]  # where ingest placed it
    assessed = time.strftime("%H:%M", time.localtime(store.session(sid).started_at + stored))
    assert f"; the latest assessment ({assessed}) shows dissociation and MOAA/S 3 (discharge needs 5). To" in text
    assert "elevated limit" not in text and "active at" not in text
    assert store.pending_actions() == []  # refused: nothing queued
    store.close()


def test_the_dose_refusal_names_the_bp_and_the_guide_from_the_settings(tmp_path: Path):
    db = tmp_path / "clinic.db"
    store = Store.open(db)
    sid = store.create_session(chair="Chair 2", patient_label="P-2", protocol="esketamine-56",
                               started_at=time.time() - 300)
    _fold(store, "Chair 2", [SessionEvent("session_start", "esketamine-56", offset_s=0),
                             Reading("nibp", sbp=152, dbp=94, hr=72, offset_s=60)])
    row = store.session(sid)
    for item in load_config().checklist(row.protocol).items:  # the pre-dose checklist answered first
        checklist.answer(store, row, "nurse1", load_config(), item.key, True, "")
    assert _refusal(workflow.dose_start, store, row, "nurse1", "", load_config()) == (
        "BP 152/94 is above the label's pre-dose guide (140/90): give an override reason to dose anyway.")
    clinic = tmp_path / "clinic.toml"  # a clinic's own guide: the text follows it
    clinic.write_text("[bp.predose_high]\nsbp_above = { value = 150 }\ndbp_above = { value = 92 }\n")
    assert "pre-dose guide (150/92)" in _refusal(workflow.dose_start, store, row, "nurse1", "", load_config(clinic))
    assert [a["kind"] for a in store.pending_actions()] == ["checklist"] * 5  # refused: no dose, no override
    assert workflow.dose_start(store, row, "nurse1", "rechecked after rest", load_config()) == (
        "Dose start recorded with the override reason.")
    store.close()
