"""The Dash application: a shell with navigation and a router over the pages (routes.py), behind the guard.

`create_app(store, config)` builds a fresh app each call (tests give each its
own app and store). The store is the only thing the callbacks share, and it
lives in the database: the web layer keeps no mutable state of its own.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import flask
from dash import Dash, Input, Output, dcc, html

from ..auth import AuthSettings
from ..auth.records import refusal, session_number
from ..auth.roles import ADMIN, CARE, DISPLAY, EVERYONE, REVIEW, TESTING, WATCH
from ..auth.web import current_user, current_viewer, install, note_opened
from ..engine import Config
from ..store import DEFAULT_SITE, Store
from . import admin, associate, board, form_queue, replay_page, review, review_session, session_page, shell, start
from . import static, waiting
from .identity import audit
from .routes import Request, home, match, session_in_path

ASSETS = Path(__file__).with_name("assets")
NAV = (("Chairs", "/", CARE), ("Test board", "/test", TESTING), ("Start a session", "/start", CARE),
       ("Devices", "/devices", CARE), ("Review", "/review", REVIEW), ("Replay", "/replay", TESTING),
       ("Users", "/admin/users", ADMIN), ("Audit", "/admin/audit", ADMIN), ("Device traffic", "/admin/devices", ADMIN),
       ("Settings", "/settings", EVERYONE))
SOUNDING = WATCH | DISPLAY  # the roles that hear alarms: their screens watch that the browser lets sound play


def create_app(store: Store, config: Config, poll_ms: int = 1000, auth: AuthSettings | None = None,
               secret_path: Path | None = None) -> Dash:
    """The app; the cookie key from MONITOR_SECRET_KEY, else `secret_path`, else MONITOR_SECRET_FILE or
    var/secret_key."""
    app = Dash(__name__, assets_folder=str(ASSETS), title="Session monitor", update_title=None,
               suppress_callback_exceptions=True, enable_mcp=False)  # no route to callbacks past the guard
    app.index_string = html_lang(app.index_string)
    install(app, store, auth or AuthSettings.from_env(), secret_path, path_reference=session_in_path)
    static.install(app)  # after the guard: its Server-Timing spans the compression too
    stale_after_s = config.value("screen.stale_after")  # the page's own watchdog (assets/liveness.js)
    app.layout = lambda: shell_layout(poll_ms, store.site, stale_after_s)  # per request: shows who is signed in
    board.register(app, store)
    session_page.register(app, store, config)
    start.register(app, store, config)
    shell.register(app, store, config)
    review.register(app, store)
    form_queue.register(app, store, config)
    review_session.register(app, store, config)
    replay_page.register(app, store, config)
    admin.register(app, store)
    waiting.register(app, store, config)
    associate.register(app, store)

    @app.callback(Output("page", "children"), Input("url", "pathname"), Input("url", "search"))
    def _route(pathname: str | None, search: str | None) -> Any:
        return route(store, config, pathname or "/", search or "", poll_ms)

    return app


def html_lang(index: str, lang: str = "en") -> str:
    """Dash's page with its language declared (screen readers pick their voice by it; WCAG 3.1.1)."""
    if "<html>" not in index:
        raise ValueError("Dash's index page has no plain <html> tag to declare the language on")
    return index.replace("<html>", f'<html lang="{lang}">', 1)


def shell_layout(poll_ms: int, site: str, stale_after_s: float) -> Any:
    """The shell around every page; `stale_after_s`: the setting screen.stale_after, for the page's watchdog."""
    user = current_user()
    role = user.role if user else None
    kiosk = role in DISPLAY  # a ward display: nothing a passer-by could tap away from the board (no link, no form)
    links = [dcc.Link(label, href=href) for label, href, roles in NAV if role in roles and not kiosk]
    sign_out = [html.Form([dcc.Input(type="hidden", name="csrf", value=flask.session.get("csrf", "")),
                           html.Button("Sign out", type="submit", id="sign-out")], method="POST", action="/logout",
                          className="sign-out")] if not kiosk else []
    who = [html.Button("Night view", id="theme-toggle", className="theme-toggle", title="dark screen for dimmed rooms"),
           html.Span(f"{user.username} ({user.role})", id="signed-in"), *sign_out] if user else []
    return html.Div([
        dcc.Location(id="url"),
        html.Header([html.Span("Session monitor", className="brand"),
                     *([html.Span(site, className="site", id="site")] if site != DEFAULT_SITE else []), html.Nav(links),
                     html.Div(who, className="who-label")], className="top-bar"),
        *shell.layout(poll_ms, sound=role in SOUNDING, stale_after_s=stale_after_s),
        html.Main(id="page"),
    ], className="app")


def route(store: Store, config: Config, pathname: str, search: str, poll_ms: int) -> Any:
    """The page at `pathname` for the signed-in user, or a page saying there is none for them."""
    user = current_user()
    if user is None:
        return _not_found("Sign in first.")
    found = match(home(pathname, user.role))
    if found is None or user.role not in found[0].roles:
        return _not_found(f"No page at {pathname}" + (" for you." if found else "."))
    page, sid_text = found
    row = None
    if page.purpose is not None:
        sid = session_number(sid_text)
        if sid is None:
            return _not_found(f"'{sid_text}' is not a session number.")
        row = store.session(sid)
        why = refusal(current_viewer(store.site), row, page.purpose)
        if why is not None:
            audit(store, user.username, "refused", f"{page.path}: {why}", session_id=sid if row else None)
            return _not_found(f"No session {sid} for you here.")  # the same whether it exists or not
    if page.audit:
        audit(store, user.username, page.audit, session_id=row.id if row else None)
    if row is not None:
        note_opened(row.id)  # its callbacks' reads are this opening's (auth/web.py)
    return page.render(Request(store, config, poll_ms, search, row))


def _not_found(message: str) -> Any:
    return html.Div([html.H2("Not found"), html.P(message), dcc.Link("Back to the start", href="/")],
                    className="not-found")
