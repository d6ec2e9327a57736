"""MLLP framing: 0x0B + message + 0x1C 0x0D. Pure: no I/O.

`MllpReader` cuts a TCP byte stream into messages. Bytes outside a frame, a frame
cut short by the next start byte, and a frame longer than `max_bytes` are counted
and dropped (the truncated or oversized ones are also handed back as `garbled` so
the listener can keep them whole for review).
"""
from __future__ import annotations

from dataclasses import dataclass, field

START, END = b"\x0b", b"\x1c\x0d"
MAX_MESSAGE_BYTES = 1 << 20


def frame(message: bytes | str) -> bytes:
    body = message.encode("utf-8") if isinstance(message, str) else message
    return START + body + END


@dataclass
class MllpStats:
    messages: int = 0
    garbage_bytes: int = 0  # bytes outside any frame
    truncated: int = 0  # frames cut short by a new start byte, or too long


@dataclass
class MllpReader:
    max_bytes: int = MAX_MESSAGE_BYTES
    stats: MllpStats = field(default_factory=MllpStats)
    garbled: list[bytes] = field(default_factory=list)  # truncated frames since the last take_garbled()
    _buffer: bytearray = field(default_factory=bytearray)
    _in_frame: bool = False

    def feed(self, data: bytes) -> list[bytes]:
        """Whole messages (without the framing bytes) completed by `data`."""
        self._buffer += data
        messages: list[bytes] = []
        while self._step(messages):
            pass
        return messages

    def take_garbled(self) -> list[bytes]:
        out, self.garbled = self.garbled, []
        return out

    def _step(self, messages: list[bytes]) -> bool:
        buf = self._buffer
        if not self._in_frame:
            start = buf.find(START)
            if start < 0:
                self.stats.garbage_bytes += len(buf)
                buf.clear()
                return False
            self.stats.garbage_bytes += start
            del buf[:start + 1]
            self._in_frame = True
        end = buf.find(END)
        restart = buf.find(START)
        if restart >= 0 and (end < 0 or restart < end):
            self._truncated(bytes(buf[:restart]))
            del buf[:restart]
            return True
        if end < 0:
            if len(buf) > self.max_bytes:
                self._truncated(bytes(buf[:self.max_bytes]))
                buf.clear()
            return False
        messages.append(bytes(buf[:end]))
        self.stats.messages += 1
        del buf[:end + len(END)]
        self._in_frame = False
        return True

    def _truncated(self, partial: bytes) -> None:
        self.stats.truncated += 1
        self.garbled.append(partial)
        self._in_frame = False
