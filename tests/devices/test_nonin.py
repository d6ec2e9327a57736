"""Nonin Data Format 8: bit-pattern framing, resynchronisation, no-value codes and technical events."""
from __future__ import annotations

from devices import nonin
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
    artifact = nonin.decode(nonin.encode(90, 88, nonin.ARTIFACT))
    clean = nonin.decode(nonin.encode(72, 97))
    out = [state.items(frame, t) for t, frame in enumerate(
        [out_of_track, out_of_track, probe_off, probe_off, clean, artifact, artifact])]
    events = [item for items in out for item in items if isinstance(item, SessionEvent)]
    readings = [item for items in out for item in items if isinstance(item, Reading)]
    assert [(e.kind, e.detail, e.source) for e in events] == [
        ("sensor_off", "out of track", "oximeter"), ("sensor_off", "sensor alarm", "oximeter"),
        ("sensor_off", "artifact", "oximeter")]
    assert [(r.hr, r.spo2) for r in readings] == [(72, 97)]
