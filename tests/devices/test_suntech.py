"""SunTech Advantage bytes: the documented vectors (docs/devices.md), checksums, framing through garbage and truncation."""
from __future__ import annotations

import random

import serial

from devices.serial import suntech
from devices.serial.port import Port

BP_EXAMPLE = bytes.fromhex("3E 18 73 00 4A 00 1E 01 00 00 00 00 00 00 31 07 55 00 58 00 00 00 00 E9")
CUFF_EXAMPLE = bytes.fromhex("3E 05 02 01 BA")
DONE = bytes.fromhex("3E 04 4B 73")


def test_host_commands_are_the_bytes_of_the_spec():
    assert suntech.START_ADULT == bytes.fromhex("3A 20 A6")
    assert suntech.START_PAEDIATRIC == bytes.fromhex("3A 87 3F")
    assert suntech.START_NEONATE == bytes.fromhex("3A 28 9E")
    assert suntech.GET_CUFF_PRESSURE == bytes.fromhex("3A 79 05 00 48")
    assert suntech.GET_BP_DATA == bytes.fromhex("3A 79 03 00 4A")
    assert suntech.ABORT == bytes.fromhex("3A 79 01 00 4C")
    assert suntech.RESET == bytes.fromhex("3A 8A 3C")


def test_checksum_makes_every_example_frame_sum_to_zero():
    for frame in (BP_EXAMPLE, CUFF_EXAMPLE, DONE):
        assert sum(frame) & 0xFF == 0
        assert suntech.checksum(frame[:-1]) == frame[-1]
    assert suntech.reply(b"\x4b") == DONE


def test_bp_example_is_115_over_74_map_88_hr_85():
    data = suntech.parse_reply(BP_EXAMPLE)
    assert isinstance(data, suntech.BPData)
    assert (data.sbp, data.dbp, data.map, data.hr, data.error) == (115, 74, 88, 85, 0) and data.valid
    assert suntech.bp_data_frame(115, 74, 88, 85, test_codes=bytes.fromhex("000000000000 3107")) == BP_EXAMPLE


def test_cuff_pressure_example_is_258_mmhg_and_done_is_recognised():
    assert suntech.parse_reply(CUFF_EXAMPLE) == suntech.CuffPressure(258)
    assert suntech.parse_reply(DONE) == suntech.MeasurementDone()


def test_a_non_zero_error_code_is_not_a_valid_reading():
    data = suntech.parse_reply(suntech.bp_data_frame(0, 0, 0, 0, error=3))
    assert isinstance(data, suntech.BPData) and not data.valid and data.error == 3


def test_reader_skips_garbage_bad_checksums_and_truncated_frames_then_resynchronises():
    reader = suntech.ReplyReader()
    bad_checksum = CUFF_EXAMPLE[:-1] + b"\x00"
    truncated = BP_EXAMPLE[:10]  # cut short: the next frame's '>' lands inside it
    stream = b"\x00\xff\x13" + bad_checksum + CUFF_EXAMPLE + truncated + DONE + b"\x3e\xff" + BP_EXAMPLE
    replies = []
    for at in range(0, len(stream), 3):  # arrives in small pieces, as from a serial port
        replies += reader.feed(stream[at:at + 3])
    assert replies == [suntech.CuffPressure(258), suntech.MeasurementDone(), suntech.parse_reply(BP_EXAMPLE)]
    assert reader.stats.frames == 3
    assert reader.stats.bad_frames >= 3 and reader.stats.garbage_bytes >= 3


def test_frames_pushed_through_a_loop_port_are_read_whole():
    port = Port(serial.serial_for_url("loop://", timeout=0.05))
    port.write(CUFF_EXAMPLE + BP_EXAMPLE)
    reader = suntech.ReplyReader()
    replies = []
    for _ in range(5):
        replies += reader.feed(port.read())
    assert replies == [suntech.CuffPressure(258), suntech.parse_reply(BP_EXAMPLE)]
    port.close()


def test_command_reader_is_the_emulators_side():
    reader = suntech.CommandReader()
    frames = reader.feed(b"\x00" + suntech.START_ADULT + b"\x3a\x20\x00" + suntech.GET_BP_DATA)
    assert frames == [suntech.START_ADULT, suntech.GET_BP_DATA] and reader.bad == 1


def test_a_kilobyte_of_line_noise_in_one_read_loses_nothing_after_it():
    noise = bytes(random.Random(5).randrange(256) for _ in range(4096)).replace(b">", b"?") + b">" * 2000
    reader = suntech.ReplyReader()
    data = suntech.bp_data_frame(115, 74, 88, 85)
    replies = reader.feed(data + noise + data + suntech.reply(b"\x4b") + data)  # no RecursionError
    assert [type(r).__name__ for r in replies] == ["BPData", "BPData", "MeasurementDone", "BPData"]
    assert reader.stats.garbage_bytes > 0 and reader.stats.bad_frames > 1000
