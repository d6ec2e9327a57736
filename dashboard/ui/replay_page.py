"""The testers' replay page: pick a scenario, a chair and a speed; start, pause, resume, stop.

The page only writes the request to the store; the ingest process's ReplayDriver paces the feed into the chair's
session, which shows on the test board (never on the nurses' board). A stopped or finished replay ends its
session. Start, pause, resume and stop are audited with who did them.

The controls stay under the tester's finger: the poll sets the cells that changed (state, session time, items
sent, which buttons show) each by its own id, and redraws the table only when a replay is added; the buttons act
through a callback of their own, each naming what it does (a Pause pressed just as the replay finished pauses
nothing). The poll never patches the table's children: Dash takes a changed subtree for new components and runs
their pattern-matched click callback again with the clicks they already had, so the Pause pressed before a Resume
was pressed again, in the tester's name, at the next poll.

Where a replay may go is the rule of service/test_chairs.py: never onto a chair a real device fed lately or with an
open session; the refusal says which device sent what, when, and which test chair is free instead.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from ..engine import Config
from ..reports.format import session_clock
from ..service.replay import load_items, open_replay_session
from ..service.speeds import SPEEDS
from ..service.test_chairs import ChairRule
from ..store import Store
from . import forms
from .controls import choice_group
from .forms import FormError
from .identity import audit, signed_in
from .notice import error, ok

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
SPEED_OPTIONS = [{"label": "1×", "value": "1"}, {"label": "10×", "value": "10"}, {"label": "60×", "value": "60"},
                 {"label": "as fast as possible", "value": "max"}]
SHOWN = 20  # the newest replays
CONTROLS = {"pause": ("Pause", "running", "paused"), "resume": ("Resume", "paused", "running"),
            "stop": ("Stop", None, "stopped")}  # action: (label, the state it acts from (None: any active), to)
ACTIVE = ("running", "paused")
CELLS = ("state", "position", "sent")  # the cells a poll sets, after chair, scenario and speed


def scenario_files() -> dict[str, Path]:
    """Every shipped feed a tester can replay, by a readable name."""
    feeds = sorted(p for p in SAMPLE_DATA.glob("*/*.csv") if p.parent.name in ("feeds", "scenarios")
                   and not p.name.endswith(".actions.csv"))
    return {f"{p.parent.name}/{p.stem}": p for p in feeds}


def layout(poll_ms: int) -> Any:
    return html.Div([
        html.H2("Replay a scenario"),
        html.P("Replays run on the test board, marked REPLAY: never on the nurses' board or in their sound.",
               className="session-meta"),
        html.Div([
            dcc.Dropdown(id="rp-scenario", options=list(scenario_files()), placeholder="scenario", className="moaas"),
            html.Label(["Chair ", dcc.Input(id="rp-chair", value="Replay 1", maxLength=40)]),
            choice_group("Speed", dcc.RadioItems(id="rp-speed", options=SPEED_OPTIONS, value="60", inline=True),
                         spoken_only=True),
            html.Button("Start", id="rp-start", className="act"),
        ], className="act-row"),
        html.Div(id="rp-message", className="form-message", role="status"),
        html.Div(id="rp-control-message", className="form-message", role="status"),
        html.Div(id="rp-table"),
        dcc.Store(id="rp-seen", data={}), dcc.Store(id="rp-cells-seen", data={}),
        dcc.Interval(id="rp-poll", interval=poll_ms),
    ])


def speed_of(speed: str | None) -> float | None:
    """Session seconds per wall second for a choice on the page (None: as fast as possible); FormError for
    anything else (the value comes from the browser: 'nan', '-1' or '1e308' are refused, not stored)."""
    if speed not in SPEEDS:
        raise FormError("Choose a speed: 1×, 10×, 60× or as fast as possible.")
    return SPEEDS[speed]


def start_replay(store: Store, who: str | None, scenario: str | None, chair: str | None, speed: str | None,
                 rule: ChairRule | None = None) -> int:
    """Open the replay's session and ask the driver to run it; FormError with why not (a real chair: which device
    sent what, when, and a free test chair instead)."""
    tester = forms.who(who)
    feed = scenario_files().get(scenario or "")
    if feed is None:
        raise FormError("Choose a scenario to replay.")
    chair_text = (chair or "").strip()
    if not chair_text or len(chair_text) > 40:
        raise FormError("Name the chair (at most 40 characters).")
    rate = speed_of(speed)
    try:
        sid = open_replay_session(store, load_items(feed), chair_text, f"Replay {feed.stem}", rate, rule)
    except ValueError as exc:
        raise FormError(str(exc)) from None
    try:
        store.create_replay(sid, str(feed), rate, tester)
    except Exception:  # no driver will run it: its session must not stay open
        store.abandon_replay(sid, "the replay could not be started")
        raise
    audit(store, tester, "replay_start", f"{scenario} on {chair_text} at {speed}", sid)
    return sid


def control_replay(store: Store, who: str | None, replay_id: Any, action: Any) -> str:
    """Pause, resume or stop one replay, if it is in a state that allows it; audited. Returns what happened."""
    tester = forms.who(who)
    if action not in CONTROLS:
        raise FormError("Unknown replay control: nothing was changed.")
    label, from_state, to_state = CONTROLS[action]
    current = next((r for r in store.replays() if r["id"] == replay_id), None)
    if current is None or current["state"] not in ACTIVE or (from_state and current["state"] != from_state):
        state = current["state"] if current else "gone"
        raise FormError(f"{label}: the replay is {state} now, so nothing was changed.")
    store.update_replay(current["id"], state=to_state)
    session = store.session(current["session_id"])
    chair = session.chair if session else "?"
    audit(store, tester, f"replay_{action}", f"{Path(current['feed']).stem} on {chair} at "
          f"{session_clock(current['position_s'])}", current["session_id"])
    return f"{label}: the replay on {chair}" + (" stops and its session ends." if action == "stop" else ".")


# ---- the table ----------------------------------------------------------------------------------------


def _row_values(replay: dict[str, Any]) -> dict[str, str]:
    return {"state": replay["state"], "position": session_clock(replay["position_s"]), "sent": str(replay["sent"])}


def _row(replay: dict[str, Any], chair: str) -> Any:
    values = _row_values(replay)
    buttons = [html.Button(label, id={"type": "rp-control", "action": action, "index": replay["id"]},
                           hidden=not _shows(action, replay["state"]), className=f"rp-{action}")
               for action, (label, _, _) in CONTROLS.items()]
    cells = [html.Td(values[name], id=_cell_id(name, replay["id"]), className=_cell_class(name, replay["state"]))
             for name in CELLS]
    return html.Tr([
        html.Td(dcc.Link(chair, href=f"/session/{replay['session_id']}")), html.Td(Path(replay["feed"]).stem),
        html.Td("max" if replay["speed"] is None else f"{replay['speed']:g}×"), *cells, html.Td(buttons),
    ], id={"type": "rp-row", "index": replay["id"]})


def _cell_id(name: str, replay_id: int) -> dict[str, Any]:
    return {"type": "rp-cell", "name": name, "index": replay_id}


def _cell_class(name: str, state: str) -> str:
    return f"replay-{state}" if name == "state" else ""


def _shows(action: str, state: str) -> bool:
    from_state = CONTROLS[action][1]
    return state in ACTIVE and (from_state is None or from_state == state)


def replay_table(store: Store, replays: list[dict[str, Any]]) -> Any:
    if not replays:
        return html.P("No replay yet.")
    rows = []
    for replay in replays:
        session = store.session(replay["session_id"])
        rows.append(_row(replay, session.chair if session else "?"))
    head = html.Thead(html.Tr([html.Th(h) for h in ("Chair", "Scenario", "Speed", "State", "Session time", "Sent",
                                                     "")]))
    return html.Table([head, html.Tbody(rows)], className="sessions-table replays")


def poll_replays(store: Store, seen: dict[str, Any] | None) -> tuple[Any, Any]:
    """(the table, or no_update when the same replays show; what the browser now shows). Only a new replay redraws
    it: cells change through `poll_cells`, by their own ids."""
    replays = store.replays()[:SHOWN]
    ids = [replay["id"] for replay in replays]
    if seen and seen.get("ids") == ids:
        return no_update, no_update
    return replay_table(store, replays), {"ids": ids}


def poll_cells(store: Store, cells: list[dict[str, Any]], buttons: list[dict[str, Any]],
               seen: dict[str, Any] | None) -> tuple[Any, Any, Any, Any]:
    """(each cell's text, each cell's class, each button's hidden, what they now show) for the cells and buttons
    the page holds (their ids, in the page's order); all no_update when nothing changed."""
    replays = {replay["id"]: replay for replay in store.replays()[:SHOWN]}
    texts, classes, hidden = [], [], []
    for cell in cells:
        replay = replays.get(cell["index"])
        texts.append(_row_values(replay)[cell["name"]] if replay else no_update)
        classes.append(_cell_class(cell["name"], replay["state"]) if replay else no_update)
    for button in buttons:
        replay = replays.get(button["index"])
        hidden.append(not _shows(button["action"], replay["state"]) if replay else no_update)
    shown = {"texts": [t for t in texts if t is not no_update], "classes": [c for c in classes if c is not no_update],
             "hidden": [h for h in hidden if h is not no_update],
             "ids": [c["index"] for c in cells] + [b["index"] for b in buttons]}
    if shown == (seen or {}):  # a wildcard output takes a list: one no_update per component
        return [no_update] * len(cells), [no_update] * len(cells), [no_update] * len(buttons), no_update
    return texts, classes, hidden, shown


def register(app: Dash, store: Store, config: Config) -> None:
    rule = ChairRule.for_config(store, config)

    @app.callback(Output("rp-message", "children"), Input("rp-start", "n_clicks"),
                  State("rp-scenario", "value"), State("rp-chair", "value"), State("rp-speed", "value"),
                  prevent_initial_call=True)
    def _start(clicks: int | None, scenario: str | None, chair: str | None, speed: str | None):
        if not clicks:
            return no_update
        try:
            sid = start_replay(store, signed_in(), scenario, chair, speed, rule)
        except FormError as exc:
            return error(str(exc))
        return ok(f"Replaying on session {sid}: it shows on the test board.")

    @app.callback(Output("rp-table", "children"), Output("rp-seen", "data"), Input("rp-poll", "n_intervals"),
                  State("rp-seen", "data"))
    def _table(_n: int | None, seen: dict[str, Any] | None):
        return poll_replays(store, seen)

    cell = {"type": "rp-cell", "name": ALL, "index": ALL}
    button = {"type": "rp-control", "action": ALL, "index": ALL}

    @app.callback(Output(cell, "children"), Output(cell, "className"), Output(button, "hidden"),
                  Output("rp-cells-seen", "data"), Input("rp-poll", "n_intervals"), State("rp-cells-seen", "data"))
    def _cells(_n: int | None, seen: dict[str, Any] | None):
        return poll_cells(store, [o["id"] for o in ctx.outputs_list[0]], [o["id"] for o in ctx.outputs_list[2]], seen)

    @app.callback(Output("rp-control-message", "children"),
                  Input({"type": "rp-control", "action": ALL, "index": ALL}, "n_clicks"), prevent_initial_call=True)
    def _control(_clicks: list[int | None]):
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update
        try:
            return ok(control_replay(store, signed_in(), trigger.get("index"), trigger.get("action")))
        except FormError as exc:
            return error(str(exc))
