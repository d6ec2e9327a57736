"""What every screen carries: the escalation banner and the alarm sound.

One cheap poll reads the open sessions' status snapshots: escalated alarms go
to a banner on every page; the highest audible priority (unacknowledged, chair
not paused) goes to the browser, which plays its pattern (assets/alarm_sound.js).
"""
from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, dcc, html

from ..engine import PRIORITY_RANK
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


def shell_state(rows: list[SessionRow]) -> tuple[Any, dict[str, Any]]:
    """(banner children, {"priority", "key"} of the loudest audible alarm)."""
    escalated, loudest = [], None
    for row in rows:
        for alarm in (row.status or {}).get("alarms") or []:
            if alarm.get("escalated") and not alarm.get("acked_by"):
                escalated.append(dcc.Link(
                    f"{row.chair}: {alarm_label(alarm['code'])} {alarm['value']} since {session_clock(alarm['since_s'])}"
                    " – not acknowledged", href=f"/session/{row.id}", className="escalation-link"))
            if alarm.get("audible") and (loudest is None or PRIORITY_RANK[alarm["priority"]] > PRIORITY_RANK[loudest[0]]):
                loudest = (alarm["priority"], f"{row.id}:{alarm['code']}:{alarm['source']}:{alarm['since_s']}")
    banner = html.Div([html.Strong("ESCALATED "), *escalated], className="escalation-banner") if escalated else None
    return banner, ({"priority": loudest[0], "key": loudest[1]} if loudest else {})


def register(app: Dash, store: Store) -> None:
    @app.callback(Output("escalation-banner", "children"), Output("alarm-sound", "data"),
                  Input("shell-poll", "n_intervals"))
    def _poll(_n: int | None):
        return shell_state([row for row in store.open_sessions() if may_see(row)])

    app.clientside_callback(ClientsideFunction(namespace="alarms", function_name="sound"),
                            Output("alarm-sound-playing", "children"), Input("alarm-sound", "data"),
                            Input("shell-poll", "n_intervals"))
