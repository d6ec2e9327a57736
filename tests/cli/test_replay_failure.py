"""A replay that fails leaves no open session behind: `app.py replay` started just after the site's ingest stopped
stores what it sent itself once that ingest is seen gone, and a replay the web's driver cannot run ends its session.
Real store, the real command's code in this process (its patience shortened), a real ingest folding."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from dashboard.cli import main
from dashboard.cli import replay as replay_command
from dashboard.cli.check import run_check
from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.service.replay import ReplayDriver, open_replay_session
from dashboard.store import Batch, Store
from devices.readings import Reading, SessionEvent

from tests.waits import wait_until

FEED = Path(__file__).resolve().parents[2] / "sample_data" / "feeds" / "esketamine-severe-peak.csv"


def test_a_replay_started_just_after_the_ingest_stopped_stores_what_it_sent_and_ends_its_session(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    db = tmp_path / "clinic.db"
    store = Store.open(db)
    store.write_batch(Batch(heartbeat=(store.site, time.time(), 0, False)))  # the server's last commit, a moment ago
    monkeypatch.setattr(replay_command, "PATIENCE_S", 2.0)  # the command's own wait for a silent ingest: 60 s
    done = main(["replay", str(FEED), "--speed", "max", "--chair", "Chair 9", "--database", str(db)])
    err = capsys.readouterr().err
    assert "stored nothing for 2 s" in err and "no ingest is running for site main" in err  # seen gone: took over
    assert done == 0
    row = store.session(1)
    assert row is not None and row.ended_at is not None and not store.open_sessions()  # nothing left open
    expected = [(t.offset_s, t.code, t.state) for t in run_check(FEED).transitions]
    assert [(a["offset_s"], a["code"], a["state"]) for a in store.alarms_of(1)] == expected
    store.close()


def test_a_replay_the_driver_cannot_run_ends_its_session(tmp_path: Path):
    store = Store.open(tmp_path / "clinic.db")
    items = [SessionEvent("session_start", "esketamine-84", offset_s=0.0), Reading("nibp", sbp=128, dbp=80,
                                                                                       offset_s=60.0)]
    sid = open_replay_session(store, items, "Replay 1", "Replay", 60.0)
    store.create_replay(sid, str(tmp_path / "gone.csv"), 60.0, "tester1")  # its feed is not there any more
    ingest, stop = Ingest(store, load_config()), threading.Event()
    threads = [threading.Thread(target=ingest.run, args=(stop,)),
               threading.Thread(target=ReplayDriver(store).run, args=(stop, 0.1))]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: not store.open_sessions(), "the failed replay's session to end")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert store.replays()[0]["state"] == "stopped"
    store.close()


def test_a_replay_no_ingest_will_fold_is_ended_with_what_was_stored(tmp_path: Path):
    store = Store.open(tmp_path / "clinic.db")
    items = [SessionEvent("session_start", "esketamine-84", offset_s=0.0)]
    sid = open_replay_session(store, items, "Replay 1", "Replay", 60.0)
    store.submit_items(sid, items, "replay", tick=0.0, final=True)
    replay_command._end_unfinished(store, [sid])  # what the command does when it cannot get them stored
    assert not store.open_sessions() and not store.pending_actions()  # ended; its queue will never be folded
    real = store.create_session(chair="Chair 1", patient_label="P-1", protocol="esketamine-84", started_at=0.0)
    assert not store.abandon_replay(real, "not a replay")  # a real patient's session is never ended this way
    assert store.session(real).ended_at is None
    store.close()
