"""The testers' replay page: pick a scenario, a chair and a speed; start, pause, resume, stop.

The page only writes the request to the store; the main process's ReplayDriver paces the feed into the
chair's session, which then shows on the board like a live one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from ..replay import load_items, open_replay_session
from ..store import Store
from . import forms
from .forms import FormError
from .identity import signed_in
from .format import session_clock

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
SPEEDS = [{"label": "1×", "value": "1"}, {"label": "10×", "value": "10"}, {"label": "60×", "value": "60"},
          {"label": "as fast as possible", "value": "max"}]


def scenario_files() -> dict[str, Path]:
    """Every shipped feed a tester can replay, by a readable name."""
    feeds = sorted(p for p in SAMPLE_DATA.glob("*/*.csv") if p.parent.name in ("feeds", "scenarios")
                   and not p.name.endswith(".actions.csv"))
    return {f"{p.parent.name}/{p.stem}": p for p in feeds}


def layout(poll_ms: int) -> Any:
    return html.Div([
        html.H2("Replay a scenario"),
        html.Div([
            dcc.Dropdown(id="rp-scenario", options=list(scenario_files()), placeholder="scenario", className="moaas"),
            dcc.Input(id="rp-chair", value="Replay 1", maxLength=40),
            dcc.RadioItems(id="rp-speed", options=SPEEDS, value="60", inline=True),
            html.Button("Start", id="rp-start", className="act"),
        ], className="act-row"),
        html.Div(id="rp-message", className="form-message", role="status"),
        html.Div(id="rp-table"),
        dcc.Interval(id="rp-poll", interval=poll_ms),
    ])


def start_replay(store: Store, who: str | None, scenario: str | None, chair: str | None, speed: str | None) -> int:
    tester = forms.who(who)
    feed = scenario_files().get(scenario or "")
    if feed is None:
        raise FormError("Choose a scenario to replay.")
    chair_text = (chair or "").strip()
    if not chair_text or len(chair_text) > 40:
        raise FormError("Name the chair (at most 40 characters).")
    rate = None if speed == "max" else float(speed or "60")
    try:
        sid = open_replay_session(store, load_items(feed), chair_text, f"Replay {feed.stem}", rate)
    except ValueError as exc:
        raise FormError(str(exc)) from None
    store.create_replay(sid, str(feed), rate, tester)
    return sid


def replay_table(store: Store) -> Any:
    rows = []
    for replay in store.replays()[:20]:
        session = store.session(replay["session_id"])
        controls = []
        if replay["state"] in ("running", "paused"):
            label = "Resume" if replay["state"] == "paused" else "Pause"
            controls = [html.Button(label, id={"type": "rp-toggle", "index": replay["id"]}),
                        html.Button("Stop", id={"type": "rp-stop", "index": replay["id"]})]
        rows.append(html.Tr([
            html.Td(dcc.Link(session.chair if session else "?", href=f"/session/{replay['session_id']}")),
            html.Td(Path(replay["feed"]).stem), html.Td("max" if replay["speed"] is None else f"{replay['speed']:g}×"),
            html.Td(replay["state"], className=f"replay-{replay['state']}"), html.Td(session_clock(replay["position_s"])),
            html.Td(str(replay["sent"])), html.Td(controls),
        ]))
    if not rows:
        return html.P("No replay yet.")
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in ("Chair", "Scenario", "Speed", "State",
                                                                 "Session time", "Sent", "")])),
                       html.Tbody(rows)], className="sessions-table replays")


def register(app: Dash, store: Store) -> None:
    @app.callback(Output("rp-message", "children"), Input("rp-start", "n_clicks"),
                  State("rp-scenario", "value"), State("rp-chair", "value"), State("rp-speed", "value"),
                  prevent_initial_call=True)
    def _start(clicks: int | None, scenario: str | None, chair: str | None, speed: str | None):
        if not clicks:
            return no_update
        try:
            sid = start_replay(store, signed_in(), scenario, chair, speed)
        except FormError as exc:
            return str(exc)
        return f"Replaying on session {sid}."

    @app.callback(Output("rp-table", "children"), Input("rp-poll", "n_intervals"),
                  Input({"type": "rp-toggle", "index": ALL}, "n_clicks"),
                  Input({"type": "rp-stop", "index": ALL}, "n_clicks"))
    def _table(_n: int | None, _toggles: list, _stops: list):
        trigger = ctx.triggered_id
        if isinstance(trigger, dict) and ctx.triggered[0]["value"]:
            current = next((r for r in store.replays() if r["id"] == trigger["index"]), None)
            if current is not None and current["state"] in ("running", "paused"):
                new = "stopped" if trigger["type"] == "rp-stop" else (
                    "running" if current["state"] == "paused" else "paused")
                store.update_replay(current["id"], state=new)
        return replay_table(store)
