"""A SunTech Advantage NIBP module on a line: answers the host's commands.

Start inflates the emulated cuff for `measure_s`, while cuff-pressure polls see it
rise and fall; then the module says "measurement done" (`3E 04 4B 73`) and the BP
data request gets the result it was given with `present()` (sample and hold: the
latest NIBP reading or failure of the source). With nothing presented it measures
120/80. A failure is sent as a non-zero error code from this emulator's own table
(the module's real codes are not published in docs/devices.md).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Callable

from ..readings import Item, Reading, SessionEvent
from ..serial import suntech
from .line import Line

log = logging.getLogger(__name__)

ERROR_CODES = {"motion artifact": 1, "cuff leak": 2, "cuff too loose": 3, "measurement timeout": 4}
OTHER_ERROR = 9
PEAK_CUFF_MMHG = 160


class SunTechEmulator:
    def __init__(self, line: Line, measure_s: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.line, self.measure_s, self.clock = line, measure_s, clock
        self.answering = True  # False: a mute module (the host must notice)
        self.result: bytes = suntech.bp_data_frame(120, 80, 93, 70)
        self.replay: deque[bytes] = deque()  # captured BP data frames, served one per measurement
        self.started_at: float | None = None
        self.measurements = 0
        self.commands: list[bytes] = []  # every command received (tests look)
        self._lock = threading.Lock()
        self._reader = suntech.CommandReader()

    def present(self, item: Item) -> None:
        """The result the next measurement gives."""
        frame = None
        if isinstance(item, Reading) and item.has_bp:
            sbp, dbp = int(round(item.sbp or 0)), int(round(item.dbp or 0))
            mean = int(round(item.map)) if item.map is not None else 0  # 0 = not reported
            hr = int(round(item.hr)) if item.hr is not None else 0
            frame = suntech.bp_data_frame(_u16(sbp), _u16(dbp), _u16(mean), max(0, min(hr, 255)))
        elif isinstance(item, SessionEvent) and item.kind == "nibp_failed":
            frame = suntech.bp_data_frame(0, 0, 0, 0, error=ERROR_CODES.get(item.detail, OTHER_ERROR))
        if frame is not None:
            with self._lock:
                self.result = frame

    def run(self, stop: threading.Event) -> None:
        """Answer commands until `stop`."""
        while not stop.is_set():
            data = self.line.read(0.05)
            for frame in self._reader.feed(data) if data else []:
                self.commands.append(frame)
                if self.answering:
                    self._on(frame)
            self._tick()

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stop,), name="suntech emulator", daemon=True)
        thread.start()
        return thread

    def _on(self, frame: bytes) -> None:
        if frame in suntech.START_COMMANDS.values():
            if self.started_at is None:
                self.started_at = self.clock()
        elif frame == suntech.GET_CUFF_PRESSURE:
            self.line.write(suntech.reply(self._cuff().to_bytes(2, "little")))
        elif frame == suntech.GET_BP_DATA:
            with self._lock:
                self.line.write(self.replay.popleft() if self.replay else self.result)
        elif frame in (suntech.ABORT, suntech.RESET):
            self.started_at = None

    def _tick(self) -> None:
        if self.started_at is not None and self.clock() - self.started_at >= self.measure_s:
            self.started_at = None
            self.measurements += 1
            if self.answering:
                self.line.write(suntech.reply(bytes([suntech.DONE_CODE])))

    def _cuff(self) -> int:
        """Inflate to the peak in the first third of the cycle, then bleed down."""
        if self.started_at is None:
            return 0
        part = min((self.clock() - self.started_at) / max(self.measure_s, 1e-6), 1.0)
        return int(PEAK_CUFF_MMHG * (part * 3 if part < 1 / 3 else 1.5 * (1 - part)))


def _u16(value: int) -> int:
    return max(0, min(value, 0xFFFF))
