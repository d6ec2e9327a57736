"""Replays: the same stored alarm history at any speed, equal to `check`; pausing; a clean stop that ends the
session; the replay page's inputs and controls."""
from __future__ import annotations

import threading
from pathlib import Path

from dashboard.cli.check import run_check
from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.service.replay import Replayer, drive, load_items, open_replay_session
from dashboard.store import Store
from tests.waits import DEADLINE_S, wait_until

FEED = Path(__file__).resolve().parents[2] / "sample_data" / "feeds" / "esketamine-severe-peak.csv"
ITEMS = load_items(FEED)


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def replay(tmp_path: Path, name: str, speed: float | None, stop_after: float | None = None):
    """Replay the feed into a fresh store while its ingest steps as the dashboard's would; the stored history."""
    clock = Clock()
    store = Store.open(tmp_path / f"{name}.db")
    ingest = Ingest(store, load_config(), clock)
    sid = open_replay_session(store, ITEMS, "Chair 9", "Replay", speed)
    stop = threading.Event()

    def wait(seconds: float) -> None:  # the wall clock moves only as the replay waits; ingest keeps pace
        clock.t += seconds
        ingest.step()
        if stop_after is not None and clock.t - 1_800_000_000.0 >= stop_after:
            stop.set()

    progress = drive(store, sid, Replayer(ITEMS, speed), stop, clock=clock, wait=wait)
    ingest.refresh()  # the dashboard's ingest looks again now and then: an ended session is no longer folded
    while store.pending_actions():
        ingest.step()
    history = [(a["offset_s"], a["code"], a["state"], a["priority"], a["value"]) for a in store.alarms_of(sid)]
    return store, sid, history, progress


def test_max_speed_and_60x_store_the_same_history_as_check(tmp_path: Path):
    _, _, fast, progress = replay(tmp_path, "max", None)
    _, _, paced, _ = replay(tmp_path, "sixty", 60.0)
    expected = [(t.offset_s, t.code, t.state, t.priority, t.value) for t in run_check(FEED).transitions]
    assert fast == paced == expected
    assert progress.sent == len(ITEMS) and not progress.stopped


def test_a_finished_or_stopped_replay_ends_its_session_where_it_got(tmp_path: Path):
    store, sid, _, _ = replay(tmp_path, "done", None)
    assert store.session(sid).ended_at is not None and store.open_sessions() == []
    store, sid, history, progress = replay(tmp_path, "stopped", 60.0, stop_after=30)  # 30 s wall = 30 min session
    assert progress.stopped and 0 < progress.sent < len(ITEMS)
    row = store.session(sid)
    assert row.ended_at is not None and row.clock == "feed" and store.open_sessions() == []  # off every board
    assert abs(row.session_now() - progress.position) < 1e-6  # the clock stands where the replay stopped
    assert len(store.session_items(sid)) == progress.sent
    expected = [(t.offset_s, t.code, t.state, t.priority, t.value) for t in run_check(FEED).transitions
                if t.offset_s <= progress.position]
    assert history == expected  # ending it wrote no alarm of its own


def test_pause_holds_the_clock():
    replayer = Replayer(ITEMS, 60.0)
    replayer.step(0.0)
    replayer.step(10.0)
    at_pause = replayer.position
    replayer.pause(10.0)
    assert replayer.step(100.0) == ([], at_pause)
    replayer.resume(100.0)
    batch, tick = replayer.step(101.0)
    assert batch and abs(tick - (at_pause + 60.0)) <= 1.0 + 1e-9


def test_ctrl_c_stops_the_cli_cleanly_and_ends_the_session(tmp_path: Path):
    import signal
    import subprocess
    import sys

    db = tmp_path / "clinic.db"
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "app.py", "replay", str(FEED), "--speed", "60", "--chair", "Chair 9",
                             "--database", str(db)], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def storing() -> bool:
        assert proc.poll() is None, proc.communicate()
        return _stored_some(db)  # no ingest runs here: the replay stores what it sends itself

    wait_until(storing, "the replay to store its first items", every=0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == 0, err
    assert "Chair 9: session 1 stopped at" in out and "items sent" in out
    assert "session" in err and "60x" in err  # the progress bar: session time, speed, readings
    store = Store.open(db)
    sent = int(out.split("items sent")[0].rsplit(",", 1)[1])
    assert store.pending_actions() == []  # all it sent was stored before it returned
    assert 0 < len(store.session_items(1)) == sent < len(ITEMS)
    assert store.session(1).ended_at is not None


def _page_store(tmp_path: Path):
    import flask

    from dashboard.ui import create_app

    store = Store.open(tmp_path / "page.db")
    app = create_app(store, load_config(), secret_path=tmp_path / "secret")
    context = app.server.test_request_context("/replay")
    context.push()
    flask.session.update(user="tester1", role="tester")
    return store, context


def test_the_replay_page_refuses_a_speed_it_does_not_offer(tmp_path: Path):
    import pytest

    from dashboard.ui.forms import FormError
    from dashboard.ui.replay_page import start_replay

    store, context = _page_store(tmp_path)
    try:
        for speed in ("nan", "inf", "-1", "0", "1e308", None, "60.0"):  # 'nan' used to reach the store: a 500
            with pytest.raises(FormError, match="Choose a speed"):
                start_replay(store, "tester1", "feeds/esketamine-severe-peak", "Replay 1", speed)
        assert store.open_sessions() == [] and store.replays() == []
    finally:
        context.pop()


def test_replay_controls_act_once_from_the_right_state_and_are_audited(tmp_path: Path):
    import pytest

    from dashboard.auth import audit_log
    from dashboard.ui.forms import FormError
    from dashboard.ui.replay_page import control_replay, start_replay

    store, context = _page_store(tmp_path)
    try:
        sid = start_replay(store, "tester1", "feeds/esketamine-severe-peak", "Replay 1", "60")
        rid = store.replays()[0]["id"]
        control_replay(store, "tester1", rid, "pause")
        with pytest.raises(FormError, match="the replay is paused now"):
            control_replay(store, "tester1", rid, "pause")  # a second Pause (a late click) changes nothing
        control_replay(store, "tester1", rid, "resume")
        control_replay(store, "tester1", rid, "stop")
        with pytest.raises(FormError, match="the replay is stopped now"):
            control_replay(store, "tester1", rid, "resume")
        with pytest.raises(FormError, match="Unknown replay control"):
            control_replay(store, "tester1", rid, "delete")
        assert store.replays()[0]["state"] == "stopped"
        assert [(r["who"], r["action"], r["session_id"]) for r in reversed(audit_log(store))  # oldest first
                if r["action"].startswith("replay")] \
            == [("tester1", action, sid) for action in ("replay_start", "replay_pause", "replay_resume", "replay_stop")]
    finally:
        context.pop()


def test_a_replay_cut_off_by_a_restart_is_stopped_and_its_session_ended(tmp_path: Path):
    from dashboard.service.replay import ReplayDriver

    store = Store.open(tmp_path / "restart.db")
    sid = open_replay_session(store, ITEMS, "Replay 1", "Replay", 60.0)
    rid = store.create_replay(sid, str(FEED), 60.0, "tester1")
    store.update_replay(rid, sent=120, position_s=1800.0)  # where the previous run got
    fresh = store.create_replay(open_replay_session(store, ITEMS, "Replay 2", "Replay", 60.0), str(FEED), 60.0, "t")
    ReplayDriver(store).end_cut_off()
    ingest = Ingest(store, load_config(), Clock())
    ingest.refresh()
    while store.pending_actions():
        ingest.step()
    states = {r["id"]: r["state"] for r in store.replays()}
    assert states == {rid: "stopped", fresh: "running"}  # a replay not yet begun starts as asked
    assert store.session(sid).ended_at is not None


def _stored_some(db: Path) -> bool:
    if not db.exists():
        return False
    store = Store.open(db)
    try:
        return bool(store.open_sessions()) and bool(store.session_items(store.open_sessions()[0].id))
    finally:
        store.close()
