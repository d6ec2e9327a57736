"""The web's guard: sign-in, server-side sessions, the role and record checks on every callback, CSRF,
security headers and the audit of refusals.

Installed on the Dash app's Flask server. Nothing but the login page answers an anonymous request. Each
request finds its session in the database (sessions.py): one ended by logout, a password reset, a role
change or a deactivation, idle too long or past its absolute lifetime is no session; a ward display's (roles.py
UNATTENDED) has neither limit and holds only from the address that signed it in. Every Dash callback
request is checked against the role policy by its outputs (roles.py) and against the record policy for every
session it names (records.py), before the callback runs; a refusal is a 403 and a row in the audit log. A
state-changing request must come from our own origin (and the cookie is SameSite=Strict); the login form
carries a token. Every response says how long the server took (`Server-Timing: app;dur=MS, cpu;dur=MS`,
guard included), as browser devtools show it.
"""
from __future__ import annotations

import hmac
import html
import json
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any

import flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ..store import Store
from ..store.keyfile import read_or_make
from ..store.schema import NAME_LENGTH
from ..store.security import ADDRESS_LENGTH
from . import sessions
from .accounts import AuthError, AuthSettings, User, verify
from .audit import Actor, record, record_action
from .credentials import CHEAP_FOR_TESTS, dummy_hash
from .records import PathReference, Viewer, references, refusal
from .roles import UNATTENDED, allowed

log = logging.getLogger(__name__)

OPEN_PATHS = ("/login", "/favicon.ico")
# our own CSS and JS, and Dash's libraries: no patient data (and no login cookie, so browsers cache them)
OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/")
CALLBACK_PATH = "/_dash-update-component"
# Dash's own routes the pages use. Any other path under /_ (Dash's optional MCP server or callback API
# routes, should a setting turn them on) is refused: it would reach callbacks past the checks below.
DASH_PATHS = frozenset({"/_dash-layout", "/_dash-dependencies", CALLBACK_PATH, "/_reload-hash", "/_favicon.ico"})
DASH_PREFIXES = ("/_dash-component-suites/",)
ROUTER_OUTPUT = "page.children"  # the page router checks the session in its path itself and answers with a page
DEFAULT_SECRET = Path("var/secret_key")
TIMING_HEADER = "Server-Timing"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # "no-referrer" would make browsers send "Origin: null" on our own POSTs
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",  # patient data stays out of shared and browser caches
    # Dash and plotly need inline styles and eval; everything else comes from this server only.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self' 'unsafe-inline' 'unsafe-eval'; frame-ancestors 'none'",
}


def secret_file() -> Path:
    """Where the cookie-signing key is kept: MONITOR_SECRET_FILE, else var/secret_key."""
    return Path(os.environ.get("MONITOR_SECRET_FILE") or DEFAULT_SECRET)


def secret_key(path: Path | None = None) -> bytes:
    """MONITOR_SECRET_KEY, or a key kept in a file only this user can read (made on first start)."""
    from_env = os.environ.get("MONITOR_SECRET_KEY")
    if from_env:
        return from_env.encode()
    return read_or_make(path or secret_file())


def current_user() -> User | None:
    """The signed-in user of this request, as the guard found them in the database."""
    if not flask.has_request_context():
        return None
    if "user" in flask.g:
        return flask.g.user
    # A request context the guard did not run in (a test rendering a page directly): the signed cookie's names.
    name, role = flask.session.get("user"), flask.session.get("role")
    return User(name, role) if name and role else None


def current_viewer(site: str) -> Viewer | None:
    user = current_user()
    return Viewer(user.username, user.role, site) if user else None


def client_address() -> str:
    """The client's address: the peer's, or X-Forwarded-For's when MONITOR_TRUSTED_PROXIES says a proxy sets it."""
    return (flask.request.remote_addr or "") if flask.has_request_context() else ""


def current_actor() -> Actor | None:
    user = current_user()
    return Actor(user.username, user.role, client_address()) if user else None


def install(app: Any, store: Store, settings: AuthSettings, secret_path: Path | None = None,
            path_reference: PathReference | None = None) -> None:
    """Guard the app. `path_reference` reads the session a page URL names (the router's table)."""
    server: flask.Flask = app.server
    server.secret_key = secret_key(secret_path)
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                         SESSION_COOKIE_SECURE=os.environ.get("MONITOR_HTTPS") == "1")
    if settings.trusted_proxies:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                   x_proto=settings.trusted_proxies)
    store.on_action = lambda conn, sid, kind, detail: record_action(conn, current_actor(), sid, kind, detail)
    dummy_hash()  # made now, not during the first sign-in of an unknown name (which would then take longer)
    if CHEAP_FOR_TESTS:
        log.warning("MONITOR_TEST_CHEAP_HASHES is set: passwords are hashed at a test's cost; unset it outside the "
                    "test suite (each account's hash is remade at the full cost at its next sign-in without it)")
    _install_timing(server)  # first, so its clock spans the guard and every other hook
    guard = _Guard(store, settings, path_reference)
    server.before_request(guard.check)

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
        remote = client_address()
        try:
            user = verify(store, form.get("username", ""), form.get("password", ""), remote=remote, settings=settings)
        except AuthError as exc:
            return _login_page(token, target, str(exc)), 401
        with store.engine.begin() as conn:
            session_token = sessions.start(conn, user.username, remote, time.time())
        flask.session.clear()  # a new session and a new CSRF token: nothing from before the sign-in carries over
        flask.session.update(token=session_token, csrf=secrets.token_urlsafe(24))
        return flask.redirect(target)

    @server.route("/logout", methods=["POST"])
    def _logout() -> Any:
        signed: sessions.SignedIn | None = flask.g.get("signed")
        if signed is None:
            return flask.redirect("/login")  # signed out already
        if not hmac.compare_digest(flask.request.form.get("csrf", ""), flask.session.get("csrf", "")):
            # Not a sign-out: say so rather than show the login page over a session that is still open.
            return _answer(400, "not signed out: sign out with the Sign out button of a page of this monitor")
        if sessions.end(store, signed.id, "logout", time.time()):
            record(store, signed.username, "logout", role=signed.role, remote=client_address())
        flask.session.clear()
        return flask.redirect("/login")


class _Guard:
    """The checks every request passes before any page or callback runs."""

    def __init__(self, store: Store, settings: AuthSettings, path_reference: PathReference | None) -> None:
        self.store, self.settings, self.path_reference = store, settings, path_reference

    def check(self) -> Any:
        flask.g.user = None
        path = flask.request.path
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return None
        if path.startswith("/_") and path not in DASH_PATHS and not path.startswith(DASH_PREFIXES):
            return _answer(404, "no such page")
        now = time.time()
        signed = self._signed_in(now)
        if flask.request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin():
            return self._refuse(403, "request from another origin", path)
        if signed is None:
            if path == CALLBACK_PATH:
                return _answer(401, "sign in first")
            return flask.redirect("/login?next=" + _safe_next(flask.request.full_path))
        if path != CALLBACK_PATH:
            sessions.touch(self.store, signed, now)
            return None
        body = flask.request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}  # not a callback request: refused below as no callback
        output = str(body.get("output", ""))
        if not allowed(signed.role, output):
            return self._refuse(403, f"a {signed.role} may not do this", output)
        refused = self._record_refusal(body, output)
        if refused is not None:
            return refused
        if not _only_polls(body):
            sessions.touch(self.store, signed, now)  # a person did something: polls alone are not activity
        return None

    def _signed_in(self, now: float) -> sessions.SignedIn | None:
        """The request's session, if it is open, not idle too long and not past its lifetime."""
        token = flask.session.get("token")
        if not isinstance(token, str):
            return None
        found = sessions.find(self.store, token)
        if found is None:  # ended (logout, a password reset, a role change, a deactivation) or unknown
            flask.session.pop("token")
            return None
        if found.role in UNATTENDED and found.remote != client_address()[:ADDRESS_LENGTH]:
            return None  # a display's cookie works only from the screen that signed in (no limit ends it)
        ended = None if found.role in UNATTENDED else _ended(found, now, self.settings)
        if ended is not None:
            if sessions.end(self.store, found.id, ended[0], now):  # once, whichever request noticed first
                record(self.store, found.username, ended[1], role=found.role, remote=client_address())
            flask.session.pop("token")
            return None
        flask.g.user, flask.g.signed = User(found.username, found.role), found
        return found

    def _record_refusal(self, body: dict[str, Any], output: str) -> flask.Response | None:
        """A 403 when the request names a session this user may not open for that purpose (records.py)."""
        viewer = current_viewer(self.store.site)
        rows: dict[int, Any] = {}
        for ref in references(body, None if output == ROUTER_OUTPUT else self.path_reference):
            if ref.sid is None:
                return self._refuse(403, f"{ref.where}: not a session number", output)
            if ref.sid not in rows:
                rows[ref.sid] = self.store.session(ref.sid)
            why = refusal(viewer, rows[ref.sid], ref.purpose)
            if why is not None:
                return self._refuse(403, f"session {ref.sid}: {why}", output, session_id=ref.sid)
            if not ref.pattern and not note_opened(ref.sid):  # a page's reads, not a bar's button
                user = current_user()
                record(self.store, user.username if user else "", "read_session",
                       f"{output[:200]}: called without opening the page", role=user.role if user else "",
                       remote=client_address(), session_id=_fits(ref.sid))
        return None

    def _refuse(self, status: int, why: str, what: str, session_id: int | None = None) -> flask.Response:
        user = current_user()
        record(self.store, user.username if user else "", "refused", f"{what[:200]}: {why}",
               role=user.role if user else "", remote=client_address(), session_id=_fits(session_id))
        return _answer(status, why)


OPENED_KEPT = 32  # session pages remembered per sign-in (the cookie stays small)


def note_opened(sid: int) -> bool:
    """Notes that this sign-in has session `sid` open; True when it had already (its page opened by the router,
    whose audit `open_session` recorded the read). A session page's callbacks called without the page (a script) are then audited once per sign-in, as
    the page's opening is: every read of a record leaves a row, and a page's polls do not flood the log."""
    opened = list(flask.session.get("opened") or [])
    if sid in opened:
        return True
    flask.session["opened"] = [*opened, sid][-OPENED_KEPT:]
    return False


def _ended(found: sessions.SignedIn, now: float, settings: AuthSettings) -> tuple[str, str] | None:
    """(end reason, audit action) when a person's session is idle too long or past its lifetime, else None."""
    if now - found.active_at > settings.idle_minutes * 60:
        return "idle", "signed_out_idle"
    if now - found.started_at > settings.max_session_hours * 3600:
        return "expired", "session_expired"
    return None


def _fits(session_id: int | None) -> int | None:
    """A session id the audit's integer column holds (an id no session has can be larger)."""
    return session_id if session_id is not None and session_id < 2**31 else None


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
    """Origin (or, failing that, Referer) names this host and scheme: the check OWASP gives for state-changing
    requests. The scheme is the request's (https behind a trusted proxy that says so), or https when the cookie
    is for https only (MONITOR_HTTPS=1): an https page's origin on an http server is another origin."""
    from urllib.parse import urlparse

    source = flask.request.headers.get("Origin") or flask.request.headers.get("Referer")
    if not source:
        return False
    parsed = urlparse(source)
    schemes = {flask.request.scheme} | ({"https"} if flask.current_app.config.get("SESSION_COOKIE_SECURE") else set())
    return parsed.netloc == flask.request.host and parsed.scheme in schemes


def _only_polls(body: dict[str, Any]) -> bool:
    changed = body.get("changedPropIds") or []
    return bool(changed) and all(str(prop).endswith(".n_intervals") for prop in changed)


def _safe_next(target: str) -> str:
    """Only a path on this site: never an open redirect."""
    from urllib.parse import urlparse

    parsed = urlparse(target)
    path = parsed.path if not parsed.netloc and not parsed.scheme and target.startswith("/") else "/"
    return path if not path.startswith("//") else "/"


def _answer(status: int, message: str) -> flask.Response:
    return flask.Response(json.dumps({"error": message}), status=status, mimetype="application/json")


def _login_page(token: str, target: str, message: str) -> str:
    note = f'<p class="login-error" role="alert">{html.escape(message)}</p>' if message else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · Session monitor</title>
<link rel="stylesheet" href="/assets/style.css"></head><body class="login-body">
<form method="post" action="/login?next={html.escape(target)}" class="login-form">
<h1>Session monitor</h1>{note}
<input type="hidden" name="csrf" value="{html.escape(token)}">
<label>User <input id="login-user" name="username" autocomplete="username" maxlength="{NAME_LENGTH}" required autofocus></label>
<label>Password <input id="login-password" name="password" type="password" autocomplete="current-password" required></label>
<button id="login-submit" type="submit">Sign in</button></form></body></html>"""
