"""One supervisor runs any adapter: reconnects with capped exponential backoff and turns
transport failures into `device_disconnect` / `device_reconnect` events.

A `Device` (a serial adapter) opens its port and serves it; `serve` raises when the
port fails or goes silent, and calls `alive()` whenever the device is heard. The
supervisor submits `device_disconnect` (source = the device label) as soon as a
failure happens, logs once per outage, retries, and submits `device_reconnect` when
the device is heard again (an opened port that stays silent is still down). Any exception, a bug included, is
contained here and counted: one adapter's failure never stops another, which runs on
its own supervisor thread. An adapter that is not a `Device` (the HL7 listener, which
reports per-chair connections itself) is just restarted.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

from .adapter import Adapter, Sink, Ticket
from .errors import ConnectionLost
from .readings import SessionEvent
from .serial.port import Port

log = logging.getLogger(__name__)

DETAIL_MAX = 40  # the alarm's value column holds 40 characters


@runtime_checkable
class Device(Protocol):
    chair: str
    label: str  # the device label the nurse sees: "nibp", "oximeter"
    name: str

    def open(self) -> Port: ...

    def serve(self, port: Port, sink: Sink, stop: threading.Event, alive: Callable[[], None]) -> None: ...


@dataclass(frozen=True, slots=True)
class Backoff:
    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 30.0

    def delay(self, attempt: int) -> float:
        return min(self.max_s, self.initial_s * self.factor ** min(attempt, 32))


@dataclass
class SupervisorStats:
    connects: int = 0  # ports opened (a plain adapter: runs started)
    outages: int = 0
    failures: int = 0  # every failed open or lost connection
    errors: int = 0  # exceptions that were not a transport failure (bugs, parser crashes)


class Supervisor:
    """Runs one adapter until `stop`; see the module docstring."""

    def __init__(self, adapter: Device | Adapter, sink: Sink, backoff: Backoff = Backoff(),
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self.adapter, self.sink, self.backoff = adapter, sink, backoff
        self.clock, self.wall = clock, wall
        self.stats = SupervisorStats()
        self.down_since: float | None = None  # monotonic time the current outage began
        self._notice: Ticket | None = None  # the disconnect event of this outage
        self._notice_reason = ""
        self.connected = threading.Event()

    @property
    def name(self) -> str:
        return getattr(self.adapter, "name", type(self.adapter).__name__)

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stop,), name=f"supervise {self.name}", daemon=True)
        thread.start()
        return thread

    def run(self, stop: threading.Event) -> None:
        attempt = 0
        while not stop.is_set():
            self.connected.clear()
            try:
                self._once(stop)
            except Exception as exc:  # contained: see the module docstring
                if stop.is_set():
                    break
                self._lost(exc)
            if self.connected.is_set():
                attempt = 0  # it was heard: start the backoff again from the bottom
            if stop.wait(self.backoff.delay(attempt)):
                break
            attempt += 1

    def _once(self, stop: threading.Event) -> None:
        if not isinstance(self.adapter, Device):
            self.stats.connects += 1
            self.adapter.run(self.sink, stop)
            if not stop.is_set():
                raise ConnectionLost("stopped on its own")
            return
        port = self.adapter.open()
        try:
            self.stats.connects += 1
            self.adapter.serve(port, self.sink, stop, self._up)
            if not stop.is_set():
                raise ConnectionLost("port closed")
        finally:
            port.close()

    # ---- outage bookkeeping ------------------------------------------------------

    def _lost(self, exc: Exception) -> None:
        self.stats.failures += 1
        transport = isinstance(exc, ConnectionLost)
        if not transport:
            self.stats.errors += 1
        reason = str(exc) if transport else f"{exc.__class__.__name__}: {exc}"
        detail = exc.detail if isinstance(exc, ConnectionLost) else "adapter error"
        if self.down_since is None:
            self.down_since = self.clock()
            self.stats.outages += 1
            if transport:
                log.warning("%s: %s; reconnecting", self.name, reason)
            else:
                log.error("%s failed; restarting", self.name, exc_info=exc)
            self._notify_down(detail)
        else:
            log.debug("%s still down: %s", self.name, reason)
            if self._notice is not None and self._notice.done and self._notice.error:
                self._notify_down(self._notice_reason)  # no session took it (chair empty): try again

    def _up(self) -> None:
        """The device was heard (called by the adapter, cheap when nothing changes)."""
        if self.connected.is_set():
            return
        self.connected.set()
        if self.down_since is None:
            return
        log.info("%s back after %.1f s", self.name, self.clock() - self.down_since)
        self.down_since = None
        notified = self._notice is not None and not (self._notice.done and self._notice.error)
        self._notice = None
        if notified:
            self._submit("device_reconnect", "")

    def _notify_down(self, reason: str) -> None:
        self._notice_reason = reason
        self._notice = self._submit("device_disconnect", _short(reason))  # the alarm's value: keep it short

    def _submit(self, kind: str, detail: str) -> Ticket | None:
        if not isinstance(self.adapter, Device):
            return None  # no chair to tell: the listener reports its own chairs
        event = SessionEvent(kind, detail=detail, source=self.adapter.label, received_time=self.wall())
        try:
            return self.sink.submit(self.adapter.chair, [event])
        except Exception:
            log.exception("%s: could not queue %s", self.name, kind)
            return None


def _short(reason: str) -> str:
    return reason if len(reason) <= DETAIL_MAX else reason[:DETAIL_MAX - 1] + "…"
