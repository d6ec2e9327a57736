"""Replays: the same stored alarm history at any speed, equal to `check`; pausing; a clean stop."""
from __future__ import annotations

import threading
from pathlib import Path

from dashboard.check import run_check
from dashboard.engine import load_config
from dashboard.ingest import Ingest
from dashboard.replay import Replayer, drive, load_items, open_replay_session
from dashboard.store import Store
from tests.waits import DEADLINE_S, wait_until

FEED = Path(__file__).resolve().parent.parent / "sample_data" / "feeds" / "esketamine-severe-peak.csv"
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


def test_a_stopped_replay_leaves_a_consistent_session_that_reopens(tmp_path: Path):
    store, sid, history, progress = replay(tmp_path, "stopped", 60.0, stop_after=30)  # 30 s wall = 30 min session
    assert progress.stopped and 0 < progress.sent < len(ITEMS)
    row = store.session(sid)
    assert row.ended_at is None and row.clock == "feed"
    assert abs(row.session_now() - progress.position) < 1e-6  # the clock stands where the replay stopped
    assert len(store.session_items(sid)) == progress.sent
    expected = [(t.offset_s, t.code, t.state, t.priority, t.value) for t in run_check(FEED).transitions
                if t.offset_s <= progress.position]
    assert history == expected
    again = Ingest(Store.open(tmp_path / "stopped.db"), load_config(), Clock())
    again.refresh()
    assert again.live(sid).engine.now == progress.position


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


def test_ctrl_c_stops_the_cli_cleanly_and_the_session_reopens(tmp_path: Path):
    import signal
    import subprocess
    import sys

    db = tmp_path / "clinic.db"
    root = Path(__file__).resolve().parent.parent
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
    assert store.session(1).ended_at is None
    reopened = Ingest(Store.open(db), load_config(), Clock())
    reopened.refresh()
    assert reopened.live(1).engine.now == store.session(1).session_now()


def _stored_some(db: Path) -> bool:
    if not db.exists():
        return False
    store = Store.open(db)
    try:
        return bool(store.open_sessions()) and bool(store.session_items(store.open_sessions()[0].id))
    finally:
        store.close()
