"""The Nonin oximeter adapter: reads Data Format 8 (1 frame a second) or 7 (3 packets a second) from a serial port.

Frames become readings, out-of-track and sensor-alarm frames one `sensor_off` event per episode
(see `nonin.SensorState`); artifact frames are readings marked `artifact`. Data Format 7 is
read at the pace of Format 8: one reading a second, the newest (technical events at once). A
port silent for `silence_s` (the oximeter sends every second) counts as lost, so a pulled
cable on a real RS-232 line is noticed too.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from ..adapter import Sink
from ..readings import Item, Reading
from . import nonin
from .port import Port, SerialDevice, Silence

log = logging.getLogger(__name__)


@dataclass
class OximeterStats:
    readings: int = 0
    events: int = 0
    parser_errors: int = 0  # exceptions in the parser, contained
    reader: nonin.ReaderStats = field(default_factory=nonin.ReaderStats)


READING_EVERY_S = 1.0  # Data Format 7 sends three packets a second: one reading a second, as Format 8


class NoninOximeter(SerialDevice):
    """A Nonin oximeter streaming Data Format 8 or 7; silence for `silence_s` is a lost connection."""

    def __init__(self, chair: str, url: str, *, label: str = "oximeter", baud: int = 9600, silence_s: float = 3.0,
                 data_format: int = 8, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time, tap: Callable[[str, bytes], None] | None = None) -> None:
        super().__init__(chair, url, label, baud, clock, wall, tap)
        if data_format not in nonin.FORMATS:
            raise ValueError(f"Nonin data format must be one of {nonin.FORMATS}, got {data_format!r}")
        self.silence_s, self.data_format = silence_s, data_format
        self.stats = OximeterStats()

    def serve(self, port: Port, sink: Sink, stop: threading.Event, alive: Callable[[], None]) -> None:
        reader = nonin.reader_for(self.data_format, self.stats.reader)
        state = nonin.SensorState(self.label)
        silence = Silence(self.silence_s, self.clock)
        low_battery = False
        last_reading = float("-inf")
        while not stop.is_set():
            data = port.read()
            if data:
                silence.heard()
                items = []
                for frame in self._frames(reader, data):
                    alive()
                    items += state.items(frame, self.wall())
                if self.data_format == 7:
                    items, last_reading = self._paced(items, last_reading)
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

    def _paced(self, items: list[Item], last: float) -> tuple[list[Item], float]:
        """Events as they come; of the readings, the newest once READING_EVERY_S has passed since the last."""
        events = [item for item in items if not isinstance(item, Reading)]
        readings = [item for item in items if isinstance(item, Reading)]
        now = self.clock()
        if readings and now - last >= READING_EVERY_S:
            return events + readings[-1:], now
        return events, last

    def _frames(self, reader: nonin.FrameReader | nonin.Df7Reader, data: bytes) -> list[nonin.Frame]:
        try:
            return reader.feed(data)
        except Exception:  # a parser bug must not take the adapter down: count it and go on
            self.stats.parser_errors += 1
            log.exception("%s: parser error", self.name)
            return []
