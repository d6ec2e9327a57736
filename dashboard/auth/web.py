"""The web's guard: login, session expiry, a role check on every callback, CSRF and security headers.

Installed on the Dash app's Flask server. Nothing but the login page answers an anonymous request; every
Dash callback request is checked against the role policy by its outputs; a state-changing request must
come from our own origin (and the cookie is SameSite=Strict); the login form carries a token. Every response
says how long the server took (`Server-Timing: app;dur=MS, cpu;dur=MS`, guard included), as browser devtools
show it.
"""
from __future__ import annotations

import hmac
import html
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import flask

from ..store import Store
from .accounts import AuthError, AuthSettings, User, record, verify
from .roles import allowed

OPEN_PATHS = ("/login", "/favicon.ico")
# our own CSS and JS, and Dash's libraries: no patient data (and no login cookie, so browsers cache them)
OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/")
CALLBACK_PATH = "/_dash-update-component"
TIMING_HEADER = "Server-Timing"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # "no-referrer" would make browsers send "Origin: null" on our own POSTs
    "Cross-Origin-Opener-Policy": "same-origin",
    # Dash and plotly need inline styles and eval; everything else comes from this server only.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self' 'unsafe-inline' 'unsafe-eval'; frame-ancestors 'none'",
}


def secret_key(path: Path) -> bytes:
    """MONITOR_SECRET_KEY, or a key kept in a file only this user can read (made on first start)."""
    from_env = os.environ.get("MONITOR_SECRET_KEY")
    if from_env:
        return from_env.encode()
    if not path.exists():  # several workers may start at once: write aside, then link into place atomically
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another worker won: use its key
        finally:
            os.unlink(aside)
    return path.read_text().strip().encode()


def current_user() -> User | None:
    """The signed-in user of this request, if any."""
    if flask.has_request_context() and flask.session.get("user"):
        return User(flask.session["user"], flask.session["role"])
    return None


def install(app: Any, store: Store, settings: AuthSettings, secret_path: Path) -> None:
    server: flask.Flask = app.server
    server.secret_key = secret_key(secret_path)
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                         SESSION_COOKIE_SECURE=os.environ.get("MONITOR_HTTPS") == "1")
    _install_timing(server)  # first, so its clock spans the guard and every other hook

    @server.before_request
    def _guard() -> Any:
        path = flask.request.path
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return None
        if flask.request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin():
            return _refuse(403, "request from another origin")
        user = current_user()
        now = time.time()
        if user is None or now - flask.session.get("active_at", 0) > settings.idle_minutes * 60:
            flask.session.clear()
            if path == CALLBACK_PATH:
                return _refuse(401, "sign in first")
            return flask.redirect("/login?next=" + _safe_next(flask.request.full_path))
        if path == CALLBACK_PATH:
            body = flask.request.get_json(silent=True) or {}
            if not allowed(user.role, str(body.get("output", ""))):
                return _refuse(403, f"a {user.role} may not do this")
            if not _only_polls(body):
                flask.session["active_at"] = now  # a person did something: polls alone are not activity
        else:
            flask.session["active_at"] = now
        return None

    @server.after_request
    def _headers(response: flask.Response) -> flask.Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @server.route("/login", methods=["GET", "POST"])
    def _login() -> Any:
        token = flask.session.setdefault("csrf", secrets.token_urlsafe(24))
        target = _safe_next(flask.request.args.get("next", "/"))
        if flask.request.method == "GET":
            return _login_page(token, target, "")
        form = flask.request.form
        if not hmac.compare_digest(form.get("csrf", ""), token) or not _same_origin():
            return _login_page(token, target, "The form expired: please sign in again."), 400
        try:
            user = verify(store, form.get("username", ""), form.get("password", ""), remote=_remote(), settings=settings)
        except AuthError as exc:
            return _login_page(token, target, str(exc)), 401
        flask.session.clear()
        flask.session.update(user=user.username, role=user.role, active_at=time.time(),
                             csrf=secrets.token_urlsafe(24))
        return flask.redirect(target)

    @server.route("/logout", methods=["POST"])
    def _logout() -> Any:
        user = current_user()
        if user is not None and hmac.compare_digest(flask.request.form.get("csrf", ""), flask.session.get("csrf", "")):
            record(store, user.username, "logout", role=user.role, remote=_remote())
            flask.session.clear()
        return flask.redirect("/login")


def _install_timing(server: flask.Flask) -> None:
    """Server-Timing on every response, in ms: `app` from our first hook to our last, and `cpu`, this thread's
    CPU time in it (app much above cpu: the request waited, for the GIL, the CPU or the database)."""
    @server.before_request
    def _start_clock() -> None:
        flask.g.started = (time.perf_counter(), time.thread_time())

    @server.after_request  # after_request hooks run last-registered first: this one runs last
    def _stop_clock(response: flask.Response) -> flask.Response:
        started = flask.g.get("started")
        if started is not None:
            cpu = time.thread_time() - started[1]
            wall = time.perf_counter() - started[0]  # read last: the clocks' own cost is inside it
            response.headers[TIMING_HEADER] = f"app;dur={wall * 1000:.2f}, cpu;dur={cpu * 1000:.2f}"
        return response


def _same_origin() -> bool:
    """Origin (or, failing that, Referer) names this host: the check OWASP gives for state-changing requests."""
    source = flask.request.headers.get("Origin") or flask.request.headers.get("Referer")
    return bool(source) and urlparse(source).netloc == flask.request.host


def _only_polls(body: dict[str, Any]) -> bool:
    changed = body.get("changedPropIds") or []
    return bool(changed) and all(str(prop).endswith(".n_intervals") for prop in changed)


def _safe_next(target: str) -> str:
    """Only a path on this site: never an open redirect."""
    parsed = urlparse(target)
    path = parsed.path if not parsed.netloc and not parsed.scheme and target.startswith("/") else "/"
    return path if not path.startswith("//") else "/"


def _remote() -> str:
    return flask.request.remote_addr or ""


def _refuse(status: int, message: str) -> flask.Response:
    response = flask.Response(json.dumps({"error": message}), status=status, mimetype="application/json")
    return response


def _login_page(token: str, target: str, message: str) -> str:
    note = f'<p class="login-error" role="alert">{html.escape(message)}</p>' if message else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · Session monitor</title>
<link rel="stylesheet" href="/assets/style.css"></head><body class="login-body">
<form method="post" action="/login?next={html.escape(target)}" class="login-form">
<h1>Session monitor</h1>{note}
<input type="hidden" name="csrf" value="{html.escape(token)}">
<label>User <input id="login-user" name="username" autocomplete="username" required autofocus></label>
<label>Password <input id="login-password" name="password" type="password" autocomplete="current-password" required></label>
<button id="login-submit" type="submit">Sign in</button></form></body></html>"""
