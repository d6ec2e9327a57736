"""The Dash application: a shell with navigation and a router over the pages.

`create_app(store, config)` builds a fresh app each call (tests give each its
own app and store). The store is the only thing the callbacks share, and it
lives in the database: the web layer keeps no mutable state of its own.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from dash import Dash, Input, Output, dcc, html

from ..engine import Config
from ..store import Store
from . import board, replay_page, review, session_page, settings, shell, start

ASSETS = Path(__file__).with_name("assets")


def create_app(store: Store, config: Config, poll_ms: int = 1000) -> Dash:
    app = Dash(__name__, assets_folder=str(ASSETS), title="Session monitor", update_title=None,
               suppress_callback_exceptions=True)
    app.layout = html.Div([
        dcc.Location(id="url"),
        html.Header([
            html.Span("Session monitor", className="brand"),
            html.Nav([dcc.Link("Chairs", href="/"), dcc.Link("Start a session", href="/start"),
                      dcc.Link("Review", href="/review"), dcc.Link("Replay", href="/replay"),
                      dcc.Link("Settings", href="/settings")]),
            html.Label(["Nurse ", dcc.Input(id="who", placeholder="initials", maxLength=40, debounce=True,
                                             persistence=True, persistence_type="local", className="who")],
                       className="who-label"),
        ], className="top-bar"),
        *shell.layout(poll_ms),
        html.Main(id="page"),
    ])
    board.register(app, store)
    session_page.register(app, store, config)
    start.register(app, store)
    shell.register(app, store)
    replay_page.register(app, store)

    @app.callback(Output("page", "children"), Input("url", "pathname"), Input("url", "search"))
    def _route(pathname: str | None, search: str | None) -> Any:
        return route(store, config, pathname or "/", search or "", poll_ms)

    return app


def route(store: Store, config: Config, pathname: str, search: str, poll_ms: int) -> Any:
    parts = [p for p in pathname.split("/") if p]
    if not parts:
        return board.layout(poll_ms)
    if parts[0] in ("session", "review") and len(parts) == 2:
        if not parts[1].isdigit():
            return _not_found(f"'{parts[1]}' is not a session number.")
        return session_page.layout(store, config, int(parts[1]), poll_ms, live=parts[0] == "session")
    if parts == ["settings"]:
        return settings.layout(config)
    if parts == ["start"]:
        return start.layout(config)
    if parts == ["replay"]:
        return replay_page.layout(poll_ms)
    if parts == ["review"]:
        page = parse_qs(search.lstrip("?")).get("page", ["0"])[0]
        return review.layout(store, int(page) if page.isdigit() else 0)
    return _not_found(f"No page at {pathname}.")


def _not_found(message: str) -> Any:
    return html.Div([html.H2("Not found"), html.P(message), dcc.Link("Back to the chairs", href="/")],
                    className="not-found")
