"""The board poll sends the whole board once, then only the slots that changed; the alarm bar lists every active
alarm, highest first, with its current value; test data stays off the clinical board."""
from __future__ import annotations

from pathlib import Path

from dash import no_update

from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from dashboard.ui import alarm_view
from dashboard.ui.board import BAR_FIRST_SLOT, SLOT_INDEX, bar_items, poll_board, tile_values
from dashboard.ui.scope import CLINICAL, TEST, board_of, is_demo, on_board
from devices.readings import Reading, SessionEvent

START = 1_800_000_000.0


def _clinic(tmp_path: Path) -> tuple[Store, Ingest, list[int]]:
    store = Store.open(tmp_path / "clinic.db")
    sids = [store.create_session(chair=f"Chair {n}", patient_label=f"Demo {n}", protocol="esketamine-56",
                                 started_at=START) for n in (1, 2)]
    ingest = Ingest(store, load_config(), clock=lambda: START + 400)
    ingest.refresh()
    for chair in ("Chair 1", "Chair 2"):
        ingest.submit(chair, [SessionEvent("session_start", "esketamine-56", offset_s=0),
                              Reading("nibp", sbp=124, dbp=78, hr=70, offset_s=100),
                              Reading("oximeter", hr=70, spo2=98, offset_s=390)])
    ingest.step()
    return store, ingest, sids


def _assigned(patch) -> dict[tuple, object]:
    return {tuple(op["location"]): op["params"]["value"] for op in patch.to_plotly_json()["operations"]}


def test_first_poll_draws_every_tile_then_nothing_when_nothing_changed(tmp_path: Path):
    store, _, sids = _clinic(tmp_path)
    tiles, seen = poll_board(store, None, wall=START + 400)
    assert len(tiles) == 3 and seen["order"] == [str(s) for s in sids]  # the alarm bar, then a tile per chair
    assert poll_board(store, seen, wall=START + 400) == (no_update, no_update)


def test_a_new_reading_patches_only_its_tile_and_slot(tmp_path: Path):
    store, ingest, sids = _clinic(tmp_path)
    _, seen = poll_board(store, None, wall=START + 400)
    ingest.submit("Chair 2", [Reading("oximeter", hr=71, spo2=98, offset_s=399)])
    ingest.step()
    board, memo = poll_board(store, seen, wall=START + 400)
    assigned = _assigned(board)
    assert assigned == {(2, "props", "children", SLOT_INDEX["hr"], "props", "children"): "71"}
    assert _assigned(memo) == {("tiles", str(sids[1]), "hr"): "71"}


def test_a_new_alarm_changes_the_tile_colour_and_alarm_text(tmp_path: Path):
    store, ingest, _ = _clinic(tmp_path)
    _, seen = poll_board(store, None, wall=START + 400)
    ingest.submit("Chair 1", [Reading("nibp", sbp=150, dbp=92, hr=72, offset_s=399)])  # above 140/90 before the dose
    ingest.step()
    assigned = _assigned(poll_board(store, seen, wall=START + 400)[0])
    assert assigned[(1, "props", "className")] == "tile prio-medium is-unacked bp-medium hr-none spo2-none real rate-oximeter"
    assert assigned[(1, "props", "children", SLOT_INDEX["alarm"], "props", "children")] == (
        "MEDIUM · Pre-dose BP above guide 150/92 · under 1 min")
    assert {location[0] for location in assigned} == {0, 1}  # the alarm bar, redrawn with its new alarm, and the tile
    bar = assigned[(0,)]
    assert "Chair 1 · Pre-dose BP above guide" in str(bar) and "Acknowledge" in str(bar)


def test_a_new_session_redraws_the_board(tmp_path: Path):
    store, _, _ = _clinic(tmp_path)
    _, seen = poll_board(store, None, wall=START + 400)
    store.create_session(chair="Chair 3", patient_label="Demo 3", protocol="iv-ketamine", started_at=START + 390)
    tiles, seen = poll_board(store, seen, wall=START + 400)
    assert isinstance(tiles, list) and len(tiles) == 4 and len(seen["order"]) == 3


def test_tile_shows_bp_age_phase_and_what_is_due(tmp_path: Path):
    store, _, sids = _clinic(tmp_path)
    values = tile_values(store.session(sids[0]), wall=START + 400)
    assert values["bp"] == "124/78" and values["bp_age"] == "BP mmHg · 5 min ago"
    assert values["phase"] == "Pre-dose · 6 min" and values["due"] == "Next: dose" and values["dose"] == "no dose yet"
    assert (values["hr"], values["spo2"]) == ("70", "98") and values["mark"] == "" and values["extra"] == ""
    assert values["class"] == "tile prio-none calm bp-none hr-none spo2-none real rate-oximeter"


def _severe(store: Store, ingest: Ingest, chair: str, at: float, sbp: float = 186, dbp: float = 114) -> None:
    ingest.submit(chair, [Reading("nibp", sbp=sbp, dbp=dbp, hr=90, offset_s=at)])
    ingest.step()


def test_the_alarm_bar_lists_the_highest_first_with_the_value_now_and_patches_only_its_texts(tmp_path: Path):
    store, ingest, sids = _clinic(tmp_path)
    ingest.submit("Chair 2", [Reading("oximeter", hr=125, spo2=98, offset_s=float(t)) for t in range(391, 400)])
    ingest.clock = lambda: START + 420
    _severe(store, ingest, "Chair 1", 395)
    ingest.submit("Chair 2", [Reading("oximeter", hr=126, spo2=98, offset_s=float(t)) for t in range(400, 415)])
    ingest.step()  # Chair 2 tachycardic for over 10 s: medium
    rows = store.open_sessions()
    items = bar_items(rows, START + 420)
    assert [(i["label"], i["value"]) for i in items] == [
        ("Chair 1 · BP severe", "186/114"), ("Chair 1 · Pre-dose BP above guide", "186/114"),
        ("Chair 2 · Tachycardia", "126/min")]
    _, seen = poll_board(store, None, wall=START + 420)
    _severe(store, ingest, "Chair 1", 410, sbp=189, dbp=116)  # a higher BP: the same alarms, the value now
    board, _ = poll_board(store, seen, wall=START + 421)
    assigned = _assigned(board)
    value = (0, "props", "children", 0, "props", "children", BAR_FIRST_SLOT, "props", "children")
    assert assigned[value] == "189/116"
    assert (0,) not in assigned  # the bar itself (its Acknowledge buttons) stays put: only its texts change
    assert not [loc for loc in assigned if loc[0] == 0 and loc[-1] == "className"]


def test_acknowledged_latched_and_paused_read_apart(tmp_path: Path):
    store, ingest, sids = _clinic(tmp_path)
    _severe(store, ingest, "Chair 1", 395)
    store.submit_action(sids[0], "acknowledge", "nurse1", "bp.severe")
    _severe(store, ingest, "Chair 2", 395)
    _severe(store, ingest, "Chair 2", 398, sbp=128, dbp=80)  # cleared before anyone saw it: latched
    store.submit_action(sids[1], "audio_pause", "nurse1", "120")
    ingest.step()
    acked, latched = (tile_values(store.session(sid), wall=START + 400) for sid in sids)
    assert "is-acked" in acked["class"] and "ack'd by nurse1" in acked["alarm"] and "bp-high" in acked["class"]
    assert "is-latched" in latched["class"] and "ended · latched" in latched["alarm"]
    assert latched["paused"].startswith("AUDIO PAUSED 1:") and "audio-paused" in latched["class"]
    assert "bp-none" in latched["class"]  # the BP now is normal: only the latched alarm says what happened


def test_durations_and_pause_read_as_a_nurse_says_them():
    assert [alarm_view.elapsed(s) for s in (0, 59.9, 200, 3725)] == ["under 1 min", "under 1 min", "3 min", "1 h 02 min"]
    assert alarm_view.pause_text(alarm_view.pause_left({"audio_paused_until": 500}, now_s=380.2, speed=1.0)) == \
        "AUDIO PAUSED 2:00"
    assert alarm_view.pause_left({"audio_paused_until": 500}, now_s=500, speed=1.0) is None


def test_test_data_stays_off_the_clinical_board(tmp_path: Path):
    store, _, sids = _clinic(tmp_path)
    replay = store.create_session(chair="Replay 1", patient_label="Replay", protocol="esketamine-84",
                                  started_at=START, clock="feed")
    simulated = store.create_session(chair="Chair 9", patient_label="Demo 09", protocol="esketamine-84",
                                     started_at=START, scenario="esketamine-84-quiet", seed=1)
    rows = {row.id: row for row in store.open_sessions()}
    assert [board_of(rows[sid], demo=False) for sid in (sids[0], replay, simulated)] == [CLINICAL, TEST, TEST]
    assert [board_of(rows[sid], demo=True) for sid in (sids[0], replay, simulated)] == [CLINICAL, TEST, CLINICAL]
    for demo in (False, True):  # the tester's board: all the test data, never a patient
        assert [on_board(rows[sid], TEST, demo) for sid in (sids[0], replay, simulated)] == [False, True, True]
    tiles, _ = poll_board(store, None, wall=START + 400, visible=lambda row: board_of(row, False) == CLINICAL)
    assert "Replay 1" not in str(tiles) and "Chair 9" not in str(tiles) and "Chair 1" in str(tiles)
    assert is_demo([{"node": "main", "demo": True}]) and not is_demo([{"node": "main", "demo": False}])
