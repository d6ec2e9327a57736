"""The real SunTech adapter against the SunTech emulator over a real pty (and a socket)."""
from __future__ import annotations

import threading

import pytest

from devices.serial import suntech
from devices.emulators.line import PtyLine, TcpLine
from devices.emulators.suntech import SunTechEmulator
from devices.serial.nibp import NibpSettings, SunTechNIBP
from devices.readings import Reading, SessionEvent
from devices.registry import NibpRegistry
from devices.supervisor import Backoff, Supervisor
from tests.waits import DEADLINE_S

FAST = NibpSettings(interval_s=None, poll_s=0.05, heartbeat_s=0.2, reply_timeout_s=1.0, cycle_timeout_s=5)
QUICK_BACKOFF = Backoff(initial_s=0.1, max_s=0.5)


@pytest.fixture(params=["pty", "socket"])
def line(request, tmp_path):
    made = PtyLine(tmp_path / "nibp") if request.param == "pty" else TcpLine()
    yield made
    made.close()


@pytest.fixture
def module(line, stop):
    emulator = SunTechEmulator(line, measure_s=0.3)
    emulator.start(stop)
    return emulator


def start(adapter, sink, stop) -> Supervisor:
    supervisor = Supervisor(adapter, sink, backoff=QUICK_BACKOFF)
    supervisor.start(stop)
    assert supervisor.connected.wait(DEADLINE_S), "the adapter never heard the module"
    return supervisor


def test_measure_now_runs_a_whole_cuff_cycle(line, module, sink, stop, wait_for):
    module.present(Reading("nibp", sbp=115, dbp=74, map=88, hr=85))
    adapter = SunTechNIBP("Chair 1", line.url, settings=FAST)
    registry = NibpRegistry()
    registry.register("Chair 1", adapter)
    start(adapter, sink, stop)
    assert registry.measure_now("Chair 1") and not registry.measure_now("Chair 9")
    wait_for(lambda: sink.of(Reading))
    [reading] = sink.of(Reading)
    assert (reading.source, reading.sbp, reading.dbp, reading.map, reading.hr) == ("nibp", 115, 74, 88, 85)
    assert module.commands[-1] == suntech.GET_BP_DATA and suntech.START_ADULT in module.commands
    assert adapter.cuff_mmhg is not None and module.measurements == 1


def test_the_adapter_runs_the_cycle_on_its_interval(line, module, sink, stop, wait_for):
    adapter = SunTechNIBP("Chair 1", line.url, settings=NibpSettings(interval_s=0.4, poll_s=0.05, heartbeat_s=0.2))
    start(adapter, sink, stop)
    wait_for(lambda: len(sink.of(Reading)) >= 2)
    assert all((r.sbp, r.dbp) == (120, 80) for r in sink.of(Reading))  # the emulator's default patient


def test_an_error_code_is_a_failed_cycle_event_never_a_bp(line, module, sink, stop, wait_for):
    module.present(SessionEvent("nibp_failed", "cuff leak", source="nibp"))
    adapter = SunTechNIBP("Chair 1", line.url, settings=FAST)
    start(adapter, sink, stop)
    adapter.measure_now()
    wait_for(lambda: sink.of(SessionEvent))
    [event] = sink.of(SessionEvent)
    assert (event.kind, event.source, event.detail) == ("nibp_failed", "nibp", "module error code 2")
    assert sink.of(Reading) == [] and adapter.stats.failed == 1


def test_garbage_on_the_line_is_counted_and_skipped(line, module, sink, stop, wait_for):
    adapter = SunTechNIBP("Chair 1", line.url, settings=FAST)
    start(adapter, sink, stop)
    line.write(b"\x00\x13" + b"\x3e\x05\x02\x01\x00" + b"\x3e\xff")  # noise, a bad checksum, a bad length
    wait_for(lambda: adapter.stats.reader.bad_frames >= 2 and adapter.stats.reader.garbage_bytes >= 2)
    adapter.measure_now()
    wait_for(lambda: sink.of(Reading))


def test_stop_during_a_cycle_aborts_so_the_cuff_deflates(line, sink, stop, wait_for):
    emulator = SunTechEmulator(line, measure_s=30)
    emulator.start(stop)
    adapter_stop = threading.Event()
    adapter = SunTechNIBP("Chair 1", line.url, settings=FAST)
    start(adapter, sink, adapter_stop)
    adapter.measure_now()
    wait_for(lambda: suntech.START_ADULT in emulator.commands)
    adapter_stop.set()
    wait_for(lambda: suntech.ABORT in emulator.commands)
    assert emulator.started_at is None and sink.of(Reading) == []


def test_a_mute_module_is_a_lost_connection(line, module, sink, stop, wait_for):
    adapter = SunTechNIBP("Chair 1", line.url, settings=FAST)
    supervisor = start(adapter, sink, stop)
    module.answering = False
    wait_for(lambda: sink.of(SessionEvent))
    [event] = sink.of(SessionEvent)
    assert (event.kind, event.source) == ("device_disconnect", "nibp") and event.detail.startswith("no reply")
    module.answering = True
    wait_for(lambda: len(sink.of(SessionEvent)) == 2)
    assert sink.of(SessionEvent)[1].kind == "device_reconnect" and supervisor.stats.outages == 1


def test_unplugged_module_raises_device_disconnected_then_clears(clinic, line, module, stop, wait_for):
    """How soon (docs/devices.md: within 5 s) is a figure of bench/device_disconnect.py, not a test."""
    sid = clinic.open("Chair 1")
    adapter = SunTechNIBP("Chair 1", line.url, settings=FAST)
    start(adapter, clinic.ingest, stop)

    def alarms(state: str) -> list[dict]:
        return [a for a in clinic.store.alarms_of(sid) if a["code"] == "device.disconnected" and a["state"] == state]

    line.unplug()
    wait_for(lambda: alarms("raised"))
    assert alarms("raised")[0]["source"] == "nibp"
    line.replug()
    wait_for(lambda: alarms("cleared"))
    adapter.measure_now()
    wait_for(lambda: any(isinstance(i, Reading) for i in clinic.store.session_items(sid)))


def test_a_cycle_cut_by_a_lost_link_is_aborted_on_reconnect(line, sink, stop, wait_for):
    emulator = SunTechEmulator(line, measure_s=30)
    emulator.start(stop)
    adapter = SunTechNIBP("Chair 1", line.url, settings=FAST)
    start(adapter, sink, stop)
    adapter.measure_now()
    wait_for(lambda: emulator.started_at is not None)
    line.unplug()  # mid-inflation
    line.replug()
    wait_for(lambda: suntech.ABORT in emulator.commands)
    assert emulator.started_at is None
