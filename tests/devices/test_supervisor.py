"""The supervisor: capped backoff, one log line and one event per outage, contained failures."""
from __future__ import annotations

import logging
import threading
import time

from devices.serial import nonin
from devices.emulators.line import PtyLine
from devices.emulators.nonin import NoninEmulator
from devices.errors import ConnectionLost
from devices.serial.oximeter import NoninOximeter
from devices.readings import Reading, SessionEvent
from devices.supervisor import Backoff, Supervisor
from tests.waits import DEADLINE_S, wait_until


def test_backoff_is_exponential_and_capped():
    backoff = Backoff(initial_s=0.5, factor=2, max_s=30)
    assert [backoff.delay(n) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff.delay(10_000) == 30


class NeverOpens:
    chair, label, name = "Chair 1", "nibp", "nibp (Chair 1)"

    def __init__(self) -> None:
        self.attempts: list[float] = []

    def open(self):
        self.attempts.append(time.monotonic())
        raise ConnectionLost("cannot open /dev/ttyUSB9: no such file", "cannot open port")

    def serve(self, port, sink, stop, alive):  # pragma: no cover - never reached
        raise AssertionError


def test_a_device_that_never_opens_is_one_outage_one_event_one_warning(sink, stop, caplog):
    device = NeverOpens()
    supervisor = Supervisor(device, sink, backoff=Backoff(initial_s=0.05, factor=2, max_s=0.4))
    with caplog.at_level(logging.WARNING, logger="devices.supervisor"):
        supervisor.start(stop)
        wait_until(lambda: len(device.attempts) >= 6, "six attempts to open")
        stop.set()
    gaps = [b - a for a, b in zip(device.attempts, device.attempts[1:])]
    # each retry waits out its backoff (0.05, 0.1, 0.2, 0.4, 0.4 s: capped, as test_backoff_... checks exactly)
    assert all(gap >= supervisor.backoff.delay(n) - 0.01 for n, gap in enumerate(gaps[:5]))
    assert [(e.kind, e.detail, e.source) for e in sink.of(SessionEvent)] == [
        ("device_disconnect", "cannot open port", "nibp")]
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert supervisor.stats.outages == 1 and supervisor.stats.failures == len(device.attempts)


class Broken:
    """An adapter with a bug: every serve raises."""

    chair, label, name = "Chair 1", "oximeter", "broken"

    def __init__(self, line: PtyLine) -> None:
        self.inner = NoninOximeter("Chair 1", line.url)

    def open(self):
        return self.inner.open()

    def serve(self, port, sink, stop, alive):
        raise ZeroDivisionError("a bug")


def test_a_bug_in_one_adapter_is_contained_and_the_other_keeps_running(sink, stop, wait_for, caplog):
    broken_line, good_line = PtyLine(), PtyLine()
    try:
        broken = Supervisor(Broken(broken_line), sink, backoff=Backoff(0.05, 2, 0.1))
        good = NoninOximeter("Chair 2", good_line.url)
        with caplog.at_level(logging.ERROR, logger="devices.supervisor"):
            broken.start(stop)
            Supervisor(good, sink, backoff=Backoff(0.05, 2, 0.1)).start(stop)
            emulator = NoninEmulator(good_line)
            wait_for(lambda: emulator.send(70, 97) or len(sink.of(Reading)) >= 3, "the good oximeter's readings",
                     every=0.05)
            wait_for(lambda: broken.stats.errors >= 3)
        assert len([r for r in caplog.records if r.name == "devices.supervisor"]) == 1  # once per outage
        assert broken.stats.outages == 1
    finally:
        broken_line.close()
        good_line.close()


def test_a_parser_exception_is_contained_and_counted(sink, stop, wait_for, monkeypatch):
    line = PtyLine()
    try:
        adapter = NoninOximeter("Chair 1", line.url)
        real_feed = nonin.FrameReader.feed
        calls = {"n": 0}

        def flaky_feed(self, data):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("parser bug")
            return real_feed(self, data)

        monkeypatch.setattr(nonin.FrameReader, "feed", flaky_feed)
        supervisor = Supervisor(adapter, sink, backoff=Backoff(0.05, 2, 0.1))
        supervisor.start(stop)
        emulator = NoninEmulator(line)
        wait_for(lambda: emulator.send(70, 97) or len(sink.of(Reading)) >= 3, "readings after the parser bug", every=0.05)
        assert adapter.stats.parser_errors == 1 and supervisor.stats.failures == 0
    finally:
        line.close()


def test_a_clean_stop_sends_no_disconnect(sink, wait_for):
    line = PtyLine()
    stop = threading.Event()
    try:
        supervisor = Supervisor(NoninOximeter("Chair 1", line.url), sink)
        thread = supervisor.start(stop)
        emulator = NoninEmulator(line)
        wait_for(lambda: emulator.send(70, 97) or sink.of(Reading), "the oximeter heard", every=0.05)
        stop.set()
        thread.join(DEADLINE_S)
        assert not thread.is_alive() and sink.of(SessionEvent) == []
    finally:
        line.close()
