"""The Nonin (Data Format 8) oximeter adapter: reads the 1 Hz stream from a serial port.

Frames become readings, flagged frames one `sensor_off` event per episode (see
`nonin.SensorState`). A port silent for `silence_s` (the oximeter sends every
second) counts as lost, so a pulled cable on a real RS-232 line is noticed too.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from . import nonin
from .adapter import Sink
from .readings import Reading
from .serial_port import Port, SerialDevice, Silence

log = logging.getLogger(__name__)


@dataclass
class OximeterStats:
    readings: int = 0
    events: int = 0
    parser_errors: int = 0  # exceptions in the parser, contained
    reader: nonin.ReaderStats = field(default_factory=nonin.ReaderStats)


class NoninOximeter(SerialDevice):
    """A Nonin oximeter streaming Data Format 8; silence for `silence_s` is a lost connection."""

    def __init__(self, chair: str, url: str, *, label: str = "oximeter", baud: int = 9600, silence_s: float = 3.0,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 tap: Callable[[str, bytes], None] | None = None) -> None:
        super().__init__(chair, url, label, baud, clock, wall, tap)
        self.silence_s = silence_s
        self.stats = OximeterStats()

    def serve(self, port: Port, sink: Sink, stop: threading.Event, alive: Callable[[], None]) -> None:
        reader = nonin.FrameReader(self.stats.reader)
        state = nonin.SensorState(self.label)
        silence = Silence(self.silence_s, self.clock)
        low_battery = False
        while not stop.is_set():
            data = port.read()
            if data:
                silence.heard()
                items = []
                for frame in self._frames(reader, data):
                    alive()
                    items += state.items(frame, self.wall())
                if items:
                    readings = sum(1 for item in items if isinstance(item, Reading))
                    self.stats.readings += readings
                    self.stats.events += len(items) - readings
                    sink.submit(self.chair, items)
                if state.low_battery != low_battery:  # logged once per change, not every second
                    low_battery = state.low_battery
                    log.log(logging.WARNING if low_battery else logging.INFO, "%s: battery %s", self.name,
                            "low" if low_battery else "ok")
            silence.check()

    def _frames(self, reader: nonin.FrameReader, data: bytes) -> list[nonin.Frame]:
        try:
            return reader.feed(data)
        except Exception:  # a parser bug must not take the adapter down: count it and go on
            self.stats.parser_errors += 1
            log.exception("%s: parser error", self.name)
            return []
