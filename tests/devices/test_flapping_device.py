"""Fault: an oximeter whose cable comes and goes every couple of seconds. Every reading sent while it was
connected is stored, each outage gives exactly one device.disconnected, and nothing leaks."""
from __future__ import annotations

import os
import threading
import time

from devices.emulators.line import PtyLine
from devices.emulators.nonin import NoninEmulator
from devices.serial.oximeter import NoninOximeter
from devices.readings import Reading
from devices.supervisor import Backoff, Supervisor

OUTAGES = 6
CONNECTED_S = 1.5


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
    wait_for(lambda: supervisor.connected.is_set() or emulator.send(), "the oximeter heard")
    threads_before, fds_before = threading.active_count(), _open_fds()

    def stored_hrs() -> list[int]:
        return [i.hr for i in clinic.store.session_items(sid) if isinstance(i, Reading) and i.hr is not None]

    def alarms() -> list[str]:
        return [a["state"] for a in clinic.store.alarms_of(sid) if a["code"] == "device.disconnected"]

    sent: list[int] = []
    for outage in range(OUTAGES):
        wait_for(lambda: supervisor.connected.is_set() or emulator.send(), "the oximeter heard again")
        end = time.monotonic() + CONNECTED_S
        while time.monotonic() < end:  # a stream at the oximeter's pace while the cable is in
            emulator.present(Reading("oximeter", hr=60 + len(sent) % 40, spo2=80 + (len(sent) % 20)))
            sent.append(60 + len(sent) % 40)
            time.sleep(0.05)
        emulator.send()  # the frame after the last confirms it (framing by the next sync byte)
        wait_for(lambda: len(stored_hrs()) >= len(sent), "what was sent while connected, stored")
        line.unplug()
        wait_for(lambda: alarms().count("raised") == outage + 1, "the outage's device.disconnected")
        line.replug()
    wait_for(lambda: supervisor.connected.is_set() or emulator.send(), "the oximeter heard after the last outage")
    wait_for(lambda: alarms().count("cleared") == OUTAGES, "the last outage cleared")
    assert stored_hrs()[: len(sent)] == sent  # every reading sent while connected, in order, once
    assert alarms() == ["raised", "cleared"] * OUTAGES  # exactly one alarm per outage, each cleared
    outage_logs = [r for r in caplog.records if r.name == "devices.supervisor" and r.levelname == "WARNING"]
    assert len(outage_logs) == OUTAGES  # logged once per outage, not once per retry
    assert threading.active_count() <= threads_before + 1  # no thread piles up per reconnect
    assert _open_fds() <= fds_before + 2  # nor file descriptors
    line.close()
