"""What every screen carries: the demo, storage and escalation banners, the alarm sound and its sound-off bar.

One cheap poll reads the open sessions' status snapshots and the ingest heartbeats. Escalated alarms of the
viewer's board go to a banner on every page; the highest audible priority of that board (unacknowledged, chair
not paused) goes to the browser, which plays its pattern (assets/alarm_sound.js). Which sessions are the
viewer's board is scope.py's rule: a nurse never hears or sees escalated a tester's replay. The admin gets the
banners about the system (demo, data not stored) and no patient's alarm.
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Callable

from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update
from plotly.utils import PlotlyJSONEncoder

from ..engine import PRIORITY_RANK
from ..reports.format import alarm_label
from ..service.ingest import NOT_WRITING_AFTER_S
from ..store import SessionRow, Store
from . import alarm_view
from .identity import is_display, role
from .scope import is_demo, mark, on_viewers_board

DEMO_TEXT = ("DEMO / TRAINING: this server runs the simulated clinic. Chairs marked SIMULATED are not patients; "
             "their alarms sound here for practice.")


def layout(poll_ms: int, sound: bool = True) -> list[Any]:
    """The shell's parts; `sound`: this role hears alarms, so the page watches that the browser lets it."""
    bar = [html.Div([
        html.Strong("ALARM SOUND IS OFF on this screen. "),
        html.Span("The browser keeps sound off until someone touches the page. "),
        html.Button("Turn alarm sound on", id="sound-on", className="sound-on"),
    ], id="sound-off", className="sound-off-bar", role="alert", hidden=True)] if sound else []
    return [
        *bar,
        html.Div(id="escalation-banner", role="alert"),
        dcc.Store(id="alarm-sound"),
        dcc.Store(id="shell-seen"),  # what the banner and sound were last sent as: unchanged, nothing is sent
        html.Span(id="alarm-sound-playing", className="sound-state", title="audible alarm priority"),
        dcc.Interval(id="shell-poll", interval=poll_ms),
    ]


def storage_warning(heartbeats: list[dict[str, Any]], now: float) -> str:
    """A technical alarm for every screen when no ingest has committed lately: readings are not being stored."""
    if not heartbeats:
        return "NO DATA STORED: no ingest is running, so device readings are not being recorded."
    latest = max(heartbeats, key=lambda h: h["at"])
    silent = now - latest["at"]
    if silent <= NOT_WRITING_AFTER_S:
        return ""
    return (f"DATA NOT STORED: the database has not been written for {silent:.0f} s "
            f"({latest['buffered']} readings held in memory). Check the ingest service and the disk.")


def shell_state(rows: list[SessionRow], heartbeats: list[dict[str, Any]] | None = None,
                now: float | None = None, demo: bool = False, links: bool = True) -> tuple[Any, dict[str, Any]]:
    """(banner children, {"priority", "key"} of the loudest audible alarm) for the sessions of a viewer's board;
    `links`: each escalation links to its session (not on a ward display, which opens none)."""
    now = time.time() if now is None else now
    warning = storage_warning(heartbeats, now) if heartbeats is not None else ""
    escalated, loudest = [], None
    for row in rows:
        status = row.status or {}
        for alarm in status.get("alarms") or []:
            if alarm.get("escalated") and not alarm.get("acked_by"):
                escalated.append(_escalation(row, alarm, now, links))
            if alarm.get("audible") and (loudest is None or PRIORITY_RANK[alarm["priority"]] > PRIORITY_RANK[loudest[0]]):
                loudest = (alarm["priority"], f"{row.id}:{alarm['code']}:{alarm['source']}:{alarm['since_s']}")
    banner = [html.Div(DEMO_TEXT, className="demo-banner", id="demo-banner")] if demo else []
    if warning:
        banner.append(html.Div(warning, className="storage-banner", id="storage-warning"))
    if escalated:
        banner.append(html.Div([html.Span(className="banner-marker", **{"aria-hidden": "true"}),
                                html.Strong("ESCALATED "), *escalated], className="escalation-banner"))
    if warning and loudest is None:
        loudest = ("medium", "storage")  # a technical alarm: it sounds like one
    return banner or None, ({"priority": loudest[0], "key": loudest[1]} if loudest else {})


def _escalation(row: SessionRow, alarm: dict[str, Any], now: float, link: bool = True) -> Any:
    status = row.status or {}
    tag = f"[{mark(row)}] " if mark(row) else ""
    value = alarm_view.current_value(alarm, status)
    text = (f"{tag}{row.chair}: {alarm_label(alarm['code'])} {value}, "
            f"{alarm_view.elapsed(row.session_now(now) - alarm['since_s'])} – not acknowledged")
    if not link:
        return html.Span(text, className="escalation-link")
    return dcc.Link(text, href=f"/session/{row.id}", className="escalation-link")


def _watched(store: Store, demo: bool) -> list[SessionRow]:
    """The open sessions whose alarms this viewer hears and sees escalated: none for the admin."""
    if role() == "admin":
        return []
    mine: Callable[[SessionRow], bool] = on_viewers_board(demo, store.site)
    return [row for row in store.open_sessions() if mine(row)]


def register(app: Dash, store: Store) -> None:
    @app.callback(Output("escalation-banner", "children"), Output("alarm-sound", "data"), Output("shell-seen", "data"),
                  Input("shell-poll", "n_intervals"), State("shell-seen", "data"))
    def _poll(_n: int | None, seen: str | None):
        heartbeats = store.heartbeats()
        demo = is_demo(heartbeats)
        banner, sound = shell_state(_watched(store, demo), heartbeats, demo=demo, links=not is_display())
        key = hashlib.sha1(json.dumps([banner, sound], cls=PlotlyJSONEncoder, sort_keys=True).encode()).hexdigest()
        if key == seen:  # a redrawn banner reflows the whole page: send it only when it changed
            return no_update, no_update, no_update
        return banner, sound, key

    app.clientside_callback(ClientsideFunction(namespace="alarms", function_name="sound"),
                            Output("alarm-sound-playing", "children"), Input("alarm-sound", "data"),
                            Input("shell-poll", "n_intervals"))
