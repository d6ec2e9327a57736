"""Ingest on a real store, SQLite and PostgreSQL (the `store_url` fixture runs each test on both), with a clock
the test moves."""
from __future__ import annotations

import dataclasses
from typing import Callable

import pytest

from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Batch, Store
from devices.readings import Reading, SessionEvent

START = 1_800_000_000.0


class Clock:
    def __init__(self, t: float = START) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def store(open_store: Callable[[], Store]) -> Store:
    return open_store()


def _open(store: Store, chair: str = "Chair 1", protocol: str = "esketamine-84") -> int:
    return store.create_session(chair=chair, patient_label="P-1", protocol=protocol, started_at=START)


def _history(store: Store, sid: int) -> list[tuple[float, str, str]]:
    return [(a["offset_s"], a["code"], a["state"]) for a in store.alarms_of(sid)]


def test_items_get_session_time_and_the_ticket_resolves_only_after_commit(store: Store):
    clock = Clock()
    sid = _open(store)
    ingest = Ingest(store, load_config(), clock)
    ingest.refresh()
    clock.t = START + 125
    ticket = ingest.submit("Chair 1", [Reading("nibp", sbp=150, dbp=95, hr=80, received_time=START + 120)])
    assert not ticket.done and store.session_items(sid) == []
    ingest.step()
    assert ticket.wait(0) and ticket.error is None
    [reading] = store.session_items(sid)
    assert reading.offset_s == 120.0 and reading.received_time == START + 120
    assert _history(store, sid) == [(120.0, "bp.predose_high", "raised")]
    status = store.session(sid).status
    assert status["bp"]["text"] == "150/95" and status["phase"] == "pre-dose"


def test_a_chair_without_a_session_keeps_its_readings_after_a_refresh(store: Store):
    """Nothing a device sends is refused for lack of a session (tests/service/test_placement.py has the rest)."""
    clock = Clock()
    ingest = Ingest(store, load_config(), clock)
    ticket = ingest.submit("Chair 9", [Reading("oximeter", hr=70, spo2=98)])
    ingest.step()
    assert not ticket.done  # its session may have been opened a moment ago: the next refresh looks
    clock.t += 0.5
    ingest.step()
    assert ticket.wait(0) and ingest.kept == 1 and ingest.unplaced == 0 and store.refused() == []


def test_items_for_a_session_opened_between_two_refreshes_wait_for_it_in_order(store: Store):
    clock = Clock()
    ingest = Ingest(store, load_config(), clock)
    ingest.step()  # refreshed: no session yet
    clock.t += 0.05
    first = ingest.submit("Chair 2", [SessionEvent("session_start", "esketamine-84", offset_s=0)])
    sid = _open(store, chair="Chair 2")  # committed by the web or the clinic just after that refresh
    ingest.step()
    later = ingest.submit("Chair 2", [Reading("oximeter", hr=70, spo2=98, offset_s=1)])
    clock.t += 0.5
    ingest.step()
    ingest.step()
    assert first.wait(0) and later.wait(0) and ingest.unplaced == 0
    assert [item.offset_s for item in store.session_items(sid)] == [0.0, 1.0]


def _dosed(store: Store) -> tuple[Clock, int, Ingest]:
    """A session on Chair 1 with a 120/80 baseline, dosed at 300 s, folded by an ingest on a clock at START."""
    clock = Clock()
    sid = _open(store)
    ingest = Ingest(store, load_config(), clock)
    ingest.refresh()
    ingest.submit("Chair 1", [SessionEvent("session_start", "esketamine-84", offset_s=0),
                              Reading("nibp", sbp=120, dbp=80, offset_s=60), SessionEvent("dose_start", offset_s=300)])
    ingest.step()
    return clock, sid, ingest


def test_a_reading_that_only_waited_in_ingests_queue_is_applied_at_the_clock_not_refolded(store: Store):
    """A busy machine or a slow commit keeps a reading in ingest's queue for seconds: it is not a batch's older
    cycle (nothing newer came in its message), so it is applied at the engine's clock like any other. Refolding the
    whole session for each such reading would make a backlog feed itself."""
    clock, sid, ingest = _dosed(store)
    clock.t = START + 600
    ingest.step()  # the engine's clock at 600 s
    engine = ingest.live(sid).engine
    ingest.submit("Chair 1", [Reading("nibp", sbp=124, dbp=80, hr=70, received_time=START + 590)])  # 10 s queued
    ingest.step()
    assert ingest.live(sid).engine is engine  # folded in place: no refold
    assert [r.offset_s for r in store.session_items(sid) if isinstance(r, Reading)][-1] >= 590.0


def test_timers_fire_at_their_due_session_time_with_no_reading(store: Store):
    clock, sid, ingest = _dosed(store)
    clock.t = START + 300 + 50 * 60  # no BP since the dose: the 40-min check is overdue at 45 min
    ingest.step()
    history = _history(store, sid)
    assert (300 + 45 * 60, "bp.check_due", "raised") in history
    assert (300 + 15 * 60, "data.stale", "raised") in history
    assert store.session(sid).status["phase"] == "observation"  # the dosing timer moved the phase too


def test_restart_resumes_the_engine_without_writing_a_transition_twice(store: Store, open_store):
    clock = Clock()
    sid = _open(store)
    first = Ingest(store, load_config(), clock)
    first.refresh()
    first.submit("Chair 1", [SessionEvent("session_start", "esketamine-84", offset_s=0),
                             Reading("nibp", sbp=120, dbp=80, offset_s=60), SessionEvent("dose_start", offset_s=300),
                             Reading("nibp", sbp=185, dbp=100, offset_s=900)])
    first.step()
    clock.t = START + 300 + 46 * 60
    first.step()
    before = _history(store, sid)
    assert (900.0, "bp.severe", "raised") in before and (300 + 45 * 60, "bp.check_due", "raised") in before

    second = Ingest(open_store(), load_config(), clock)  # a new process on the same database
    second.refresh()
    second.step()
    assert _history(store, sid) == before
    assert second.live(sid).engine.baseline.sbp == 120  # state came back from the stored items
    second.submit("Chair 1", [Reading("nibp", sbp=130, dbp=80)])
    clock.t += 5
    second.step()
    after = _history(store, sid)
    assert after[: len(before)] == before
    assert {(code, state) for _, code, state in after[len(before):]} >= {("bp.severe", "cleared"),
                                                                         ("bp.rise", "cleared")}


def test_discharge_ends_the_session(store: Store):
    clock = Clock()
    sid = _open(store, protocol="iv-ketamine")
    ingest = Ingest(store, load_config(), clock)
    ingest.refresh()
    clock.t = START + 10
    ingest.submit("Chair 1", [SessionEvent("session_start", "iv-ketamine", offset_s=0),
                              SessionEvent("discharge", "left early", offset_s=10)])
    ingest.step()
    row = store.session(sid)
    assert row.ended_at == START + 10 and row.phase == "discharged"
    assert store.open_sessions() == [] and ingest.live(sid) is None


def test_web_actions_are_folded_once_and_marked_applied_in_the_same_commit(store: Store):
    clock = Clock()
    sid = _open(store)
    ingest = Ingest(store, load_config(), clock)
    ingest.refresh()
    ingest.submit("Chair 1", [SessionEvent("session_start", "esketamine-84", offset_s=0),
                              Reading("nibp", sbp=120, dbp=80, offset_s=60), SessionEvent("dose_start", offset_s=300),
                              Reading("nibp", sbp=186, dbp=100, offset_s=900)])
    ingest.step()
    clock.t = START + 930
    ack = store.submit_action(sid, "acknowledge", "AB", detail="bp.severe", at=START + 920)
    manual = store.submit_action(sid, "manual_bp", "AB", sbp=150, dbp=90, hr=82, at=START + 925)
    ingest.step()
    ingest.step()  # a second step must not fold them again
    assert store.pending_actions() == []
    history = [(a["offset_s"], a["code"], a["state"], a["value"]) for a in store.alarms_of(sid)]
    assert (920.0, "bp.severe", "acknowledged", "AB") in history
    assert (925.0, "bp.severe", "cleared", "150/90") in history
    items = store.session_items(sid)
    assert [i.kind for i in items if isinstance(i, SessionEvent)].count("acknowledge") == 1
    [bp] = [i for i in items if isinstance(i, Reading) and i.provenance == "manual"]
    assert (bp.sbp, bp.dbp, bp.hr, bp.offset_s) == (150, 90, 82, 925.0)
    assert store.action(ack)["error"] is None and store.action(manual)["applied_at"] is not None


def test_an_action_for_an_ended_session_is_refused_with_a_reason(store: Store):
    clock = Clock()
    sid = _open(store)
    store.write_batch(Batch(ended={sid: START}))
    ingest = Ingest(store, load_config(), clock)
    action = store.submit_action(sid, "dose_start", "AB", at=START + 10)
    ingest.step()
    assert store.action(action)["error"] == "the session is not open" and store.session_items(sid) == []


def test_a_full_disk_holds_readings_in_memory_and_writes_them_once_it_can(store: Store):
    """SQLite's own 'database or disk is full' (its page limit reached) stands in for a full disk; on PostgreSQL,
    sessions that may only read (default_transaction_read_only, as on a server out of disk or a standby)."""
    import sqlalchemy as sa

    from dashboard.ui.shell import storage_warning

    clock = Clock()
    sid = _open(store)
    ingest = Ingest(store, load_config(), clock)
    ingest.refresh()
    ingest.submit("Chair 1", [SessionEvent("session_start", "esketamine-84", offset_s=0)])
    ingest.step()
    assert storage_warning(store.heartbeats(), clock.t) == ""
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

        def cap(dbapi_connection, _record) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")
    else:
        def cap(dbapi_connection, _record) -> None:
            dbapi_connection.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()

    store.engine.dispose()
    sa.event.listen(store.engine, "connect", cap)
    tickets = [ingest.submit("Chair 1", [Reading("oximeter", hr=70 + i % 5, spo2=97, offset_s=10 + i)
                                         for i in range(500)]) for _ in range(1)]
    for second in range(15):
        clock.t += 1
        ingest.step()
    assert not tickets[0].done and ingest.buffered == 500  # held, not lost, not acknowledged
    assert "DATA NOT STORED" in storage_warning(store.heartbeats(), clock.t)

    sa.event.remove(store.engine, "connect", cap)
    store.engine.dispose()
    clock.t += 1
    ingest.step()
    assert tickets[0].wait(0) and ingest.buffered == 0
    offsets = [r.offset_s for r in store.session_items(sid) if isinstance(r, Reading)]
    assert offsets == [10.0 + i for i in range(500)]  # every held reading, exactly once
    assert storage_warning(store.heartbeats(), clock.t) == ""


def test_the_buffer_is_bounded_and_says_so(store: Store, monkeypatch):
    import dashboard.service.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "MAX_BUFFERED", 10)
    ingest = Ingest(store, load_config(), Clock())
    ingest._failing_since = 0.0  # the store has been failing
    first = ingest.submit("Chair 1", [Reading("oximeter", hr=70, spo2=97)] * 10)
    refused = ingest.submit("Chair 1", [Reading("oximeter", hr=70, spo2=97)])
    assert not first.done and refused.done and "buffer is full" in refused.error and ingest.refused_full == 1


def test_a_signed_off_session_takes_no_more_actions(store: Store):
    from dashboard.store.signoff import sign_off

    clock = Clock()
    sid = _open(store)
    ingest = Ingest(store, load_config(), clock)
    ingest.refresh()
    ingest.submit("Chair 1", [SessionEvent("session_start", "esketamine-84", offset_s=0)])
    ingest.step()
    store.write_batch(Batch(ended={sid: START + 5}))
    sign_off(store, sid, "clinician1", "reviewed")
    from dashboard.store.schema import sessions
    with store.engine.begin() as conn:  # reopened by mistake: the sign-off still holds
        conn.execute(sessions.update().where(sessions.c.id == sid).values(ended_at=None))
    ingest.refresh()
    note = store.submit_action(sid, "note", "nurse1", detail="late note")
    ingest.step()
    assert store.action(note)["error"] == "the session is signed off: its record is read-only"
    assert [i.kind for i in store.session_items(sid) if isinstance(i, SessionEvent)] == ["session_start"]


def test_each_alarm_keeps_its_signal_delay_and_the_settings_page_reports_it(store: Store):
    from dashboard.ui.settings import alarm_delay

    clock, sid, ingest = _dosed(store)
    clock.t = START + 600
    ingest.submit("Chair 1", [Reading("nibp", sbp=186, dbp=100, received_time=START + 599.6)])  # severe
    ingest.step()
    clock.t = START + 300 + 50 * 60
    ingest.step()  # the 40-min check falls due: a timer, no input behind it
    by_code = {a["code"]: a for a in store.alarms_of(sid) if a["state"] == "raised"}
    assert by_code["bp.severe"]["received_at"] == START + 599.6 and by_code["bp.severe"]["stored_at"] == START + 600
    assert by_code["bp.check_due"]["received_at"] is None and by_code["bp.check_due"]["stored_at"] is not None
    assert sorted(store.signal_delays()) == pytest.approx([0.4, 0.4])  # bp.severe and bp.high, the same reading
    shown = str(alarm_delay(load_config(), store.signal_delays(), poll_ms=1000))
    assert "median 0.40 s, p95 0.40 s" in shown and "10 s (held)" in shown


def test_a_message_seen_again_is_stored_once_even_after_a_restart(store: Store, open_store):
    """A monitor resends a message whose ACK it missed (lost, or ingest stopped between commit and ACK)."""
    from dashboard.service.ingest import FORGET_EVERY_S, KEEP_MESSAGES_S

    clock = Clock()
    sid = _open(store)
    reading = Reading("monitor", hr=71, spo2=97, offset_s=5)
    first = Ingest(store, load_config(), clock)
    first.refresh()
    tickets = [first.submit("Chair 1", [reading], message="VSM|M1") for _ in range(2)]  # twice in one step
    first.step()
    restarted = Ingest(open_store(), load_config(), clock)
    restarted.refresh()
    tickets.append(restarted.submit("Chair 1", [reading], message="VSM|M1"))
    tickets.append(restarted.submit("Chair 1", [dataclasses.replace(reading, hr=72)], message="VSM|M2"))
    restarted.step()
    assert all(ticket.wait(0) for ticket in tickets)  # every copy is answered as stored
    assert [r.hr for r in store.session_items(sid)] == [71, 72] and (first.resent, restarted.resent) == (1, 1)
    clock.t += KEEP_MESSAGES_S + FORGET_EVERY_S
    restarted.step()
    assert store.received_since(0) == {}  # an hour on, the ids are dropped


def test_a_message_id_longer_than_its_column_is_kept_as_a_digest(store: Store):
    clock = Clock()
    sid = _open(store)
    ingest = Ingest(store, load_config(), clock)
    ingest.refresh()
    long_ids = [f"VSM^{'F' * 300}|{n}" for n in range(2)]  # PostgreSQL would refuse them whole, every retry
    for message in long_ids + long_ids[:1]:
        ingest.submit("Chair 1", [Reading("monitor", hr=70, offset_s=1)], message=message)
    ingest.step()
    assert len(store.session_items(sid)) == 2 and ingest.resent == 1
    assert all(key.startswith("sha256:") for key in store.received_since(0))
