"""The board poll sends the whole board once, then only the slots that changed."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, unquote

from dash import no_update

from dashboard.engine import load_config
from dashboard.ingest import Ingest
from dashboard.store import Store
from dashboard.ui.board import SLOT_INDEX, poll_board, tile_values
from dashboard.ui.sparkline import _drawn, sparkline_src
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
    assert len(tiles) == 2 and seen["order"] == [str(s) for s in sids]
    assert poll_board(store, seen, wall=START + 400) == (no_update, no_update)


def test_a_new_reading_patches_only_its_tile_and_slot(tmp_path: Path):
    store, ingest, sids = _clinic(tmp_path)
    _, seen = poll_board(store, None, wall=START + 400)
    ingest.submit("Chair 2", [Reading("oximeter", hr=71, spo2=98, offset_s=399)])
    ingest.step()
    board, memo = poll_board(store, seen, wall=START + 400)
    assigned = _assigned(board)
    assert assigned == {(1, "props", "children", SLOT_INDEX["hr"], "props", "children"): "PR (SpO2) 71"}
    assert _assigned(memo) == {("tiles", str(sids[1]), "hr"): "PR (SpO2) 71"}


def test_a_new_alarm_changes_the_tile_colour_and_alarm_text(tmp_path: Path):
    store, ingest, _ = _clinic(tmp_path)
    _, seen = poll_board(store, None, wall=START + 400)
    ingest.submit("Chair 1", [Reading("nibp", sbp=150, dbp=92, hr=72, offset_s=399)])  # above 140/90 before the dose
    ingest.step()
    assigned = _assigned(poll_board(store, seen, wall=START + 400)[0])
    assert assigned[(0, "props", "className")] == "tile prio-medium"
    assert assigned[(0, "props", "children", SLOT_INDEX["alarm"], "props", "children")].startswith(
        "MEDIUM · Pre-dose BP above guide")
    assert all(location[0] == 0 for location in assigned)


def test_a_new_session_redraws_the_board(tmp_path: Path):
    store, _, _ = _clinic(tmp_path)
    _, seen = poll_board(store, None, wall=START + 400)
    store.create_session(chair="Chair 3", patient_label="Demo 3", protocol="iv-ketamine", started_at=START + 390)
    tiles, seen = poll_board(store, seen, wall=START + 400)
    assert isinstance(tiles, list) and len(tiles) == 3 and len(seen["order"]) == 3


def test_tile_shows_bp_age_phase_and_what_is_due(tmp_path: Path):
    store, _, sids = _clinic(tmp_path)
    values = tile_values(store.session(sids[0]), wall=START + 400)
    assert values["bp"] == "124/78" and values["bp_age"] == "5 min ago"
    assert values["phase"] == "Pre-dose · 6 min" and values["due"] == "Next: dose"
    assert (values["hr"], values["spo2"]) == ("PR (SpO2) 70", "SpO2 98 %") and values["class"] == "tile prio-none"


def test_a_sparkline_is_the_quoted_svg_and_is_drawn_once_per_trend():
    trend = {"hr": [[60.0 * n, 70 + n % 7 + 0.5] for n in range(50)], "bp": [[600.0, 131, 82], [1800.0, 250, 30]]}
    src = sparkline_src(trend)
    svg = unquote(src.removeprefix("data:image/svg+xml;utf8,"))
    assert src == "data:image/svg+xml;utf8," + quote(svg)  # what urllib's quote() makes of it, character for character
    assert svg.startswith("<svg") and svg.count("<line") == 2 and svg.count("<polyline") == 1
    drawn = _drawn.cache_info().misses
    assert sparkline_src(json.loads(json.dumps(trend))) == src  # the same trend read again from a status snapshot
    assert _drawn.cache_info().misses == drawn
