"""The session page in clock times (issue 23): its header says the zone once, the clocks a nurse works to, the active
alarms and the log read as the clock on the wall, the session time beside them."""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import replace
from zoneinfo import ZoneInfo

import flask
import plotly

from dashboard.engine import load_config
from dashboard.store import Store
from dashboard.ui import create_app, panels
from dashboard.ui.app import route
from devices.feed import read_feed

from ..clock_zone import local_zone
from ..review_sessions import SEVERE_FEED, recorded_session

CONFIG = load_config()
ZONE = "America/New_York"


def _page(tmp_path, store: Store, path: str, role: str = "nurse") -> str:
    app = create_app(store, CONFIG, secret_path=tmp_path / "secret")
    with app.server.test_request_context(path):
        flask.session.update(user=f"{role}1", role=role)
        return json.dumps(route(store, CONFIG, path, "", 1000), cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def _wall(epoch: float, fmt: str) -> str:
    """The expected clock text, worked out by zoneinfo (not by the formatter under test)."""
    return dt.datetime.fromtimestamp(epoch, ZoneInfo(ZONE)).strftime(fmt)


def test_a_live_session_page_shows_clock_times(tmp_path):
    store = Store.open(tmp_path / "clinic.db")
    items = [i for i in read_feed(SEVERE_FEED).items if (i.offset_s or 0.0) <= 50 * 60]  # 50 min in, still open
    started = time.time() - 50 * 60
    sid = recorded_session(store, actions=None, items=items, started=started)
    status = store.session(sid).status
    dose, severe = status["dose_at"], next(a for a in status["alarms"] if a["code"] == "bp.severe")
    with local_zone(ZONE):
        page = _page(tmp_path, store, f"/session/{sid}")
    zone = _wall(started, "%Z")
    assert f"started {_wall(started, '%Y-%m-%d %H:%M')} (clock times in {zone})" in page
    window = (CONFIG.value("bp.check_due.window_start") * 60, CONFIG.value("bp.check_due.window_end") * 60)
    check = next(text for text in _texts(page) if text.startswith("40-min BP check"))
    assert check.startswith(f"40-min BP check: done at {_wall(started + status['check_done_at'], '%H:%M')}"
                            if status.get("check_done_at") is not None else
                            f"40-min BP check: take a BP between {_wall(started + dose + window[0], '%H:%M')} and "
                            f"{_wall(started + dose + window[1], '%H:%M')}"), check
    assert f" · since {_wall(started + severe['since_s'], '%H:%M')} (for " in page
    first_bp = next(i for i in items if getattr(i, "sbp", None) is not None)
    assert f"Time ({zone})" in page and _wall(started + first_bp.offset_s, "%H:%M:%S") in page  # the log
    assert "session 50:0" in page  # the header: the clock now, the session time beside it


def test_a_replay_runs_on_its_feed_clock_and_a_simulation_at_its_speed(tmp_path):
    """A replayed session's times are its feed's (record.session_wall_time), whatever speed it was replayed at; a
    simulated session's clock runs at its speed."""
    store = Store.open(tmp_path / "clinic.db")
    started = dt.datetime(2026, 12, 8, 9, 0, tzinfo=ZoneInfo(ZONE)).timestamp()
    row = store.session(recorded_session(store, started=started))
    with local_zone(ZONE):
        assert panels.clock_at(replace(row, clock="feed", speed=60.0))(2550) == "09:42"
        assert panels.clock_at(replace(row, speed=60.0))(2550) == "09:00"  # 42.5 wall seconds in
        header = json.dumps(panels.header(replace(row, clock="feed", speed=60.0)), cls=plotly.utils.PlotlyJSONEncoder)
    assert "started 2026-12-08 09:00 (clock times in EST)" in header
    assert "discharged 11:15 (session 2:15:00)" in header  # a finished session says when it ended, not "now"


def _texts(page: str) -> list[str]:
    out: list[str] = []

    def walk(node):
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
    walk(json.loads(page))
    return out
