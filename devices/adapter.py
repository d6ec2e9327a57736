"""The adapter interface: how any device source hands readings to ingest.

An adapter (simulator, feed replay, and later HL7/MLLP, SunTech, Nonin) owns its
transport and parsing and pushes `Reading`/`SessionEvent` values for a chair
into a `Sink`. Ingest is the sink. `submit` returns a `Ticket` that is set once
the items are committed to the store, so a protocol that must acknowledge only
after commit (HL7 `AA`) can wait on it.

`Adapter.run(sink, stop)` blocks until `stop` is set or the transport fails;
a failure is raised, not swallowed, so a supervisor can reconnect with backoff
and turn the outage into a `device_disconnect` event.
"""
from __future__ import annotations

import threading
from typing import Mapping, Protocol, Sequence

from .readings import Item


class Ticket:
    """Set once the submitted items are committed (or failed to be)."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self.error: str | None = None

    def resolve(self, error: str | None = None) -> None:
        self.error = error
        self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once committed; False on timeout or when the write failed."""
        return self._done.wait(timeout) and self.error is None

    @property
    def done(self) -> bool:
        return self._done.is_set()


class Sink(Protocol):
    def submit(self, chair: str, items: Sequence[Item], message: str | None = None) -> Ticket:
        """Queue items from the device at `chair`; the ticket resolves at commit. `message`: the sender's own id
        of them, where it numbers what it sends (HL7: `OruMessage.resend_key`, sender + MSH-10 + content), so a
        resend is stored only once. A chair with no open session keeps them until one opens (nothing is refused for
        lack of a session)."""
        ...

    def submit_device(self, device: str, items: Sequence[Item], message: str | None = None) -> Ticket:
        """Queue items from a device whose chair the source cannot tell (no location, no mapped patient or device
        id): the sink places them by a nurse's association of `device` (its EUI-64, serial number...) with a chair,
        else keeps them as unassociated device data. The ticket resolves at commit, as for `submit`."""
        ...

    def refuse(self, source: str, raw: bytes, reason: str) -> None:
        """Keep input that could not be used (a bad HL7 message, a garbled frame), whole, for review."""
        ...

    def tally(self, sender: str, peer: str, counts: Mapping[str, int]) -> None:
        """Add to a sender's traffic counts (messages, readings stored, alarms kept, refused, "discarded:<reason>",
        "unknown:<code^text>"), which an admin reads; `sender` is its identity (HL7: the whole MSH-3), `peer` its
        network address. (A sink that keeps what it is given may also offer `keep_within(refused_bytes, refused_s,
        device_s)`: the HL7 listener passes it the `[hl7]` storage bounds when it starts.)"""
        ...


class Adapter(Protocol):
    name: str

    def run(self, sink: Sink, stop: threading.Event) -> None:
        """Read the device and submit what it reports until `stop` is set."""
        ...
