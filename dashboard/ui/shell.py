"""What every screen carries: the escalation banner and the alarm sound.

One cheap poll reads the open sessions' status snapshots: escalated alarms go
to a banner on every page; the highest audible priority (unacknowledged, chair
not paused) goes to the browser, which plays its pattern (assets/alarm_sound.js).
"""
from __future__ import annotations

import time
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, dcc, html

from ..engine import PRIORITY_RANK
from ..ingest import NOT_WRITING_AFTER_S
from ..store import SessionRow, Store
from .format import alarm_label, session_clock
from .identity import may_see


def layout(poll_ms: int) -> list[Any]:
    return [
        html.Div(id="escalation-banner", role="alert"),
        dcc.Store(id="alarm-sound"),
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
                now: float | None = None) -> tuple[Any, dict[str, Any]]:
    """(banner children, {"priority", "key"} of the loudest audible alarm)."""
    warning = storage_warning(heartbeats, time.time() if now is None else now) if heartbeats is not None else ""
    escalated, loudest = [], None
    for row in rows:
        for alarm in (row.status or {}).get("alarms") or []:
            if alarm.get("escalated") and not alarm.get("acked_by"):
                escalated.append(dcc.Link(
                    f"{row.chair}: {alarm_label(alarm['code'])} {alarm['value']} since {session_clock(alarm['since_s'])}"
                    " – not acknowledged", href=f"/session/{row.id}", className="escalation-link"))
            if alarm.get("audible") and (loudest is None or PRIORITY_RANK[alarm["priority"]] > PRIORITY_RANK[loudest[0]]):
                loudest = (alarm["priority"], f"{row.id}:{alarm['code']}:{alarm['source']}:{alarm['since_s']}")
    banner = [html.Div(warning, className="storage-banner", id="storage-warning")] if warning else []
    if escalated:
        banner.append(html.Div([html.Strong("ESCALATED "), *escalated], className="escalation-banner"))
    if warning and loudest is None:
        loudest = ("medium", "storage")  # a technical alarm: it sounds like one
    return banner or None, ({"priority": loudest[0], "key": loudest[1]} if loudest else {})


def register(app: Dash, store: Store) -> None:
    @app.callback(Output("escalation-banner", "children"), Output("alarm-sound", "data"),
                  Input("shell-poll", "n_intervals"))
    def _poll(_n: int | None):
        return shell_state([row for row in store.open_sessions() if may_see(row, store.site)], store.heartbeats())

    app.clientside_callback(ClientsideFunction(namespace="alarms", function_name="sound"),
                            Output("alarm-sound-playing", "children"), Input("alarm-sound", "data"),
                            Input("shell-poll", "n_intervals"))
