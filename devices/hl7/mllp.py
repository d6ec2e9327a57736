"""MLLP framing: 0x0B + message + 0x1C 0x0D. Pure: no I/O, no clock.

`MllpReader` cuts a TCP byte stream into frames. The size limit is applied to the message
itself, the same way however TCP splits the bytes: a message longer than `max_bytes` is an
oversize `Frame` (its first `keep_bytes` kept, its length and digest counted while the rest
is skipped), delivered when its end byte arrives so the listener can answer it. Bytes
outside a frame are counted; a frame cut short by the next start byte is counted and handed
back as `garbled` (the sender gave it up, so it gets no answer, but it is kept for review).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

START, END = b"\x0b", b"\x1c\x0d"
MAX_MESSAGE_BYTES = 1 << 20
KEEP_BYTES = 1 << 16  # of an oversize message: enough to read its MSH and review it


def frame(message: bytes | str) -> bytes:
    body = message.encode("utf-8") if isinstance(message, str) else message
    return START + body + END


@dataclass(frozen=True, slots=True)
class Frame:
    """One whole MLLP frame."""

    data: bytes  # the message; of an oversize one, its first `keep_bytes`
    size: int  # bytes in the message
    oversize: bool = False
    digest: str = ""  # SHA-256 of an oversize message (it is not kept whole)


@dataclass
class MllpStats:
    started: int = 0  # frames begun (a start byte seen)
    messages: int = 0  # whole frames within the limit
    oversize: int = 0  # whole frames over the limit
    garbage_bytes: int = 0  # bytes outside any frame
    truncated: int = 0  # frames cut short by a new start byte


@dataclass
class MllpReader:
    max_bytes: int = MAX_MESSAGE_BYTES
    keep_bytes: int = KEEP_BYTES
    stats: MllpStats = field(default_factory=MllpStats)
    garbled: list[bytes] = field(default_factory=list)  # frames cut short since the last take_garbled()
    _buffer: bytearray = field(default_factory=bytearray)
    _in_frame: bool = False
    _skipping: bool = False  # inside an oversize frame: counting, not keeping
    _head: bytes = b""
    _size: int = 0
    _hash: "hashlib._Hash | None" = None
    _scan: int = 0  # where the search for the end byte resumes: a big frame in small pieces is scanned once

    @property
    def in_frame(self) -> bool:
        """A frame has begun and not ended (the listener's per-frame deadline runs)."""
        return self._in_frame

    def feed(self, data: bytes) -> list[Frame]:
        """The frames completed by `data`, in order."""
        self._buffer += data
        frames: list[Frame] = []
        while self._step(frames):
            pass
        return frames

    def take_garbled(self) -> list[bytes]:
        out, self.garbled = self.garbled, []
        return out

    def _step(self, frames: list[Frame]) -> bool:
        buf = self._buffer
        if not self._in_frame:
            start = buf.find(START)
            if start < 0:
                self.stats.garbage_bytes += len(buf)
                buf.clear()
                return False
            self.stats.garbage_bytes += start
            del buf[:start + 1]
            self._in_frame, self._scan = True, 0
            self.stats.started += 1
        end, restart = buf.find(END, self._scan), buf.find(START, self._scan)
        if restart >= 0 and (end < 0 or restart < end):
            self._cut_short(bytes(buf[:restart]))
            del buf[:restart]
            return True
        if self._skipping:
            return self._skip(frames, end)
        if end < 0:
            held = 1 if buf.endswith(END[:1]) else 0  # a 0x1C that may begin the end bytes
            if len(buf) - held > self.max_bytes:
                self._begin_skip(len(buf) - held)
            self._scan = max(len(self._buffer) - 1, 0)
            return False
        body = bytes(buf[:end])
        del buf[:end + len(END)]
        self._in_frame = False
        if end > self.max_bytes:
            self.stats.oversize += 1
            frames.append(Frame(body[:self.keep_bytes], end, True, hashlib.sha256(body).hexdigest()))
        else:
            self.stats.messages += 1
            frames.append(Frame(body, end))
        return True

    def _begin_skip(self, upto: int) -> None:
        buf = self._buffer
        self._skipping, self._head, self._size = True, bytes(buf[:min(upto, self.keep_bytes)]), upto
        self._hash = hashlib.sha256(buf[:upto])
        del buf[:upto]

    def _skip(self, frames: list[Frame], end: int) -> bool:
        buf = self._buffer
        assert self._hash is not None
        upto = end if end >= 0 else len(buf) - (1 if buf.endswith(END[:1]) else 0)
        if len(self._head) < self.keep_bytes:  # the head kept is the message's first bytes, however they came
            self._head += bytes(buf[:min(upto, self.keep_bytes - len(self._head))])
        self._hash.update(buf[:upto])
        self._size += upto
        del buf[:upto]
        self._scan = 0  # at most the one byte held
        if end < 0:
            return False
        del buf[:len(END)]
        self.stats.oversize += 1
        frames.append(Frame(self._head, self._size, True, self._hash.hexdigest()))
        self._reset()
        return True

    def _cut_short(self, partial: bytes) -> None:
        """`partial`: the frame's bytes still buffered (all of it, or what came after its kept head)."""
        self.stats.truncated += 1
        head = self._head + partial if self._skipping else partial
        self.garbled.append(head[:self.keep_bytes])
        self._reset()

    def _reset(self) -> None:
        self._in_frame = self._skipping = False
        self._head, self._size, self._hash, self._scan = b"", 0, None, 0
