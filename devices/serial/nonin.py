"""Nonin pulse oximeter, Data Formats 8 and 7: the bytes (docs/devices.md). Pure: no I/O.

Data Format 8: four bytes a second and no checksum, so frames are found by their bit
pattern: only the first byte has bit 7 set. `FrameReader` accepts a frame at once while it
is in step with the stream; after garbage (or at the start) it waits for the next frame's
first byte to confirm the boundary before trusting it again.

Data Format 7: packets of 25 five-byte frames (status, pleth high, pleth low, one "float"
byte whose meaning depends on the frame's place, checksum = sum of the first four mod 256);
the status byte of frame 1 carries the sync bit. `Df7Reader` checks every checksum, drops a
packet with a bad frame and resynchronises on the next sync frame; each whole packet becomes
one `Frame` in Data Format 8's terms, so `SensorState` serves both formats.

`SensorState` turns frames into readings and technical `sensor_off` events: a frame flagged
out of track or sensor alarm is never a number; a frame flagged artifact keeps its numbers
and marks the reading (`Reading.artifact`). Both readers loop, never recurse, so a burst of
line noise of any length costs time proportional to its length and loses nothing after it.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..readings import Item, Reading, SessionEvent

FRAME_LEN = 4
NO_HR, NO_SPO2 = 511, 127
MAX_HR = 321  # Nonin's stated pulse rate range is 18-321 bpm: above it (and not 511) we are out of step
FORMATS = (7, 8)
# status 1 (Data Format 8)
SYNC = 0x80
OUT_OF_TRACK = 0x20
LOW_PERFUSION = 0x10
MARGINAL_PERFUSION = 0x08
ARTIFACT = 0x04
# status 2 (Data Format 8)
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
        return ""

    @property
    def artifact(self) -> bool:
        """The oximeter saw an artifact (motion, poor signal) in this measurement: numbers kept, marked."""
        return bool(self.status1 & ARTIFACT)

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
    if not _plausible(hr, spo2):
        return None
    return Frame(status1=frame[0] & 0x7C, status2=frame[3], hr=hr, spo2=spo2)


def _plausible(hr: int, spo2: int) -> bool:
    return (spo2 <= 100 or spo2 == NO_SPO2) and (hr <= MAX_HR or hr == NO_HR)


@dataclass
class ReaderStats:
    frames: int = 0
    bad_frames: int = 0  # bytes that broke the format (or a checksum) where a frame was expected
    garbage_bytes: int = 0  # bytes skipped while out of step


class FrameReader:
    """Data Format 8: incremental framer with resynchronisation on the bit-7 pattern."""

    def __init__(self, stats: ReaderStats | None = None) -> None:
        self._buffer = bytearray()
        self._in_step = False
        self.stats = stats or ReaderStats()  # pass one in to keep counting across reconnects

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while (frame := self._next()) is not None:
            frames.append(frame)
        return frames

    def _next(self) -> Frame | None:
        buf = self._buffer
        while True:
            if not self._in_step:
                self._skip_to_sync()
                # confirm the boundary with the next frame's sync byte before trusting it
                if len(buf) < FRAME_LEN + 1:
                    return None
                if decode(bytes(buf[:FRAME_LEN])) is None or not buf[FRAME_LEN] & SYNC:
                    self._drop(1)
                    continue
                self._in_step = True
            if len(buf) < FRAME_LEN:
                return None
            frame = decode(bytes(buf[:FRAME_LEN]))
            if frame is None:
                self.stats.bad_frames += 1
                self._in_step = False
                self._drop(1)
                continue
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


# ---- Data Format 7 --------------------------------------------------------------------------

DF7_FRAME_LEN, DF7_FRAMES = 5, 25
DF7_SYNC = 0x01  # status: frame 1 of a packet
DF7_HIGH = 0x80  # status: always set
DF7_ARTIFACT, DF7_OUT_OF_TRACK, DF7_SENSOR_ALARM = 0x20, 0x10, 0x08
DF7_RED_PERFUSION, DF7_GREEN_PERFUSION = 0x04, 0x02
# the "float" byte by frame (0-based): 0-1 HR 4-beat (high, low), 2 SpO2 4-beat, 3 firmware revision,
# 5-6 timer, 7 status 2 (SmartPoint 0x20, low battery 0x01), 8-10 further SpO2 averages, 13-14 HR 8-beat, ...
DF7_HR_HIGH, DF7_HR_LOW, DF7_SPO2, DF7_STATUS2 = 0, 1, 2, 7


def df7_frame(status: int, value: int, pleth: int = 0) -> bytes:
    """One Data Format 7 frame with its checksum (the emulator's side)."""
    body = bytes([DF7_HIGH | (status & 0x7F), (pleth >> 8) & 0xFF, pleth & 0xFF, value & 0xFF])
    return body + bytes([sum(body) & 0xFF])


def df7_packet(hr: int, spo2: int, status: int = 0, status2: int = 0, pleth: int = 0) -> bytes:
    """A whole packet: `status` flags (DF7 bits) on every frame, the sync bit on the first."""
    values = [0] * DF7_FRAMES
    values[DF7_HR_HIGH], values[DF7_HR_LOW] = (hr >> 7) & 0x03, hr & 0x7F
    values[DF7_SPO2], values[DF7_STATUS2] = spo2 & 0x7F, status2 & 0x7F
    status &= ~DF7_SYNC & 0x7F  # the sync bit belongs to frame 1 alone
    return b"".join(df7_frame(status | (DF7_SYNC if i == 0 else 0), value, pleth) for i, value in enumerate(values))


class Df7Reader:
    """Data Format 7: packets of 25 checksummed frames -> one `Frame` (Data Format 8 terms) per packet."""

    def __init__(self, stats: ReaderStats | None = None) -> None:
        self._buffer = bytearray()
        self._packet: list[bytes] = []  # frames of the packet being read
        self.stats = stats or ReaderStats()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        out: list[Frame] = []
        buf = self._buffer
        while len(buf) >= DF7_FRAME_LEN:
            frame = bytes(buf[:DF7_FRAME_LEN])
            if not self._packet:
                if not _df7_valid(frame) or not frame[0] & DF7_SYNC:  # look for the start of a packet
                    self.stats.garbage_bytes += 1
                    del buf[:1]
                    continue
            elif not _df7_valid(frame) or frame[0] & DF7_SYNC:
                self.stats.bad_frames += 1  # a broken frame, or a new packet before this one ended: drop it
                self._packet = []
                continue
            del buf[:DF7_FRAME_LEN]
            self._packet.append(frame)
            if len(self._packet) == DF7_FRAMES:
                packet, self._packet = self._packet, []
                decoded = _df7_decode(packet)
                if decoded is None:
                    self.stats.bad_frames += 1
                else:
                    self.stats.frames += 1
                    out.append(decoded)
        return out


def _df7_valid(frame: bytes) -> bool:
    return bool(frame[0] & DF7_HIGH) and sum(frame[:4]) & 0xFF == frame[4]


def _df7_decode(packet: list[bytes]) -> Frame | None:
    values = [frame[3] for frame in packet]
    hr = (values[DF7_HR_HIGH] & 0x03) << 7 | (values[DF7_HR_LOW] & 0x7F)
    spo2 = values[DF7_SPO2] & 0x7F
    if not _plausible(hr, spo2):
        return None
    flags = 0
    for frame in packet:
        flags |= frame[0]
    status1 = (ARTIFACT if flags & DF7_ARTIFACT else 0) | (OUT_OF_TRACK if flags & DF7_OUT_OF_TRACK else 0)
    status2 = (values[DF7_STATUS2] & (SMARTPOINT | LOW_BATTERY)) | (SENSOR_ALARM if flags & DF7_SENSOR_ALARM else 0)
    return Frame(status1=status1, status2=status2, hr=hr, spo2=spo2)


def reader_for(data_format: int, stats: ReaderStats | None = None) -> FrameReader | Df7Reader:
    return Df7Reader(stats) if data_format == 7 else FrameReader(stats)


# ---- frames -> items -----------------------------------------------------------------------


class SensorState:
    """Frames -> items for one oximeter: numbers when clean (marked when artifact), one `sensor_off` per episode."""

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
        return [Reading(self.source, hr=hr, spo2=spo2, received_time=received, device_id=device_id,
                        artifact=frame.artifact)]
