"""Start a session on a chair: patient label, protocol, dose. The session opens pre-dose; ingest picks it up."""
from __future__ import annotations

import time
from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update

from devices.readings import PROTOCOLS

from ..engine import Config
from ..store import Store
from . import forms
from .forms import FormError
from .identity import signed_in
from .notice import error

DEFAULT_DOSES = {"iv-ketamine": "0.5 mg/kg", "esketamine-56": "56 mg", "esketamine-84": "84 mg"}


def layout(config: Config) -> Any:
    return html.Div([
        html.H2("Start a session"),
        html.Div([
            html.Label(["Chair ", dcc.Input(id="new-chair", placeholder="e.g. Chair 5", maxLength=40)]),
            html.Label(["Patient label ", dcc.Input(id="new-label", placeholder="pseudonymous label", maxLength=80)]),
            html.Label(["Protocol ", dcc.Dropdown(id="new-protocol", options=[
                {"label": config.protocols[p].label, "value": p} for p in PROTOCOLS], className="protocol-choice")]),
            html.Label(["Dose ", dcc.Input(id="new-dose", placeholder="e.g. 84 mg", maxLength=40)]),
            html.Button("Start session", id="new-start", className="act"),
        ], className="start-form"),
        html.Div(id="new-message", className="form-message", role="status"),
    ])


def start_session(store: Store, who: str | None, chair: str | None, label: str | None, protocol: str | None,
                  dose: str | None) -> int:
    """Open the session and queue its session_start; raises FormError with what is wrong."""
    nurse = forms.who(who)
    busy = {row.chair for row in store.open_sessions()}
    new = forms.new_session(chair, label, protocol, dose, busy)
    sid = store.create_session(chair=new.chair, patient_label=new.patient_label, protocol=new.protocol,
                               started_at=time.time(), dose=new.dose or DEFAULT_DOSES[new.protocol])
    store.submit_action(sid, "session_start", nurse, detail=new.protocol)
    return sid


def register(app: Dash, store: Store) -> None:
    @app.callback(Output("new-message", "children"), Output("url", "pathname", allow_duplicate=True),
                  Input("new-start", "n_clicks"), State("new-chair", "value"),
                  State("new-label", "value"), State("new-protocol", "value"), State("new-dose", "value"),
                  prevent_initial_call=True)
    def _start(clicks: int | None, chair: str | None, label: str | None, protocol: str | None, dose: str | None):
        if not clicks:
            return no_update, no_update
        try:
            sid = start_session(store, signed_in(), chair, label, protocol, dose)
        except FormError as exc:
            return error(str(exc)), no_update
        return "", f"/session/{sid}"
