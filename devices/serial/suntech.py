"""SunTech Advantage OEM NIBP module: the bytes (docs/devices.md, "SunTech Advantage NIBP"). Pure: no I/O.

Host -> module: ':' + command + checksum. Module -> host: '>' + LEN + data + checksum,
LEN counting the whole frame. A good frame sums to 0 mod 256. `ReplyReader` cuts the
module's byte stream into replies, counts and skips what fails its checksum or grammar,
and resynchronises on the next '>' (in a loop: no amount of line noise exhausts the stack).
"""
from __future__ import annotations

from dataclasses import dataclass, field

HOST_START = 0x3A  # ':'
MODULE_START = 0x3E  # '>'
MIN_LEN, MAX_LEN = 4, 64  # shortest reply ('>' LEN byte cs); longest we accept before calling it garbage
BP_DATA_LEN = 0x18
DONE_CODE = 0x4B
REPLY_LENGTHS = frozenset({4, 5, BP_DATA_LEN})  # done, cuff pressure, BP data: worth waiting for in full


def checksum(data: bytes) -> int:
    """(0x100 - sum of the bytes) & 0xFF: appended, it makes the frame sum to 0."""
    return (0x100 - sum(data)) & 0xFF


def command(body: bytes) -> bytes:
    """A host command frame: ':' + body + checksum."""
    head = bytes([HOST_START]) + body
    return head + bytes([checksum(head)])


START_ADULT = command(b"\x20")
START_PAEDIATRIC = command(b"\x87")
START_NEONATE = command(b"\x28")
GET_CUFF_PRESSURE = command(b"\x79\x05\x00")
GET_BP_DATA = command(b"\x79\x03\x00")
ABORT = command(b"\x79\x01\x00")
RESET = command(b"\x8A")
START_COMMANDS = {"adult": START_ADULT, "paediatric": START_PAEDIATRIC, "neonate": START_NEONATE}


def reply(data: bytes) -> bytes:
    """A module reply frame around `data` (used by the emulator and the tests)."""
    head = bytes([MODULE_START, len(data) + 3]) + data
    return head + bytes([checksum(head)])


# ---- replies ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CuffPressure:
    mmhg: int


@dataclass(frozen=True, slots=True)
class MeasurementDone:
    pass


@dataclass(frozen=True, slots=True)
class BPData:
    """The 24-byte BP data reply. A non-zero `error` means no valid reading."""

    sbp: int
    dbp: int
    map: int
    hr: int
    beats: int
    status: int
    error: int
    test_codes: bytes = field(repr=False, default=b"")

    @property
    def valid(self) -> bool:
        return self.error == 0


@dataclass(frozen=True, slots=True)
class OtherReply:
    """A checksum-valid reply this adapter does not use (kept for the log, not guessed at)."""

    frame: bytes


Reply = CuffPressure | MeasurementDone | BPData | OtherReply


def parse_reply(frame: bytes) -> Reply:
    """Meaning of one whole, checksum-valid module frame."""
    if len(frame) == 5:
        return CuffPressure(int.from_bytes(frame[2:4], "little"))
    if len(frame) == 4 and frame[2] == DONE_CODE:
        return MeasurementDone()
    if len(frame) == BP_DATA_LEN:
        return _bp_data(frame)
    return OtherReply(frame)


def _bp_data(frame: bytes) -> BPData:
    # '>' LEN | SYS LE16 | DIA LE16 | beats | status | 8 test codes | HR | spare | MAP LE16 | error | 2 spare | cs
    le16 = lambda at: int.from_bytes(frame[at:at + 2], "little")  # noqa: E731
    return BPData(sbp=le16(2), dbp=le16(4), beats=frame[6], status=frame[7], test_codes=frame[8:16],
                  hr=frame[16], map=le16(18), error=frame[20])


def bp_data_frame(sbp: int, dbp: int, map_: int, hr: int, error: int = 0, beats: int = 30, status: int = 1,
                  test_codes: bytes = bytes(8)) -> bytes:
    """The BP data reply for these values (the emulator's side of `_bp_data`)."""
    data = (sbp.to_bytes(2, "little") + dbp.to_bytes(2, "little") + bytes([beats, status]) + test_codes[:8]
            + bytes([hr, 0]) + map_.to_bytes(2, "little") + bytes([error, 0, 0]))
    return reply(data)


# ---- framing --------------------------------------------------------------------


@dataclass
class ReaderStats:
    frames: int = 0
    bad_frames: int = 0  # failed checksum or length
    garbage_bytes: int = 0  # bytes skipped while looking for a frame start


class ReplyReader:
    """Incremental framer for the module's replies; feed it whatever `read()` returned."""

    def __init__(self, stats: ReaderStats | None = None) -> None:
        self._buffer = bytearray()
        self.stats = stats or ReaderStats()  # pass one in to keep counting across reconnects

    def feed(self, data: bytes) -> list[Reply]:
        self._buffer += data
        replies: list[Reply] = []
        while True:
            frame = self._next_frame()
            if frame is None:
                return replies
            replies.append(parse_reply(frame))

    def _whole_frame_after(self) -> int | None:
        """Where a whole, checksum-valid frame starts after the first byte (None if none is there yet)."""
        buf = self._buffer
        at = buf.find(MODULE_START, 1)
        while at >= 0:
            if at + 1 < len(buf) and MIN_LEN <= buf[at + 1] <= MAX_LEN and at + buf[at + 1] <= len(buf) \
                    and not sum(buf[at:at + buf[at + 1]]) & 0xFF:
                return at
            at = buf.find(MODULE_START, at + 1)
        return None

    def _next_frame(self) -> bytes | None:
        """The next whole, checksum-valid frame; a bad one drops its '>' and the search goes on (a loop, so any
        amount of line noise in one read costs time, never the stack)."""
        buf = self._buffer
        while True:
            start = buf.find(MODULE_START)
            if start < 0:
                self.stats.garbage_bytes += len(buf)
                buf.clear()
                return None
            if start:
                self.stats.garbage_bytes += start
                del buf[:start]
            if len(buf) < 2:
                return None
            length = buf[1]
            if MIN_LEN <= length <= MAX_LEN and len(buf) < length:
                later = self._whole_frame_after() if length not in REPLY_LENGTHS else None
                if later is None:
                    return None  # wait for the rest; a truncated frame fails its checksum once the next one arrives
                self.stats.bad_frames += 1  # a '>' claiming an odd length while a whole frame follows: noise
                self.stats.garbage_bytes += later
                del buf[:later]
                continue
            if MIN_LEN <= length <= MAX_LEN and not sum(buf[:length]) & 0xFF:
                frame = bytes(buf[:length])
                del buf[:length]
                self.stats.frames += 1
                return frame
            self.stats.bad_frames += 1  # a length out of range or a failed checksum: drop this '>'
            del buf[:1]


# ---- host commands, parsed (the emulator's side) ----------------------------------


class CommandReader:
    """Incremental framer for host commands: ':' + 1 byte (or 0x79 + 2 bytes) + checksum."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.bad = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Whole, checksum-valid command frames."""
        self._buffer += data
        out: list[bytes] = []
        buf = self._buffer
        while True:
            start = buf.find(HOST_START)
            if start < 0:
                buf.clear()
                return out
            del buf[:start]
            if len(buf) < 2:
                return out
            size = 5 if buf[1] == 0x79 else 3
            if len(buf) < size:
                return out
            frame = bytes(buf[:size])
            if sum(frame) & 0xFF:
                self.bad += 1
                del buf[:1]
                continue
            del buf[:size]
            out.append(frame)
