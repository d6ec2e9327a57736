"""Readings outside a session through a real Ingest into a real store, SQLite and PostgreSQL (`store_url`): a chair
with no session, a device with no chair and a nurse's association, demo data kept apart, per-sender counts."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store, device_data
from devices.readings import Reading, SessionEvent

from .test_ingest import START, Clock, store  # noqa: F401  (the store fixture, on SQLite and PostgreSQL)

EUI = "0123456789ABCDEF"


def settle(ingest: Ingest, clock: Clock) -> None:
    """Steps until a refresh has looked for sessions after everything queued (items wait a refresh for one)."""
    ingest.step()
    clock.t += 2.5
    ingest.step()
    ingest.step()


def kept(store: Store, **where) -> list[dict]:
    return list(reversed(device_data.waiting_rows(store.engine, store.site, **where)))


def test_readings_for_a_chair_with_no_session_are_kept_and_its_new_session_takes_the_pre_session_window(store):
    clock = Clock(START - 40 * 60)
    ingest = Ingest(store, load_config(), clock)
    old = ingest.submit("Chair 2", [Reading("nibp", sbp=150, dbp=96, hr=80, received_time=clock.t)])  # 40 min before
    settle(ingest, clock)
    clock.t = START - 10 * 60
    tickets = [ingest.submit("Chair 2", [Reading("nibp", sbp=124, dbp=79, hr=70, received_time=clock.t)]),
               ingest.submit("Chair 2", [SessionEvent("nibp_failed", "cuff leak", source="nibp", received_time=clock.t + 30)])]
    settle(ingest, clock)
    assert old.wait(0) and all(ticket.wait(0) for ticket in tickets)  # answered as stored: nothing refused
    assert [(row["chair"], row["kind"], row["session_id"]) for row in kept(store)] == [
        ("Chair 2", "reading", None), ("Chair 2", "reading", None), ("Chair 2", "nibp_failed", None)]

    clock.t = START + 5
    sid = store.create_session(chair="Chair 2", patient_label="P-1", protocol="esketamine-84", started_at=START)
    ingest.submit("Chair 2", [SessionEvent("dose_start", offset_s=300)])
    ingest.submit("Chair 2", [Reading("nibp", sbp=166, dbp=102, offset_s=2400)])
    settle(ingest, clock)
    items = store.session_items(sid)
    assert [(type(i).__name__, i.offset_s) for i in items][:2] == [("Reading", -600.0), ("SessionEvent", -570.0)]
    assert len(items) == 4  # the BP 40 min before is outside the 30-min window: it stays with the chair
    status = store.session(sid).status
    assert status["baseline"]["text"] == "124/79" and status["baseline"]["offset_s"] == -600
    assert [(a["code"], a["state"]) for a in store.alarms_of(sid) if a["code"] == "bp.rise"] == [("bp.rise", "raised")]
    rows = kept(store)
    assert [row["session_id"] for row in rows] == [None, sid, sid]


def test_a_reading_kept_in_the_same_step_its_session_is_seen_joins_it(store):
    clock = Clock(START - 60)
    ingest = Ingest(store, load_config(), clock)
    ingest.step()
    ticket = ingest.submit("Chair 4", [Reading("nibp", sbp=130, dbp=85, received_time=START - 60)])
    clock.t += 2.5  # a refresh is due: it finds no session, so the reading is kept in this step's batch...
    ingest._drain(clock.t)
    ingest._place_parked(clock.t)
    sid = store.create_session(chair="Chair 4", patient_label="P-1", protocol="esketamine-84", started_at=START)
    ingest.refresh(clock.t)  # ...and the session is seen before that batch commits
    ingest.step()
    assert ticket.wait(0)
    [reading] = store.session_items(sid)
    assert (reading.sbp, reading.offset_s) == (130, -60)
    assert kept(store) == []


def test_a_device_with_no_chair_is_kept_unassociated_until_a_nurse_associates_it(store):
    clock = Clock(START - 20 * 60)
    ingest = Ingest(store, load_config(), clock)
    first = ingest.submit_device(EUI, [Reading("monitor", sbp=128, dbp=82, hr=72, received_time=clock.t,
                                               device_id="VSM")], message="VSM^EUI|1")
    settle(ingest, clock)
    assert first.wait(0)
    [row] = kept(store)
    assert (row["chair"], row["device_id"], row["sbp"]) == (None, EUI, 128)
    [status] = device_data.statuses(store.engine, store.site, since=0)
    assert (status["chair"], status["device_id"], status["latest"]["bp"]["sbp"]) == ("", EUI, 128)

    sid = store.create_session(chair="Chair 5", patient_label="P-1", protocol="esketamine-84", started_at=START)
    clock.t = START + 60
    ingest.step()
    device_data.associate(store.engine, store.site, EUI, "Chair 5", who="nurse1", at=clock.t, role="nurse")
    clock.t += 2.5
    settle(ingest, clock)  # ingest sees the association: the reading 21 min old joins the open session
    later = ingest.submit_device(EUI, [Reading("monitor", hr=75, spo2=97, received_time=clock.t)])
    settle(ingest, clock)
    assert later.wait(0)
    items = store.session_items(sid)
    assert [(i.sbp, i.hr, round(i.offset_s)) for i in items] == [(128, 72, -1200), (None, 75, 65)]
    status = store.session(sid).status
    assert status["bp"]["text"] == "128/82" and status["hr"]["value"] == 75
    with store.engine.connect() as conn:
        audit = conn.execute(device_data.audit.select()).mappings().all()
    assert [(a["who"], a["action"], a["detail"]) for a in audit] == [("nurse1", "device_associated",
                                                                      f"{EUI} -> Chair 5")]


def test_a_device_associated_with_an_open_session_brings_a_high_pre_dose_bp_and_its_alarm(store):
    clock = Clock(START - 5 * 60)
    ingest = Ingest(store, load_config(), clock)
    ingest.submit_device(EUI, [Reading("monitor", sbp=156, dbp=94, received_time=clock.t)])
    settle(ingest, clock)
    sid = store.create_session(chair="Chair 6", patient_label="P-1", protocol="esketamine-84", started_at=START)
    clock.t = START + 120
    ingest.submit("Chair 6", [Reading("oximeter", hr=70, spo2=98)])
    settle(ingest, clock)
    assert store.session(sid).status["bp"] is None
    device_data.associate(store.engine, store.site, EUI, "Chair 6", who="nurse1", at=clock.t)
    clock.t += 2.5
    settle(ingest, clock)
    [(code, state, at)] = [(a["code"], a["state"], a["offset_s"]) for a in store.alarms_of(sid)]
    assert (code, state) == ("bp.predose_high", "raised") and at >= 120  # stated when known, not back-dated
    assert store.session(sid).status["bp"]["offset_s"] == -300
    clock.t += 60
    ingest.submit("Chair 6", [SessionEvent("dose_start")])
    settle(ingest, clock)
    assert store.session(sid).status["baseline"]["text"] == "156/94"


def test_ending_an_association_makes_the_device_unassociated_again(store):
    device_data.associate(store.engine, store.site, EUI, "Chair 1", who="nurse1", at=START)
    with pytest.raises(device_data.AssociationError, match="already associated"):
        device_data.associate(store.engine, store.site, EUI, "Chair 1", who="nurse1", at=START)
    assert device_data.end_association(store.engine, store.site, EUI, who="nurse2", at=START + 1) == "Chair 1"
    assert device_data.associations(store.engine, store.site) == {}
    with pytest.raises(device_data.AssociationError, match="not associated"):
        device_data.end_association(store.engine, store.site, EUI, who="nurse2", at=START + 2)


def test_demo_readings_never_become_patient_data_and_raise_no_alarm(store, monkeypatch):
    clock = Clock()
    sid = store.create_session(chair="Chair 1", patient_label="P-1", protocol="esketamine-84", started_at=START)
    ingest = Ingest(store, load_config(), clock)
    ingest.refresh()
    demo = dataclasses.replace(Reading("monitor", sbp=210, dbp=125, hr=140, received_time=START + 10), device_id=EUI)
    monkeypatch.setattr("dashboard.service.placement.is_demo", lambda item: item is demo)
    monkeypatch.setattr("dashboard.service.device_keeper.is_demo", lambda item: item is demo)
    ticket = ingest.submit("Chair 1", [demo, Reading("oximeter", hr=70, spo2=98, received_time=START + 10)])
    clock.t += 12
    settle(ingest, clock)
    assert ticket.wait(0)
    assert [(r.hr, r.sbp) for r in store.session_items(sid)] == [(70, None)]
    assert store.alarms_of(sid) == []
    [row] = kept(store)
    assert (row["chair"], row["demo"], row["sbp"], row["session_id"]) == ("Chair 1", True, 210, None)
    [status] = device_data.statuses(store.engine, store.site, since=0)
    assert status["demo"] is True and status["chair"] == "Chair 1"


def test_connection_events_alone_for_a_chair_with_no_session_are_refused_for_the_adapter_to_repeat(store):
    clock = Clock()
    ingest = Ingest(store, load_config(), clock)
    ticket = ingest.submit("Chair 7", [SessionEvent("device_disconnect", "port closed", source="nibp")])
    settle(ingest, clock)
    assert ticket.done and not ticket.wait(0) and "Chair 7" in ticket.error
    assert kept(store) == [] and ingest.unplaced == 1


def test_sender_counts_add_up_across_commits_and_restarts(store, open_store):
    clock = Clock()
    ingest = Ingest(store, load_config(), clock)
    ingest.tally("VSM^0123456789ABCDEF^EUI-64", "10.1.2.3", {"messages": 2, "readings": 3, "discarded:sentinel -999": 1})
    ingest.step()
    clock.t += 5
    ingest.tally("VSM^0123456789ABCDEF^EUI-64", "10.1.2.3", {"messages": 1, "refused": 1, "discarded:sentinel -999": 2})
    ingest.tally("", "10.1.2.9", {"messages": 1, "refused": 1})
    ingest.step()
    again = Ingest(open_store(), load_config(), clock)
    again.tally("", "10.1.2.9", {"refused": 1})
    again.step()
    traffic = {(t.sender, t.peer): t for t in device_data.sender_traffic(store.engine, store.site)}
    monitor = traffic[("VSM^0123456789ABCDEF^EUI-64", "10.1.2.3")]
    assert (monitor.messages, monitor.readings, monitor.refused) == (3, 3, 1)
    assert monitor.discarded == {"sentinel -999": 3} and monitor.last_seen == START + 5
    assert traffic[("", "10.1.2.9")].refused == 2


def test_readings_kept_while_the_store_is_down_are_held_and_written_once(store, monkeypatch):
    clock = Clock()
    ingest = Ingest(store, load_config(), clock)

    def down(*_args, **_kwargs):
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(device_data, "all_statuses", down)  # down from the start: nothing may leave the queue
    tickets = [ingest.submit("Chair 3", [Reading("oximeter", hr=70, spo2=97, received_time=START + i)])
               for i in range(5)]
    ingest._guarded_step()
    assert ingest.buffered == 5 and not any(ticket.done for ticket in tickets)
    monkeypatch.undo()
    monkeypatch.setattr(store, "write_batch", down)  # readable, not writable: held in the batch
    for _ in range(3):
        clock.t += 2.5
        ingest._guarded_step()
    assert ingest.buffered == 5 and not any(ticket.done for ticket in tickets)
    monkeypatch.undo()
    clock.t += 2.5
    ingest._guarded_step()
    assert all(ticket.wait(0) for ticket in tickets) and ingest.buffered == 0
    assert [row["received_time"] for row in kept(store)] == [START + i for i in range(5)]


def _page(store, path: str, role: str) -> str:
    import flask

    from dashboard.ui import create_app
    from dashboard.ui.app import route

    config = load_config()
    app = create_app(store, config, secret_path=Path(store.engine.url.database).parent / "secret")
    with app.server.test_request_context(path):
        flask.session.update(user=f"{role}1", role=role)
        return str(route(store, config, path, "", 1000))


def test_the_admin_sees_each_senders_traffic_and_only_nurses_and_clinicians_associate_devices(tmp_path):
    store = Store.open(tmp_path / "clinic.db")  # a page test: its queries are tested on both databases above
    clock = Clock()
    ingest = Ingest(store, load_config(), clock)
    ingest.tally(f"VSM^{EUI}^EUI-64", "10.1.2.3", {"messages": 4, "readings": 6, "refused": 1,
                                                  "discarded:sentinel": 2, "discarded:status": 1})
    ingest.submit_device(EUI, [Reading("monitor spo2", hr=71, spo2=96, received_time=START)])
    clock.t += 2.5
    ingest.step()
    admin = _page(store, "/admin/devices", "admin")
    assert f"VSM^{EUI}^EUI-64" in admin and "10.1.2.3" in admin and "sentinel: 2, status: 1" in admin
    assert "Not found" in _page(store, "/admin/devices", "nurse")
    assert "Not found" in _page(store, "/devices", "tester") and "Not found" in _page(store, "/devices", "admin")
    assert "Devices" in _page(store, "/devices", "nurse") and "Devices" in _page(store, "/devices", "clinician")
    store.close()


def test_the_board_part_shows_chairs_without_a_session_demo_data_and_devices_with_no_chair(store):
    from dashboard.ui.waiting import waiting_values

    clock = Clock()
    sid = store.create_session(chair="Chair 1", patient_label="P-1", protocol="esketamine-84", started_at=START)
    ingest = Ingest(store, load_config(), clock)
    ingest.refresh()
    demo = Reading("monitor nibp", sbp=210, dbp=125, received_time=START, provenance="demo", device_id="DEMO-1")
    ingest.submit("Chair 1", [demo])  # in session, but demo data: a tile of its own
    ingest.submit("Chair 2", [Reading("nibp", sbp=131, dbp=84, hr=66, received_time=START),
                              Reading("monitor ecg", hr=74, received_time=START + 1, device_id="MON-2")])
    ingest.submit_device(EUI, [Reading("monitor spo2", hr=71, spo2=96, received_time=START)])
    settle(ingest, clock)
    unplaced, tiles = waiting_values(store, 1800, START + 30)
    assert unplaced == 1 and store.session_items(sid) == []
    by_chair = {(t["chair"], t["demo"]): t for t in tiles}
    chair2 = by_chair[("Chair 2", False)]
    assert (chair2["bp"], chair2["hr"], chair2["state"]) == ("131/84", "HR (ECG) 74", "no session · readings arriving")
    assert by_chair[("Chair 1", True)]["bp"] == "210/125"
    assert waiting_values(store, 1800, START + 3600) == (0, [])  # silent longer than the window: not "arriving"
