"""Admin pages: users (add, reset a password, change a role, deactivate, reactivate) and the audit log,
filtered by user, session and action, with its CSV export. No patient data: sessions appear by id only."""
from __future__ import annotations

import csv
import io
import time
from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from devices.csv_safety import safe_row

from ..auth import (ROLES, AuditFilter, AuthError, add_user, audit_log, set_active, set_password, set_role,
                    vocabulary)
from ..auth.accounts import accounts
from ..auth.audit import audit_actions
from ..auth.credentials import MIN_PASSWORD
from ..auth.records import session_number
from ..store import Store, chain
from ..store.schema import NAME_LENGTH
from .identity import audit, signed_in

AUDIT_SHOWN = 300  # rows on the page; the export has every matching row
AUDIT_COLUMNS = ("at", "who", "role", "action", "detail", "remote", "session_id")
USER_BUTTONS = {"users-add": "Add user", "users-reset": "Set password", "users-role-change": "Change role",
                "users-deactivate": "Deactivate", "users-reactivate": "Reactivate"}


def users_table(store: Store) -> Any:
    head = ("User", "Role", "State", "Signed in", "Failed sign-ins (window)")
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody([
        html.Tr([html.Td(r["username"]), html.Td(r["role"]), html.Td("active" if r["active"] else "deactivated"),
                 html.Td(str(r["sessions"])), html.Td(str(r["failures"]) if r["failures"] else "")])
        for r in accounts(store)])], className="sessions-table", id="users-list")


def users_layout(store: Store) -> Any:
    return html.Div([
        html.H2("Users"), html.Div(users_table(store), id="users-table"),
        html.H3("Add a user, reset a password, change a role, deactivate or reactivate"),
        html.Div([dcc.Input(id="users-name", placeholder="user name", maxLength=NAME_LENGTH),
                  dcc.Dropdown(id="users-role", options=list(ROLES), placeholder="role", className="moaas"),
                  dcc.Input(id="users-password", type="password", placeholder=f"password ({MIN_PASSWORD}+ characters)"),
                  *(html.Button(label, id=button, className="act") for button, label in USER_BUTTONS.items())],
                 className="act-row"),
        html.P("A password reset, a role change or a deactivation signs the user out everywhere at once. A "
               "deactivated user cannot sign in; everything they did stays in the record. A ward display (role display) "
               "stays signed in until then: Deactivate revokes it, and its screen is signed out at once.",
               className="session-meta"),
        html.Div(id="users-message", className="form-message", role="status"),
    ])


def change_user(store: Store, button: str, name: str, role: str | None, password: str) -> tuple[str, str, str]:
    """Do what the button says; (message, audit action, audit detail). AuthError says what is wrong."""
    name = name.strip()
    if not name:
        raise AuthError("Give the user name.")
    if button == "users-add":
        add_user(store, name, role or "", password)
        return (f"User {name} added as {role}.", *vocabulary.user_added(name, role))
    if button == "users-reset":
        set_password(store, name, password, role=role)
        return (f"Password of {name} set; signed out everywhere.", *vocabulary.password_reset(name, role))
    if button == "users-role-change":
        if not role:
            raise AuthError("Choose the new role.")
        set_role(store, name, role)
        return (f"{name} is now {role}; signed out everywhere.", *vocabulary.role_changed(name, role))
    active = button == "users-reactivate"
    set_active(store, name, active)
    return (f"{name} {'reactivated' if active else 'deactivated: signed out everywhere'}.",
            *vocabulary.activity(name, active))


def audit_layout(store: Store) -> Any:
    return html.Div([
        html.H2("Audit log"), chain_state(store),
        html.Div([dcc.Input(id="audit-user", placeholder="user", maxLength=NAME_LENGTH, debounce=True),
                  dcc.Input(id="audit-session", placeholder="session number", inputMode="numeric", debounce=True),
                  dcc.Dropdown(id="audit-action", options=audit_actions(store), placeholder="action",
                               className="moaas"),
                  html.Button("Export CSV", id="audit-export", className="act"), dcc.Download(id="audit-download")],
                 className="act-row"),
        html.Div(audit_table(audit_log(store, AUDIT_SHOWN)), id="audit-table"),
    ])


def chain_state(store: Store) -> Any:
    """Whether the audit log and the actions still follow their hash chains, checked as the page opens (the
    same check as `python app.py audit verify`)."""
    verdicts = chain.verify_all(store.engine)
    intact = all(v.intact for v in verdicts)
    lead = "Tamper check: intact." if intact else "Tamper check: BROKEN, the record was changed outside the monitor."
    return html.Div([html.Strong(lead), html.Ul([html.Li(v.describe()) for v in verdicts])],
                    id="audit-chain", className="form-message", role="status" if intact else "alert",
                    style=None if intact else {"color": "#b00020"})


def audit_filter(user: str | None, session: str | None, action: str | None, limit: int) -> AuditFilter:
    """The filter from the page's fields; ValueError for a session field that is no session number."""
    sid = session_number((session or "").strip()) if (session or "").strip() else None
    if (session or "").strip() and sid is None:
        raise ValueError(f"'{session}' is not a session number.")
    return AuditFilter(who=(user or "").strip() or None, session_id=sid, action=action or None, limit=limit)


def audit_table(rows: list[dict[str, Any]]) -> Any:
    if not rows:
        return html.P("No audit row matches.")
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in ("When", "Who", "Role", "Action", "Detail", "From",
                                                                "Session")])),
                       html.Tbody([html.Tr([html.Td(_when(r["at"])), html.Td(r["who"]), html.Td(r["role"]),
                                            html.Td(r["action"]), html.Td(r["detail"]), html.Td(r["remote"]),
                                            html.Td(r["session_id"] or "")]) for r in rows])],
                      className="sessions-table", id="audit-rows")


def audit_csv(store: Store, where: AuditFilter | None = None) -> str:
    """Every matching row, oldest first; text cells a spreadsheet would run as a formula neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(AUDIT_COLUMNS)
    for r in reversed(audit_log(store, where=where or AuditFilter(limit=10**9))):
        writer.writerow(safe_row([time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(r["at"])), r["who"], r["role"],
                                  r["action"], r["detail"], r["remote"], r["session_id"] or ""]))
    return buffer.getvalue()


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def register(app: Dash, store: Store) -> None:
    @app.callback(Output("users-message", "children"), Output("users-table", "children"),
                  *(Input(button, "n_clicks") for button in USER_BUTTONS),
                  State("users-name", "value"), State("users-role", "value"), State("users-password", "value"),
                  prevent_initial_call=True)
    def _users(*args: Any):
        name, role, password = args[-3:]
        if ctx.triggered_id not in USER_BUTTONS or not ctx.triggered[0]["value"]:
            return no_update, no_update
        try:
            message, action, detail = change_user(store, ctx.triggered_id, name or "", role, password or "")
        except AuthError as exc:
            return str(exc), no_update
        audit(store, signed_in() or "", action, detail)
        return message, users_table(store)

    @app.callback(Output("audit-table", "children"), Input("audit-user", "value"), Input("audit-session", "value"),
                  Input("audit-action", "value"), prevent_initial_call=True)
    def _filter(user: str | None, session: str | None, action: str | None):
        try:
            return audit_table(audit_log(store, where=audit_filter(user, session, action, AUDIT_SHOWN)))
        except ValueError as exc:
            return html.P(str(exc), className="form-message")

    @app.callback(Output("audit-download", "data"), Input("audit-export", "n_clicks"),
                  State("audit-user", "value"), State("audit-session", "value"), State("audit-action", "value"),
                  prevent_initial_call=True)
    def _export(clicks: int | None, user: str | None, session: str | None, action: str | None):
        try:
            where = audit_filter(user, session, action, limit=10**9)
        except ValueError:
            return no_update  # the table says why
        if not clicks:
            return no_update
        audit(store, signed_in() or "", "export", f"audit log CSV (user {where.who or 'any'}, session "
              f"{where.session_id or 'any'}, action {where.action or 'any'})")
        return dcc.send_string(audit_csv(store, where), "audit-log.csv")
