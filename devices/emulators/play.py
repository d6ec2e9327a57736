"""Play a source through an emulator: the simulator, a feed CSV, or a raw capture.

What each device is shown: the SunTech module the NIBP readings and failed cycles
(held until the host measures), the Nonin oximeter the oximeter samples and sensor
events (one frame each, when due), an HL7 monitor every reading.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..feed import read_feed
from ..readings import Item, Reading
from ..recording.capture import Chunk, paced_chunks
from ..serial import suntech
from ..simulator import Timings, session_items
from .hl7_sender import HL7Feed, HL7Sender
from .line import Line
from .nonin import NoninEmulator
from .suntech import SunTechEmulator

KINDS = ("suntech", "nonin", "hl7")


def source_items(scenario: str | None = None, seed: int = 7, feed: Path | str | None = None,
                 config: Timings | None = None) -> list[Item]:
    """The whole session from a feed CSV, or from the simulator planning by `config`'s protocol timings."""
    if feed is not None:
        return read_feed(feed).items
    if config is None:
        raise ValueError("the simulator needs the protocols' timings (the engine's config)")
    return list(session_items(scenario or "esketamine-84-quiet", seed, config))


def for_device(items: Iterable[Item], kind: str) -> list[Item]:
    """What `kind` of device reports out of a session's items."""
    def wanted(item: Item) -> bool:
        if isinstance(item, Reading):
            is_nibp = item.has_bp
            return kind == "hl7" or (kind == "suntech") == is_nibp
        return (kind == "suntech" and item.kind == "nibp_failed") or (kind == "nonin" and item.kind == "sensor_off")
    return [item for item in items if wanted(item)]


def paced(items: Iterable[Item], stop: threading.Event, speed: float = 1.0,
          clock: Callable[[], float] = time.monotonic) -> Iterator[Item]:
    """Each item when due: session offset / speed after the first item."""
    start: float | None = None
    first = 0.0
    for item in items:
        offset = item.offset_s or 0.0
        if start is None:
            start, first = clock(), offset
        wait = start + (offset - first) / speed - clock()
        if wait > 0 and stop.wait(wait):
            return
        if stop.is_set():
            return
        yield item


def play_suntech(line: Line, items: list[Item], stop: threading.Event, speed: float = 1.0, measure_s: float = 2.0,
                 capture: list[Chunk] | None = None) -> SunTechEmulator:
    emulator = SunTechEmulator(line, measure_s=measure_s)
    if capture is not None:  # the recorded results, one per measurement the host asks for
        emulator.replay = deque(_bp_frames(capture))
    elif items:
        emulator.present(items[0])  # hold the first reading until the source moves on
    emulator.start(stop)
    for item in paced(items, stop, speed):
        emulator.present(item)
    return emulator


def play_nonin(line: Line, items: list[Item], stop: threading.Event, speed: float = 1.0,
               capture: list[Chunk] | None = None, data_format: int = 8) -> NoninEmulator:
    emulator = NoninEmulator(line, data_format)
    if capture is not None:
        for chunk in paced_chunks(capture, stop, speed):
            emulator.write_raw(chunk.data)
        return emulator
    for item in paced(items, stop, speed):
        emulator.present(item)
    return emulator


def play_hl7(sender: HL7Sender, items: list[Item], stop: threading.Event, speed: float = 1.0,
             capture: list[Chunk] | None = None) -> HL7Feed:
    feed = HL7Feed(sender)
    if capture is not None:
        for chunk in paced_chunks(capture, stop, speed):
            sender.send_text(chunk.data)
        return feed
    feed.start(stop)
    for item in paced(items, stop, speed):
        if isinstance(item, Reading):
            feed.push(dataclasses.replace(item, device_time=time.time()))
    while not stop.is_set() and feed.pending:  # let the outbox empty before returning
        stop.wait(0.1)
    return feed


def _bp_frames(capture: list[Chunk]) -> list[bytes]:
    reader = suntech.ReplyReader()
    frames = []
    for chunk in capture:
        if chunk.direction == "<":
            for reply in reader.feed(chunk.data):
                if isinstance(reply, suntech.BPData):
                    frames.append(suntech.bp_data_frame(reply.sbp, reply.dbp, reply.map, reply.hr, reply.error,
                                                        reply.beats, reply.status, reply.test_codes))
    return frames

