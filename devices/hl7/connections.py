"""Who is connected to the HL7 listener, and who may connect next.

Slow or half-open senders must not lock the other monitors out. Two rules do it:

- a per-peer limit (`max_connections_per_peer`, an address): one misbehaving device or
  gateway uses its own budget, not the clinic's (`max_connections` in all);
- when a limit is reached, the new connection is let in by closing the one that has been
  silent longest and is neither inside a frame nor waiting for its commit (a half-open
  connection from a gateway that lost its cable is exactly that); when every connection is
  busy, the new one is refused.

A frame that has begun must end within `frame_timeout_s` (the listener closes the
connection otherwise), so connections stuck mid-frame free their place too.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

LOG_EVERY_S = 60.0


@dataclass(eq=False)
class Connection:
    sock: socket.socket
    address: str  # the peer's IP address: the unit of the per-peer limit
    port: int
    last_heard: float = field(default_factory=time.monotonic)
    in_frame: bool = False  # a frame has begun and not ended
    busy: bool = False  # a message is being handled (waiting for its commit)
    closed_by_us: bool = False

    @property
    def peer(self) -> str:
        return f"{self.address}:{self.port}"

    @property
    def idle(self) -> bool:
        return not (self.in_frame or self.busy)

    def close(self) -> None:
        """Wake the connection's thread (its recv fails) and let it clean up."""
        self.closed_by_us = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class ConnectionTable:
    def __init__(self, max_total: int, max_per_peer: int) -> None:
        self.max_total, self.max_per_peer = max_total, max_per_peer
        self._lock = threading.Lock()
        self._open: list[Connection] = []
        self.evicted = 0
        self._said: dict[str, float] = {}  # peer address -> when a warning about it was last logged

    def say(self, address: str) -> bool:
        """At most one warning a minute about one peer's connections: a flood of them must not flood the log."""
        now = time.monotonic()
        if now - self._said.get(address, float("-inf")) < LOG_EVERY_S:
            return False
        self._said[address] = now
        return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)

    def admit(self, conn: Connection) -> bool:
        """Take `conn` in, closing the longest-silent idle connection where a limit is reached; False if full."""
        with self._lock:
            same_peer = [c for c in self._open if c.address == conn.address]
            for pool, limit in ((same_peer, self.max_per_peer), (self._open, self.max_total)):
                if len(pool) >= limit and not self._evict(pool):
                    return False
            self._open.append(conn)
            return True

    def remove(self, conn: Connection) -> None:
        with self._lock:
            if conn in self._open:
                self._open.remove(conn)

    def _evict(self, pool: list[Connection]) -> bool:
        idle = [c for c in pool if c.idle and not c.closed_by_us]
        if not idle:
            return False
        oldest = min(idle, key=lambda c: c.last_heard)
        if self.say(oldest.address):
            log.warning("HL7: closing %s, silent %.0f s, to let a new connection in (%d closed so far)", oldest.peer,
                        time.monotonic() - oldest.last_heard, self.evicted + 1)
        oldest.close()
        self._open.remove(oldest)
        self.evicted += 1
        return True

    def close_all(self) -> None:
        with self._lock:
            for conn in self._open:
                conn.close()
