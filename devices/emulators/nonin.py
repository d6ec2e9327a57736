"""A Nonin Data Format 8 oximeter on a line: one 4-byte frame per reading it is shown.

With `keep_alive` running, a line left idle gets "no value" frames (HR 511, SpO2 127),
as a real oximeter keeps sending while it searches, so the adapter does not take a
pause between patients for a pulled cable.
"""
from __future__ import annotations

import threading
import time

from .. import nonin
from ..readings import Item, Reading, SessionEvent
from .line import Line

_FLAGS = {  # sensor_off detail -> (status 1, status 2) the oximeter would send
    "out of track": (nonin.OUT_OF_TRACK, 0),
    "artifact": (nonin.ARTIFACT, 0),
    "sensor alarm": (0, nonin.SENSOR_ALARM),
}


class NoninEmulator:
    def __init__(self, line: Line) -> None:
        self.line = line
        self.sent = 0
        self.last_sent = time.monotonic()

    def send(self, hr: int = nonin.NO_HR, spo2: int = nonin.NO_SPO2, status1: int = 0, status2: int = 0) -> None:
        self.line.write(nonin.encode(hr, spo2, status1, status2))
        self.sent += 1
        self.last_sent = time.monotonic()

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
            self.send(hr, spo2)
        elif isinstance(item, SessionEvent) and item.kind == "sensor_off":
            status1, status2 = _FLAGS.get(item.detail, (0, nonin.SENSOR_ALARM))
            self.send(status1=status1, status2=status2)

    def write_raw(self, data: bytes) -> None:
        """Replay captured bytes as they are."""
        self.line.write(data)
