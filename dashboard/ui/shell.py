"""What every screen carries: the demo, storage, escalation and coverage banners, the alarm sound and its sound-off
bar, and the liveness watchdog's setting.

One cheap poll reads the open sessions' status snapshots and the ingest heartbeats. Escalated alarms of the
viewer's board go to a banner on every page; the highest audible priority of that board (unacknowledged, chair
not paused) goes to the browser, which plays its pattern (assets/alarm_sound.js). Which sessions are the
viewer's board is scope.py's rule: a nurse never hears or sees escalated a tester's replay. The admin gets the
banners about the system (demo, data not stored) and no patient's alarm.

The screen as a part of the distributed alarm system (docs/alarms.md, "Screens that cannot update"): each poll
carries the page load's id, the page it shows and its AudioContext's state (assets/liveness.js); the server keeps
them (store/screens.py, written only when they change or every third of `screen.live_within`), and the chairs of
the viewer's board that no live, sounding screen covers (service/coverage.py) go to a banner of their own
(#coverage-banner, never inside the escalation banner) and sound as a technical alarm. A page that cannot refresh
for `screen.stale_after` seconds says so itself (assets/liveness.js reads the setting from #liveness-settings).
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Callable

from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update
from plotly.utils import PlotlyJSONEncoder

from ..auth.web import current_user
from ..engine import PRIORITY_RANK, Config
from ..reports.format import alarm_label
from ..service.coverage import CoverageSettings, Uncovered, uncovered_among
from ..service.ingest import NOT_WRITING_AFTER_S
from ..store import SessionRow, Store, forwarding, screens
from . import alarm_view
from .identity import is_display, role
from .scope import is_demo, mark, on_viewers_board

FORWARDER_SILENT_S = 15.0  # a running forwarder renews its health every 2 s: this long without is a failure
DEMO_TEXT = ("DEMO / TRAINING: this server runs the simulated clinic. Chairs marked SIMULATED are not patients; "
             "their alarms sound here for practice.")


def layout(poll_ms: int, stale_after_s: float, sound: bool = True) -> list[Any]:
    """The shell's parts; `sound`: this role hears alarms, so the page watches that the browser lets it;
    `stale_after_s`: the setting screen.stale_after, for the page's own watchdog (assets/liveness.js)."""
    bar = [html.Div([
        html.Strong("ALARM SOUND IS OFF on this screen. "),
        html.Span("The browser keeps sound off until someone touches the page. "),
        html.Button("Turn alarm sound on", id="sound-on", className="sound-on"),
    ], id="sound-off", className="sound-off-bar", role="alert", hidden=True)] if sound else []
    return [
        *bar,
        html.Div(id="escalation-banner", role="alert"),
        html.Div(id="coverage-banner", role="alert"),  # chairs no sounding screen covers: never in the one above
        html.Div(id="liveness-settings", hidden=True, **{"data-stale-after-s": f"{stale_after_s:g}"}),
        dcc.Store(id="screen-report"),  # this page load's id, page and sound, as the browser last said them
        dcc.Store(id="screen-written"),  # what of it the server last wrote, and when: unchanged, nothing is written
        dcc.Store(id="alarm-sound"),
        dcc.Store(id="shell-seen"),  # what the banner and sound were last sent as: unchanged, nothing is sent
        html.Span(id="alarm-sound-playing", className="sound-state", title="audible alarm priority"),
        dcc.Interval(id="shell-poll", interval=poll_ms),
    ]


def storage_warning(heartbeats: list[dict[str, Any]], now: float) -> str:
    """A technical alarm for every screen when no ingest has committed lately: readings are not being stored."""
    if not heartbeats:
        return "NO DATA STORED: no ingest is running, so device readings are not being recorded."
    latest = max(heartbeats, key=lambda h: h["at"])
    silent = now - latest["at"]
    if silent <= NOT_WRITING_AFTER_S:
        return ""
    return (f"DATA NOT STORED: the database has not been written for {silent:.0f} s "
            f"({latest['buffered']} readings held in memory). Check the ingest service and the disk.")


def forwarding_warning(health: forwarding.Health | None, now: float) -> str:
    """A technical alarm for every screen when alarms stop reaching the alarm manager (service/forward/)."""
    if health is None or not health.running:
        return ""  # not configured, or stopped cleanly with the server
    since = health.failing_since
    if since is None and now - health.at > FORWARDER_SILENT_S:
        since = health.at  # the forwarder itself stopped saying it runs
    if since is None:
        return ""
    return (f"ALARM FORWARDING FAILED since {time.strftime('%H:%M', time.localtime(since))}: "
            f"{health.waiting} alarms waiting; phones and pagers are not being reached.")


def shell_state(rows: list[SessionRow], heartbeats: list[dict[str, Any]] | None = None,
                now: float | None = None, demo: bool = False, forwarding_text: str = "",
                uncovered: list[Uncovered] | None = None, links: bool = True) -> tuple[Any, dict[str, Any]]:
    """(banner children, {"priority", "key"} of the loudest audible alarm) for the sessions of a viewer's board;
    `forwarding_text`: the alarm forwarder's failure (`forwarding_warning`); `uncovered`: those of its chairs no
    live, sounding screen covers (their banner: `coverage_banner`); `links`: each escalation links to its session
    (not on a ward display, which opens none)."""
    now = time.time() if now is None else now
    warning = storage_warning(heartbeats, now) if heartbeats is not None else ""
    escalated, loudest = [], None
    for row in rows:
        status = row.status or {}
        for alarm in status.get("alarms") or []:
            if alarm.get("escalated") and not alarm.get("acked_by"):
                escalated.append(_escalation(row, alarm, now, links))
            if alarm.get("audible") and (loudest is None or PRIORITY_RANK[alarm["priority"]] > PRIORITY_RANK[loudest[0]]):
                loudest = (alarm["priority"], f"{row.id}:{alarm['code']}:{alarm['source']}:{alarm['since_s']}")
    banner = [html.Div(DEMO_TEXT, className="demo-banner", id="demo-banner")] if demo else []
    if warning:
        banner.append(html.Div(warning, className="storage-banner", id="storage-warning"))
    if forwarding_text:
        banner.append(html.Div(forwarding_text, className="storage-banner", id="forwarding-warning"))
    if escalated:
        banner.append(html.Div([html.Span(className="banner-marker", **{"aria-hidden": "true"}),
                                html.Strong("ESCALATED "), *escalated], className="escalation-banner"))
    if (warning or forwarding_text) and loudest is None:
        loudest = ("medium", "storage" if warning else "forwarding")  # a technical alarm: it sounds like one
    if uncovered and loudest is None:  # a screen whose sound is on covers them: it skips this (alarm_sound.js)
        loudest = ("medium", COVERAGE_KEY)
    return banner or None, ({"priority": loudest[0], "key": loudest[1]} if loudest else {})


COVERAGE_KEY = "coverage"  # the sound key of the uncovered-chairs alarm (assets/alarm_sound.js knows it)
COVERAGE_NAMED = 6  # chairs named in the banner; the rest are counted


def coverage_banner(uncovered: list[Uncovered]) -> Any:
    """The technical alarm for chairs no live, sounding screen covers: which, since when, what to do."""
    if not uncovered:
        return None
    chairs = ", ".join(item.chair for item in uncovered[:COVERAGE_NAMED])
    more = f" and {len(uncovered) - COVERAGE_NAMED} more" if len(uncovered) > COVERAGE_NAMED else ""
    since = time.strftime("%H:%M", time.localtime(min(item.since for item in uncovered)))
    count = f"{len(uncovered)} chair{'s' if len(uncovered) > 1 else ''}"
    return html.Div([html.Span(className="banner-marker", **{"aria-hidden": "true"}),
                     html.Strong(f"NO SCREEN SOUNDS FOR {count.upper()}: "),
                     html.Span(f"{chairs}{more} in session, no screen with alarm sound on since {since}. "),
                     html.Span("Turn alarm sound on at a board (one touch), or watch these chairs at the bedside.")],
                    className="coverage-banner", id="coverage-alarm")


def _escalation(row: SessionRow, alarm: dict[str, Any], now: float, link: bool = True) -> Any:
    status = row.status or {}
    tag = f"[{mark(row)}] " if mark(row) else ""
    value = alarm_view.current_value(alarm, status)
    text = (f"{tag}{row.chair}: {alarm_label(alarm['code'])} {value}, "
            f"{alarm_view.elapsed(row.session_now(now) - alarm['since_s'])} – not acknowledged")
    if not link:
        return html.Span(text, className="escalation-link")
    return dcc.Link(text, href=f"/session/{row.id}", className="escalation-link")


def _watched(store: Store, demo: bool, rows: list[SessionRow]) -> list[SessionRow]:
    """The open sessions whose alarms this viewer hears and sees escalated: none for the admin."""
    if role() == "admin":
        return []
    mine: Callable[[SessionRow], bool] = on_viewers_board(demo, store.site)
    return [row for row in rows if mine(row)]


def record_screen(store: Store, reported: Any, written: Any, now: float, refresh_s: float) -> dict[str, Any] | None:
    """Write what this page load reported (store/screens.py) when it changed or `refresh_s` has passed since it was
    last written; the new `screen-written`, or None when nothing was written. Who is signed in comes from the
    server's session; a report that is not one (no valid id) is ignored."""
    user = current_user()
    if user is None or not isinstance(reported, dict) or not screens.valid_id(reported.get("screen")):
        return None
    audio, page = str(reported.get("audio") or "none"), str(reported.get("page") or "")
    key = "|".join((reported["screen"], audio, page, user.username, user.role))
    before = written if isinstance(written, dict) else {}
    at = before.get("at")
    if before.get("key") == key and isinstance(at, (int, float)) and 0 <= now - at < refresh_s:
        return None
    screens.report(store, reported["screen"], user.username, user.role, page, audio, now)
    return {"key": key, "at": now}


def register(app: Dash, store: Store, config: Config) -> None:
    coverage = CoverageSettings.from_config(config)
    refresh_s = coverage.live_within_s / 3  # a live screen's row is rewritten thrice a live window at least

    @app.callback(Output("escalation-banner", "children"), Output("alarm-sound", "data"), Output("shell-seen", "data"),
                  Output("coverage-banner", "children"), Output("screen-written", "data"),
                  Input("shell-poll", "n_intervals"), State("shell-seen", "data"), State("screen-report", "data"),
                  State("screen-written", "data"))
    def _poll(_n: int | None, seen: str | None, reported: Any, written: Any):
        now = time.time()
        wrote = record_screen(store, reported, written, now, refresh_s)
        heartbeats = store.heartbeats()
        demo = is_demo(heartbeats)
        watched = _watched(store, demo, store.open_sessions())
        # the chairs of this viewer's board that no live, sounding screen covers (this one included)
        missing = uncovered_among(watched, screens.sounding_by_role(store), demo, store.site, now,
                                  coverage) if watched else []
        banner, sound = shell_state(watched, heartbeats, now=now, demo=demo, uncovered=missing,
                                    forwarding_text=forwarding_warning(forwarding.health(store), now),
                                    links=not is_display())
        covering = coverage_banner(missing)
        written_out = wrote if wrote is not None else no_update
        key = hashlib.sha1(json.dumps([banner, sound, covering], cls=PlotlyJSONEncoder,
                                      sort_keys=True).encode()).hexdigest()
        if key == seen:  # a redrawn banner reflows the whole page: send it only when it changed
            return no_update, no_update, no_update, no_update, written_out
        return banner, sound, key, covering, written_out

    app.clientside_callback(ClientsideFunction(namespace="alarms", function_name="sound"),
                            Output("alarm-sound-playing", "children"), Input("alarm-sound", "data"),
                            Input("shell-poll", "n_intervals"))
    app.clientside_callback(ClientsideFunction(namespace="liveness", function_name="report"),
                            Output("screen-report", "data"), Input("shell-poll", "n_intervals"))
