"""The store on a real SQLite file and on a real PostgreSQL server (the `store_url` fixture runs each test on
both): round trips, reopening, the actions inbox; WAL on SQLite."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable

import pytest

from dashboard.store import Batch, Store
from devices.readings import Reading, SessionEvent

OpenStore = Callable[[], Store]


def _session(store: Store) -> int:
    return store.create_session(chair="Chair 2", patient_label="P-17", protocol="esketamine-84",
                                started_at=1_700_000_000.0, dose="84 mg")


def test_items_round_trip_through_a_real_database_and_a_reopen(open_store: OpenStore):
    store = open_store()
    sid = _session(store)
    bp = Reading("nibp", sbp=131, dbp=84, map=100, hr=72, offset_s=120.0, device_time=1_700_000_119.5,
                 received_time=1_700_000_120.1, device_id="SUNTECH-1")
    manual = Reading("manual", sbp=150, dbp=90, offset_s=130.0, provenance="manual")
    dose = SessionEvent("dose_start", detail="84 mg", offset_s=300.0, who="AB", device_id="keypad-2")
    batch = Batch(readings=[(sid, 1, bp), (sid, 3, manual)], events=[(sid, 2, dose)],
                  transitions=[{"session_id": sid, "offset_s": 300.0, "code": "bp.predose_high",
                                "priority": "medium", "state": "cleared", "value": "", "message": "dose started",
                                "source": ""}],
                  statuses={sid: {"phase": "dosing", "now": 300.0}})
    store.write_batch(batch)
    store.close()

    again = open_store()
    items = again.session_items(sid)
    assert [type(i).__name__ for i in items] == ["Reading", "SessionEvent", "Reading"]  # arrival order kept
    stored_bp = items[0]
    assert (stored_bp.sbp, stored_bp.dbp, stored_bp.map, stored_bp.hr) == (131, 84, 100, 72)
    assert (stored_bp.device_time, stored_bp.received_time) == (1_700_000_119.5, 1_700_000_120.1)
    assert (stored_bp.device_id, items[1].device_id, items[2].device_id) == ("SUNTECH-1", "keypad-2", "")
    assert items[2].provenance == "manual" and items[1].who == "AB"
    row = again.session(sid)
    assert row is not None and row.phase == "dosing" and row.status["now"] == 300.0 and row.rev == 1
    assert [a["code"] for a in again.alarms_of(sid)] == ["bp.predose_high"]
    assert again.max_seq(sid) == 3 and again.simulated_count(sid) == 1


def test_the_file_is_in_wal_mode(tmp_path: Path):
    db = tmp_path / "clinic.db"
    Store.open(db).close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_failed_batch_writes_nothing(open_store: OpenStore):
    store = open_store()
    sid = _session(store)
    good = Reading("nibp", sbp=120, dbp=80, offset_s=1.0)
    broken = {"session_id": sid, "offset_s": None, "code": "bp.high", "priority": "medium", "state": "raised"}
    with pytest.raises(Exception):
        store.write_batch(Batch(readings=[(sid, 1, good)], transitions=[broken]))
    assert store.session_items(sid) == [] and store.session(sid).rev == 0


def test_ended_sessions_leave_the_open_list_but_stay_listed(open_store: OpenStore):
    store = open_store()
    first, second = _session(store), _session(store)
    store.write_batch(Batch(ended={first: 1_700_009_000.0}))
    assert [row.id for row in store.open_sessions()] == [second]
    assert {row.id for row in store.list_sessions()} == {first, second}
    assert store.session(first).session_now(1_800_000_000.0) == 9_000.0  # the clock stops at the end


def test_actions_wait_in_the_store_until_applied(open_store: OpenStore):
    store = open_store()
    sid = _session(store)
    ack = store.submit_action(sid, "acknowledge", "AB", detail="bp.severe", at=1_700_002_530.0)
    bp = store.submit_action(sid, "manual_bp", "AB", sbp=150, dbp=95, hr=80)
    assert [a["id"] for a in store.pending_actions()] == [ack, bp]
    store.write_batch(Batch(applied={ack: None, bp: "the session is not open"}))
    store.close()
    again = open_store()
    assert again.pending_actions() == []
    assert again.action(ack)["applied_at"] is not None and again.action(bp)["error"] == "the session is not open"


def test_refused_input_is_kept_whole_with_its_reason(open_store: OpenStore):
    store = open_store()
    raw = b"\x0bMSH|^~\\&|garbage\x1c\x0d\xff"
    store.keep_refused("hl7 127.0.0.1:50122", raw, "MSH-9 is not ORU^R01", at=1_700_000_000.0)
    store.close()
    [kept] = open_store().refused()
    assert (kept["raw"], kept["reason"], kept["source"]) == (raw, "MSH-9 is not ORU^R01", "hl7 127.0.0.1:50122")


def test_a_nan_in_the_status_is_stored_as_null(open_store: OpenStore):
    """PostgreSQL's json refuses NaN: a NaN reading in the board's snapshot must not stall ingest's batch."""
    store = open_store()
    sid = _session(store)
    store.write_batch(Batch(statuses={sid: {"phase": "dosing", "hr": float("nan"), "trend": [[1.0, float("inf")]]}}))
    assert store.session(sid).status == {"phase": "dosing", "hr": None, "trend": [[1.0, None]]}


def test_text_longer_than_its_column_is_clipped_not_refused(open_store: OpenStore):
    """PostgreSQL enforces VARCHAR lengths (SQLite does not): a long device label must not fail the batch."""
    store = open_store()
    sid = _session(store)
    label = "hl7 " + "x" * 100
    store.write_batch(Batch(readings=[(sid, 1, Reading(label, hr=70, offset_s=1.0))],
                            events=[(sid, 2, SessionEvent("device_reconnect", source=label, offset_s=2.0))],
                            transitions=[{"session_id": sid, "offset_s": 2.0, "code": "bp.severe", "priority": "high",
                                          "state": "acknowledged", "value": "N" * 80, "message": "acknowledged",
                                          "source": label}]))
    reading, event = store.session_items(sid)
    assert reading.source == label[:40] and event.source == label[:40]
    [alarm] = store.alarms_of(sid)
    assert alarm["state"] == "acknowledged" and alarm["value"] == "N" * 40
    store.submit_items(sid, [Reading(label, hr=71, offset_s=3.0)], who="tester")
    assert store.pending_actions()[0]["source"] == label[:40]


def test_two_writers_on_one_session_lose_no_update(open_store: OpenStore):
    """Two processes (an ingest node and another) bumping the same session's revision at once: every batch counts."""
    import threading

    first, second = open_store(), open_store()
    sid = _session(first)

    def write(store: Store, start: int) -> None:
        for n in range(25):
            store.write_batch(Batch(readings=[(sid, start + n, Reading("oximeter", hr=70, offset_s=float(n)))]))

    threads = [threading.Thread(target=write, args=(store, start)) for store, start in ((first, 0), (second, 100))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert first.session(sid).rev == 50 and len(second.session_items(sid)) == 50
