"""The Dash application: a shell with navigation and a router over the pages, behind the login guard.

`create_app(store, config)` builds a fresh app each call (tests give each its
own app and store). The store is the only thing the callbacks share, and it
lives in the database: the web layer keeps no mutable state of its own.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import flask
from dash import Dash, Input, Output, dcc, html

from ..auth import AuthSettings
from ..auth.roles import ADMIN, CARE, EVERYONE, REVIEW, TESTING, WATCH
from ..auth.web import current_user, install
from ..engine import Config
from ..store import DEFAULT_SITE, Store
from . import admin, board, replay_page, review, session_page, settings, shell, start
from . import course, review_session
from . import static
from .identity import may_see
from .scope import TEST, board_for

ASSETS = Path(__file__).with_name("assets")
NAV = (("Chairs", "/", CARE), ("Test board", "/test", TESTING), ("Start a session", "/start", CARE),
       ("Review", "/review", REVIEW), ("Replay", "/replay", TESTING), ("Users", "/admin/users", ADMIN),
       ("Audit", "/admin/audit", ADMIN), ("Settings", "/settings", EVERYONE))
# "" is each role's home: the board for nurses and clinicians, the test board for testers, users for the admin
PAGE_ROLES = {"": EVERYONE, "session": WATCH, "start": CARE, "review": REVIEW, "replay": TESTING, "admin": ADMIN,
              "settings": EVERYONE, "test": TESTING}
PAGE_ROLES["course"] = REVIEW  # a patient's course: the clinician's review
SOUNDING = WATCH  # the roles that hear alarms: their screens watch that the browser lets sound play


def create_app(store: Store, config: Config, poll_ms: int = 1000, auth: AuthSettings | None = None,
               secret_path: Path = Path("var/secret_key")) -> Dash:
    app = Dash(__name__, assets_folder=str(ASSETS), title="Session monitor", update_title=None,
               suppress_callback_exceptions=True)
    install(app, store, auth or AuthSettings.from_env(), secret_path)
    static.install(app)  # after the guard: its Server-Timing spans the compression too
    app.layout = lambda: shell_layout(poll_ms, store.site)  # per request: shows who is signed in
    board.register(app, store)
    session_page.register(app, store, config)
    start.register(app, store)
    shell.register(app, store)
    review.register(app, store)
    review_session.register(app, store, config)
    replay_page.register(app, store)
    admin.register(app, store)

    @app.callback(Output("page", "children"), Input("url", "pathname"), Input("url", "search"))
    def _route(pathname: str | None, search: str | None) -> Any:
        return route(store, config, pathname or "/", search or "", poll_ms)

    return app


def shell_layout(poll_ms: int, site: str = DEFAULT_SITE) -> Any:
    user = current_user()
    role = user.role if user else None
    links = [dcc.Link(label, href=href) for label, href, roles in NAV if role in roles]
    who = [html.Button("Night view", id="theme-toggle", className="theme-toggle", title="dark screen for dimmed rooms"),
           html.Span(f"{user.username} ({user.role})", id="signed-in"),
           html.Form([dcc.Input(type="hidden", name="csrf", value=flask.session.get("csrf", "")),
                      html.Button("Sign out", type="submit", id="sign-out")], method="POST", action="/logout",
                     className="sign-out")] if user else []
    return html.Div([
        dcc.Location(id="url"),
        html.Header([html.Span("Session monitor", className="brand"),
                     *([html.Span(site, className="site", id="site")] if site != DEFAULT_SITE else []), html.Nav(links),
                     html.Div(who, className="who-label")], className="top-bar"),
        *shell.layout(poll_ms, sound=role in SOUNDING),
        html.Main(id="page"),
    ], className="app")


def route(store: Store, config: Config, pathname: str, search: str, poll_ms: int) -> Any:
    parts = [p for p in pathname.split("/") if p]
    user = current_user()
    if user is None or user.role not in PAGE_ROLES.get(parts[0] if parts else "", frozenset()):
        return _not_found(f"No page at {pathname} for you." if user else "Sign in first.")
    if not parts:
        return _home(store, user.role, poll_ms)
    if parts == ["test"]:
        return board.layout(poll_ms, TEST)
    if parts[0] in ("session", "review", "course") and len(parts) == 2:  # by session id only, never a patient
        sid = _session_number(parts[1])
        if sid is None:
            return _not_found(f"'{parts[1]}' is not a session number.")
        if parts[0] != "session":
            return (review_session if parts[0] == "review" else course).layout(store, config, sid)
        row = store.session(sid)
        if row is not None and not may_see(row):
            return _not_found("Testers see only simulated and replayed sessions.")
        return session_page.layout(store, config, sid, poll_ms, live=True)
    if parts == ["settings"]:
        return settings.layout(config, store, poll_ms)
    if parts == ["start"]:
        return start.layout(config)
    if parts == ["replay"]:
        return replay_page.layout(poll_ms)
    if parts == ["review"]:
        page = parse_qs(search.lstrip("?")).get("page", ["0"])[0]
        return review.layout(store, int(page) if page.isdigit() else 0)
    if parts == ["admin", "users"]:
        return admin.users_layout(store)
    if parts == ["admin", "audit"]:
        return admin.audit_layout(store)
    return _not_found(f"No page at {pathname}.")


def _home(store: Store, role: str, poll_ms: int) -> Any:
    """Where each role lands after signing in: a page of theirs."""
    if role == "admin":
        return admin.users_layout(store)
    return board.layout(poll_ms, board_for(role))


def _session_number(text: str) -> int | None:
    """A session id from a URL: digits that fit the database's integer, else None."""
    return int(text) if text.isdigit() and int(text) < 2**63 else None


def _not_found(message: str) -> Any:
    return html.Div([html.H2("Not found"), html.P(message), dcc.Link("Back to the start", href="/")],
                    className="not-found")
