"""Where HL7 messages go when no session or no chair is known, and when a source counts as disconnected: real sockets
to the real listener, a real Ingest and a real store (SQLite and PostgreSQL through `store_url`)."""
from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from dashboard.store import device_data
from devices.errors import HL7Error
from devices.hl7 import frame, parse_oru
from devices.hl7.placement import Place, Placement
from devices.readings import Reading

from test_hl7_listener import msa, receive_ack  # noqa: E402
from test_hl7_parse import EXAMPLE, UTC  # noqa: E402  (the docs/devices.md message)

EUI = "0123456789ABCDEF"  # the EXAMPLE monitor's EUI-64, in MSH-3.2 and in the device row's OBX-18
NO_PLACE = "\r".join(line for line in EXAMPLE.split("\r") if not line.startswith(("PID|", "PV1|")))


def numbered(message: str, number: int) -> str:
    return message.replace("MSG000123", f"MSG{number:06d}")


def test_placement_by_pv1_3_then_pid_3_then_the_device_identity_else_unplaced():
    placement = Placement(locations={"CHAIR3": "Chair 3"}, patients={"MRN12345": "Chair 3", "MRN9": "Chair 4"},
                          intervals={"CHAIR3": 900})
    message = parse_oru(EXAMPLE.encode(), UTC)
    assert placement.place(message) == Place("Chair 3", EUI, "hl7 CHAIR3", 900)
    no_location = parse_oru(EXAMPLE.replace("PV1||O|CHAIR3^^^CLINIC_A", "PV1||O|").encode(), UTC)
    assert placement.place(no_location).key == ("Chair 3", "hl7 Chair 3")
    assert Placement().place(message).key == ("CHAIR3", "hl7 CHAIR3")  # unmapped: the location is the chair
    elsewhere = parse_oru(EXAMPLE.replace("MRN12345", "MRN9").encode(), UTC)
    with pytest.raises(HL7Error, match="mapped to Chair 4"):
        placement.place(elsewhere)
    assert Placement().place(no_location) == Place(None, EUI, f"hl7 {EUI}", 60)  # kept under its identity
    gateway = parse_oru(NO_PLACE.replace(f"|{EUI}^EUI-64\r", "|AABBCCDDEEFF0011^EUI-64\r").encode(), UTC)
    assert gateway.device_ids == ("AABBCCDDEEFF0011",) and gateway.sender_eui64 == EUI
    by_devices = Placement(devices={EUI: "Chair 7", "AABBCCDDEEFF0011": "Chair 8"}, intervals={EUI: 300})
    assert by_devices.place(gateway) == Place("Chair 8", "AABBCCDDEEFF0011", "hl7 AABBCCDDEEFF0011", 60)  # OBX-18 first
    assert Placement(devices={EUI: "Chair 7"}, intervals={EUI: 300}).place(gateway) == Place(
        "Chair 7", EUI, f"hl7 {EUI}", 300)  # then the sender's EUI-64
    assert Placement(devices={f"VSM^{EUI}^EUI-64": "Chair 9"}).place(gateway).chair == "Chair 9"  # the whole MSH-3


def kept(site: Any) -> list[dict]:  # a conftest.Site
    return list(reversed(device_data.waiting_rows(site.store.engine, site.store.site)))


def test_a_chair_with_no_open_session_is_answered_aa_and_its_readings_wait_for_the_session(start_site, wait_for):
    site = start_site(Placement(locations={"CHAIR3": "Chair 3"}))
    ack = site.send(EXAMPLE)
    assert msa(ack)[1:3] == ["AA", "MSG000123"]
    rows = kept(site)
    assert [(r["chair"], r["sbp"], r["spo2"], r["session_id"]) for r in rows] == [
        ("Chair 3", 128, None, None), ("Chair 3", None, 97, None)]
    assert site.store.refused() == []
    sid = site.open("Chair 3")
    wait_for(lambda: site.store.session(sid).status.get("bp"), timeout=10)
    assert site.store.session(sid).status["bp"]["text"] == "128/82"  # the pre-dose BP taken before the session
    assert {r.offset_s < 0 for r in site.store.session_items(sid)} == {True}


def test_a_message_with_no_location_and_no_patient_is_placed_by_its_eui64_through_devices_toml(start_site):
    site = start_site(Placement(devices={EUI: "Chair 5"}))
    sid = site.open("Chair 5")
    assert msa(site.send(NO_PLACE))[1] == "AA"
    readings = [i for i in site.store.session_items(sid) if isinstance(i, Reading)]
    assert [(r.sbp, r.spo2) for r in readings] == [(128, None), (None, 97)]


def test_an_unknown_device_is_kept_unassociated_until_a_nurse_associates_it(start_site, wait_for):
    site = start_site()
    assert msa(site.send(NO_PLACE))[1] == "AA"
    assert [(r["chair"], r["device_id"]) for r in kept(site)] == [(None, EUI), (None, EUI)]
    [status] = device_data.statuses(site.store.engine, site.store.site, since=0)
    assert (status["chair"], status["device_id"], status["latest"]["bp"]["sbp"]) == ("", EUI, 128)
    sid = site.open("Chair 2")
    device_data.associate(site.store.engine, site.store.site, EUI, "Chair 2", who="nurse1", at=time.time())
    wait_for(lambda: site.store.session(sid).status.get("bp"), timeout=10)  # its recent readings follow it
    assert msa(site.send(numbered(NO_PLACE, 2).replace("|97|", "|95|")))[1] == "AA"
    spo2 = [r.spo2 for r in site.store.session_items(sid) if isinstance(r, Reading) and r.spo2 is not None]
    assert spo2 == [97, 95]


def test_a_demo_message_is_answered_aa_kept_apart_and_raises_nothing(start_site):
    site = start_site(Placement(locations={"CHAIR3": "Chair 3"}))
    sid = site.open("Chair 3")
    demo = EXAMPLE.replace("|MSG000123|P|", "|MSG000123|T|").replace("|128|", "|210|").replace("|82|", "|125|")
    assert msa(site.send(demo))[1] == "AA"
    assert site.store.session_items(sid) == [] and site.store.alarms_of(sid) == []
    rows = kept(site)
    assert {(r["chair"], r["demo"], r["session_id"]) for r in rows} == {("Chair 3", True, None)}
    [status] = device_data.statuses(site.store.engine, site.store.site, since=0)
    assert status["demo"] is True and status["latest"]["bp"]["sbp"] == 210


def test_each_sender_is_counted_messages_readings_discards_and_refusals(start_site, wait_for):
    site = start_site(Placement(locations={"CHAIR3": "Chair 3"}))
    site.open("Chair 3")
    site.send(EXAMPLE)
    site.send(numbered(EXAMPLE, 2).replace("|97|262688", "|-999|262688"))  # SpO2 sent as "no value"
    site.send(numbered(EXAMPLE, 3).replace("ORU^R01^ORU_R01", "ADT^A01^ADT_A01"))  # the wrong kind: AR

    def monitor():
        traffic = {t.sender: t for t in device_data.sender_traffic(site.store.engine, site.store.site)}
        return traffic.get(f"VSM^{EUI}^EUI-64")

    wait_for(lambda: monitor() and monitor().refused, timeout=10)
    counted = monitor()
    assert (counted.peer, counted.messages, counted.readings, counted.refused) == ("127.0.0.1", 3, 3, 1)
    assert counted.discarded == {"sentinel": 1}


def test_a_gateway_connecting_once_per_message_raises_no_disconnect_but_a_silent_one_does(start_site, wait_for):
    """The technical alarm follows the data: a connection closed after each message is normal for a gateway."""
    site = start_site(Placement(locations={"CHAIR3": "Chair 3"}, silent_after_s=4.0))  # ACKs may be slow here
    sid = site.open("Chair 3")
    for number in range(1, 11):  # ten messages over about 3 s, each on its own connection, closed after the ACK
        assert msa(site.send(numbered(EXAMPLE, number)))[1] == "AA"
        last = time.monotonic()
        time.sleep(0.3)
    assert site.alarms(sid, "device.disconnected", "raised") == []
    wait_for(lambda: site.alarms(sid, "device.disconnected", "raised"), timeout=15)  # now it stops sending
    assert time.monotonic() - last >= 3.0  # not before its interval had passed since the last report
    [raised] = site.alarms(sid, "device.disconnected", "raised")
    assert raised["source"] == "hl7 CHAIR3" and "no report" in raised["message"] + raised["value"]
    assert msa(site.send(numbered(EXAMPLE, 11)))[1] == "AA"  # it reports again
    wait_for(lambda: site.alarms(sid, "device.disconnected", "cleared"), timeout=10)


def test_a_source_keeping_its_connection_open_but_silent_is_disconnected_too(start_site, wait_for):
    site = start_site(Placement(locations={"CHAIR3": "Chair 3"}, silent_after_s=1.0))
    sid = site.open("Chair 3")
    with socket.create_connection(site.listener.address, timeout=10) as conn:
        conn.sendall(frame(EXAMPLE))
        assert msa(receive_ack(conn))[1] == "AA"
        wait_for(lambda: site.alarms(sid, "device.disconnected", "raised"), timeout=10)  # connection still open
