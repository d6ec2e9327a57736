"""The Devices page: associate a device that sends with no chair (no location, no patient, no mapping in devices.toml)
with a chair, as central stations and EHR device integrations do, or end an association. Each is audited.

A nurse sees each unassociated device's identity (EUI-64, serial number or sender), its latest values and when it
last sent. Associating places its new readings on the chair, and its readings from the pre-session window with them
(ingest does it within a couple of seconds: docs/placement.md).
"""
from __future__ import annotations

import time
from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from ..auth.web import client_address
from ..engine import Config
from ..reports.format import age, wall_clock
from ..store import Store, device_data
from ..store.device_data import UNPLACED, AssociationError
from .device_text import values_line
from .identity import role, signed_in
from .waiting import changed_only

SHOWN_FOR_S = 24 * 3600.0  # devices heard from within a day are listed


def layout(config: Config, poll_ms: int) -> Any:
    window = config.value("baseline.pre_session_window")
    return html.Div([
        html.H2("Devices"),
        html.P("Monitors that send readings without a location or patient the monitor knows wait here. Associate one "
               f"with a chair: its new readings go to that chair, and its readings from the last {window:g} min go "
               "with them (they join the chair's session as readings from before it, when it has one)."),
        html.Div(id="assoc-list"),
        html.H3("Associate a device with a chair"),
        html.Div([dcc.Dropdown(id="assoc-device", placeholder="device", className="moaas"),
                  dcc.Input(id="assoc-chair", placeholder="chair, e.g. Chair 5", maxLength=40, list="assoc-chairs"),
                  html.Datalist(id="assoc-chairs"),
                  html.Button("Associate", id="assoc-go", className="act")], className="act-row"),
        html.H3("End an association"),
        html.Div([dcc.Dropdown(id="assoc-ended-device", placeholder="associated device", className="moaas"),
                  html.Button("End association", id="assoc-end", className="act")], className="act-row"),
        html.Div(id="assoc-message", className="form-message", role="status"),
        dcc.Interval(id="assoc-poll", interval=poll_ms), dcc.Store(id="assoc-seen", data={}),
    ])


def device_lists(store: Store, wall: float) -> tuple[Any, list[dict[str, str]], list[dict[str, str]], list[Any]]:
    """(the tables, unassociated device options, associated device options, chair suggestions)."""
    statuses = device_data.statuses(store.engine, store.site, since=wall - SHOWN_FOR_S)
    associated = device_data.associations(store.engine, store.site)
    unplaced = [s for s in statuses if s["chair"] == UNPLACED and s["device_id"] not in associated]
    latest = {s["device_id"]: s for s in statuses if s["device_id"] in associated}
    table = [html.H3("Sending with no chair")]
    if unplaced:
        table.append(_table(("Device", "Latest values", "Last sent", "Sending since", "Readings"), [
            (s["device_id"] + (" (demo mode)" if s["demo"] else ""), values_line(s["latest"], wall),
             age(wall - s["last_at"]), wall_clock(s["first_at"]), str(s["readings"])) for s in unplaced],
            "assoc-unplaced"))
    else:
        table.append(html.P("No device is sending without a chair.", id="assoc-none"))
    if associated:
        table += [html.H3("Associated by a nurse"), _table(("Device", "Chair", "By", "Since", "Latest values"), [
            (device, a["chair"], a["who"], wall_clock(a["at"]),
             values_line(latest[device]["latest"], wall) if device in latest else "–")
            for device, a in sorted(associated.items())], "assoc-associated")]
    chairs = sorted({row.chair for row in store.open_sessions()} | {a["chair"] for a in associated.values()}
                    | {s["chair"] for s in statuses if s["chair"] != UNPLACED})
    return (table, [{"label": s["device_id"], "value": s["device_id"]} for s in unplaced],
            [{"label": f"{device} (at {a['chair']})", "value": device} for device, a in sorted(associated.items())],
            [html.Option(value=chair) for chair in chairs])


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]], table_id: str) -> Any:
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in headers])),
                       html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows])],
                      className="sessions-table", id=table_id)


def register(app: Dash, store: Store) -> None:
    @app.callback(Output("assoc-list", "children"), Output("assoc-device", "options"),
                  Output("assoc-ended-device", "options"), Output("assoc-chairs", "children"),
                  Output("assoc-seen", "data"), Input("assoc-poll", "n_intervals"), State("assoc-seen", "data"))
    def _refresh(_n: int | None, seen: dict[str, str] | None):
        return changed_only(list(device_lists(store, time.time())), seen)

    @app.callback(Output("assoc-message", "children"), Input("assoc-go", "n_clicks"), Input("assoc-end", "n_clicks"),
                  State("assoc-device", "value"), State("assoc-chair", "value"), State("assoc-ended-device", "value"),
                  prevent_initial_call=True)
    def _act(_go: int | None, _end: int | None, device: str | None, chair: str | None, ended: str | None):
        who = signed_in() or ""
        remote = client_address()
        try:
            if ctx.triggered_id == "assoc-go":
                chair = (chair or "").strip()
                device_data.associate(store.engine, store.site, device or "", chair, who, time.time(),
                                      role=role() or "", remote=remote)
                return f"{device} is associated with {chair}: its readings go there from now on."
            if ctx.triggered_id == "assoc-end":
                was = device_data.end_association(store.engine, store.site, ended or "", who, time.time(),
                                                  role=role() or "", remote=remote)
                return f"{ended} is no longer associated with {was}: its new readings wait here again."
        except AssociationError as exc:
            return str(exc)
        return no_update
