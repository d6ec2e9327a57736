"""The serial transport: a pyserial port opened by URL, so a device path, `socket://`,
`rfc2217://`, `spy://` and `loop://` all work. Failures become `ConnectionLost`.

pyserial's `read()` returns short data on timeout without an error; a read that
fails (the pty master closed, the socket dropped, the USB adapter pulled) raises,
and `Port.read` turns that into `ConnectionLost` for the supervisor.
"""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Callable

import serial

from ..errors import ConnectionLost

if TYPE_CHECKING:
    from ..adapter import Sink

READ_TIMEOUT_S = 0.1  # how long one read waits: bounds how late a stop or a silence is noticed


def open_port(url: str, baud: int = 9600, timeout: float = READ_TIMEOUT_S) -> serial.SerialBase:
    """Open `url` 8N1 without flow control; ConnectionLost when it cannot be opened."""
    try:
        # exclusive: a second program reading the same device would steal half the bytes
        return serial.serial_for_url(url, baudrate=baud, bytesize=8, parity="N", stopbits=1, timeout=timeout,
                                     write_timeout=1.0, exclusive=True)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise ConnectionLost(f"cannot open {url}: {_why(exc)}", "cannot open port") from exc


class Port:
    """A thin wrapper that records traffic (for raw captures) and maps errors to ConnectionLost."""

    def __init__(self, raw: serial.SerialBase, tap: Callable[[str, bytes], None] | None = None) -> None:
        self.raw = raw
        self.tap = tap  # called with ("<", bytes read) and (">", bytes written)

    def read(self) -> bytes:
        """What has arrived, waiting up to the port timeout for the first byte (b'' on timeout)."""
        try:
            data = self.raw.read(self.raw.in_waiting or 1)
            if data and self.raw.in_waiting:  # take what arrived with it in one go
                data += self.raw.read(self.raw.in_waiting)
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            # TypeError/AttributeError: pyserial's loop:// and socket:// after close
            raise ConnectionLost(f"read failed: {_why(exc)}", "port lost") from exc
        if data and self.tap:
            self.tap("<", data)
        return data

    def write(self, data: bytes) -> None:
        try:
            self.raw.write(data)
            self.raw.flush()
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            raise ConnectionLost(f"write failed: {_why(exc)}", "port lost") from exc
        if self.tap:
            self.tap(">", data)

    def reset_input(self) -> None:
        try:
            self.raw.reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            raise ConnectionLost(f"reset failed: {_why(exc)}", "port lost") from exc

    def close(self) -> None:
        # pyserial 3.5's socket:// close() runs shutdown() and close() in one try: once the peer has gone, shutdown
        # raises ENOTCONN and the socket is never closed (a leaked descriptor per lost connection). Close it too.
        sock = getattr(self.raw, "_socket", None)
        try:
            self.raw.close()
        except Exception:  # closing a port that already failed: nothing more to learn
            pass
        if sock is not None:
            sock.close()

    def __enter__(self) -> Port:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _why(exc: BaseException) -> str:
    return str(exc) or exc.__class__.__name__


class Silence:
    """Notices when a port has said nothing for too long (a cable pulled on a real RS-232 line)."""

    def __init__(self, limit_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit_s, self.clock = limit_s, clock
        self.last = clock()

    def heard(self) -> None:
        self.last = self.clock()

    def check(self) -> None:
        quiet = self.clock() - self.last
        if quiet > self.limit_s:
            raise ConnectionLost(f"no data for {quiet:.1f} s", f"no data for {self.limit_s:g} s")


class SerialDevice:
    """What every serial adapter shares: where its port is, a `Device` for the supervisor (`open` + `serve`), and
    an `Adapter` on its own (`run`: one connection, no reconnect). Subclasses write `serve`."""

    def __init__(self, chair: str, url: str, label: str, baud: int, clock: Callable[[], float],
                 wall: Callable[[], float], tap: Callable[[str, bytes], None] | None) -> None:
        self.chair, self.url, self.label, self.baud = chair, url, label, baud
        self.clock, self.wall, self.tap = clock, wall, tap  # tap("<", bytes read), tap(">", bytes written)
        self.name = f"{label} ({chair})"

    def run(self, sink: Sink, stop: threading.Event) -> None:
        with self.open() as port:
            self.serve(port, sink, stop, lambda: None)

    def open(self) -> Port:
        return Port(open_port(self.url, self.baud), tap=self.tap)

    def serve(self, port: Port, sink: Sink, stop: threading.Event, alive: Callable[[], None]) -> None:
        raise NotImplementedError
