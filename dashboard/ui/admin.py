"""Admin pages: users (add, reset a password, change a role) and the audit log with its CSV export."""
from __future__ import annotations

import csv
import io
import time
from typing import Any

import sqlalchemy as sa
from dash import Dash, Input, Output, State, dcc, html, no_update

from ..auth import ROLES, AuthError, add_user, audit_log, set_password
from ..store import Store
from ..store.security import users
from .identity import audit, signed_in


def users_layout(store: Store) -> Any:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(users.c.username, users.c.role, users.c.active, users.c.locked_until)
                            .order_by(users.c.username)).all()
    now = time.time()
    table = html.Table([html.Thead(html.Tr([html.Th(h) for h in ("User", "Role", "State")])), html.Tbody([
        html.Tr([html.Td(r.username), html.Td(r.role),
                 html.Td("locked" if r.locked_until and r.locked_until > now else ("active" if r.active else "inactive"))])
        for r in rows])], className="sessions-table")
    return html.Div([
        html.H2("Users"), table,
        html.H3("Add a user or reset a password"),
        html.Div([dcc.Input(id="users-name", placeholder="user name", maxLength=80),
                  dcc.Dropdown(id="users-role", options=list(ROLES), placeholder="role", className="moaas"),
                  dcc.Input(id="users-password", type="password", placeholder="password (10+ characters)"),
                  html.Button("Add user", id="users-add", className="act"),
                  html.Button("Set password", id="users-reset", className="act")], className="act-row"),
        html.Div(id="users-message", className="form-message", role="status"),
    ])


def audit_layout(store: Store) -> Any:
    rows = audit_log(store, limit=300)
    return html.Div([
        html.H2("Audit log"),
        html.Button("Export CSV", id="audit-export", className="act"), dcc.Download(id="audit-download"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("When", "Who", "Role", "Action", "Detail", "From",
                                                             "Session")])),
                    html.Tbody([html.Tr([html.Td(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["at"]))),
                                         html.Td(r["who"]), html.Td(r["role"]), html.Td(r["action"]),
                                         html.Td(r["detail"]), html.Td(r["remote"]), html.Td(r["session_id"] or "")])
                                for r in rows])], className="sessions-table"),
    ])


def audit_csv(store: Store) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["at", "who", "role", "action", "detail", "remote", "session_id"])
    for r in reversed(audit_log(store, limit=1_000_000)):
        writer.writerow([time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(r["at"])), r["who"], r["role"],
                         r["action"], r["detail"], r["remote"], r["session_id"] or ""])
    return buffer.getvalue()


def register(app: Dash, store: Store) -> None:
    @app.callback(Output("users-message", "children"), Input("users-add", "n_clicks"), Input("users-reset", "n_clicks"),
                  State("users-name", "value"), State("users-role", "value"), State("users-password", "value"),
                  prevent_initial_call=True)
    def _users(add: int | None, reset: int | None, name: str | None, role: str | None, password: str | None):
        from dash import ctx

        try:
            if ctx.triggered_id == "users-add":
                add_user(store, name or "", role or "", password or "")
                audit(store, signed_in() or "", "user_added", f"{name} as {role}")
                return f"User {name} added as {role}."
            set_password(store, (name or "").strip(), password or "", role=role)
            audit(store, signed_in() or "", "password_reset", f"{name}" + (f" now {role}" if role else ""))
            return f"Password of {name} set."
        except AuthError as exc:
            return str(exc)

    @app.callback(Output("audit-download", "data"), Input("audit-export", "n_clicks"), prevent_initial_call=True)
    def _export(clicks: int | None):
        if not clicks:
            return no_update
        audit(store, signed_in() or "", "export", "audit log CSV")
        return dcc.send_string(audit_csv(store), "audit-log.csv")
