"""The HL7 listener: monitors and gateways connect over TCP and push ORU^R01 over MLLP.

Our own accept/ACK loop (python-hl7's MLLP server is asyncio; ingest's tickets are
threading events): a thread per connection, each message parsed (pure, `parse.py`), tied to a chair by
PV1-3, PID-3 or its device identity (`placement.py`; a message none of them places goes to the sink under its
device identity, never refused), submitted to the sink, and answered `AA` only once the
sink's ticket says the readings are committed. Every whole frame is answered: a message we
cannot use gets `AE` (or `AR` for the wrong kind of message, or one over the size limit) with
an ERR segment saying why in words and MSA-2 echoing its MSH-10 whenever that can be read,
and is kept through `Sink.refuse` once (a sender that resends it does not add a copy each
time). Nothing a peer sends can crash the listener.

A resend is recognised by `OruMessage.resend_key` (sender, MSH-10 and content), never by
MSH-10 alone. Values the monitor sent as "no value" are counted per sender
(`discarded_by_sender`) and their first occurrence per sender and reason is logged.
Slow and half-open senders are bounded (`connections.py`): a frame must end within
`frame_timeout_s`, and each peer address has its own connection budget.

The technical alarm follows the data, not the TCP connection (a gateway may open one connection per message):
a source with no report within its expected interval (`Placement.silent_after_s`, per location or device) gets
`device_disconnect` (source "hl7 <PV1-3 or device id>"), and its next report brings `device_reconnect` with it.
Each sender's traffic (messages, readings stored, values discarded by reason, refused frames) is tallied in the
sink for the admin. Logs name the peer, the location and MSH-10, never the patient.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import ipaddress
import logging
import socket
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Callable

from ..adapter import Sink, Ticket
from ..errors import ConnectionLost, HL7Error
from ..readings import Item, SessionEvent
from . import mllp
from .ack import build_ack
from .connections import Connection, ConnectionTable
from .device_alarms import EVENT_KIND as DEVICE_ALARM
from .parse import APPLICATION, OruMessage, charset_of, control_id_of, parse_oru
from .placement import Place, Placement, Silence

log = logging.getLogger(__name__)

REMEMBERED_MESSAGES = 1000  # resend keys kept to recognise a resend: minutes of a busy clinic
REMEMBERED_REFUSALS = 1000  # digests of refused frames kept: one copy of each in the store, however often resent


def local_zone() -> dt.tzinfo:
    """The machine's zone, for HL7 timestamps sent without one."""
    zone = dt.datetime.now().astimezone().tzinfo
    return zone if zone is not None else dt.timezone.utc


@dataclass(frozen=True, slots=True)
class ListenerSettings:
    host: str = "127.0.0.1"
    port: int = 2575  # 0 = any free port (tests)
    application: str = "DASH"  # our MSH-3 in ACKs
    facility: str = ""
    zone: dt.tzinfo = field(default_factory=local_zone)  # for timestamps without a zone
    placement: Placement = Placement()
    ack_timeout_s: float = 10.0  # how long AA waits for the commit before answering AE
    idle_timeout_s: float = 600.0  # a connection silent this long is closed (half-open TCP)
    frame_timeout_s: float = 30.0  # a frame begun must end within this, else the connection is closed
    max_connections: int = 64
    max_connections_per_peer: int = 16  # per peer address (a gateway may hold several connections)
    max_message_bytes: int = mllp.MAX_MESSAGE_BYTES
    max_backdate_s: float = 900.0  # [hl7] late_readings_max_min: a batch's older reading keeps its time this far back
    # Storage bounds the sink keeps (Sink.keep_within): refused frames within this many bytes and days, readings
    # kept outside sessions for this many days. A bounded table never refuses a valid ORU: the oldest make room.
    refused_keep_bytes: int = 50 << 20
    refused_keep_days: float = 30.0
    device_keep_days: float = 30.0
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
    evicted_connections: int = 0  # idle connections closed to let a new one in (a limit was reached)
    slow_frames: int = 0  # connections closed because a frame did not end within frame_timeout_s
    parser_errors: int = 0  # exceptions in parsing that were not an HL7Error (contained)
    unknown_observations: int = 0  # OBX with a code we do not know (kept as raw, not stored)
    device_alarms: int = 0  # alarms the monitors reported (ORU^R40), kept as device_alarm events
    discarded: int = 0  # OBX of a vital that carried no value (see values.DISCARD_REASONS)
    garbage_bytes: int = 0
    truncated: int = 0  # frames cut short by the next start byte (kept, not answered)
    oversize: int = 0  # frames over max_message_bytes (answered AR, their head kept once)
    refusals_repeated: int = 0  # refused frames seen before: answered again, not stored again


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
        self._silence = Silence()  # each source's last report: the technical alarm follows the data
        # resend key -> the ticket of the items it submitted: a resend is never submitted again unless the
        # first copy failed, even when the first was answered AE for a slow commit that then went through
        self._submitted: OrderedDict[str, Ticket] = OrderedDict()
        self._refusals: OrderedDict[str, int] = OrderedDict()  # digest of a refused frame -> times seen
        self._discards: Counter[tuple[str, str]] = Counter()  # (sender, reason) -> values discarded
        self._said: set[tuple[str, str]] = set()  # (sender, kind) logged once already
        self._table = ConnectionTable(settings.max_connections, settings.max_connections_per_peer)
        self._threads: set[threading.Thread] = set()

    def discarded_by_sender(self) -> dict[tuple[str, str], int]:
        """(sender, reason) -> how many OBX values that sender sent as "no value" since start."""
        with self._lock:
            return dict(self._discards)

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
        _keep_within(sink, s)
        self.ready.set()
        log.info("HL7 listener on %s:%d", *self.address)
        try:
            while not stop.is_set():
                self._accept(server, sink, stop, closing)
                self._report_silent(sink)
        finally:
            closing.set()
            server.close()
            self.ready.clear()
            self._table.close_all()
            for thread in list(self._threads):
                thread.join(timeout=2)

    def _accept(self, server: socket.socket, sink: Sink, stop: threading.Event, closing: threading.Event) -> None:
        try:
            sock, peer = server.accept()
        except (TimeoutError, socket.timeout):
            return
        if not self.settings.admits(peer[0]):
            self._count("refused_connections")
            log.warning("HL7: refusing %s: not a configured peer (hl7.peers)", peer[0])
            sock.close()
            return
        conn = Connection(sock, peer[0], peer[1])
        evicted = self._table.evicted
        if not self._table.admit(conn):
            self._count("refused_connections")
            if self._table.say(conn.address):
                log.warning("HL7: refusing %s: its connections (or all %d) are busy; %d refused so far", conn.peer,
                            len(self._table), self.stats.refused_connections)
            sock.close()
            return
        self._count("evicted_connections", self._table.evicted - evicted)
        self._count("connections")
        thread = threading.Thread(target=self._serve, args=(conn, sink, stop, closing), name=f"hl7 {conn.peer}",
                                  daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    # ---- one connection ---------------------------------------------------------------

    def _serve(self, conn: Connection, sink: Sink, stop: threading.Event, closing: threading.Event) -> None:
        reader = mllp.MllpReader(self.settings.max_message_bytes)
        conn.sock.settimeout(0.5)
        frame_began: float | None = None  # monotonic time the pending frame's start byte came
        garbage_before = (0, 0)  # (frames started, garbage bytes) when a frame last started
        log.debug("HL7: %s connected", conn.peer)  # debug: some gateways connect once per message
        try:
            while not (stop.is_set() or closing.is_set() or conn.closed_by_us):
                try:
                    data = conn.sock.recv(65536)
                except (TimeoutError, socket.timeout):
                    data = None
                now = time.monotonic()
                if data == b"":
                    break
                if data:
                    conn.last_heard = now
                    started = reader.stats.started
                    for frame in self._frames(reader, data, conn.peer, sink):
                        conn.busy = True
                        ack = self.handle_frame(frame, conn.peer, sink)  # written as the message was read: MSA-2
                        conn.sock.sendall(mllp.frame(ack.encode(charset_of(frame.data), "replace")))  # echoes its bytes
                        conn.busy = False
                    if reader.in_frame and (frame_began is None or reader.stats.started != started):
                        frame_began = now
                    if reader.stats.started != garbage_before[0]:
                        garbage_before = (reader.stats.started, reader.stats.garbage_bytes)
                    if reader.stats.garbage_bytes - garbage_before[1] > self.settings.max_message_bytes:
                        log.warning("HL7: %s sends no MLLP frames (%d bytes outside any): closing the connection",
                                    conn.peer, reader.stats.garbage_bytes - garbage_before[1])
                        break
                conn.in_frame = reader.in_frame
                if not reader.in_frame:
                    frame_began = None
                if self._too_slow(conn, frame_began, now):
                    break
        except OSError as exc:
            if not conn.closed_by_us:
                log.info("HL7: %s: %s", conn.peer, exc)
        finally:
            conn.sock.close()
            self._table.remove(conn)
            with self._lock:
                self._threads.discard(threading.current_thread())
            log.debug("HL7: %s disconnected", conn.peer)

    def _too_slow(self, conn: Connection, frame_began: float | None, now: float) -> bool:
        if frame_began is not None and now - frame_began > self.settings.frame_timeout_s:
            self._count("slow_frames")
            log.warning("HL7: %s: a frame did not end within %g s: closing the connection", conn.peer,
                        self.settings.frame_timeout_s)
            return True
        if frame_began is None and now - conn.last_heard > self.settings.idle_timeout_s:
            log.info("HL7: %s idle, closing", conn.peer)
            return True
        return False

    def _frames(self, reader: mllp.MllpReader, data: bytes, peer: str, sink: Sink) -> list[mllp.Frame]:
        before_garbage, before_cut = reader.stats.garbage_bytes, reader.stats.truncated
        frames = reader.feed(data)
        self._count("garbage_bytes", reader.stats.garbage_bytes - before_garbage)
        self._count("truncated", reader.stats.truncated - before_cut)
        for partial in reader.take_garbled():
            self._refuse(sink, f"hl7 {peer}", partial, "MLLP frame cut short by the start of the next one",
                         _digest(partial))
        return frames

    # ---- one message ------------------------------------------------------------------

    def handle_frame(self, frame: mllp.Frame, peer: str, sink: Sink) -> str:
        """The ACK for one whole frame; never raises."""
        if not frame.oversize:
            return self.handle(frame.data, peer, sink)
        self._count("messages")
        self._count("oversize")
        limit = self.settings.max_message_bytes
        error = HL7Error(f"message of {frame.size} bytes is over the {limit}-byte limit: not read "
                         f"(its first {len(frame.data)} bytes are kept for review)", ack="AR", code=APPLICATION)
        return self._refused(frame.data, peer, sink, error, control_id_of(frame.data), digest=frame.digest)

    def handle(self, raw: bytes, peer: str, sink: Sink) -> str:
        """The ACK for one message; never raises."""
        self._count("messages")
        received = self.clock()
        if self.tap is not None:
            self.tap("<", raw)
        message: OruMessage | None = None
        try:
            message = parse_oru(raw, self.settings.zone)
            place = self.settings.placement.place(message)
            if not place.device:  # nothing in the message names it (no MSH-3/4, PV1-3, OBX-18): its address does
                name = f"peer {peer.rsplit(':', 1)[0] if ':' in peer else peer}"
                place = dataclasses.replace(place, device=name, label=place.label if place.chair else f"hl7 {name}")
        except HL7Error as exc:
            return self._refused(raw, peer, sink, exc, control_id_of(raw), sender=message.sender if message else None)
        except Exception:  # a parser bug: contained, counted, and the message kept
            self._count("parser_errors")
            log.exception("HL7: %s: parser error", peer)
            error = HL7Error("the message could not be read because of an error in this listener (logged); "
                             "it is kept for review")
            return self._refused(raw, peer, sink, error, control_id_of(raw))
        _tally(sink, message.sender, peer, {"messages": 1})
        return self._accept_message(message, place, raw, peer, sink, received)

    def _accept_message(self, message: OruMessage, place: Place, raw: bytes, peer: str, sink: Sink,
                        received: float) -> str:
        dedup = message.resend_key
        ticket = self._earlier(dedup)
        resent = ticket is not None
        back = self._silence.heard(place, time.monotonic())
        if resent:
            self._count("duplicates")
        else:
            self._count("unknown_observations", len(message.unknown))
            self._note(message, peer)  # a resend's "no value" rows were counted with its first copy
            _tally(sink, message.sender, peer, Counter(f"discarded:{d.reason}" for d in message.discarded))
            _tally(sink, message.sender, peer, Counter(f"unknown:{u.code}"[:120] for u in message.unknown))
            items: list[Item] = self._items(message, place, received)
            stored = len(items)
            if back:
                log.info("HL7: %s reporting again", place.label)
                items.insert(0, SessionEvent("device_reconnect", source=place.label, received_time=received))
            ticket = _submit(sink, place, items, dedup)  # ingest keeps it: once across restarts
            self._remember(dedup, ticket)
        if ticket.wait(self.settings.ack_timeout_s):
            if not resent:
                self._count("accepted")
                alarms = sum(isinstance(item, SessionEvent) and item.kind == DEVICE_ALARM for item in items)
                _tally(sink, message.sender, peer, {"readings": stored - alarms, "alarms": alarms})
            log.debug("HL7: %s %s -> %s: stored", peer, message.control_id, place.chair or place.device)
            return self._ack("AA", message)
        if ticket.done:
            return self._refused(raw, peer, sink, HL7Error(ticket.error or "not stored", code=APPLICATION),
                                 message.control_id, message, sender=message.sender, counted=True)
        self._count("errors")
        log.warning("HL7: %s %s: not confirmed stored within %g s", peer, message.control_id,
                    self.settings.ack_timeout_s)
        return self._ack("AE", message, HL7Error(f"not confirmed stored within {self.settings.ack_timeout_s:g} s"))

    def _items(self, message: OruMessage, place: Place, received: float) -> list[Item]:
        """The readings (a device id on each: never our own label), or the monitor's alarms as device_alarm
        events (a watchdog keep-alive is no alarm: it only tells the source is alive)."""
        readings: list[Item] = [r if r.device_id else dataclasses.replace(r, device_id=place.device)
                                 for r in message.readings(received, self.settings.max_backdate_s)]
        alarms = [a for a in message.alarms if not a.watchdog] if not message.is_test else []  # a test system's
        self._count("device_alarms", len(alarms))  # alarms are no patient's: never on a chair
        return readings + [SessionEvent(DEVICE_ALARM, detail=a.detail(), source="monitor alarm", device_time=a.time,
                                        received_time=received, device_id=place.device) for a in alarms]

    def _note(self, message: OruMessage, peer: str) -> None:
        """Count what the sender sent as "no value"; say once per sender what is worth saying."""
        sender = message.sender or message.sender_facility or peer
        first: list[str] = []
        with self._lock:
            self.stats.discarded += len(message.discarded)
            for discarded in message.discarded:
                self._discards[(sender, discarded.reason)] += 1
                if (sender, discarded.reason) not in self._said:
                    self._said.add((sender, discarded.reason))
                    first.append(f"values sent as no value ({discarded.reason}), e.g. {discarded.code}"
                                 f"={discarded.value[:20]!r}: not stored, counted from now on")
            for notice in message.notices:
                if (sender, notice.kind) not in self._said:
                    self._said.add((sender, notice.kind))
                    first.append(f"{notice.text} (said once per sender)")
        for text in first:
            log.warning("HL7: %s (%s): %s", sender, peer, text)

    def _refused(self, raw: bytes, peer: str, sink: Sink, exc: HL7Error, control_id: str,
                 message: OruMessage | None = None, digest: str = "", sender: str | None = None,
                 counted: bool = False) -> str:
        """Answer AE/AR, keep the frame (once), and count it against its sender (`sender` None: read from `raw`;
        `counted`: the message was tallied already)."""
        if exc.ack == "AR":
            self._count("rejected")
        else:
            self._count("errors")
        _tally(sink, sender_of(raw) if sender is None else sender, peer,
               {"refused": 1} if counted else {"messages": 1, "refused": 1})
        log.warning("HL7: %s %s answered %s: %s", peer, control_id or "(no MSH-10)", exc.ack, exc.reason)
        self._refuse(sink, f"hl7 {peer}", raw, exc.reason, digest or _digest(raw))
        if message is not None:
            return self._ack(exc.ack, message, exc)
        return build_ack(exc.ack, control_id, application=self.settings.application,
                         facility=self.settings.facility, reason=exc.reason, error_code=exc.code, where=exc.where)

    def _refuse(self, sink: Sink, source: str, raw: bytes, reason: str, digest: str) -> None:
        """Keep a refused frame once: a sender resending it does not add a copy each time."""
        key = f"{digest}|{reason}"
        with self._lock:
            seen = self._refusals.pop(key, 0)
            self._refusals[key] = seen + 1
            while len(self._refusals) > REMEMBERED_REFUSALS:
                self._refusals.popitem(last=False)
            if seen:
                self.stats.refusals_repeated += 1
        if not seen:
            _refuse(sink, source, raw, reason)

    def _ack(self, code: str, message: OruMessage, exc: HL7Error | None = None) -> str:
        return build_ack(code, message.control_id, application=self.settings.application,
                         facility=self.settings.facility, their_application=message.sending_application,
                         their_facility=message.sending_facility, reason=exc.reason if exc else "",
                         error_code=exc.code if exc else 207, where=exc.where if exc else "")

    def _count(self, name: str, amount: int = 1) -> None:
        with self._lock:  # connection threads count at the same time
            setattr(self.stats, name, getattr(self.stats, name) + amount)

    def _earlier(self, dedup: str) -> Ticket | None:
        """The ticket of an earlier copy of this message that is stored or may still be: a resend waits on it."""
        with self._lock:
            ticket = self._submitted.get(dedup)
        return None if ticket is None or (ticket.done and ticket.error is not None) else ticket

    def _remember(self, dedup: str, ticket: Ticket) -> None:
        with self._lock:
            self._submitted[dedup] = ticket
            self._submitted.move_to_end(dedup)
            while len(self._submitted) > REMEMBERED_MESSAGES:
                self._submitted.popitem(last=False)

    # ---- sources' silence -----------------------------------------------------------------

    def _report_silent(self, sink: Sink) -> None:
        """Sources with no report within their expected interval: device_disconnect, once per silence."""
        for place, silent in self._silence.overdue(time.monotonic()):
            log.warning("HL7: %s: no report for %.0f s (expected within %g s)", place.label, silent,
                        place.silent_after_s)
            event = SessionEvent("device_disconnect", detail=f"no report for {silent:.0f} s", source=place.label,
                                 received_time=self.clock())
            try:
                _submit(sink, place, [event])
            except Exception:  # the sink is ingest, in this process: a failure here is a bug, kept out of the loop
                log.exception("HL7: could not report %s silent", place.label)


def _keep_within(sink: Sink, settings: ListenerSettings) -> None:
    """Tell the sink the storage bounds (a sink that keeps nothing, e.g. a recorder, has no `keep_within`)."""
    keep_within = getattr(sink, "keep_within", None)
    if keep_within is not None:
        keep_within(settings.refused_keep_bytes, settings.refused_keep_days * 86400, settings.device_keep_days * 86400)


def _submit(sink: Sink, place: Place, items: list[Item], message: str | None = None) -> Ticket:
    if place.chair is None:
        return sink.submit_device(place.device, items, message=message)
    return sink.submit(place.chair, items, message=message)


def _tally(sink: Sink, sender: str, peer: str, counts: dict[str, int]) -> None:
    """Add to the sender's counts; `peer` is the address without its port (a gateway reconnects per message)."""
    try:
        sink.tally(sender, peer.rsplit(":", 1)[0] if ":" in peer else peer, counts)
    except Exception:  # counts are for the admin: never worth an ACK
        log.exception("HL7: could not count traffic from %s", peer)


def sender_of(raw: bytes) -> str:
    """MSH-3 of a frame that could not be parsed ('' when it cannot be read that far)."""
    head = raw[:512].split(b"\r", 1)[0].split(b"\n", 1)[0]
    if not head.startswith(b"MSH") or len(head) < 4:
        return ""
    fields = head.split(head[3:4])
    return fields[2].decode("utf-8", "replace").strip()[:250] if len(fields) > 2 else ""


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _refuse(sink: Sink, source: str, raw: bytes, reason: str) -> None:
    try:
        sink.refuse(source, raw, reason)
    except Exception:  # the store is down: the ACK still goes out
        log.exception("could not keep a refused message from %s", source)
