"""Several clinics (sites) on one database, SQLite and PostgreSQL: each site's ingest folds only its own sessions,
inbox and replays, so two ingest nodes never write a timer's alarm twice; reviews see every site."""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from collections import Counter
from typing import Callable

import pytest

from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import DEFAULT_SITE, Store, StoreError
from dashboard.cli.location import add_site_option, site_of
from dashboard.store.review_queries import SessionFilter, filter_choices, list_sessions
from devices.readings import Reading, SessionEvent

from tests.conftest import ROOT
from tests.waits import DEADLINE_S, wait_until
from tests.service.test_ingest import START, Clock

OpenStore = Callable[[], Store]


@pytest.fixture
def two_sites(store_url: str) -> tuple[Store, Store]:
    north, south = Store(store_url, "north"), Store(store_url, "south")
    yield north, south
    north.close()
    south.close()


def _open(store: Store, chair: str = "Chair 1") -> int:
    return store.create_session(chair=chair, patient_label=f"{store.site}-1", protocol="esketamine-84",
                                started_at=START)


def _history(store: Store, sid: int) -> list[tuple[float, str, str, str]]:
    return [(a["offset_s"], a["code"], a["source"], a["state"]) for a in store.alarms_of(sid)]


def test_each_site_sees_its_own_live_sessions_and_reviews_see_all(two_sites):
    north, south = two_sites
    n1, s1 = _open(north), _open(south)  # the same chair name in both clinics
    assert [row.id for row in north.open_sessions()] == [n1]
    assert [row.id for row in south.open_sessions()] == [s1]
    assert north.session(s1).site == "south" and north.last_session_on("Chair 1").id == n1
    listed = list_sessions(north, SessionFilter())
    assert {(row.id, row.site) for row in listed.rows} == {(n1, "north"), (s1, "south")}
    assert [row.id for row in list_sessions(north, SessionFilter(site="south")).rows] == [s1]
    assert filter_choices(north)["site"] == ["north", "south"]


def test_each_ingest_folds_only_its_site_and_writes_each_timer_once(two_sites):
    north, south = two_sites
    n1, s1 = _open(north), _open(south)
    clock = Clock()
    ingests = [Ingest(north, load_config(), clock), Ingest(south, load_config(), clock)]
    for ingest in ingests:
        ingest.refresh()
    start = [SessionEvent("session_start", "esketamine-84", offset_s=0), SessionEvent("dose_start", offset_s=60)]
    ingests[0].submit("Chair 1", [*start, Reading("nibp", sbp=150, dbp=90, hr=80, offset_s=70)])
    ingests[1].submit("Chair 1", [*start, Reading("nibp", sbp=118, dbp=76, hr=70, offset_s=70)])
    for minute in range(0, 61, 5):  # an hour with no further BP: the 40-min check falls due on both
        clock.t = START + minute * 60 + 90
        for ingest in ingests:
            ingest.step()
    assert [r.sbp for r in north.session_items(n1) if isinstance(r, Reading)] == [150]
    assert [r.sbp for r in south.session_items(s1) if isinstance(r, Reading)] == [118]
    for store, sid in ((north, n1), (south, s1)):
        history = _history(store, sid)
        assert [h for h, n in Counter(history).items() if n > 1] == [], "a transition was written twice"
        assert sum(1 for h in history if h[1] == "bp.check_due" and h[3] == "raised") == 1
    assert {h["node"] for h in north.heartbeats()} == {"north"} and {h["node"] for h in south.heartbeats()} == {"south"}


def test_an_action_is_folded_by_its_own_site_and_left_alone_by_the_other(two_sites):
    north, south = two_sites
    n1, s1 = _open(north), _open(south)
    clock = Clock(START + 120)
    north_ingest = Ingest(north, load_config(), clock)
    north_ingest.refresh()
    action = north.submit_action(s1, "note", "nurse-b", "water offered")  # a north web page on a south session
    assert [a["id"] for a in south.pending_actions()] == [action] and north.pending_actions() == []
    north_ingest.step()
    assert north.action(action)["applied_at"] is None  # not north's: never marked "not open"
    south_ingest = Ingest(south, load_config(), clock)
    south_ingest.refresh()
    south_ingest.step()
    assert south.action(action)["applied_at"] is not None and south.action(action)["error"] is None
    assert [e["detail"] for e in south.events_of(s1) if e["kind"] == "note"] == ["water offered"]
    assert north.events_of(n1) == []


def test_replays_belong_to_the_site_of_their_session(two_sites):
    north, south = two_sites
    replay = north.create_replay(_open(north, "Replay 1"), "feed.csv", 60.0, "tester")
    assert [r["id"] for r in north.replays()] == [replay] and south.replays() == []


def test_the_site_comes_from_the_option_then_the_environment(monkeypatch):
    parser = argparse.ArgumentParser()
    add_site_option(parser)
    monkeypatch.delenv("MONITOR_SITE", raising=False)
    assert site_of(parser.parse_args([])) == DEFAULT_SITE
    monkeypatch.setenv("MONITOR_SITE", "south")
    assert site_of(parser.parse_args([])) == "south"
    assert site_of(parser.parse_args(["--site", "north-2"])) == "north-2"
    with pytest.raises(SystemExit):
        parser.parse_args(["--site", "north; DROP"])
    monkeypatch.setenv("MONITOR_SITE", "x" * 41)
    with pytest.raises(StoreError, match="MONITOR_SITE"):
        site_of(parser.parse_args([]))


def test_two_ingest_processes_on_one_database_each_run_their_own_clinic(store_url: str, tmp_path):
    """`app.py ingest --site north` and `--site south`, each with its simulated clinic, on one database: each site's
    sessions are folded once (no reading or alarm transition stored twice), and a nurse's action reaches the right
    ingest."""
    logs: dict[str, str] = {}
    processes = {site: _ingest_process(site, store_url, tmp_path) for site in ("north", "south")}
    north, south = Store(store_url, "north"), Store(store_url, "south")
    try:
        for store in (north, south):
            _wait(lambda: len(store.open_sessions()) == 4 and store.heartbeats(), processes, tmp_path)
        note = south.submit_action(south.open_sessions()[0].id, "note", "nurse-b", "escort arrived")
        _wait(lambda: south.action(note)["applied_at"] is not None, processes, tmp_path)
        sessions = {store.site: store.open_sessions() for store in (north, south)}
        _wait(lambda: all(north.session(row.id).rev > row.rev + 5 for row in sessions["north"] + sessions["south"]),
              processes, tmp_path)  # both clinics carry on live for a while
    finally:
        for site, process in processes.items():
            process.send_signal(signal.SIGINT)
            process.wait(DEADLINE_S)
            logs[site] = (tmp_path / f"{site}.log").read_text()
    assert south.action(note)["error"] is None
    for site, rows in sessions.items():
        assert {row.chair for row in rows} == {"Chair 1", "Chair 2", "Chair 3", "Chair 4"} and "Traceback" not in logs[site]
        for row in rows:
            # a reading is known by its device time: the same reading folded by two nodes would carry it twice
            readings = [(r.device_time, r.source) for r in north.session_items(row.id) if isinstance(r, Reading)]
            assert readings and len(readings) == len(set(readings)), f"{site} {row.chair}: a reading stored twice"
            history = _history(north, row.id)
            assert [h for h, n in Counter(history).items() if n > 1] == [], f"{site} {row.chair}: a transition twice"
        assert any(north.alarms_of(row.id) for row in rows)  # the demo clinic has alarms to double
    assert sum(1 for rows in sessions.values() for row in rows
               if any(e["detail"] == "escort arrived" for e in north.events_of(row.id))) == 1
    north.close()
    south.close()


def _ingest_process(site: str, url: str, tmp_path) -> subprocess.Popen:
    with (tmp_path / f"{site}.log").open("w") as log:  # the process keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "ingest", "--site", site, "--database-url", url, "--speed", "30"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def _wait(condition: Callable[[], object], processes: dict[str, subprocess.Popen], tmp_path) -> None:
    def alive_and_met() -> object:
        for site, process in processes.items():
            assert process.poll() is None, (tmp_path / f"{site}.log").read_text()
        return condition()

    wait_until(alive_and_met, "the sites' ingests", every=0.3)
