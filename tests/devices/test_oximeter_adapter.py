"""The real Nonin adapter against the Nonin emulator over a real pty (and a socket)."""
from __future__ import annotations

import pytest

from devices.serial import nonin
from devices.emulators.line import PtyLine, TcpLine
from devices.emulators.nonin import NoninEmulator
from devices.serial.oximeter import NoninOximeter
from devices.readings import Reading, SessionEvent
from devices.supervisor import Backoff, Supervisor
from tests.waits import wait_until

QUICK_BACKOFF = Backoff(initial_s=0.1, max_s=0.5)


@pytest.fixture(params=["pty", "socket"])
def line(request, tmp_path):
    made = PtyLine(tmp_path / "oximeter") if request.param == "pty" else TcpLine()
    yield made
    made.close()


def start(adapter, sink, stop, emulator: NoninEmulator) -> Supervisor:
    supervisor = Supervisor(adapter, sink, backoff=QUICK_BACKOFF)
    supervisor.start(stop)
    wait_until(lambda: supervisor.connected.is_set() or emulator.send(),  # a Nonin is heard only when it sends
               "the adapter to hear the oximeter")
    return supervisor


def test_streamed_frames_become_readings_and_flags_become_sensor_off(line, sink, stop, wait_for):
    emulator = NoninEmulator(line)
    adapter = NoninOximeter("Chair 2", line.url)
    start(adapter, sink, stop, emulator)
    for hr, spo2 in ((72, 97), (73, 96), (511, 95)):
        emulator.present(Reading("oximeter", hr=hr if hr != 511 else None, spo2=spo2))
    emulator.present(SessionEvent("sensor_off", "sensor alarm", source="oximeter"))
    emulator.present(SessionEvent("sensor_off", "sensor alarm", source="oximeter"))
    emulator.send(80, 99)
    emulator.send()  # the next frame's sync byte confirms the last one after a resync
    wait_for(lambda: len(sink.of(Reading)) >= 4)
    assert [(r.hr, r.spo2) for r in sink.of(Reading)] == [(72, 97), (73, 96), (None, 95), (80, 99)]
    assert [(e.kind, e.detail, e.source) for e in sink.of(SessionEvent)] == [("sensor_off", "sensor alarm", "oximeter")]


def test_garbage_is_skipped_and_the_reader_resynchronises(line, sink, stop, wait_for):
    emulator = NoninEmulator(line)
    adapter = NoninOximeter("Chair 2", line.url)
    start(adapter, sink, stop, emulator)
    line.write(b"\xff\x01\x80\x7f\x7f" + nonin.encode(70, 96)[:3])  # noise and a truncated frame
    for hr in (81, 82, 83):
        emulator.send(hr, 95)
    wait_for(lambda: [r.hr for r in sink.of(Reading)][-2:] == [82, 83])
    assert adapter.stats.reader.garbage_bytes + adapter.stats.reader.bad_frames > 0


def test_unplugged_oximeter_raises_device_disconnected_then_clears(clinic, line, stop, wait_for):
    """How soon (docs/devices.md: within 5 s) is a figure of bench/device_disconnect.py, not a test."""
    sid = clinic.open("Chair 2")
    emulator = NoninEmulator(line)
    start(NoninOximeter("Chair 2", line.url, silence_s=2.0), clinic.ingest, stop, emulator)
    emulator.keep_alive(stop, idle_s=0.5)

    def alarms(state: str) -> list[dict]:
        return [a for a in clinic.store.alarms_of(sid) if a["code"] == "device.disconnected" and a["state"] == state]

    line.unplug()
    wait_for(lambda: alarms("raised"))
    assert alarms("raised")[0]["source"] == "oximeter"
    line.replug()
    wait_for(lambda: alarms("cleared"))
    emulator.present(Reading("oximeter", hr=66, spo2=98))
    emulator.send()
    wait_for(lambda: any(isinstance(i, Reading) and i.spo2 == 98 for i in clinic.store.session_items(sid)))


def test_a_silent_port_is_a_lost_connection_but_only_one_outage(line, sink, stop, wait_for):
    emulator = NoninEmulator(line)
    supervisor = start(NoninOximeter("Chair 2", line.url, silence_s=0.5), sink, stop, emulator)
    wait_for(lambda: sink.of(SessionEvent))
    failures = supervisor.stats.failures
    wait_for(lambda: supervisor.stats.failures >= failures + 2, "two more reopen attempts of the silent port")
    assert [(e.kind, e.detail) for e in sink.of(SessionEvent)] == [("device_disconnect", "no data for 0.5 s")]
    assert supervisor.stats.outages == 1 and supervisor.stats.failures >= 2


def test_data_format_7_packets_from_the_emulator_become_paced_readings(line, sink, stop, wait_for):
    emulator = NoninEmulator(line, data_format=7)
    adapter = NoninOximeter("Chair 2", line.url, data_format=7)
    start(adapter, sink, stop, emulator)
    emulator.present(Reading("oximeter", hr=72, spo2=97))
    wait_for(lambda: sink.of(Reading))
    line.write(b"\x81\x00\x00\x05\x00" * 3 + nonin.df7_packet(99, 99)[:40])  # noise and a packet cut short

    def second_reading() -> bool:  # three packets a second, one reading a second
        emulator.present(Reading("oximeter", hr=130, spo2=96, artifact=True))
        return any(r.hr == 130 for r in sink.of(Reading))

    wait_until(second_reading, "the second reading", every=0.2)
    emulator.present(SessionEvent("sensor_off", "sensor alarm", source="oximeter"))
    wait_for(lambda: sink.of(SessionEvent))
    readings = sink.of(Reading)
    assert (readings[0].hr, readings[0].spo2, readings[0].artifact) == (72, 97, False)
    assert (readings[-1].hr, readings[-1].spo2, readings[-1].artifact) == (130, 96, True)
    assert all(b.received_time - a.received_time >= 0.9 for a, b in zip(readings, readings[1:]))
    assert [(e.kind, e.detail) for e in sink.of(SessionEvent)] == [("sensor_off", "sensor alarm")]
    assert 99 not in [r.hr for r in readings] and adapter.stats.reader.bad_frames >= 1
