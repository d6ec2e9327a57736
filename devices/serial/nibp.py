"""The SunTech Advantage NIBP adapter: runs the cuff cycle itself over a serial port.

Every `interval_s` (counted from the start of the last cycle; the first one an
interval after connecting, so a restart never inflates a cuff unasked) and on
`measure_now()` (STAT), it starts a measurement, polls the cuff pressure until the
module says the measurement is done, reads the BP data and submits a `Reading`, or
an `nibp_failed` event when the module reports an error code. Between cycles it polls
the cuff pressure as a heartbeat: a module that stops answering is a lost connection.
On stop during a cycle it sends abort, so the cuff deflates.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from ..adapter import Sink
from ..errors import ConnectionLost
from ..readings import Reading, SessionEvent
from . import suntech
from .port import Port, SerialDevice

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NibpSettings:
    interval_s: float | None = 300.0  # None or 0: only on demand (STAT)
    mode: str = "adult"  # adult | paediatric | neonate
    poll_s: float = 0.5  # cuff-pressure poll during a cycle
    heartbeat_s: float = 1.0  # cuff-pressure poll between cycles
    reply_timeout_s: float = 2.0  # an unanswered poll this old means the module is gone
    cycle_timeout_s: float = 150.0  # a cycle with no result this long is aborted and reported failed

    def __post_init__(self) -> None:
        if self.mode not in suntech.START_COMMANDS:
            raise ValueError(f"mode must be one of {', '.join(suntech.START_COMMANDS)}, got {self.mode!r}")


@dataclass
class NibpStats:
    cycles: int = 0
    readings: int = 0
    failed: int = 0  # cycles with an error code or no result
    parser_errors: int = 0  # exceptions in the parser, contained
    reader: suntech.ReaderStats = field(default_factory=suntech.ReaderStats)


class SunTechNIBP(SerialDevice):
    """A SunTech Advantage module, host-polled: this adapter runs the cuff cycle (every interval, and STAT)."""

    def __init__(self, chair: str, url: str, *, label: str = "nibp", baud: int = 9600,
                 settings: NibpSettings = NibpSettings(), clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time, tap: Callable[[str, bytes], None] | None = None) -> None:
        super().__init__(chair, url, label, baud, clock, wall, tap)
        self.settings = settings
        self.stats = NibpStats()
        self.cuff_mmhg: int | None = None  # last cuff pressure seen
        self._stat = threading.Event()
        self._interrupted = False  # the link failed mid-cycle: deflate first thing on reconnect

    def measure_now(self) -> None:
        """STAT: start a cycle as soon as the current one (if any) ends. Thread-safe."""
        self._stat.set()

    # ---- Device ----------------------------------------------------------------------

    def serve(self, port: Port, sink: Sink, stop: threading.Event, alive: Callable[[], None]) -> None:
        link = _Link(port, suntech.ReplyReader(self.stats.reader), self, alive)
        if self._interrupted:
            link.send(suntech.ABORT)
            self._interrupted = False
        interval = self.settings.interval_s or None
        next_cycle = self.clock() + interval if interval else float("inf")
        next_beat = self.clock()
        while not stop.is_set():
            now = self.clock()
            if self._stat.is_set() or now >= next_cycle:
                self._stat.clear()
                began = now
                try:
                    self._cycle(link, sink, stop)
                except Exception:
                    self._interrupted = True
                    raise
                next_cycle = began + interval if interval else float("inf")
                next_beat = self.clock() + self.settings.heartbeat_s
                continue
            if now >= next_beat:
                link.send(suntech.GET_CUFF_PRESSURE)
                next_beat = now + self.settings.heartbeat_s
            link.pump(sink, stop)

    # ---- one cuff cycle ------------------------------------------------------------

    def _cycle(self, link: _Link, sink: Sink, stop: threading.Event) -> None:
        s = self.settings
        self.stats.cycles += 1
        link.port.reset_input()
        link.send(suntech.START_COMMANDS[s.mode])
        started, last_poll = self.clock(), float("-inf")
        link.result = None
        link.done = False
        while not (link.done or link.result):
            if stop.is_set():
                link.send(suntech.ABORT)  # never leave a cuff inflated
                return
            if self.clock() - started > s.cycle_timeout_s:
                link.send(suntech.ABORT)
                self._failed(sink, f"no result within {s.cycle_timeout_s:g} s")
                return
            if self.clock() - last_poll >= s.poll_s:
                link.send(suntech.GET_CUFF_PRESSURE)
                last_poll = self.clock()
            link.pump(sink, stop, in_cycle=True)
        if link.result is None:
            link.send(suntech.GET_BP_DATA)
            link.await_result(sink, stop)
        if link.result is not None:
            self._report(link.result, sink)

    def _report(self, data: suntech.BPData, sink: Sink) -> None:
        if not data.valid:
            self._failed(sink, f"module error code {data.error}")
            return
        self.stats.readings += 1
        reading = Reading(self.label, sbp=float(data.sbp), dbp=float(data.dbp),
                          map=float(data.map) if data.map else None,  # 0 = not reported
                          hr=float(data.hr) if data.hr else None, received_time=self.wall())
        sink.submit(self.chair, [reading])

    def _failed(self, sink: Sink, why: str) -> None:
        self.stats.failed += 1
        log.info("%s: cycle failed: %s", self.name, why)
        sink.submit(self.chair, [SessionEvent("nibp_failed", detail=why, source=self.label, received_time=self.wall())])


class _Link:
    """Commands out, replies in, and the 'is the module still answering' clock."""

    def __init__(self, port: Port, reader: suntech.ReplyReader, owner: SunTechNIBP, alive: Callable[[], None]) -> None:
        self.port, self.reader, self.owner, self.alive = port, reader, owner, alive
        self.unanswered_since: float | None = None
        self.result: suntech.BPData | None = None
        self.done = False

    def send(self, frame: bytes) -> None:
        if frame in (suntech.GET_CUFF_PRESSURE, suntech.GET_BP_DATA) and self.unanswered_since is None:
            self.unanswered_since = self.owner.clock()
        self.port.write(frame)

    def pump(self, sink: Sink, stop: threading.Event, in_cycle: bool = False) -> None:
        """Read what arrived (waits up to the port timeout) and act on each reply."""
        data = self.port.read()
        if data:
            try:
                replies = self.reader.feed(data)
            except Exception:  # a parser bug must not take the adapter down: count it and go on
                self.owner.stats.parser_errors += 1
                log.exception("%s: parser error", self.owner.name)
                replies = []
            if replies:
                self.unanswered_since = None
                self.alive()
            for reply in replies:
                self._on(reply, sink, in_cycle)
        waited = self.owner.clock() - self.unanswered_since if self.unanswered_since is not None else 0.0
        if waited > self.owner.settings.reply_timeout_s:
            raise ConnectionLost(f"no reply for {waited:.1f} s", f"no reply for {waited:.0f} s")

    def await_result(self, sink: Sink, stop: threading.Event) -> None:
        while self.result is None and not stop.is_set():
            self.pump(sink, stop, in_cycle=True)

    def _on(self, reply: suntech.Reply, sink: Sink, in_cycle: bool) -> None:
        if isinstance(reply, suntech.CuffPressure):
            self.owner.cuff_mmhg = reply.mmhg
        elif isinstance(reply, suntech.MeasurementDone):
            self.done = True
        elif isinstance(reply, suntech.BPData):
            if in_cycle:
                self.result = reply
            else:  # a cycle started on the module's own keypad: report it too
                self.owner._report(reply, sink)
        else:
            log.debug("%s: reply not used: %s", self.owner.name, reply.frame.hex(" "))
