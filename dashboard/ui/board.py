"""The nurses' overview: the alarm bar and one tile per open session, refreshed every poll with only what changed.

The board's first child is the alarm bar (every active alarm of the board, highest first), then the tiles.
A tile and a bar item are fixed lists of slots (TILE_SLOTS, BAR_SLOTS). The browser keeps what it was last
sent (`board-seen`); each poll the server recomputes every slot from the status snapshots ingest wrote and
answers with a `Patch` that assigns just the slots whose value differs. The whole board is re-sent only when
the set of open sessions changes, the bar only when its alarms or their states change, so a button a nurse is
about to press stays where it is.

A ward display's board (`ward`, auth/roles.py DISPLAY) is read-only: tiles and bar items link nowhere, carry no
Acknowledge button, and the tile shows the chair, not the patient's label or course (a screen patients can see).

A tile has no trend chart: at 24 chairs a tile is about 230 px tall at 1920x1080 (less on smaller screens), all of it
for the chair, the numerals and the alarm; a chart of the last hour readable there (>= 40 px, its BP limit, its
scale) would take the numerals' room, and a smaller one is decoration. The session page, one click away, has the
chart with its limits (issue 22).

Which sessions a board shows is scope.py's rule; the grid's shape (columns for the number of chairs, numerals
that grow with the tile) is the stylesheet's (assets/style.css, "The board").
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable

from dash import ALL, Dash, Input, Output, Patch, State, ctx, dcc, html, no_update

from ..reports.format import PHASE_LABELS, age, alarm_label, bp_text, minutes, number
from ..store import SessionRow, Store
from . import alarm_view, forms, waiting, workflow
from .course_glance import course_line
from .device_text import rate_class
from .forms import FormError
from .identity import is_display, may_see, signed_in
from .notice import error, ok
from .scope import TEST, Board, is_demo, kind, mark, on_viewers_board


@dataclass(frozen=True, slots=True)
class Slot:
    """One value shown on a tile or bar item: the prop it lives in and how the element is made."""

    name: str
    prop: str
    make: Callable[[str], Any]


def _text(css: str) -> Callable[[str], Any]:
    return lambda value: html.Div(value, className=css)


def _span(css: str) -> Callable[[str], Any]:
    return lambda value: html.Span(value, className=css)


TILE_SLOTS: tuple[Slot, ...] = (
    Slot("chair", "children", _text("tile-chair")),
    Slot("mark", "children", _text("tile-mark")),
    Slot("patient", "children", _text("tile-patient")),
    Slot("phase", "children", _text("tile-phase")),
    Slot("dose", "children", _text("tile-dose")),
    Slot("bp", "children", _text("tile-bp vital")),
    Slot("bp_age", "children", _text("tile-bp-age")),
    Slot("hr", "children", _text("tile-hr vital")),
    Slot("spo2", "children", _text("tile-spo2 vital")),
    Slot("extra", "children", _text("tile-extra")),  # further lines (a patient's course...): empty by default
    Slot("due", "children", _text("tile-due")),
    Slot("paused", "children", _text("tile-paused")),
    Slot("device_alarm", "children", _text("tile-device-alarm")),  # the monitor's own alarm (ORU^R40): its words
    Slot("alarm", "children", _text("tile-alarm")),
)
SLOT_INDEX = {slot.name: index for index, slot in enumerate(TILE_SLOTS)}
BAR_SLOTS: tuple[Slot, ...] = (  # after the marker (0) and the link to the chair (1); the button comes last
    Slot("value", "children", _span("bar-value")),
    Slot("elapsed", "children", _span("bar-elapsed")),
    Slot("state", "children", _span("bar-state")),
)
BAR_FIRST_SLOT = 2
PRIVATE_SLOTS = ("patient", "extra")  # who sits in the chair and their course: never on a ward display


def tile_values(row: SessionRow, wall: float) -> dict[str, str]:
    """Every slot's value (and the tile's class) for one session at wall time `wall`."""
    status = row.status or {}
    now_s = row.session_now(wall)
    phase = status.get("phase", row.phase)
    alarms = status.get("alarms") or []
    top = alarms[0] if alarms else None
    bp = status.get("bp")
    hr, spo2 = status.get("hr"), status.get("spo2")
    dose = status.get("dose_at")
    paused = alarm_view.pause_left(status, now_s, row.speed)
    colours = alarm_view.parameter_priorities(alarms)
    css = ["tile", f"prio-{top['priority']}" if top else "prio-none", alarm_view.state(top) if top else "calm",
           *(f"{name}-{priority}" for name, priority in colours.items()), kind(row), rate_class(hr)]
    if paused is not None:
        css.append("audio-paused")
    return {
        "class": " ".join(css),
        "chair": row.chair,
        "mark": mark(row),
        "patient": row.patient_label,
        "phase": f"{PHASE_LABELS.get(phase, phase)} · {minutes(now_s - (status.get('phase_since') or 0))}",
        "dose": f"dose +{minutes(now_s - dose)}" if dose is not None else "no dose yet",
        "bp": bp_text(bp),
        "bp_age": f"BP mmHg · {age((now_s - bp['offset_s']) / row.speed)}" if bp else "BP mmHg · none yet",
        "hr": number(hr["value"]) if hr else "–",
        "spo2": number(spo2["value"]) if spo2 else "–",
        "extra": course_line(row),  # the patient's course at a glance (course_glance.py)
        "due": _due_text(status.get("due") or {}, now_s),
        "paused": alarm_view.pause_text(paused),
        "device_alarm": device_alarm_text(status.get("device_alarms") or []),
        "alarm": _alarm_text(top, len(alarms), status, now_s),
    }


def device_alarm_text(device_alarms: list[dict[str, Any]]) -> str:
    """The monitor's own top alarm in its words and its grading, marked as the monitor's ('' when none)."""
    if not device_alarms:
        return ""
    top = device_alarms[0]
    more = f" (+{len(device_alarms) - 1} more)" if len(device_alarms) > 1 else ""
    return f"Monitor says: {top['text']} ({top['priority']}){more}"


def _alarm_text(top: dict[str, Any] | None, count: int, status: dict[str, Any], now_s: float) -> str:
    if top is None:
        return "No active alarm"
    state = alarm_view.state_text(top)
    text = alarm_view.describe(top, status, now_s) + (f" · {state}" if state else "")
    return text + (f" (+{count - 1} more)" if count > 1 else "")


def _due_text(due: dict[str, Any], now_s: float) -> str:
    label, at = due.get("label", ""), due.get("at_s")
    if at is None:
        return f"Next: {label}" if label else ""
    left = at - now_s
    return f"Next: {label} in {minutes(left)}" if left > 0 else f"Next: {label} now"


def make_tile(sid: int, values: dict[str, str], ward: bool = False) -> Any:
    children = [slot.make(values[slot.name]) for slot in TILE_SLOTS]
    if ward:  # the same slots, linking nowhere
        return html.Div(children, className=values["class"], id={"type": "tile", "sid": sid})
    return dcc.Link(children, href=f"/session/{sid}", className=values["class"], id={"type": "tile", "sid": sid})


def ward_values(values: dict[str, str]) -> dict[str, str]:
    """A tile's values as a ward display shows them: the private slots empty."""
    return {**values, **{name: "" for name in PRIVATE_SLOTS}}


def _seen(values: dict[str, str]) -> dict[str, Any]:
    return dict(values)


# ---- the alarm bar -----------------------------------------------------------------------------------


def bar_items(rows: list[SessionRow], wall: float) -> list[dict[str, Any]]:
    """Every active alarm of these sessions in the bar's order (alarm_view.bar_order), each with its slots and its
    identity. An item the bar must never hide (an unacknowledged HIGH alarm) carries the class `never-hidden`."""
    found = []
    for row in rows:
        status = row.status or {}
        now_s = row.session_now(wall)
        for alarm in status.get("alarms") or []:
            waiting_s = (now_s - alarm["since_s"]) / (row.speed or 1.0)
            found.append((alarm_view.bar_order(alarm, waiting_s), row.chair, {
                "key": f"{row.id}|{alarm['code']}|{alarm['source']}|{alarm['priority']}|{alarm_view.state(alarm)}",
                "sid": row.id, "alarm": json.dumps([alarm["code"], alarm["source"]]),
                "css": f"bar-item prio-{alarm['priority']} {alarm_view.state(alarm)}"
                       f"{' never-hidden' if alarm_view.never_hidden(alarm) else ''}",
                "label": f"{row.chair} · {alarm_label(alarm['code'])}"
                         f"{' (' + alarm['source'] + ')' if alarm['source'] else ''}",
                "ackable": not alarm.get("acked_by"),
                "value": alarm_view.current_value(alarm, status),
                "elapsed": alarm_view.elapsed(now_s - alarm["since_s"]),
                "state": alarm_view.state_text(alarm),
            }))
    found.sort(key=lambda entry: (entry[0], entry[1]))
    return [item for _, _, item in found]


def _bar_item(item: dict[str, Any], ward: bool = False) -> Any:
    chair = html.Span(item["label"], className="bar-chair") if ward else \
        dcc.Link(item["label"], href=f"/session/{item['sid']}", className="bar-chair")
    children = [html.Span(className="bar-marker", **{"aria-hidden": "true"}), chair]
    children += [slot.make(item[slot.name]) for slot in BAR_SLOTS]
    if item["ackable"] and not ward:
        # its name says which alarm it acknowledges (a screen reader hears many)
        children.append(html.Button("Acknowledge", className="bar-ack",
                                    id={"type": "bar-ack", "sid": item["sid"], "alarm": item["alarm"]},
                                    **{"aria-label": f"Acknowledge {item['label']}"}))
    return html.Div(children, className=item["css"], id={"type": "bar-item", "key": item["key"]})


def alarm_bar(items: list[dict[str, Any]], ward: bool = False) -> Any:
    """The bar: its items in order, then the counter of what does not fit (assets/alarm_bar.js hides the items
    that do not fit, never a `never-hidden` one, and writes the counter: only the browser knows what fits)."""
    more = html.Button(id="alarm-bar-more", className="bar-more", hidden=True, type="button",
                       **{"aria-expanded": "false", "aria-controls": "alarm-bar"})
    calm = [html.Span("No active alarm", className="bar-calm")]
    body = [*(_bar_item(item, ward) for item in items), more] if items else calm
    return html.Div(body, id="alarm-bar", className="alarm-bar" + (" calm" if not items else ""),
                    role="region", **{"aria-label": "active alarms, highest first"})


def _bar_seen(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"keys": [item["key"] for item in items],
            "slots": {item["key"]: {slot.name: item[slot.name] for slot in BAR_SLOTS} for item in items}}


# ---- the page and its poll --------------------------------------------------------------------------


def layout(poll_ms: int, board: Board = "clinical", ward: bool = False, notice: Any = None) -> Any:
    """The board page; `ward`: a ward display's, which has no chairs-without-a-session part (their tiles link to
    the start page) and no message line (it acknowledges nothing); `notice`: a line above the chairs (a
    clinician's REMS forms due)."""
    title = ("Test board: replays and simulated sessions, no real patient. Nothing here sounds or escalates on the "
             "nurses' screens." if board == TEST else "Live chairs")
    return html.Div([
        html.H2(title, className="board-title"),
        *([notice] if notice is not None else []),
        html.Div(id="board", className="board", children=[]),
        *([] if ward else [html.Div(id="board-message", className="form-message board-message", role="status")]),
        dcc.Store(id="board-seen", data={}),
        *([] if ward else waiting.layout()),  # chairs without a session, demo data, devices with no chair (waiting.py)
        dcc.Interval(id="board-poll", interval=poll_ms),
    ], className=f"board-page {board}-board" + (" ward-display" if ward else ""))


def poll_board(store: Store, seen: dict[str, Any] | None, wall: float | None = None,
               visible: Callable[[SessionRow], bool] = lambda row: True, ward: bool = False) -> tuple[Any, Any]:
    """(board children or a Patch, board-seen or a Patch): everything on first sight, else only changes.
    `ward`: a ward display's read-only board (the module's docstring)."""
    wall = time.time() if wall is None else wall
    rows = [row for row in store.open_sessions() if visible(row)]
    values = {str(row.id): tile_values(row, wall) for row in rows}
    if ward:
        values = {sid: ward_values(v) for sid, v in values.items()}
    order = [str(row.id) for row in rows]
    items = bar_items(rows, wall)
    if not seen or seen.get("order") != order:
        start = [] if ward else [dcc.Link("Start a session", href="/start")]
        tiles = [make_tile(row.id, values[str(row.id)], ward) for row in rows] or [
            html.Div(["No chair is in session. ", *start], className="board-empty")]
        return [alarm_bar(items, ward), *tiles], {"order": order, "bar": _bar_seen(items),
                                                 "tiles": {sid: _seen(v) for sid, v in values.items()}}
    board, memo = Patch(), Patch()
    changed = _patch_bar(board, memo, seen.get("bar") or {}, items, ward)
    for index, sid in enumerate(order):
        before = seen["tiles"].get(sid, {})
        changes = {key: value for key, value in _seen(values[sid]).items() if before.get(key) != value}
        if not changes:
            continue
        changed = True
        tile, tile_memo = board[1 + index]["props"], memo["tiles"][sid]  # once a tile: each [] is a new Patch
        children = tile["children"]
        for key, value in changes.items():
            tile_memo[key] = value
            if key == "class":
                tile["className"] = values[sid][key]
            else:
                slot = TILE_SLOTS[SLOT_INDEX[key]]
                children[SLOT_INDEX[key]]["props"][slot.prop] = values[sid][key]
    return (board, memo) if changed else (no_update, no_update)


def _patch_bar(board: Patch, memo: Patch, before: dict[str, Any], items: list[dict[str, Any]],
               ward: bool = False) -> bool:
    """Patch the bar in place: whole when its alarms or their states changed, else just the texts that did."""
    if before.get("keys") != [item["key"] for item in items]:
        board[0] = alarm_bar(items, ward)
        memo["bar"] = _bar_seen(items)
        return True
    changed = False
    for index, item in enumerate(items):
        shown = before["slots"].get(item["key"], {})
        for offset, slot in enumerate(BAR_SLOTS):
            if shown.get(slot.name) != item[slot.name]:
                board[0]["props"]["children"][index]["props"]["children"][BAR_FIRST_SLOT + offset]["props"][
                    slot.prop] = item[slot.name]
                memo["bar"]["slots"][item["key"]][slot.name] = item[slot.name]
                changed = True
    return changed


def acknowledge_from_board(store: Store, sid: int, alarm_json: str, who: str | None) -> Any:
    """The bar's Acknowledge: the same action as on the session page, for whoever may act on that session."""
    row = store.session(sid)
    if row is None or row.ended_at is not None:
        return error("This session has ended: nothing was recorded.")
    if not may_see(row, store.site):  # the guard refused it already (auth/records.py): never reached
        return error("This session is not yours to act on: nothing was recorded.")
    try:
        return ok(f"{row.chair}: {workflow.acknowledge(store, row, forms.who(who), alarm_json)}")
    except FormError as exc:
        return error(str(exc))


def register(app: Dash, store: Store) -> None:
    @app.callback(Output("board", "children"), Output("board-seen", "data"),
                  Input("board-poll", "n_intervals"), State("board-seen", "data"))
    def _poll(_n: int | None, seen: dict[str, Any] | None):
        return poll_board(store, seen, visible=on_viewers_board(is_demo(store.heartbeats()), store.site),
                          ward=is_display())  # the role decides, never the page the browser sends

    @app.callback(Output("board-message", "children"), Input({"type": "bar-ack", "sid": ALL, "alarm": ALL}, "n_clicks"),
                  prevent_initial_call=True)
    def _acknowledge(clicks: list[int | None]) -> Any:
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update
        return acknowledge_from_board(store, int(trigger["sid"]), str(trigger["alarm"]), signed_in())

