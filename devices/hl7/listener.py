"""The HL7 listener: monitors and gateways connect over TCP and push ORU^R01 over MLLP.

Our own accept/ACK loop (python-hl7's MLLP server is asyncio; ingest's tickets are
threading events): a thread per connection, each message parsed (pure, `parse.py`), tied to a chair by
PV1-3 or PID-3 (`Placement`), submitted to the sink, and answered `AA` only once the
sink's ticket says the readings are committed. A message we cannot use is answered
`AE` (or `AR` for the wrong kind of message) with an ERR segment saying why, and kept
whole through `Sink.refuse`. Nothing a peer sends can crash the listener.

Per chair, the listener reports its own connection state: when the last connection
that delivered for a chair closes and none is back within `disconnect_grace_s`, it
submits `device_disconnect` (source "hl7 <PV1-3>"); the next message for that chair
brings `device_reconnect` with it. Logs name the peer, the location and MSH-10, never
the patient.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping

from ..adapter import Sink, Ticket
from ..errors import ConnectionLost, HL7Error
from ..readings import Item, SessionEvent
from . import mllp
from .ack import build_ack
from .parse import APPLICATION, REQUIRED_MISSING, OruMessage, control_id_of, parse_oru

log = logging.getLogger(__name__)

REMEMBERED_MESSAGES = 1000  # (MSH-3, MSH-10) kept to recognise a resend: minutes of a busy clinic

Key = tuple[str, str]  # (chair, device label)


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


def local_zone() -> dt.tzinfo:
    """The machine's zone, for HL7 timestamps sent without one."""
    zone = dt.datetime.now().astimezone().tzinfo
    return zone if zone is not None else dt.timezone.utc


@dataclass(frozen=True, slots=True)
class Placement:
    """How a message finds its chair: PV1-3 point of care, else PID-3 MRN."""

    locations: Mapping[str, str] = field(default_factory=_empty)  # PV1-3.1 -> chair; unmapped = the chair name
    patients: Mapping[str, str] = field(default_factory=_empty)  # PID-3.1 -> chair, for messages without PV1-3

    def place(self, message: OruMessage) -> Key:
        if message.location:
            chair = self.locations.get(message.location, message.location)
            expected = self.patients.get(message.mrn) if message.mrn else None
            if expected is not None and expected != chair:
                raise HL7Error(f"PID-3 patient is mapped to {expected}, but PV1-3 says {message.location}",
                               code=APPLICATION, where="PV1^1^3")
            return chair, f"hl7 {message.location}"
        if message.mrn and message.mrn in self.patients:
            chair = self.patients[message.mrn]
            return chair, f"hl7 {chair}"
        raise HL7Error("no PV1-3 location and no mapped PID-3 patient: cannot tell the chair",
                       code=REQUIRED_MISSING, where="PV1^1^3")


@dataclass(frozen=True, slots=True)
class ListenerSettings:
    host: str = "127.0.0.1"
    port: int = 2575  # 0 = any free port (tests)
    application: str = "DASH"  # our MSH-3 in ACKs
    facility: str = ""
    zone: dt.tzinfo = field(default_factory=local_zone)  # for timestamps without a zone
    placement: Placement = Placement()
    ack_timeout_s: float = 10.0  # how long AA waits for the commit before answering AE
    disconnect_grace_s: float = 2.0  # a chair with no connection this long is disconnected
    idle_timeout_s: float = 600.0  # a connection silent this long is closed (half-open TCP)
    max_connections: int = 64
    max_message_bytes: int = mllp.MAX_MESSAGE_BYTES
    max_backdate_s: float = 300.0
    # Who may connect: addresses or networks. Only this machine unless the clinic names its monitors/gateways.
    peers: tuple[str, ...] = ("127.0.0.1/32", "::1/128")

    def admits(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return any(ip in ipaddress.ip_network(peer, strict=False) for peer in self.peers)


@dataclass
class ListenerStats:
    connections: int = 0
    messages: int = 0
    accepted: int = 0  # AA (a resend answered AA counts as a duplicate)
    errors: int = 0  # AE
    rejected: int = 0  # AR
    duplicates: int = 0  # resent messages: answered as their first copy's commit says, never stored twice
    refused_connections: int = 0
    parser_errors: int = 0  # exceptions in parsing that were not an HL7Error (contained)
    unknown_observations: int = 0  # OBX with a code we do not know (kept as raw, not stored)
    garbage_bytes: int = 0
    truncated: int = 0


class HL7Listener:
    """An `Adapter`: `run(sink, stop)` serves until `stop`; see the module docstring."""

    name = "hl7 listener"

    def __init__(self, settings: ListenerSettings = ListenerSettings(), clock: Callable[[], float] = time.time,
                 tap: Callable[[str, bytes], None] | None = None) -> None:
        self.settings, self.clock, self.tap = settings, clock, tap  # tap("<", message): raw captures
        self.stats = ListenerStats()
        self.ready = threading.Event()
        self.address: tuple[str, int] | None = None
        self._lock = threading.Lock()
        self._live: Counter[Key] = Counter()  # open connections that delivered for the chair
        self._down: set[Key] = set()
        self._absent: dict[Key, float] = {}  # chair -> when to declare it disconnected
        # (MSH-3, MSH-10) -> the ticket of the items it submitted: a resend is never submitted again unless the
        # first copy failed, even when the first was answered AE for a slow commit that then went through
        self._submitted: OrderedDict[tuple[str, str], Ticket] = OrderedDict()
        self._connections: set[threading.Thread] = set()

    # ---- accept loop ----------------------------------------------------------------

    def run(self, sink: Sink, stop: threading.Event) -> None:
        s = self.settings
        try:
            server = socket.create_server((s.host, s.port), backlog=s.max_connections)
        except OSError as exc:  # the port is taken: the supervisor retries with backoff and says so once
            raise ConnectionLost(f"cannot listen on {s.host}:{s.port}: {exc.strerror or exc}", "cannot listen") from exc
        server.settimeout(0.2)
        closing = threading.Event()  # this run's connections end with it
        self.address = server.getsockname()[:2]
        self.ready.set()
        log.info("HL7 listener on %s:%d", *self.address)
        try:
            while not stop.is_set():
                self._accept(server, sink, stop, closing)
                self._report_absent(sink)
        finally:
            closing.set()
            server.close()
            self.ready.clear()
            for thread in list(self._connections):
                thread.join(timeout=2)

    def _accept(self, server: socket.socket, sink: Sink, stop: threading.Event, closing: threading.Event) -> None:
        try:
            conn, peer = server.accept()
        except (TimeoutError, socket.timeout):
            return
        if not self.settings.admits(peer[0]):
            self._count("refused_connections")
            log.warning("HL7: refusing %s: not a configured peer (hl7.peers)", peer[0])
            conn.close()
            return
        if len(self._connections) >= self.settings.max_connections:
            self._count("refused_connections")
            log.warning("HL7: refusing %s:%d, %d connections open", peer[0], peer[1], len(self._connections))
            conn.close()
            return
        self._count("connections")
        thread = threading.Thread(target=self._serve, args=(conn, f"{peer[0]}:{peer[1]}", sink, stop, closing),
                                  name=f"hl7 {peer[0]}:{peer[1]}", daemon=True)
        with self._lock:
            self._connections.add(thread)
        thread.start()

    # ---- one connection ---------------------------------------------------------------

    def _serve(self, conn: socket.socket, peer: str, sink: Sink, stop: threading.Event,
               closing: threading.Event) -> None:
        reader = mllp.MllpReader(self.settings.max_message_bytes)
        served: set[Key] = set()
        conn.settimeout(0.5)
        last_heard = time.monotonic()
        log.debug("HL7: %s connected", peer)  # debug: some gateways connect once per message
        try:
            while not (stop.is_set() or closing.is_set()):
                try:
                    data = conn.recv(65536)
                except (TimeoutError, socket.timeout):
                    if time.monotonic() - last_heard > self.settings.idle_timeout_s:
                        log.info("HL7: %s idle, closing", peer)
                        break
                    continue
                if not data:
                    break
                last_heard = time.monotonic()
                for raw in self._frames(reader, data, peer, sink):
                    conn.sendall(mllp.frame(self.handle(raw, peer, sink, served)))
        except OSError as exc:
            log.info("HL7: %s: %s", peer, exc)
        finally:
            conn.close()
            self._closed(served, stopping=stop.is_set() or closing.is_set())
            with self._lock:
                self._connections.discard(threading.current_thread())
            log.debug("HL7: %s disconnected", peer)

    def _frames(self, reader: mllp.MllpReader, data: bytes, peer: str, sink: Sink) -> list[bytes]:
        before_garbage, before_cut = reader.stats.garbage_bytes, reader.stats.truncated
        messages = reader.feed(data)
        self._count("garbage_bytes", reader.stats.garbage_bytes - before_garbage)
        self._count("truncated", reader.stats.truncated - before_cut)
        for partial in reader.take_garbled():
            _refuse(sink, f"hl7 {peer}", partial, "MLLP frame cut short or too long")
        return messages

    # ---- one message ------------------------------------------------------------------

    def handle(self, raw: bytes, peer: str, sink: Sink, served: set[Key] | None = None) -> str:
        """The ACK for one message; never raises."""
        self._count("messages")
        received = self.clock()
        if self.tap is not None:
            self.tap("<", raw)
        try:
            message = parse_oru(raw, self.settings.zone)
            key = self.settings.placement.place(message)
        except HL7Error as exc:
            return self._refused(raw, peer, sink, exc, control_id_of(raw))
        except Exception as exc:  # a parser bug: contained, counted, and the message kept
            self._count("parser_errors")
            log.exception("HL7: %s: parser error", peer)
            return self._refused(raw, peer, sink, HL7Error(f"cannot read the message ({exc.__class__.__name__})"),
                                 control_id_of(raw))
        return self._accept_message(message, key, raw, peer, sink, received, served)

    def _accept_message(self, message: OruMessage, key: Key, raw: bytes, peer: str, sink: Sink, received: float,
                        served: set[Key] | None) -> str:
        dedup = (message.sending_application, message.control_id)
        ticket = self._earlier(dedup)
        resent = ticket is not None
        if resent:
            self._count("duplicates")
        else:
            self._count("unknown_observations", len(message.unknown))
            try:
                items: list[Item] = list(message.readings(received, self.settings.max_backdate_s))
            except HL7Error as exc:
                return self._refused(raw, peer, sink, exc, message.control_id)
            items = self._present(key, served, received) + items
            ticket = sink.submit(key[0], items, message="|".join(dedup))  # ingest keeps it: once across restarts
            self._remember(dedup, ticket)
        if ticket.wait(self.settings.ack_timeout_s):
            if not resent:
                self._count("accepted")
            log.debug("HL7: %s %s -> %s: stored", peer, message.control_id, key[0])
            return self._ack("AA", message)
        if ticket.done:
            return self._refused(raw, peer, sink, HL7Error(ticket.error or "not stored", code=APPLICATION),
                                 message.control_id, message)
        self._count("errors")
        log.warning("HL7: %s %s: not confirmed stored within %g s", peer, message.control_id,
                    self.settings.ack_timeout_s)
        return self._ack("AE", message, HL7Error(f"not confirmed stored within {self.settings.ack_timeout_s:g} s"))

    def _refused(self, raw: bytes, peer: str, sink: Sink, exc: HL7Error, control_id: str,
                 message: OruMessage | None = None) -> str:
        if exc.ack == "AR":
            self._count("rejected")
        else:
            self._count("errors")
        log.warning("HL7: %s %s answered %s: %s", peer, control_id or "(no MSH-10)", exc.ack, exc.reason)
        _refuse(sink, f"hl7 {peer}", raw, exc.reason)
        if message is not None:
            return self._ack(exc.ack, message, exc)
        return build_ack(exc.ack, control_id, application=self.settings.application,
                         facility=self.settings.facility, reason=exc.reason, error_code=exc.code, where=exc.where)

    def _ack(self, code: str, message: OruMessage, exc: HL7Error | None = None) -> str:
        return build_ack(code, message.control_id, application=self.settings.application,
                         facility=self.settings.facility, their_application=message.sending_application,
                         their_facility=message.sending_facility, reason=exc.reason if exc else "",
                         error_code=exc.code if exc else 207, where=exc.where if exc else "")

    def _count(self, name: str, amount: int = 1) -> None:
        with self._lock:  # connection threads count at the same time
            setattr(self.stats, name, getattr(self.stats, name) + amount)

    def _earlier(self, dedup: tuple[str, str]) -> Ticket | None:
        """The ticket of an earlier copy of this message that is stored or may still be: a resend waits on it."""
        with self._lock:
            ticket = self._submitted.get(dedup)
        return None if ticket is None or (ticket.done and ticket.error is not None) else ticket

    def _remember(self, dedup: tuple[str, str], ticket: Ticket) -> None:
        with self._lock:
            self._submitted[dedup] = ticket
            self._submitted.move_to_end(dedup)
            while len(self._submitted) > REMEMBERED_MESSAGES:
                self._submitted.popitem(last=False)

    # ---- chairs' connection state ---------------------------------------------------------

    def _present(self, key: Key, served: set[Key] | None, received: float) -> list[Item]:
        """Mark the chair as served by this connection; a reconnect event if it was down."""
        with self._lock:
            if served is not None and key not in served:
                served.add(key)
                self._live[key] += 1
                self._absent.pop(key, None)
            if key in self._down:
                self._down.discard(key)
                log.info("HL7: %s back", key[1])
                return [SessionEvent("device_reconnect", source=key[1], received_time=received)]
        return []

    def _closed(self, served: set[Key], stopping: bool) -> None:
        with self._lock:
            for key in served:
                self._live[key] -= 1
                if self._live[key] <= 0 and not stopping:
                    self._absent[key] = time.monotonic() + self.settings.disconnect_grace_s

    def _report_absent(self, sink: Sink) -> None:
        now = time.monotonic()
        with self._lock:
            due = [key for key, at in self._absent.items() if at <= now]
            for key in due:
                del self._absent[key]
                if self._live[key] > 0 or key in self._down:
                    continue
                self._down.add(key)
                log.warning("HL7: %s: no connection for %g s", key[1], self.settings.disconnect_grace_s)
                sink.submit(key[0], [SessionEvent("device_disconnect", detail="connection closed", source=key[1],
                                                  received_time=self.clock())])


def _refuse(sink: Sink, source: str, raw: bytes, reason: str) -> None:
    try:
        sink.refuse(source, raw, reason)
    except Exception:  # the store is down: the ACK still goes out
        log.exception("could not keep a refused message from %s", source)
