"""Nonin Data Formats 8 and 7: framing, resynchronisation, checksums, no-value codes, technical events."""
from __future__ import annotations

import random

import pytest

from devices.serial import nonin
from devices.readings import Reading, SessionEvent


def test_a_frame_round_trips_with_a_nine_bit_heart_rate():
    frame = nonin.encode(300, 98, nonin.LOW_PERFUSION, nonin.SMARTPOINT)
    assert frame[0] & 0x80 and not any(b & 0x80 for b in frame[1:])
    decoded = nonin.decode(frame)
    assert decoded == nonin.Frame(status1=nonin.LOW_PERFUSION, status2=nonin.SMARTPOINT, hr=300, spo2=98)
    assert decoded.technical == ""  # low perfusion still carries numbers


def test_reader_resynchronises_on_the_bit_pattern_after_garbage():
    good = [nonin.encode(70 + i, 96) for i in range(4)]
    reader = nonin.FrameReader()
    frames = reader.feed(b"\x85\x01" + good[0] + good[1])  # garbage that starts like a frame
    frames += reader.feed(b"\x7f\x80" + good[2][:2])  # garbage mid-stream, then half a frame
    frames += reader.feed(good[2][2:] + good[3] + nonin.encode(80, 95))
    assert [f.hr for f in frames] == [70, 71, 72, 73, 80]
    assert reader.stats.bad_frames >= 1 and reader.stats.garbage_bytes >= 4


def test_a_truncated_frame_is_skipped_and_counted():
    reader = nonin.FrameReader()
    frames = reader.feed(nonin.encode(70, 96) + nonin.encode(71, 96)[:2] + nonin.encode(72, 96) + nonin.encode(73, 96)
                         + nonin.encode(74, 96))
    assert [f.hr for f in frames] == [70, 72, 73, 74]
    assert reader.stats.bad_frames == 1


def test_implausible_values_break_the_frame():
    assert nonin.decode(bytes([0x83, 0x10, 96, 0])) is None  # HR 400: not a heart rate, and not 511
    assert nonin.decode(nonin.encode(322, 96)) is None  # above Nonin's stated 18-321 range
    assert nonin.decode(nonin.encode(321, 96)).hr == 321  # the top of the range is a value
    assert nonin.decode(bytes([0x80, 70, 101, 0])) is None  # SpO2 above 100 (and not 127)
    assert nonin.decode(bytes([0x80, 70, 96, 0x80])) is None  # status 2 bit 7 must be 0


def test_511_and_127_mean_no_value():
    state = nonin.SensorState()
    assert state.items(nonin.decode(nonin.encode(511, 127)), 1.0) == []
    [reading] = state.items(nonin.decode(nonin.encode(511, 97)), 2.0)
    assert isinstance(reading, Reading) and reading.hr is None and reading.spo2 == 97


def test_flagged_frames_become_one_sensor_off_per_episode_never_numbers():
    state = nonin.SensorState("oximeter")
    out_of_track = nonin.decode(nonin.encode(72, 95, nonin.OUT_OF_TRACK))
    probe_off = nonin.decode(nonin.encode(511, 127, 0, nonin.SENSOR_ALARM))
    clean = nonin.decode(nonin.encode(72, 97))
    out = [state.items(frame, t) for t, frame in enumerate([out_of_track, out_of_track, probe_off, probe_off, clean])]
    events = [item for items in out for item in items if isinstance(item, SessionEvent)]
    readings = [item for items in out for item in items if isinstance(item, Reading)]
    assert [(e.kind, e.detail, e.source) for e in events] == [
        ("sensor_off", "out of track", "oximeter"), ("sensor_off", "sensor alarm", "oximeter")]
    assert [(r.hr, r.spo2) for r in readings] == [(72, 97)]


def test_an_artifact_marks_the_reading_and_keeps_its_numbers():
    state = nonin.SensorState("oximeter")
    [reading] = state.items(nonin.decode(nonin.encode(90, 88, nonin.ARTIFACT)), 1.0)
    assert (reading.hr, reading.spo2, reading.artifact) == (90, 88, True)
    [event] = state.items(nonin.decode(nonin.encode(90, 88, nonin.ARTIFACT | nonin.OUT_OF_TRACK)), 2.0)
    assert (event.kind, event.detail) == ("sensor_off", "out of track")  # out of track with it: no number
    [clean] = state.items(nonin.decode(nonin.encode(72, 97)), 3.0)
    assert not clean.artifact


@pytest.mark.parametrize("make_reader, encode", [
    (nonin.FrameReader, lambda hr: nonin.encode(hr, 96)),
    (nonin.Df7Reader, lambda hr: nonin.df7_packet(hr, 96)),
])
def test_a_kilobyte_of_line_noise_in_one_read_loses_nothing_after_it(make_reader, encode):
    noise = bytes(random.Random(3).randrange(256) for _ in range(4096))
    reader = make_reader()
    frames = reader.feed(encode(70) + noise + b"".join(encode(hr) for hr in (71, 72, 73)) + encode(74))
    assert [f.hr for f in frames][-4:] == [71, 72, 73, 74]  # no RecursionError, the frames after it kept
    assert reader.stats.garbage_bytes + reader.stats.bad_frames > 0


# ---- Data Format 7 ----------------------------------------------------------------------


def test_df7_packet_bytes_are_25_checksummed_frames_with_the_sync_bit_on_the_first():
    packet = nonin.df7_packet(130, 97, status2=nonin.LOW_BATTERY)
    frames = [packet[i:i + 5] for i in range(0, len(packet), 5)]
    assert len(packet) == 125 and len(frames) == 25
    assert all(f[0] & 0x80 and sum(f[:4]) % 256 == f[4] for f in frames)
    assert [bool(f[0] & nonin.DF7_SYNC) for f in frames] == [True] + [False] * 24
    assert (frames[0][3], frames[1][3], frames[2][3], frames[7][3]) == (1, 2, 97, nonin.LOW_BATTERY)  # 130 = 1*128+2


def test_df7_reader_decodes_packets_and_maps_the_status_bits():
    reader = nonin.Df7Reader()
    [clean, flagged, probe_off] = reader.feed(
        nonin.df7_packet(130, 97) + nonin.df7_packet(88, 91, nonin.DF7_ARTIFACT)
        + nonin.df7_packet(511, 127, nonin.DF7_SENSOR_ALARM))
    assert (clean.hr, clean.spo2, clean.technical, clean.artifact) == (130, 97, "", False)
    assert (flagged.hr, flagged.artifact, flagged.technical) == (88, True, "")
    assert probe_off.technical == "sensor alarm"
    assert nonin.Df7Reader().feed(nonin.df7_packet(90, 95, nonin.DF7_OUT_OF_TRACK))[0].technical == "out of track"


def test_df7_a_bad_checksum_drops_the_packet_and_the_reader_resynchronises():
    good = nonin.df7_packet(70, 96)
    broken = bytearray(nonin.df7_packet(71, 96))
    broken[5 * 10 + 4] ^= 0xFF  # frame 11's checksum
    reader = nonin.Df7Reader()
    frames = []
    stream = good + bytes(broken) + nonin.df7_packet(72, 96)[:60] + nonin.df7_packet(73, 96) + nonin.df7_packet(74, 96)
    for at in range(0, len(stream), 7):  # in pieces, as a serial port delivers them
        frames += reader.feed(stream[at:at + 7])
    assert [f.hr for f in frames] == [70, 73, 74]
    assert reader.stats.bad_frames == 2  # the broken packet and the one cut short by the next sync frame
