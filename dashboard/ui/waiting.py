"""The board's second part: chairs with no open session whose devices are sending ("no session · readings arriving"),
devices in demo mode (their values greyed: never patient data), and how many devices send with no chair.

Its own element and callback on the board's poll, so the session tiles and their deltas are untouched. A chair shows
here while its latest reading is within the pre-session window: what a session opened now would take as its
pre-session readings (docs/placement.md). Nurses and clinicians see it; testers see only simulated sessions.
"""
from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from typing import Any, Mapping

from dash import Dash, Input, Output, State, dcc, html, no_update

from ..auth.roles import sees_real_patients
from ..engine import Config
from ..store import Store, device_data
from ..store.device_data import UNPLACED
from .device_text import latest_parts, merge_latest
from .format import age
from .identity import role


def layout() -> list[Any]:
    return [html.Div(id="board-waiting", className="board-waiting"), dcc.Store(id="board-waiting-seen")]


def waiting_tile(chair: str, latest: Mapping[str, Any], last_at: float, wall: float, demo: bool = False) -> Any:
    """A chair's tile when no session is open on it (or, `demo`, its devices' demo data): simple markup of its own."""
    parts = latest_parts(latest, wall)
    state = "device in demo mode · not patient data" if demo else "no session · readings arriving"
    children = [
        html.Div(chair, className="tile-chair"),
        html.Div(state, className="tile-phase"),
        html.Div(parts["bp"], className="tile-bp vital"),
        html.Div(parts["bp_age"], className="tile-bp-age"),
        html.Div(parts["hr"], className="tile-hr vital"),
        html.Div(parts["spo2"], className="tile-spo2 vital"),
        html.Div(" · ".join(p for p in (parts["event"], f"last reading {age(wall - last_at)}") if p),
                 className="tile-due"),
    ]
    if not demo:
        children.append(dcc.Link("Start a session", href="/start", className="tile-start"))
    return html.Div(children, className=f"tile waiting {'demo' if demo else 'no-session'}",
                    id={"type": "waiting-tile", "chair": f"{chair}{' demo' if demo else ''}"})


def waiting_children(store: Store, window_s: float, wall: float) -> list[Any]:
    """The tiles of chairs without a session, demo tiles, and the line about devices with no chair."""
    rows = device_data.statuses(store.engine, store.site, since=wall - window_s)
    if not rows:
        return []
    in_session = {row.chair for row in store.open_sessions()}
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
    tiles = [waiting_tile(chair, merge_latest(found), max(r["last_at"] for r in found), wall)
             for chair, found in sorted(chairs.items())]
    tiles += [waiting_tile(chair, merge_latest(found), max(r["last_at"] for r in found), wall, demo=True)
              for chair, found in sorted(demo.items())]
    out: list[Any] = []
    if unplaced:
        out.append(html.P([f"{len(unplaced)} device{'s' if len(unplaced) > 1 else ''} sending with no chair: ",
                           dcc.Link("associate with a chair", href="/devices")], className="unplaced-devices",
                          id="unplaced-devices"))
    if tiles:
        out += [html.H3("Chairs without a session"), html.Div(tiles, className="board")]
    return out


def register(app: Dash, store: Store, config: Config) -> None:
    window_s = config.value("baseline.pre_session_window") * 60

    @app.callback(Output("board-waiting", "children"), Output("board-waiting-seen", "data"),
                  Input("board-poll", "n_intervals"), State("board-waiting-seen", "data"))
    def _poll(_n: int | None, seen: str | None):
        children = waiting_children(store, window_s, time.time()) if sees_real_patients(role()) else []
        digest = hashlib.sha1(repr(children).encode()).hexdigest()  # unchanged: nothing sent
        return (no_update, no_update) if digest == seen else (children, digest)
