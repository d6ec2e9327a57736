"""Properties of the device parsers over generated input (hypothesis): nothing a device sends raises anything but
the parser's own error, "no value" never becomes a value, and framing does not depend on how the bytes are split.

The suite runs a short profile; bench/fuzz_devices.py runs each property over 100,000 inputs (bench/RESULTS.md)."""
from __future__ import annotations

import datetime as dt
import math

from hypothesis import given
from hypothesis import strategies as st

from devices.serial import nonin, suntech
from devices.errors import HL7Error
from devices.hl7 import build_ack, parse_oru
from devices.hl7.mllp import MllpReader, frame
from devices.hl7.parse import control_id_of
from devices.hl7.values import _IEEE_SPECIAL, DISCARD_REASONS

from .strategies import (chunk_sizes, chunked, df7_packet, df8_frame, hl7_inputs, low_noise, mllp_body,
                         noise_outside_frames, suntech_noise, suntech_reply)

COUNTS: dict[str, int] = {}  # examples run per property (bench/fuzz_devices.py reports them)


def counted(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


@given(hl7_inputs)
def test_hl7_parser_reads_or_refuses_and_no_value_never_becomes_a_value(raw: bytes):
    counted("hl7 parser")
    control_id_of(raw)  # never raises
    try:
        message = parse_oru(raw, dt.timezone.utc)
    except HL7Error as exc:
        assert exc.ack in ("AE", "AR") and exc.reason and "Error" not in exc.reason
        return
    assert message.control_id and message.resend_key
    assert {d.reason for d in message.discarded} <= set(DISCARD_REASONS)
    for reading in message.readings(2e9):
        values = [v for v in (reading.sbp, reading.dbp, reading.map, reading.hr, reading.spo2) if v is not None]
        assert values and all(math.isfinite(v) and v >= 0 and int(v) not in _IEEE_SPECIAL for v in values)
        assert reading.has_bp <= (reading.sbp is not None and reading.dbp is not None)  # never a lone BP value
        assert reading.provenance == "demo" or not message.is_test


@given(st.text(max_size=60))
def test_an_ack_always_echoes_the_control_id(control_id: str):
    counted("ack")
    ack = build_ack("AE", control_id, application="DASH", facility="", reason=control_id)
    segments = ack.rstrip("\r").split("\r")
    assert len(segments) == 3 and segments[1].startswith("MSA|AE|")
    assert "\n" not in ack


@given(st.lists(st.tuples(noise_outside_frames, mllp_body), max_size=8), chunk_sizes, st.integers(1, 250))
def test_mllp_framing_is_the_same_however_the_bytes_are_split(parts, sizes, limit):
    counted("mllp framer")
    stream = b"".join(noise + frame(body) for noise, body in parts)
    expected = [(body[:64] if len(body) > limit else body, len(body), len(body) > limit) for _, body in parts]
    reader = MllpReader(max_bytes=limit, keep_bytes=64)
    frames = [f for piece in chunked(stream, sizes) for f in reader.feed(piece)]
    assert [(f.data, f.size, f.oversize) for f in frames] == expected
    assert reader.stats.garbage_bytes == sum(len(noise) for noise, _ in parts) and reader.take_garbled() == []


@given(st.binary(max_size=2000), chunk_sizes, st.integers(1, 300))
def test_mllp_any_bytes_frame_alike_in_one_piece_or_many(stream, sizes, limit):
    counted("mllp any bytes")
    whole = MllpReader(max_bytes=limit, keep_bytes=64)
    one = whole.feed(stream)
    pieces = MllpReader(max_bytes=limit, keep_bytes=64)
    many = [f for piece in chunked(stream, sizes) for f in pieces.feed(piece)]
    assert one == many and whole.take_garbled() == pieces.take_garbled()


@given(st.lists(st.tuples(suntech_noise, suntech_reply), max_size=8), chunk_sizes)
def test_suntech_replies_after_noise_are_all_read_however_split(parts, sizes):
    counted("suntech reader")
    stream = b"".join(noise + reply for noise, reply in parts)
    reader = suntech.ReplyReader()
    replies = [r for piece in chunked(stream, sizes) for r in reader.feed(piece)]
    assert replies == [suntech.parse_reply(reply) for _, reply in parts]


@given(st.binary(max_size=3000), chunk_sizes)
def test_suntech_reader_never_raises_on_any_bytes(stream, sizes):
    counted("suntech any bytes")
    reader = suntech.ReplyReader()
    for piece in chunked(stream, sizes):
        reader.feed(piece)


@given(low_noise, st.lists(df8_frame, min_size=1, max_size=10), chunk_sizes)
def test_nonin_df8_frames_after_noise_are_all_read(noise, frames, sizes):
    counted("nonin df8 reader")
    reader = nonin.FrameReader()
    stream = noise + b"".join(frames) + nonin.encode(72, 97)  # the next frame's sync byte confirms the last
    got = [f for piece in chunked(stream, sizes) for f in reader.feed(piece)]
    assert [f.encode() for f in got[:len(frames)]] == frames


@given(low_noise, st.lists(df7_packet, min_size=1, max_size=4), chunk_sizes)
def test_nonin_df7_packets_after_noise_are_all_read(noise, packets, sizes):
    counted("nonin df7 reader")
    reader = nonin.Df7Reader()
    stream = noise + b"".join(packet for _, _, packet in packets)
    got = [f for piece in chunked(stream, sizes) for f in reader.feed(piece)]
    assert [(f.hr, f.spo2) for f in got] == [(hr, spo2) for hr, spo2, _ in packets]


@given(st.binary(max_size=3000), chunk_sizes)
def test_nonin_readers_never_raise_on_any_bytes(stream, sizes):
    counted("nonin any bytes")
    for reader in (nonin.FrameReader(), nonin.Df7Reader()):
        for piece in chunked(stream, sizes):
            for f in reader.feed(piece):
                assert f.hr <= nonin.MAX_HR or f.hr == nonin.NO_HR
