"""The HL7 listener over real sockets, into a real Store through Ingest: AA only after commit."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from devices.emulators.hl7_sender import HL7Sender
from devices.hl7 import HL7Listener, ListenerSettings, Placement, frame
from devices.hl7.oru import STYLES, Sender, compose
from devices.readings import Reading
from devices.supervisor import Supervisor
from tests.mllp import receive_ack  # noqa: F401  (other device tests import it from here)
from tests.waits import DEADLINE_S

from test_hl7_parse import EXAMPLE  # noqa: E402  (the PCD-01 example message, docs/devices.md)


@pytest.fixture
def listener(clinic, stop):
    settings = ListenerSettings(port=0, placement=Placement(locations={"CHAIR3": "Chair 3"}), ack_timeout_s=DEADLINE_S)
    adapter = HL7Listener(settings)
    Supervisor(adapter, clinic.ingest).start(stop)
    assert adapter.ready.wait(DEADLINE_S)
    return adapter


def send(address, message: bytes | str, timeout: float = DEADLINE_S) -> str:
    with socket.create_connection(address, timeout=timeout) as conn:
        conn.sendall(frame(message) if isinstance(message, str) else message)
        return receive_ack(conn)


def msa(ack: str) -> list[str]:
    return next(s for s in ack.split("\r") if s.startswith("MSA|")).split("|")


def test_aa_only_after_the_readings_are_committed(clinic, listener):
    sid = clinic.open("Chair 3")
    with socket.create_connection(listener.address, timeout=DEADLINE_S) as conn:
        conn.sendall(frame(EXAMPLE))
        ack = receive_ack(conn)
        stored = clinic.store.session_items(sid)  # read the moment AA arrives
    assert msa(ack)[1:3] == ["AA", "MSG000123"]
    bp = next(r for r in stored if isinstance(r, Reading) and r.has_bp)
    spo2 = next(r for r in stored if isinstance(r, Reading) and r.spo2 is not None)
    assert (bp.sbp, bp.dbp, bp.map, bp.hr, spo2.spo2) == (128, 82, 97, 72, 97)
    # the monitor's EUI-64, named by the device row (OBX-18 of 1.0.0.0) and carried down to its values
    assert bp.device_id == spo2.device_id == "0123456789ABCDEF"
    assert (bp.source, spo2.source) == ("monitor nibp", "monitor spo2")
    assert listener.stats.accepted == 1


def test_a_resent_message_is_acknowledged_but_not_stored_twice(clinic, listener):
    sid = clinic.open("Chair 3")
    assert msa(send(listener.address, EXAMPLE))[1] == "AA"
    assert msa(send(listener.address, EXAMPLE))[1] == "AA"
    readings = [item for item in clinic.store.session_items(sid) if isinstance(item, Reading)]
    assert len(readings) == 2 and listener.stats.duplicates == 1  # (a slow machine may add a disconnect event)


def test_ae_with_err_and_a_refused_row_for_a_message_it_cannot_use(clinic, listener):
    clinic.open("Chair 3")
    head = EXAMPLE.split("OBX|1|")[0].replace("|MSG000123|", "|BAD1|")
    bad = head + "OBX|1|NM|150364^MDC_TEMP_BODY^MDC|1.3.1.1|36.8|268192^MDC_DIM_DEGC^MDC|||||R\r"
    ack = send(listener.address, bad)
    assert msa(ack)[1:3] == ["AE", "BAD1"]
    err = next(s for s in ack.split("\r") if s.startswith("ERR|"))
    assert "|101^" in err and "no observation of a vital sign" in err
    [refused] = clinic.store.refused()
    assert refused["raw"] == bad.encode() and "no observation" in refused["reason"]


def test_a_value_that_is_not_a_number_is_counted_not_stored_and_the_rest_is_acknowledged(clinic, listener):
    sid = clinic.open("Chair 3")
    ack = send(listener.address, EXAMPLE.replace("|128|", "|12a8|"))
    assert msa(ack)[1] == "AA"
    stored = [r for r in clinic.store.session_items(sid) if isinstance(r, Reading)]
    assert not any(r.has_bp for r in stored)  # no systolic: the cycle's diastolic and mean are not stored alone
    assert sorted((r.source, r.hr, r.spo2) for r in stored) == [("monitor nibp", 72, None), ("monitor spo2", None, 97)]
    sender = "VSM^0123456789ABCDEF^EUI-64"
    assert listener.discarded_by_sender() == {(sender, "not-a-number"): 1, (sender, "incomplete-bp"): 2}
    assert clinic.store.refused() == []


def test_garbage_never_crashes_the_listener(clinic, listener):
    sid = clinic.open("Chair 3")
    junk = [b"\x00\xff" * 50, frame(b"\xff\xfe\x00garbage"), frame("MSH|^~\\&"), b"\x0bMSH|cut short" + frame("x"),
            frame("MSH|^~\\&|a|b|c|d|e||ORU^R01|1|P|2.6\rOBX|1|NM|150021|\x00")]
    for data in junk:
        with socket.create_connection(listener.address, timeout=DEADLINE_S) as conn:
            conn.sendall(data)
            conn.settimeout(0.5)
            try:
                conn.recv(65536)
            except TimeoutError:
                pass
    assert msa(send(listener.address, EXAMPLE))[1] == "AA"  # still serving
    assert len([item for item in clinic.store.session_items(sid) if isinstance(item, Reading)]) == 2
    assert len(clinic.store.refused()) >= 4 and listener.stats.parser_errors == 0


def test_many_concurrent_connections(clinic, listener):
    sids = {chair: clinic.open(chair) for chair in ("CHAIR1", "CHAIR2", "Chair 3", "CHAIR4")}
    codes: list[str] = []
    lock = threading.Lock()

    def monitor(location: str, count: int) -> None:
        sender = HL7Sender(*listener.address, Sender(location=location), ack_timeout_s=DEADLINE_S)
        for i in range(count):
            code = sender.send([Reading("nibp", sbp=120 + i, dbp=80, map=93, hr=70, device_time=time.time())])
            with lock:
                codes.append(code)
        sender.close()

    threads = [threading.Thread(target=monitor, args=(loc, 5)) for loc in ("CHAIR1", "CHAIR2", "CHAIR3", "CHAIR4")
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_S)
    assert codes == ["AA"] * 60
    for sid in sids.values():
        assert len(clinic.store.session_items(sid)) == 15


@pytest.mark.parametrize("style", STYLES)
def test_the_hl7_emulator_against_the_listener_in_every_vendor_style(clinic, listener, style):
    sid = clinic.open("Chair 3")
    sender = HL7Sender(*listener.address, Sender(location="CHAIR3", style=style, with_zone=style != "tags",
                                                 segment_end="\r\n" if style == "loinc" else "\r"))
    assert sender.send([Reading("nibp", sbp=150, dbp=95, map=113, hr=80),
                        Reading("oximeter", hr=81, spo2=96)]) == "AA"
    sender.close()
    stored = clinic.store.session_items(sid)
    assert [(r.sbp, r.dbp, r.map, r.hr, r.spo2) for r in stored] == [(150, 95, 113, 80, None),
                                                                    (None, None, None, 81, 96)]


def test_compose_then_parse_round_trip_matches_the_example_readings():
    text = compose([Reading("nibp", sbp=128, dbp=82, map=97, hr=72), Reading("oximeter", spo2=97)], "X")
    assert "ORU^R01^ORU_R01|X|P|2.6" in text


def test_a_message_resent_after_a_slow_commit_is_stored_once(tmp_path, stop):
    """The store stalls past ack_timeout_s: the monitor hears AE and resends. The copy first submitted is the one
    stored; no resend is submitted again while it may still commit, and once it has, a resend hears AA."""
    store = Store.open(tmp_path / "clinic.db")
    ingest = Ingest(store, load_config())  # stepped by hand: nothing commits until the test says so
    sid = store.create_session(chair="Chair 3", patient_label="P-1", protocol="esketamine-84", started_at=time.time())
    ingest.refresh()
    adapter = HL7Listener(ListenerSettings(port=0, placement=Placement(locations={"CHAIR3": "Chair 3"}),
                                           ack_timeout_s=0.3))
    Supervisor(adapter, ingest).start(stop)
    assert adapter.ready.wait(DEADLINE_S)
    assert msa(send(adapter.address, EXAMPLE))[1] == "AE"  # not committed in time
    queued = ingest.buffered
    assert msa(send(adapter.address, EXAMPLE))[1] == "AE"  # still not committed: waits on the first copy
    assert ingest.buffered == queued  # and queued nothing more
    ingest.step()
    assert msa(send(adapter.address, EXAMPLE))[1] == "AA"
    readings = [item for item in store.session_items(sid) if isinstance(item, Reading)]
    assert [(r.sbp, r.spo2) for r in readings] == [(128, None), (None, 97)]
    assert adapter.stats.duplicates == 2 and adapter.stats.accepted == 0
    store.close()


def test_a_message_resent_to_a_restarted_ingest_is_stored_once(tmp_path):
    """The AA was lost (ingest killed between the commit and the ACK, or the network dropped it): the monitor
    resends to the restarted ingest, which must answer AA without storing the readings again."""
    store = Store.open(tmp_path / "clinic.db")
    sid = store.create_session(chair="Chair 3", patient_label="P-1", protocol="esketamine-84", started_at=time.time())
    for _ in ("first", "restarted"):  # two ingests, one after the other, sharing nothing but the database
        stop, ingest = threading.Event(), Ingest(Store.open(tmp_path / "clinic.db"), load_config())
        threads = [threading.Thread(target=ingest.run, args=(stop,), daemon=True)]
        threads[0].start()
        adapter = HL7Listener(ListenerSettings(port=0, placement=Placement(locations={"CHAIR3": "Chair 3"})))
        threads.append(Supervisor(adapter, ingest).start(stop))
        assert adapter.ready.wait(DEADLINE_S)
        assert msa(send(adapter.address, EXAMPLE))[1] == "AA"
        stop.set()
        for thread in threads:
            thread.join(DEADLINE_S)
        ingest.store.close()
    readings = [item for item in store.session_items(sid) if isinstance(item, Reading)]
    store.close()
    assert [(r.sbp, r.spo2) for r in readings] == [(128, None), (None, 97)]


def test_a_repeated_msh10_is_a_resend_only_with_the_same_sender_and_content(clinic, listener):
    """Two monitors of one model both counting from 1, and one monitor that restarts its counter, lose nothing;
    the same message sent again (a new MSH-7 is allowed) is stored once."""
    sid = clinic.open("Chair 3")
    first = EXAMPLE.replace("|MSG000123|", "|1|")
    other_monitor = first.replace("0123456789ABCDEF^EUI-64|", "0123456789ABCDE0^EUI-64|").replace("|97|262688", "|95|262688")
    restarted = first.replace("|97|262688", "|93|262688").replace("20250610091500", "20250610093000")
    resent = first.replace("20250610091512+0000", "20250610091530+0000")
    assert [msa(send(listener.address, m))[1:3] for m in (first, other_monitor, restarted, resent)] == [["AA", "1"]] * 4
    spo2 = sorted(r.spo2 for r in clinic.store.session_items(sid) if isinstance(r, Reading) and r.spo2 is not None)
    assert spo2 == [93, 95, 97] and listener.stats.duplicates == 1
