"""One session: alarms with Acknowledge, clocks and discharge criteria, the chart, actions and the log.

Live (`/session/<id>`) the page polls: new readings are appended to the chart
with `extendData`; the figure is re-sent only when an alarm transition or an
event adds a marker; the other panels are redrawn only when what they show
changed. The review (`/review/<id>`) shows the same parts without polling or
actions.

What a nurse needs first comes first (issue 22: a link in an alarm message opens on a cold phone): the live
page is drawn without its figure (building and sending it took most of the page's time and bytes) and the
chart's library loads once the alarms are drawn (assets/preload_charts.js); the figure then comes by a
callback of its own, once (`chart_now`), never by the poll: a poll whose answer takes longer than its interval is
dropped by Dash (plotly/dash#941), and a whole figure can, on a busy server. Until it has come the state says so
(`marks` None) and the poll leaves the chart and the state to it.
"""
from __future__ import annotations

from functools import cached_property
from typing import Any, Mapping

from dash import Dash, Input, Output, State, dcc, html, no_update

from ..engine import Config
from ..reports.charts.figures import SESSION_HEIGHT, extend_payload, open_phase, session_figure
from ..reports.charts.marks import limit_lines
from ..reports.charts.review import clock_axis
from ..reports.patient_course import first_treatment
from ..reports.rems import spo2_bounds
from ..store import SessionRow, Store
from ..store.review_queries import spo2_overview
from . import checklist, panels, workflow


class SessionView:
    """What the page shows of one session, read from the store once per redraw."""

    def __init__(self, store: Store, row: SessionRow, config: Config) -> None:
        self.store, self.row, self.config = store, row, config
        self.transitions = store.alarms_of(row.id)
        self.events = store.events_of(row.id)

    @cached_property
    def readings(self) -> list[dict[str, Any]]:
        """Every reading: only for a full figure (a live poll reads just the new ones)."""
        return self.store.readings_after(self.row.id)

    @cached_property
    def bp_readings(self) -> list[dict[str, Any]]:
        return self.store.readings_after(self.row.id, bp_only=True)

    @cached_property
    def spo2(self) -> dict[str, Any] | None:
        """What the REMS form reads of the SpO2 (esketamine), counted by the store: read at every poll."""
        if not self.row.protocol.startswith("esketamine"):
            return None
        return spo2_overview(self.store, self.row.id, *spo2_bounds(self.config))

    @cached_property
    def first_treatment(self) -> bool | None:
        """For the REMS form: read only for an esketamine session."""
        return first_treatment(self.store, self.row) if self.row.protocol.startswith("esketamine") else None

    def figure(self) -> Any:
        return session_figure(self.readings, self.transitions, self.events, self.row.status or {},
                              self.row.session_now(), limit_lines(self.config, self.row.protocol),
                              live=self.row.ended_at is None, axis=clock_axis(self.row))

    def marks(self) -> int:
        """What a full redraw of the chart depends on beyond the readings: markers, log lines, phase changes."""
        return len(self.transitions) + len(self.events) + len((self.row.status or {}).get("phases") or [])

    def status_panel(self) -> Any:
        return html.Div([
            html.Div([html.H4("Clocks"), html.Ul(panels.countdowns(self.row, self.config), className="clocks")],
                     className="clocks-box"),
            panels.readiness_checklist(self.row),
            panels.rems_table(self.row, self.bp_readings, self.events, self.config, self.first_treatment, self.spo2),
        ], className="status-panel")

    def log(self) -> Any:
        return panels.log_table(self.row, self.bp_readings + self.store.spot_checks(self.row.id), self.transitions,
                                self.events, self.store.reading_summary(self.row.id))

    def first_state(self) -> dict[str, Any]:
        """A live page's state before its chart comes (`chart_now`): no figure drawn, no reading in it."""
        return {"sid": self.row.id, "rev": self.row.rev, "last_id": 0, "marks": None,
                "alarms": panels.alarm_key(self.row)}

    def state(self, last_id: int | None = None) -> dict[str, Any]:
        return {"sid": self.row.id, "rev": self.row.rev,
                "last_id": max((r["id"] for r in self.readings), default=0) if last_id is None else last_id,
                "marks": self.marks(), "alarms": panels.alarm_key(self.row)}


# What a live page's chart shows until `chart_now` brings the figure (the page's height kept).
CHART_COMING = {"data": [], "layout": {
    "height": SESSION_HEIGHT, "xaxis": {"visible": False}, "yaxis": {"visible": False}, "template": "plotly_white",
    "annotations": [{"text": "Loading the chart…", "showarrow": False, "xref": "paper", "yref": "paper",
                     "x": 0.5, "y": 0.5, "font": {"size": 16}}]}}


def layout(store: Store, config: Config, sid: int, poll_ms: int, live: bool) -> Any:
    row = store.session(sid)
    if row is None:
        return html.Div([html.H2("Session not found"), html.P(f"There is no session {sid}."),
                         dcc.Link("Back to the chairs", href="/")], className="not-found")
    view = SessionView(store, row, config)
    live = live and row.ended_at is None
    figure, state = (CHART_COMING, view.first_state()) if live else (view.figure(), view.state())
    return html.Div([
        html.Div(panels.header(row), id="session-header"),
        html.Div([
            html.Div([html.H3("Active alarms"), html.Div(panels.alarm_panel(row, live), id="session-alarms"),
                      html.Div(id="ack-message", className="form-message", role="status")], className="alarms-col"),
            html.Div(view.status_panel(), id="session-status", className="status-col"),
        ], className="session-top"),
        html.Div(dcc.Graph(id="session-chart", figure=figure, config={"displaylogo": False}), className="chart-slot"),
        checklist.panel(store, row, config) if live else html.Div(),
        workflow.panel(row) if live else html.Div(),
        html.H3("Session log"),
        html.Div(view.log(), id="session-log"),
        dcc.Store(id="session-state", data=state),
        dcc.Store(id="session-chart-wanted", data=live),
        dcc.Interval(id="session-poll", interval=poll_ms, disabled=not live),
    ], className="session-page")


def poll_session(store: Store, config: Config, state: Mapping[str, Any]) -> tuple[Any, ...]:
    """(extendData, figure, header, alarms, status, log, state): no_update wherever nothing changed."""
    row = store.session(state["sid"])
    if row is None:
        return (no_update,) * 7
    head = panels.header(row)
    if row.rev == state["rev"] or state["marks"] is None:  # unchanged, or the figure still on its way
        return no_update, no_update, head, no_update, no_update, no_update, no_update
    view = SessionView(store, row, config)
    alarm_changed = panels.alarm_key(row) != state["alarms"]
    alarms = panels.alarm_panel(row, row.ended_at is None) if alarm_changed else no_update
    if view.marks() != state["marks"]:  # a new marker, log line or phase: full redraw
        return no_update, view.figure(), head, alarms, view.status_panel(), view.log(), view.state()
    fresh = store.readings_after(row.id, state["last_id"])
    new_state = view.state(last_id=max((r["id"] for r in fresh), default=state["last_id"]))
    now_s = row.session_now()
    under_way = open_phase(row.status or {}, now_s)
    extend = extend_payload(fresh, now_s if under_way else None, clock_axis(row))
    log = view.log() if any(r.get("sbp") is not None or r.get("provenance") == "manual" for r in fresh) else no_update
    return extend or no_update, no_update, head, alarms, view.status_panel(), log, new_state


def chart_now(store: Store, config: Config, state: Mapping[str, Any]) -> tuple[Any, Any]:
    """(figure, state): a live page's whole chart, once, after the page was drawn without it."""
    row = store.session(state["sid"])
    if row is None or state["marks"] is not None:
        return no_update, no_update
    view = SessionView(store, row, config)
    return view.figure(), view.state()


def register(app: Dash, store: Store, config: Config) -> None:
    @app.callback(Output("session-chart", "figure", allow_duplicate=True),
                  Output("session-state", "data", allow_duplicate=True),
                  Input("session-chart-wanted", "data"), State("session-state", "data"),
                  prevent_initial_call="initial_duplicate")
    def _chart(wanted: bool | None, state: dict[str, Any]):
        return chart_now(store, config, state) if wanted else (no_update, no_update)

    @app.callback(Output("session-chart", "extendData"), Output("session-chart", "figure"),
                  Output("session-header", "children"), Output("session-alarms", "children"),
                  Output("session-status", "children"), Output("session-log", "children"),
                  Output("session-state", "data"),
                  Input("session-poll", "n_intervals"), State("session-state", "data"), prevent_initial_call=True)
    def _poll(_n: int | None, state: dict[str, Any]):
        return poll_session(store, config, state)

    workflow.register(app, store, config)
