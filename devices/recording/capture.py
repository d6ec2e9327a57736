"""Raw byte captures with timestamps: what `record --raw` writes and the emulators replay.

A text file, one line per chunk: `<seconds since start> <direction> <hex bytes>`, where
direction `<` is device -> us and `>` is us -> device; `#` lines are comments (the
first names the protocol). For HL7 each `<` chunk is one whole message.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Iterator

from ..errors import DeviceError


@dataclass(frozen=True, slots=True)
class Chunk:
    offset_s: float
    direction: str  # "<" from the device, ">" to it
    data: bytes


class CaptureWriter:
    """A `tap` for `Port`: call it with (direction, bytes); thread-safe, flushed per chunk."""

    def __init__(self, target: Path | str, protocol: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._handle: IO[str] = open(target, "w", encoding="ascii")
        self._clock = clock
        self._start = clock()
        self._lock = threading.Lock()
        self._handle.write(f"# raw capture protocol={protocol} started={time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n")

    def __call__(self, direction: str, data: bytes) -> None:
        with self._lock:
            if not self._handle.closed:
                self._handle.write(f"{self._clock() - self._start:.3f} {direction} {data.hex()}\n")
                self._handle.flush()

    def close(self) -> None:
        with self._lock:
            self._handle.close()


def read_capture(source: Path | str) -> tuple[str, list[Chunk]]:
    """(protocol, chunks) of a capture file; DeviceError naming the line when it is not one."""
    protocol, chunks = "", []
    with open(source, encoding="ascii", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                for word in line.split():
                    if word.startswith("protocol="):
                        protocol = protocol or word.partition("=")[2]
                continue
            try:
                offset, direction, hexdata = line.split(" ", 2)
                if direction not in "<>":
                    raise ValueError(direction)
                chunks.append(Chunk(float(offset), direction, bytes.fromhex(hexdata)))
            except ValueError:
                raise DeviceError(f"{source}: line {number} is not '<seconds> <direction> <hex>'") from None
    return protocol, chunks


def paced_chunks(chunks: list[Chunk], stop: threading.Event, speed: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> Iterator[Chunk]:
    """The device's chunks (`<`), each when due at the recorded pace times `speed`."""
    start = clock()
    for chunk in chunks:
        if chunk.direction != "<":
            continue
        wait = start + chunk.offset_s / speed - clock()
        if wait > 0 and stop.wait(wait):
            return
        yield chunk
