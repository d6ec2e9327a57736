"""The nurses' overview: one tile per open session, refreshed every poll with only what changed.

A tile is a fixed list of slots (TILE_SLOTS). The browser keeps what it was
last sent (`board-seen`); each poll the server recomputes every tile's slot
values from the status snapshots ingest wrote, and answers with a `Patch`
that assigns just the slots whose value differs. The whole board is re-sent
only when the set of open sessions changes.
"""
from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from typing import Any, Callable

from dash import Dash, Input, Output, Patch, State, dcc, html, no_update

from ..store import SessionRow, Store
from . import waiting
from .course_glance import course_line
from .device_text import rate_text
from .format import PHASE_LABELS, PRIORITY_LABELS, age, alarm_label, bp_text, minutes, number, session_clock
from .identity import viewer_may_see
from .sparkline import sparkline_src


@dataclass(frozen=True, slots=True)
class Slot:
    """One value shown on a tile: the prop it lives in and how the element is made."""

    name: str
    prop: str
    make: Callable[[str], Any]


def _text(css: str) -> Callable[[str], Any]:
    return lambda value: html.Div(value, className=css)


TILE_SLOTS: tuple[Slot, ...] = (
    Slot("chair", "children", _text("tile-chair")),
    Slot("patient", "children", _text("tile-patient")),
    Slot("protocol", "children", _text("tile-protocol")),
    Slot("course", "children", _text("tile-course")),  # the patient's course at a glance (course_glance.py)
    Slot("phase", "children", _text("tile-phase")),
    Slot("due", "children", _text("tile-due")),
    Slot("bp", "children", _text("tile-bp vital")),
    Slot("bp_age", "children", _text("tile-bp-age")),
    Slot("hr", "children", _text("tile-hr vital")),
    Slot("spo2", "children", _text("tile-spo2 vital")),
    Slot("trend", "src", lambda src: html.Img(src=src, className="tile-trend", alt="last hour: HR and BP")),
    Slot("alarm", "children", _text("tile-alarm")),
)
SLOT_INDEX = {slot.name: index for index, slot in enumerate(TILE_SLOTS)}
LONG_SLOTS = {"trend"}  # the browser keeps a checksum of these, not the value


def tile_values(row: SessionRow, wall: float) -> dict[str, str]:
    """Every slot's value (and the tile's class) for one session at wall time `wall`."""
    status = row.status or {}
    now_s = row.session_now(wall)
    phase = status.get("phase", row.phase)
    alarms = status.get("alarms") or []
    top = alarms[0] if alarms else None
    bp = status.get("bp")
    hr, spo2 = status.get("hr"), status.get("spo2")
    return {
        "class": f"tile prio-{top['priority']}" if top else "tile prio-none",
        "chair": row.chair,
        "patient": row.patient_label,
        "protocol": status.get("protocol_label") or row.protocol,
        "course": course_line(row),
        "phase": f"{PHASE_LABELS.get(phase, phase)} · {minutes(now_s - (status.get('phase_since') or 0))}",
        "due": _due_text(status.get("due") or {}, now_s),
        "bp": bp_text(bp),
        "bp_age": age((now_s - bp["offset_s"]) / row.speed) if bp else "no BP yet",
        "hr": rate_text(hr),  # with its source: the snapshot's rule (docs/placement.md)
        "spo2": f"SpO2 {number(spo2['value']) if spo2 else '–'} %",
        "trend": sparkline_src(status.get("trend")),
        "alarm": (f"{PRIORITY_LABELS[top['priority']]} · {alarm_label(top['code'])} · since "
                  f"{session_clock(top['since_s'])}" + (f" (+{len(alarms) - 1} more)" if len(alarms) > 1 else "")
                  ) if top else "No active alarm",
    }


def _due_text(due: dict[str, Any], now_s: float) -> str:
    label, at = due.get("label", ""), due.get("at_s")
    if at is None:
        return f"Next: {label}" if label else ""
    left = at - now_s
    return f"Next: {label} in {minutes(left)}" if left > 0 else f"Next: {label} now"


def make_tile(sid: int, values: dict[str, str]) -> Any:
    return dcc.Link([slot.make(values[slot.name]) for slot in TILE_SLOTS], href=f"/session/{sid}",
                    className=values["class"], id={"type": "tile", "sid": sid})


def _seen(values: dict[str, str]) -> dict[str, Any]:
    return {k: (zlib.crc32(v.encode()) if k in LONG_SLOTS else v) for k, v in values.items()}


def layout(poll_ms: int) -> Any:
    return html.Div([
        html.H2("Live chairs"),
        html.Div(id="board", className="board", children=[]),
        dcc.Store(id="board-seen", data={}),
        *waiting.layout(),  # chairs without a session, demo data, devices with no chair (waiting.py)
        dcc.Interval(id="board-poll", interval=poll_ms),
    ])


def poll_board(store: Store, seen: dict[str, Any] | None, wall: float | None = None,
               visible: Callable[[SessionRow], bool] = lambda row: True) -> tuple[Any, Any]:
    """(board children or a Patch, board-seen or a Patch): everything on first sight, else only changes."""
    wall = time.time() if wall is None else wall
    rows = [row for row in store.open_sessions() if visible(row)]
    values = {str(row.id): tile_values(row, wall) for row in rows}
    order = [str(row.id) for row in rows]
    if not seen or seen.get("order") != order:
        tiles = [make_tile(row.id, values[str(row.id)]) for row in rows] or [
            html.Div(["No chair is in session. ", dcc.Link("Start a session", href="/start")], className="board-empty")]
        return tiles, {"order": order, "tiles": {sid: _seen(v) for sid, v in values.items()}}
    board, memo = Patch(), Patch()
    changed = False
    for index, sid in enumerate(order):
        before = seen["tiles"].get(sid, {})
        changes = {key: value for key, value in _seen(values[sid]).items() if before.get(key) != value}
        if not changes:
            continue
        changed = True
        tile, tile_memo = board[index]["props"], memo["tiles"][sid]  # once a tile: each [] is a new Patch
        children = tile["children"]
        for key, value in changes.items():
            tile_memo[key] = value
            if key == "class":
                tile["className"] = values[sid][key]
            else:
                slot = TILE_SLOTS[SLOT_INDEX[key]]
                children[SLOT_INDEX[key]]["props"][slot.prop] = values[sid][key]
    return (board, memo) if changed else (no_update, no_update)


def register(app: Dash, store: Store) -> None:
    @app.callback(Output("board", "children"), Output("board-seen", "data"),
                  Input("board-poll", "n_intervals"), State("board-seen", "data"))
    def _poll(_n: int | None, seen: dict[str, Any] | None):
        return poll_board(store, seen, visible=viewer_may_see(store.site))
