"""Nonin pulse oximeter, Data Format 8: the bytes (PROTOCOLS.md section 3). Pure: no I/O.

Four bytes a second and no checksum, so frames are found by their bit pattern: only
the first byte has bit 7 set. `FrameReader` accepts a frame at once while it is in step
with the stream; after garbage (or at the start) it waits for the next frame's first
byte to confirm the boundary before trusting it again. `SensorState` turns frames into
readings and technical `sensor_off` events: a flagged frame is never a number.
"""
from __future__ import annotations

from dataclasses import dataclass

from .readings import Item, Reading, SessionEvent

FRAME_LEN = 4
NO_HR, NO_SPO2 = 511, 127
MAX_HR = 300  # above this (and not 511) a decoded HR means we are out of step
# status 1
SYNC = 0x80
OUT_OF_TRACK = 0x20
LOW_PERFUSION = 0x10
MARGINAL_PERFUSION = 0x08
ARTIFACT = 0x04
# status 2
SMARTPOINT = 0x20
SENSOR_ALARM = 0x08
LOW_BATTERY = 0x01


@dataclass(frozen=True, slots=True)
class Frame:
    status1: int
    status2: int
    hr: int  # 511 = no value
    spo2: int  # 127 = no value

    @property
    def technical(self) -> str:
        """Why this frame carries no numbers ('' when it does)."""
        if self.status2 & SENSOR_ALARM:
            return "sensor alarm"
        if self.status1 & OUT_OF_TRACK:
            return "out of track"
        if self.status1 & ARTIFACT:
            return "artifact"
        return ""

    @property
    def low_battery(self) -> bool:
        return bool(self.status2 & LOW_BATTERY)

    def encode(self) -> bytes:
        return encode(self.hr, self.spo2, self.status1, self.status2)


def encode(hr: int, spo2: int, status1: int = 0, status2: int = 0) -> bytes:
    """One frame; `status1`/`status2` carry flags only (the HR and sync bits are added here)."""
    return bytes([SYNC | (status1 & 0x7C) | (hr >> 7) & 0x03, hr & 0x7F, spo2 & 0x7F, status2 & 0x7F])


def decode(frame: bytes) -> Frame | None:
    """The frame, or None when the four bytes break the format (then we are out of step)."""
    if len(frame) != FRAME_LEN or not frame[0] & SYNC or any(b & 0x80 for b in frame[1:]):
        return None
    hr = (frame[0] & 0x03) << 7 | frame[1]
    spo2 = frame[2]
    if spo2 > 100 and spo2 != NO_SPO2:
        return None
    if hr > MAX_HR and hr != NO_HR:
        return None
    return Frame(status1=frame[0] & 0x7C, status2=frame[3], hr=hr, spo2=spo2)


@dataclass
class ReaderStats:
    frames: int = 0
    bad_frames: int = 0  # four bytes that broke the format where a frame was expected
    garbage_bytes: int = 0  # bytes skipped while out of step


class FrameReader:
    """Incremental framer with resynchronisation on the bit-7 pattern."""

    def __init__(self, stats: ReaderStats | None = None) -> None:
        self._buffer = bytearray()
        self._in_step = False
        self.stats = stats or ReaderStats()  # pass one in to keep counting across reconnects

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while True:
            frame = self._next()
            if frame is None:
                return frames
            frames.append(frame)

    def _next(self) -> Frame | None:
        buf = self._buffer
        if not self._in_step:
            self._skip_to_sync()
            # confirm the boundary with the next frame's sync byte before trusting it
            if len(buf) < FRAME_LEN + 1:
                return None
            frame = decode(bytes(buf[:FRAME_LEN]))
            if frame is None or not buf[FRAME_LEN] & SYNC:
                self._drop(1)
                return self._next()
            self._in_step = True
        if len(buf) < FRAME_LEN:
            return None
        frame = decode(bytes(buf[:FRAME_LEN]))
        if frame is None:
            self.stats.bad_frames += 1
            self._in_step = False
            self._drop(1)
            return self._next()
        del buf[:FRAME_LEN]
        self.stats.frames += 1
        return frame

    def _skip_to_sync(self) -> None:
        buf = self._buffer
        at = next((i for i, b in enumerate(buf) if b & SYNC), len(buf))
        self._drop(at)

    def _drop(self, count: int) -> None:
        self.stats.garbage_bytes += count
        del self._buffer[:count]


class SensorState:
    """Frames -> items for one oximeter: numbers when clean, one `sensor_off` per technical episode."""

    def __init__(self, source: str = "oximeter") -> None:
        self.source = source
        self.condition = ""  # the technical condition now ('' = none)
        self.low_battery = False

    def items(self, frame: Frame, received: float, device_id: str = "") -> list[Item]:
        self.low_battery = frame.low_battery
        why = frame.technical
        if why:
            if why == self.condition:
                return []  # the same episode: said once
            self.condition = why
            return [SessionEvent("sensor_off", detail=why, source=self.source, received_time=received,
                                 device_id=device_id)]
        self.condition = ""
        hr = None if frame.hr == NO_HR else float(frame.hr)
        spo2 = None if frame.spo2 == NO_SPO2 else float(frame.spo2)
        if hr is None and spo2 is None:
            return []
        return [Reading(self.source, hr=hr, spo2=spo2, received_time=received, device_id=device_id)]
