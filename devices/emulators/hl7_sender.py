"""An HL7 monitor or gateway: pushes ORU^R01 over MLLP and waits for each ACK.

`HL7Sender.send` sends one message and returns the ACK's MSA-1 (AA/AE/AR).
`HL7Feed` is the monitor's outbox: readings pushed from another thread are sent in
order by its own thread; whatever queued up while an ACK was awaited goes out as one
message with an OBR group per reading (so a fast replay never falls behind), and a
dropped connection is retried with backoff without losing the queue.
"""
from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
import uuid
from collections import deque
from typing import Sequence

from ..errors import ConnectionLost
from ..hl7 import mllp
from ..hl7.oru import Sender, compose
from ..readings import Reading

log = logging.getLogger(__name__)

MAX_GROUPS = 200  # readings per message at most


class HL7Sender:
    def __init__(self, host: str, port: int, sender: Sender = Sender(), ack_timeout_s: float = 15.0) -> None:
        self.host, self.port, self.sender, self.ack_timeout_s = host, port, sender, ack_timeout_s
        self._sock: socket.socket | None = None
        self._reader = mllp.MllpReader()
        self._ids = itertools.count(1)
        self._instance = uuid.uuid4().hex[:8]
        self.acks: list[str] = []  # MSA-1 of every ACK (tests look)
        self.last_ack = ""

    def connect(self) -> None:
        if self._sock is None:
            try:
                self._sock = socket.create_connection((self.host, self.port), timeout=5)
            except OSError as exc:
                raise ConnectionLost(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
            self._reader = mllp.MllpReader()

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def next_control_id(self) -> str:
        """Unique per message, across senders at one location and across restarts (the listener tells a resend by
        sender, MSH-10 and content, so a repeated id alone would not lose data; unique ids are still good form)."""
        return f"{self.sender.location}-{self._instance}-{next(self._ids)}"

    def send(self, readings: Sequence[Reading]) -> str:
        return self.send_text(compose(readings, self.next_control_id(), self.sender))

    def send_text(self, message: str | bytes) -> str:
        """Send one message, return MSA-1 of its ACK; ConnectionLost when the link fails."""
        self.connect()
        assert self._sock is not None
        try:
            self._sock.sendall(mllp.frame(message))
            ack = self._await_ack()
        except (OSError, ConnectionLost) as exc:
            self.close()
            raise ConnectionLost(f"send failed: {exc}") from exc
        self.last_ack = ack
        code = _msa1(ack)
        self.acks.append(code)
        return code

    def _await_ack(self) -> str:
        assert self._sock is not None
        deadline = time.monotonic() + self.ack_timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConnectionLost(f"no ACK within {self.ack_timeout_s:g} s")
            self._sock.settimeout(left)
            data = self._sock.recv(65536)
            if not data:
                raise ConnectionLost("listener closed the connection")
            frames = self._reader.feed(data)
            if frames:
                return frames[0].data.decode("utf-8", "replace")


def _msa1(ack: str) -> str:
    for segment in ack.replace("\n", "\r").split("\r"):
        if segment.startswith("MSA|"):
            return segment.split("|")[1] if "|" in segment else ""
    return ""


class HL7Feed:
    """The monitor's outbox (see the module docstring)."""

    def __init__(self, sender: HL7Sender, backoff_max_s: float = 5.0) -> None:
        self.sender = sender
        self.backoff_max_s = backoff_max_s
        self._queue: deque[Reading] = deque()
        self._ready = threading.Condition()
        self.sent = 0

    @property
    def pending(self) -> int:
        with self._ready:
            return len(self._queue)

    def push(self, reading: Reading) -> None:
        with self._ready:
            self._queue.append(reading)
            self._ready.notify()

    def run(self, stop: threading.Event) -> None:
        delay = 0.2
        while not stop.is_set():
            with self._ready:
                if not self._queue:
                    self._ready.wait(0.2)
                    continue
                batch = [self._queue[i] for i in range(min(len(self._queue), MAX_GROUPS))]
            try:
                code = self.sender.send(batch)
            except ConnectionLost as exc:
                log.debug("%s: %s", self.sender.sender.location, exc)
                if stop.wait(delay):
                    break
                delay = min(delay * 2, self.backoff_max_s)
                continue
            delay = 0.2
            with self._ready:
                for _ in batch:
                    self._queue.popleft()
            self.sent += len(batch)
            if code != "AA":
                log.info("%s: listener answered %s", self.sender.sender.location, code)
        self.sender.close()

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stop,), name=f"hl7 {self.sender.sender.location}", daemon=True)
        thread.start()
        return thread
