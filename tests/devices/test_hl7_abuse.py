"""The HL7 listener under abuse, over real sockets into a real store: every frame answered, oversize frames,
slow and half-open senders, mutated messages. Functional outcomes only; the timings are in bench/RESULTS.md."""
from __future__ import annotations

import random
import socket

import pytest

from devices.hl7 import HL7Listener, ListenerSettings, Placement, frame
from devices.hl7.mllp import MllpReader
from devices.readings import Reading
from devices.supervisor import Supervisor

from test_hl7_listener import msa, receive_ack
from test_hl7_parse import EXAMPLE

LIMIT = 4096


def start_listener(clinic, stop, **settings) -> HL7Listener:
    values = dict(port=0, placement=Placement(locations={"CHAIR3": "Chair 3"}), ack_timeout_s=10,
                  peers=("127.0.0.0/8",), max_message_bytes=LIMIT)
    adapter = HL7Listener(ListenerSettings(**{**values, **settings}))
    Supervisor(adapter, clinic.ingest).start(stop)
    assert adapter.ready.wait(10)
    return adapter


def connect(address, source: str = "127.0.0.1", timeout: float = 30.0) -> socket.socket:
    """A TCP connection from a chosen loopback address (127.0.0.0/8 is all local on Linux): another 'device'."""
    return socket.create_connection(address, timeout=timeout, source_address=(source, 0))


def exchange(address, data: bytes, source: str = "127.0.0.1", chunk: int = 0) -> str:
    with connect(address, source) as conn:
        if chunk:
            for at in range(0, len(data), chunk):
                conn.sendall(data[at:at + chunk])
        else:
            conn.sendall(data)
        return receive_ack(conn)


def big_message(control_id: str, size: int) -> str:
    """EXAMPLE with a long note row (a real message can carry long text), about `size` bytes."""
    body = EXAMPLE.replace("|MSG000123|", f"|{control_id}|")
    return body + "NTE|1||" + "x" * (size - len(body)) + "\r"


# ---- oversize frames ---------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [0, 100, 7])
def test_an_oversize_frame_is_answered_the_same_however_tcp_splits_it(clinic, stop, chunk):
    listener = start_listener(clinic, stop)
    ack = exchange(listener.address, frame(big_message("BIG1", 3 * LIMIT)), chunk=chunk)
    assert msa(ack)[1:3] == ["AR", "BIG1"]
    assert f"over the {LIMIT}-byte limit" in ack and "Error" not in msa(ack)[3]
    [kept] = clinic.store.refused()
    assert kept["raw"].startswith(b"MSH|") and len(kept["raw"]) <= 65536
    within = big_message("FITS1", LIMIT - 10)
    assert len(within.encode()) <= LIMIT and msa(exchange(listener.address, frame(within), chunk=chunk))[1] != "AR"


def test_a_sender_resending_a_refused_frame_does_not_grow_the_database(clinic, stop):
    listener = start_listener(clinic, stop)
    oversize, unusable = frame(big_message("BIG2", 2 * LIMIT)), frame(EXAMPLE.replace("|P|2.6|", "|P|9.9|"))
    for _ in range(3):
        assert msa(exchange(listener.address, oversize))[1:3] == ["AR", "BIG2"]
        assert msa(exchange(listener.address, unusable))[1:3] == ["AR", "MSG000123"]
    assert len(clinic.store.refused()) == 2 and listener.stats.refusals_repeated == 4


# ---- every frame answered, echoing its MSH-10 -----------------------------------------------


JUNK = ["", "\\", "^^^", "~~", "&", "é", "Ж", "m²", "mm[Hg]", "\x00", "-999", "8388607", "NaN", "1e9", "9" * 300,
        "DEMO", "X", "20251301999999", "^MDC_CO2_ET^MDC", "150456^MDC_PULS_OXIM_SAT_O2^MDC"]


def mutate(rng: random.Random, control_id: str) -> bytes:
    """EXAMPLE with its MSH-10 set and one to three random damages after it (MSH-10 stays readable)."""
    segments = EXAMPLE.replace("|MSG000123|", f"|{control_id}|").rstrip("\r").split("\r")
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        at = rng.randrange(1, len(segments))
        if op == 0 and len(segments) > 1:
            del segments[at]
        elif op == 1:
            segments.insert(at, segments[at])
        elif op == 2:
            fields = segments[at].split("|")
            fields[rng.randrange(1, len(fields))] = rng.choice(JUNK)
            segments[at] = "|".join(fields)
        elif op == 3:
            segments.insert(at, rng.choice(["", " ", "\n"]))
        elif op == 4:
            msh = segments[0].split("|")
            msh[rng.choice([6, 8, 10, 11])] = rng.choice(["ADT^A01", "9.9", "T", "", "ORU^R01", "2.3.1"])
            segments[0] = "|".join(msh)
        elif op == 5:
            segments[at] = segments[at][:rng.randrange(len(segments[at]) + 1)]
        else:
            segments[at] += "".join(chr(rng.choice([0x7F, 0xE9, 0x416, 0xB2, 0x09])) for _ in range(5))
    text = "\r".join(segments) + rng.choice(["\r", "\r\n", "\n", ""])
    return text.encode(rng.choice(["utf-8", "latin-1"]), "replace")


def test_mutated_messages_each_get_an_ack_echoing_their_msh10(clinic, stop):
    clinic.open("Chair 3")
    listener = start_listener(clinic, stop)
    rng = random.Random(16)
    codes = []
    with connect(listener.address) as conn:
        for n in range(60):
            control_id = f"MUT{n:04d}"
            conn.sendall(frame(mutate(rng, control_id)))
            ack = receive_ack(conn)
            assert msa(ack)[2] == control_id, ack
            codes.append(msa(ack)[1])
    assert set(codes) <= {"AA", "AE", "AR"} and {"AA", "AR"} <= set(codes)
    assert listener.stats.parser_errors == 0 and listener.stats.messages == 60


@pytest.mark.parametrize("raw", [
    b"MSH|^~\\&|A|B|C|D|20250101||ORU^R01|ID-7|P",  # cut short after MSH-11
    b"MSH|bad|A|B|C|D|20250101||ORU^R01|ID-7|P|2.6",  # broken encoding characters
    b"MSH|^~\\&|A|B|C|D|20250101||ORU^R01|ID-7|P|2.6\rOBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||97|%|||||R\rMSH|^~\\&|x",
])
def test_a_message_it_cannot_read_still_gets_its_msh10_back_and_a_reason_in_words(clinic, stop, raw):
    listener = start_listener(clinic, stop)
    ack = exchange(listener.address, frame(raw))
    assert msa(ack)[1] in ("AE", "AR") and msa(ack)[2] == "ID-7"
    err = next(s for s in ack.split("\r") if s.startswith("ERR|"))
    assert err.split("|")[-1] and "Exception" not in err and "Error" not in err.split("|")[-1]


# ---- slow and half-open senders --------------------------------------------------------------


def test_a_frame_that_does_not_end_in_time_closes_its_connection(clinic, stop, wait_for):
    listener = start_listener(clinic, stop, frame_timeout_s=1.0)
    with connect(listener.address) as conn:
        conn.sendall(b"\x0bMSH|^~\\&|slow")
        conn.settimeout(30)
        assert conn.recv(1024) == b""  # closed by the listener
    assert listener.stats.slow_frames == 1


def test_slow_and_half_open_senders_do_not_stop_a_monitor_being_answered(clinic, stop):
    sid = clinic.open("Chair 3")
    listener = start_listener(clinic, stop, max_connections_per_peer=4, frame_timeout_s=60)
    attackers: list[socket.socket] = []
    try:
        for n in range(64):  # 64 connections from one misbehaving device: half of them slow, half half-open
            try:
                conn = connect(listener.address, "127.0.0.2", timeout=5)
            except OSError:
                continue
            attackers.append(conn)
            if n % 2:
                conn.sendall(b"\x0bMSH|^~\\&|")  # a frame begun, then a byte now and then
        for conn in attackers[1::2]:
            try:
                conn.sendall(b"x")
            except OSError:
                pass
        ack = exchange(listener.address, frame(EXAMPLE), source="127.0.0.3")  # the monitor next to it
        assert msa(ack)[1:3] == ["AA", "MSG000123"]
        assert any(isinstance(i, Reading) for i in clinic.store.session_items(sid))
        assert listener.stats.refused_connections > 0
        # a gateway whose earlier connections went half-open (a pulled cable): the silent ones make room for it
        attackers += [connect(listener.address, "127.0.0.4") for _ in range(4)]
        ack = exchange(listener.address, frame(EXAMPLE.replace("|MSG000123|", "|MSG000124|")), source="127.0.0.4")
        assert msa(ack)[1:3] == ["AA", "MSG000124"] and listener.stats.evicted_connections > 0
    finally:
        for conn in attackers:
            conn.close()


def test_mllp_reader_never_holds_more_than_the_limit_of_an_endless_frame():
    reader = MllpReader(max_bytes=LIMIT, keep_bytes=100)
    reader.feed(b"\x0b")
    for _ in range(1000):
        assert reader.feed(b"y" * 1000) == []
    assert len(reader._buffer) <= 1 and reader.in_frame


def test_a_peer_that_sends_no_mllp_frames_is_closed_after_the_size_limit(clinic, stop):
    listener = start_listener(clinic, stop)
    with connect(listener.address) as conn:
        try:
            for _ in range(100):  # an HTTP client, say, talking to the HL7 port
                conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 40)
        except OSError:
            pass  # closed under us: what should happen
        conn.settimeout(30)
        try:
            assert conn.recv(1024) == b""
        except ConnectionResetError:
            pass
    assert listener.stats.garbage_bytes > LIMIT
