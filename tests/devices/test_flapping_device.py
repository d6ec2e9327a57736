"""Fault: an oximeter whose cable comes and goes every couple of seconds. Every reading sent while it was
connected is stored, each outage gives exactly one device.disconnected, and nothing leaks."""
from __future__ import annotations

import os
import threading
import time

from devices.emulators.line import PtyLine
from devices.emulators.nonin import NoninEmulator
from devices.oximeter import NoninOximeter
from devices.readings import Reading
from devices.supervisor import Backoff, Supervisor

OUTAGES = 6
CONNECTED_S = 1.5
UNPLUGGED_S = 1.0


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_flapping_oximeter_loses_nothing_sent_while_connected_and_leaks_nothing(clinic, stop, tmp_path, wait_for,
                                                                                 caplog):
    sid = clinic.open("Chair 2")
    line = PtyLine(tmp_path / "oximeter")
    emulator = NoninEmulator(line)
    supervisor = Supervisor(NoninOximeter("Chair 2", line.url, silence_s=2.0), clinic.ingest,
                            backoff=Backoff(initial_s=0.1, max_s=0.5))
    supervisor.start(stop)
    wait_for(lambda: (emulator.send(), supervisor.connected.is_set())[1], timeout=5)
    threads_before, fds_before = threading.active_count(), _open_fds()

    sent: list[int] = []
    spo2 = 80
    for outage in range(OUTAGES):
        wait_for(lambda: supervisor.connected.is_set() or (emulator.send(), False)[1], timeout=5)
        end = time.monotonic() + CONNECTED_S
        while time.monotonic() < end:
            spo2 = 80 + (len(sent) % 20)
            emulator.present(Reading("oximeter", hr=60 + len(sent) % 40, spo2=spo2))
            sent.append(60 + len(sent) % 40)
            time.sleep(0.05)
        emulator.send()  # the frame after the last confirms it (framing by the next sync byte)
        time.sleep(0.3)
        line.unplug()
        time.sleep(UNPLUGGED_S)
        line.replug()
    wait_for(lambda: supervisor.connected.is_set() or (emulator.send(), False)[1], timeout=5)
    emulator.send()

    def stored() -> list[Reading]:
        return [i for i in clinic.store.session_items(sid) if isinstance(i, Reading)]

    wait_for(lambda: len(stored()) >= len(sent), timeout=10)
    hrs = [r.hr for r in stored() if r.hr is not None]
    assert hrs[: len(sent)] == sent  # every reading sent while connected, in order, once
    def alarms() -> list[str]:
        return [a["state"] for a in clinic.store.alarms_of(sid) if a["code"] == "device.disconnected"]

    wait_for(lambda: alarms().count("cleared") == OUTAGES, timeout=10)
    assert alarms() == ["raised", "cleared"] * OUTAGES  # exactly one alarm per outage, each cleared
    outage_logs = [r for r in caplog.records if r.name == "devices.supervisor" and r.levelname == "WARNING"]
    assert len(outage_logs) == OUTAGES  # logged once per outage, not once per retry
    assert threading.active_count() <= threads_before + 1  # no thread piles up per reconnect
    assert _open_fds() <= fds_before + 2  # nor file descriptors
    line.close()
