"""The board's second part: chairs with no open session whose devices are sending ("no session · readings arriving"),
devices in demo mode (their values greyed: never patient data), and how many devices send with no chair.

Its own element and callback on the board's poll, so the session tiles and their deltas are untouched. A chair shows
here while its latest reading is within the pre-session window: what a session opened now would take as its
pre-session readings (docs/placement.md), a chair where only a replay or a simulated session is open too (a real
device's readings never go into one). Nurses and clinicians see it; testers see only simulated sessions.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from typing import Any, Mapping

from dash import Dash, Input, Output, State, dcc, html, no_update

from ..auth.roles import sees_real_patients
from ..engine import Config
from ..store import Store, device_data
from ..store.device_data import UNPLACED
from ..store.test_data import kind
from .device_text import latest_parts, merge_latest, since
from .identity import role


def layout() -> list[Any]:
    return [html.Div(id="board-unplaced"), html.Div(id="board-waiting", className="board-waiting"),
            dcc.Store(id="board-waiting-seen", data={})]


def tile_values(chair: str, latest: Mapping[str, Any], last_at: float, wall: float, demo: bool = False) -> dict:
    """What a chair's tile shows when no session is open on it (or, `demo`, its devices' demo data)."""
    parts = latest_parts(latest, wall)
    return {"chair": chair, "demo": demo, "bp": parts["bp"], "bp_age": parts["bp_age"], "hr": parts["hr"],
            "spo2": parts["spo2"],
            "state": "device in demo mode · not patient data" if demo else "no session · readings arriving",
            "last": " · ".join(p for p in (parts["event"], f"last reading {since(wall - last_at)}") if p)}


def waiting_tile(values: Mapping[str, Any]) -> Any:
    """The tile itself: simple markup of its own kind."""
    demo = values["demo"]
    children = [html.Div(values["chair"], className="tile-chair"), html.Div(values["state"], className="tile-phase"),
                html.Div(values["bp"], className="tile-bp vital"), html.Div(values["bp_age"], className="tile-bp-age"),
                html.Div(values["hr"], className="tile-hr vital"), html.Div(values["spo2"], className="tile-spo2 vital"),
                html.Div(values["last"], className="tile-due")]
    if not demo:
        children.append(dcc.Link("Start a session", href="/start", className="tile-start"))
    return html.Div(children, className=f"tile waiting {'demo' if demo else 'no-session'}",
                    id={"type": "waiting-tile", "chair": f"{values['chair']}{' demo' if demo else ''}"})


def waiting_values(store: Store, window_s: float, wall: float) -> tuple[int, list[dict[str, Any]]]:
    """(how many devices send with no chair, the values of each tile of a chair without a session or of demo data)."""
    rows = device_data.statuses(store.engine, store.site, since=wall - window_s)
    if not rows:
        return 0, []
    in_session = {row.chair for row in store.open_sessions() if kind(row) == "real"}  # a test session takes no
    # real reading (placement.py): a real monitor at its chair shows here, for the nurses
    associated = device_data.associations(store.engine, store.site)
    chairs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    demo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    unplaced = set()
    for row in rows:
        if row["demo"]:
            demo[row["chair"] or f"device {row['device_id']}"].append(row)
        elif row["chair"] == UNPLACED:
            if row["device_id"] not in associated:
                unplaced.add(row["device_id"])
        elif row["chair"] not in in_session:
            chairs[row["chair"]].append(row)
    tiles = [tile_values(chair, merge_latest(found), max(r["last_at"] for r in found), wall)
             for chair, found in sorted(chairs.items())]
    tiles += [tile_values(chair, merge_latest(found), max(r["last_at"] for r in found), wall, demo=True)
              for chair, found in sorted(demo.items())]
    return len(unplaced), tiles


def waiting_children(unplaced: int, tiles: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    """(the line about devices with no chair, the tiles)."""
    line = [html.P([f"{unplaced} device{'s' if unplaced > 1 else ''} sending with no chair: ",
                    dcc.Link("associate with a chair", href="/devices")], className="unplaced-devices",
                   id="unplaced-devices")] if unplaced else []
    return line, [html.H3("Chairs without a session"),
                  html.Div([waiting_tile(values) for values in tiles], className="board")] if tiles else []


def register(app: Dash, store: Store, config: Config) -> None:
    window_s = config.value("baseline.pre_session_window") * 60

    @app.callback(Output("board-waiting", "children"), Output("board-unplaced", "children"),
                  Output("board-waiting-seen", "data"), Input("board-poll", "n_intervals"),
                  State("board-waiting-seen", "data"))
    def _poll(_n: int | None, seen: dict[str, str] | None):
        unplaced, tiles = waiting_values(store, window_s, time.time()) if sees_real_patients(role()) else (0, [])
        seen = seen or {}
        digests = {"tiles": _digest(tiles), "line": str(unplaced)}  # the markup is built only when it changed
        if digests == seen:
            return no_update, no_update, no_update
        line, children = waiting_children(unplaced, tiles)
        return (children if digests["tiles"] != seen.get("tiles") else no_update,
                line if digests["line"] != seen.get("line") else no_update, digests)


def changed_only(values: list[Any], seen: dict[str, str] | None) -> tuple[Any, ...]:
    """Each value, or no_update where it is what the browser was sent last (`seen`: their digests, returned last):
    a redrawn element would move under the nurse's pointer, and an unchanged one costs nothing to leave."""
    seen = seen or {}
    digests = {str(i): _digest(value) for i, value in enumerate(values)}
    if digests == seen:
        return (no_update,) * (len(values) + 1)
    return (*(value if digests[str(i)] != seen.get(str(i)) else no_update for i, value in enumerate(values)),
            digests)


def _digest(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True, default=repr).encode()).hexdigest()
