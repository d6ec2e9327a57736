"""`app.py record`: read a configured device and write what it reports as a feed CSV.

`FeedRecorder` is a `Sink` that writes each item as a feed row (offset = seconds since
the recording began) and resolves the ticket once the row is flushed, so an HL7
sender gets its AA only when the row is on disk. Disconnects and reconnects are
recorded too. A raw capture (`--raw`) is written by the port's or listener's tap.
"""
from __future__ import annotations

import csv
import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import IO, Callable, Mapping, Sequence

from ..adapter import Adapter, Ticket
from ..config import DeviceConfig
from ..errors import DeviceConfigError
from ..feed import COLUMNS, item_row
from ..hl7.listener import HL7Listener
from ..readings import Item
from ..supervisor import Supervisor
from .capture import CaptureWriter

log = logging.getLogger(__name__)


class FeedRecorder:
    def __init__(self, target: IO[str], chair: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.chair, self.clock = chair, clock
        self.start = clock()
        self._writer = csv.DictWriter(target, fieldnames=COLUMNS, lineterminator="\n")
        self._writer.writeheader()
        self._target = target
        self._lock = threading.Lock()
        self._last = 0.0
        self.rows = 0
        self.refused = 0

    def submit(self, chair: str | None, items: Sequence[Item], message: str | None = None) -> Ticket:
        ticket = Ticket()
        if self.chair is not None and chair != self.chair:
            ticket.resolve(f"not recording chair {chair}" if chair else "no chair known for the device")
            return ticket
        with self._lock:
            for item in items:
                received = item.received_time if item.received_time is not None else self.clock()
                self._last = max(self._last, received - self.start)  # a feed's offsets never go back
                self._writer.writerow(item_row(dataclasses.replace(item, offset_s=round(self._last, 3))))
                self.rows += 1
            self._target.flush()
        ticket.resolve()
        return ticket

    def submit_device(self, device: str, items: Sequence[Item], message: str | None = None) -> Ticket:
        """A device no chair is known for: recorded unless a chair is chosen (a feed has no chair column)."""
        return self.submit(None, items, message)

    def refuse(self, source: str, raw: bytes, reason: str) -> None:
        self.refused += 1
        log.warning("refused input from %s: %s (%d bytes)", source, reason, len(raw))

    def tally(self, sender: str, peer: str, counts: Mapping[str, int]) -> None:
        """Traffic counts are the store's business: a recording keeps only what was measured."""


def recording_adapter(config: DeviceConfig, chair: str | None, device: str,
                      capture: CaptureWriter | None) -> Adapter:
    """The configured adapter `device` ("hl7" or a device label) of `chair`, tapped for a raw capture."""
    tap = capture
    if device == "hl7":
        if config.hl7 is None:
            raise DeviceConfigError("hl7: not configured (add an [hl7] table)")
        return HL7Listener(config.hl7, tap=tap)
    found = [d for d in config.serial if d.label == device and (chair is None or d.chair == chair)]
    if len(found) != 1:
        known = ", ".join(f"{d.chair}/{d.label}" for d in config.serial) or "none"
        raise DeviceConfigError(f"chairs: no single device {device!r}{f' on {chair}' if chair else ''}; "
                                f"configured: {known}")
    adapter = found[0].adapter()
    adapter.tap = tap  # type: ignore[attr-defined]
    return adapter


def record(config: DeviceConfig, out: Path, device: str, chair: str | None = None, raw: Path | None = None,
           duration_s: float | None = None, stop: threading.Event | None = None) -> FeedRecorder:
    """Record until `stop` (Ctrl-C) or `duration_s`; returns the recorder (rows written)."""
    stop = stop or threading.Event()
    capture = CaptureWriter(raw, protocol=_protocol(config, device, chair)) if raw else None
    try:
        with open(out, "w", newline="", encoding="utf-8") as handle:
            recorder = FeedRecorder(handle, chair=chair)
            adapter = recording_adapter(config, chair, device, capture)
            thread = Supervisor(adapter, recorder, backoff=config.backoff).start(stop)
            try:
                stop.wait(duration_s)
            except KeyboardInterrupt:  # Ctrl-C ends a recording normally
                pass
            finally:
                stop.set()
                thread.join(timeout=5)
    finally:
        if capture is not None:
            capture.close()
    return recorder


def _protocol(config: DeviceConfig, device: str, chair: str | None) -> str:
    if device == "hl7":
        return "hl7"
    return next((d.protocol for d in config.serial if d.label == device and (chair is None or d.chair == chair)), "")
