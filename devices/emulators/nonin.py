"""A Nonin oximeter on a line: per reading it is shown, one Data Format 8 frame (4 bytes) or,
with `data_format=7`, one Data Format 7 packet (25 checksummed 5-byte frames).

With `keep_alive` running, a line left idle gets "no value" frames (HR 511, SpO2 127),
as a real oximeter keeps sending while it searches, so the adapter does not take a
pause between patients for a pulled cable.
"""
from __future__ import annotations

import threading
import time

from ..readings import Item, Reading, SessionEvent
from ..serial import nonin
from .line import Line

_FLAGS = {  # sensor_off detail -> (status 1, status 2) the oximeter would send
    "out of track": (nonin.OUT_OF_TRACK, 0),
    "sensor alarm": (0, nonin.SENSOR_ALARM),
}


class NoninEmulator:
    def __init__(self, line: Line, data_format: int = 8) -> None:
        if data_format not in nonin.FORMATS:
            raise ValueError(f"Nonin data format must be one of {nonin.FORMATS}, got {data_format!r}")
        self.line, self.data_format = line, data_format
        self.sent = 0
        self.last_sent = time.monotonic()

    def send(self, hr: int = nonin.NO_HR, spo2: int = nonin.NO_SPO2, status1: int = 0, status2: int = 0) -> None:
        """One frame (Format 8) or packet (Format 7); the flags are given in Format 8's bits."""
        self.line.write(self.encode(hr, spo2, status1, status2))
        self.sent += 1
        self.last_sent = time.monotonic()

    def encode(self, hr: int, spo2: int, status1: int = 0, status2: int = 0) -> bytes:
        if self.data_format == 8:
            return nonin.encode(hr, spo2, status1, status2)
        status = ((nonin.DF7_ARTIFACT if status1 & nonin.ARTIFACT else 0)
                  | (nonin.DF7_OUT_OF_TRACK if status1 & nonin.OUT_OF_TRACK else 0)
                  | (nonin.DF7_SENSOR_ALARM if status2 & nonin.SENSOR_ALARM else 0))
        return nonin.df7_packet(hr, spo2, status, status2 & (nonin.SMARTPOINT | nonin.LOW_BATTERY))

    def keep_alive(self, stop: threading.Event, idle_s: float = 2.0) -> threading.Thread:
        def run() -> None:
            while not stop.wait(0.2):
                if time.monotonic() - self.last_sent >= idle_s:
                    self.send()
        thread = threading.Thread(target=run, name="nonin keep-alive", daemon=True)
        thread.start()
        return thread

    def present(self, item: Item) -> None:
        """Send the frame this oximeter reading or sensor event would produce."""
        if isinstance(item, Reading):
            hr = nonin.NO_HR if item.hr is None else max(0, min(int(round(item.hr)), nonin.MAX_HR))
            spo2 = nonin.NO_SPO2 if item.spo2 is None else max(0, min(int(round(item.spo2)), 100))
            self.send(hr, spo2, nonin.ARTIFACT if item.artifact else 0)
        elif isinstance(item, SessionEvent) and item.kind == "sensor_off":
            status1, status2 = _FLAGS.get(item.detail, (0, nonin.SENSOR_ALARM))
            self.send(status1=status1, status2=status2)

    def write_raw(self, data: bytes) -> None:
        """Replay captured bytes as they are."""
        self.line.write(data)
