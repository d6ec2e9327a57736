"""Ingest: the one path from every device adapter to the store.

Adapters `submit(chair, items)`; the ingest loop maps each chair to its open
session, stamps session time, folds the items through that session's pure
engine, fires the engine's timers at their due session time, and writes
readings, events, alarm transitions and the session's status snapshot in one
transaction per step. Tickets resolve only after that commit (HL7 `AA`).

People's actions (acknowledge, dose start, an assessment, a manual BP...) reach
the engine the same way: the web queues them in the store and each step folds
the pending ones, marking them applied in the same transaction.

Each ingest folds only its site's sessions (`Store.site`): clinics sharing one
database each run their own ingest node, and none writes another's timers.

Engines live here, not in the web layer: the web reads what ingest wrote. On
start (and when a session appears, e.g. opened by a nurse) a session's engine
is rebuilt by folding its stored items (live.py), so a restart resumes with the same
state and writes no transition twice.

Where each item goes is placement.py, mixed into `Ingest`. Nothing a device sends is refused for lack of a session
(docs/placement.md): items for a chair with no open session, from a device no chair is known for, and demo/test
data are kept outside sessions (`DeviceKeeper`, store/device_data.py). A session that opens takes its chair's
readings from the pre-session window (`baseline.pre_session_window`); a device a nurse associates with a chair brings
its readings from that window with it.
"""
from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections import Counter, deque
from typing import Any, Callable, Mapping, Sequence

from devices.adapter import Sink, Ticket
from devices.readings import Item, Reading

from ..engine import Config, Transition, refold, session_status
from ..store import SessionRow, Store, device_data, retention
from ..store.schema import alarms as alarm_rows
from ..store.signoff import is_signed
from ..store.store import message_key
from .device_keeper import DeviceKeeper
from .live import TICK_S, LiveSession, Parked, Pending, Submitted, action_item, fold_session
from .placement import Placement

log = logging.getLogger(__name__)

MAX_ITEMS_PER_STEP = 20_000  # bounds one transaction so the board never waits long
TIMER_LAG_WALL_S = 1.0  # timers run this far behind the wall clock so a late-queued reading is not overtaken
REFRESH_S = 2.0  # how often ingest looks for sessions opened elsewhere (by the web)
HEARTBEAT_S = 2.0  # how often ingest tells the store it can write, even with nothing else to write
NOT_WRITING_AFTER_S = 10.0  # the web raises "data not stored" when no ingest has committed for this long
MAX_BUFFERED = 200_000  # readings kept in memory while the store cannot be written (~an hour of 50 chairs at 1 Hz)
KEEP_MESSAGES_S = 3600.0  # how long a sender's message id is remembered: monitors resend within seconds
FORGET_EVERY_S = 300.0  # how often older ids are dropped, from memory and from the store
SOURCE_KEPT = alarm_rows.c.source.type.length  # the alarm history keeps a transition's source this long
LATE_AFTER_S = 2.0  # a reading taken this much (wall seconds) before the engine's clock, beyond TIMER_LAG_WALL_S, is
# folded in at its own time (a batch's older cycles); closer, it is arrival jitter, applied at the clock as before (a
# refold costs a fold of the whole session)


def _history_key(row: Mapping[str, Any]) -> tuple[float, str, str, str]:
    """A transition as the alarm history keeps it (the source fitted to its column), to tell stored from new."""
    return round(float(row["offset_s"]), 3), str(row["code"]), str(row["state"]), str(row["source"])[:SOURCE_KEPT]


class Ingest(Placement):
    """The sink every adapter submits to; `run` is its loop (one thread)."""

    def __init__(self, store: Store, config: Config, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self._queue: queue.SimpleQueue[Submitted] = queue.SimpleQueue()
        self._live: dict[int, LiveSession] = {}
        self._pending = Pending()
        self._last_refresh = float("-inf")
        self.unplaced = 0  # connection events refused: no open session on their chair, even after a refresh
        self.kept = 0  # items kept outside a session: no session on their chair, no chair, or demo/test data
        self.devices = DeviceKeeper(store)
        self.pre_session_s = config.value("baseline.pre_session_window") * 60
        self._to_join: dict[str, str] = {}  # devices newly associated (-> chair) whose recent readings must follow
        self._parked: deque[Parked] = deque()
        self.on_measure_now: Callable[[str], None] | None = None  # set where an NIBP adapter can measure on demand
        self.node = store.site  # one ingest per site: its heartbeat is the one that site's screens watch
        self.demo = False  # it runs the simulated clinic: its heartbeat puts the site's screens in demo mode
        self.refused_full = 0  # items refused because the buffer was full while the store could not be written
        self._last_heartbeat = float("-inf")
        self._failing_since: float | None = None
        self._queued = 0  # items in the queue (the queue itself counts submits)
        self._messages: dict[str, float] | None = None  # message ids stored lately -> when; loaded at the first step
        self._last_forget = float("-inf")
        self.resent = 0  # submits of a message already stored: answered as stored, not stored again
        self.bounds = retention.Bounds()  # refused frames and kept readings: see keep_within

    # ---- the sink -------------------------------------------------------------

    def submit(self, chair: str | None, items: Sequence[Item], message: str | None = None, device: str = "",
               simulated: bool = False) -> Ticket:
        """Queue items for `chair`; the ticket resolves once they are committed. `message`: the sender's id of the
        submission, when it has one (HL7: OruMessage.resend_key): a message seen again is not stored twice.
        `simulated`: the simulated clinic's (see `simulator`), placed only in a simulated session."""
        ticket = Ticket()
        if self._failing_since is not None and self.buffered >= MAX_BUFFERED:
            self.refused_full += len(items)  # bounded: the sender hears it was not stored (HL7 gets AE)
            ticket.resolve("the store cannot be written and the buffer is full")
            return ticket
        self._queued += len(items)
        self._queue.put(Submitted(chair, list(items), ticket, None if message is None else message_key(message),
                                  device, simulated))
        return ticket

    def simulator(self) -> Sink:
        """The sink the simulated clinic submits to (its chairs, and with --via-devices its emulated devices): what
        comes through it is never taken for a real device's reading, nor a real one for its."""
        return SimulatorSink(self)

    def submit_device(self, device: str, items: Sequence[Item], message: str | None = None) -> Ticket:
        """Queue items from a device whose chair the source cannot tell: placed on the chair a nurse associated the
        device with, else kept as unassociated device data. The ticket resolves once they are committed."""
        return self.submit(None, items, message, device=device)

    def tally(self, sender: str, peer: str, counts: Mapping[str, int]) -> None:
        """Add to a sender's traffic counts (written with the next commit); see Sink.tally."""
        self.devices.tally(sender, peer, counts, self.clock())

    @property
    def buffered(self) -> int:
        """Readings and events held but not yet committed (folded, or still queued)."""
        parked = sum(len(p.submitted.items) for p in self._parked)
        batch = self._pending.batch
        return len(batch.readings) + len(batch.events) + len(batch.devices.rows) + self._queued + parked

    def refuse(self, source: str, raw: bytes, reason: str) -> None:
        log.warning("refused input from %s: %s", source, reason)
        self.store.keep_refused(source, raw, reason, at=self.clock(), bounds=self.bounds)

    def keep_within(self, refused_bytes: int, refused_s: float, device_s: float) -> None:
        """The storage bounds the device configuration gives (`[hl7]` refused_keep_mb, refused_keep_days,
        device_keep_days): refused frames are kept within them at each refusal, kept readings pruned each round."""
        self.bounds = retention.Bounds(refused_bytes, refused_s, device_s)

    # ---- the loop -------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Step every TICK_S until `stop`; then drain what is queued and commit it."""
        while not stop.is_set():
            self._guarded_step()
            stop.wait(TICK_S)
        while not self._queue.empty() and self._failing_since is None:
            self._guarded_step()
        for parked in self._parked:  # no session opened for them yet: they wait in the store for one
            self._keep_waiting(parked.submitted, parked.since)
        self._parked.clear()
        self._guarded_step()

    def _guarded_step(self) -> None:
        """A step whose failure (the database gone, a bug) is logged once per outage, never fatal."""
        try:
            self.step()
        except Exception:
            if self._failing_since is None:
                self._failing_since = self.clock()
                log.exception("ingest step failed; retrying every %.1f s", TICK_S)

    def step(self) -> None:
        """Apply what is queued, fire due timers, and commit it all in one transaction. The wall clock's timers
        run only once the queue is empty: run past a backlog, they would overtake its readings."""
        now = self.clock()
        if now - self._last_refresh >= REFRESH_S:
            self.refresh(now)
        if self._messages is None:  # before anything leaves the queue: a failing read here loses nothing
            self._messages = self.store.received_since(now - KEEP_MESSAGES_S)
        self.devices.load()  # likewise
        if now - self._last_forget >= FORGET_EVERY_S:
            self._forget_messages(now)
        self._follow_associations(now)
        self.devices.take_counts(self._pending.batch.devices)
        self._place_parked(now)
        emptied = self._drain(now)
        self._take_actions(now)
        if emptied:
            self._advance(now)
        self._commit()

    def flush(self) -> None:
        """Fold and commit everything queued so far (start-up catch-up), in as many steps as it takes."""
        while True:
            self.step()
            if self._queue.empty():
                return

    def refresh(self, now: float | None = None) -> None:
        """Pick up sessions opened (or ended) in the store by someone else."""
        now = self.clock() if now is None else now
        self._last_refresh = now
        open_rows = {row.id: row for row in self.store.open_sessions()}
        for sid in list(self._live):
            if sid not in open_rows:
                del self._live[sid]
        for sid, row in open_rows.items():
            if sid not in self._live:
                self._live[sid] = self._open(row)
        self._to_join.update(self.devices.load_associations())

    def live(self, session_id: int) -> LiveSession | None:
        return self._live.get(session_id)

    # ---- sessions opening (placing items: placement.py) ------------------------

    def _open(self, row: SessionRow) -> LiveSession:
        """A session first seen: at its first sight (nothing stored yet) its chair's readings from the pre-session
        window join it, then its engine folds what the store holds. The alarms those readings raise (a high
        pre-session BP: `bp.predose_high`, `bp.severe`) go into the alarm history at their own times, as if each
        reading had come in the session. Simulated and replayed sessions take none."""
        joined = 0
        if not row.is_simulated and self.store.max_seq(row.id) == 0:
            joined = device_data.join_waiting(self.store.engine, row.id, since=row.started_at - self.pre_session_s)
            if joined:
                log.info("session %s on %s: %d reading(s) from before the start joined it", row.id, row.chair, joined)
                self._pending.touched.add(row.id)  # its board status shows them at the next commit
        adopted: list[tuple[Transition, float | None]] = []
        live = fold_session(self.store, self.config, row, raised=adopted if joined else None)
        for transition, received in adopted:
            self._record(live, [transition], received=received)
        self._adopt_kept(live)
        return live

    # ---- internals -------------------------------------------------------------

    def _drain(self, now: float) -> bool:
        """Fold queued items, up to a step's worth; True when the queue was emptied."""
        taken = 0
        while taken < MAX_ITEMS_PER_STEP:
            try:
                submitted = self._queue.get_nowait()
            except queue.Empty:
                return True
            taken += len(submitted.items)
            self._queued -= len(submitted.items)
            if submitted.message is not None and self._stored_before(submitted.message):
                self.resent += 1
                self._pending.tickets.append(submitted.ticket)  # as stored as its first copy: at this commit at most
                continue
            self._route(submitted, now)
        return self._queue.empty()

    def _stored_before(self, message: str) -> bool:
        """Committed lately (this run or, loaded from the store, before a restart) or in the batch being made."""
        return message in (self._messages or {}) or message in self._pending.batch.messages

    def _forget_messages(self, now: float) -> None:
        """Drop ids older than KEEP_MESSAGES_S; a failure waits for the next round (housekeeping, not data)."""
        self._last_forget = now
        if self._messages:
            self._messages = {m: at for m, at in self._messages.items() if at >= now - KEEP_MESSAGES_S}
        try:
            self.store.forget_received(now - KEEP_MESSAGES_S)
            pruned = retention.prune_device_readings(self.store.engine, self.store.site, self.bounds, now)
            if pruned:
                log.info("%d reading(s) kept outside sessions were older than %g days: dropped", pruned,
                         self.bounds.device_s / 86400)
        except Exception as exc:  # the store's outage is reported by the commit that follows
            log.debug("could not drop old message ids or kept readings: %s", exc)

    def _take_actions(self, now: float) -> None:
        """Fold the actions people queued through the web, each exactly once."""
        applied = self._pending.batch.applied
        signed: dict[int, bool] = {}
        for action in self.store.pending_actions():
            if action["id"] in applied:
                continue  # already folded; its commit is being retried
            session = self._live.get(action["session_id"])
            if session is None and now - self._last_refresh > TICK_S:
                self.refresh(now)  # a session opened on the web a moment ago
                session = self._live.get(action["session_id"])
            if session is None:
                applied[action["id"]] = "the session is not open"
                continue
            if session.row.id not in signed:  # asked once per session a step, not once per action
                signed[session.row.id] = is_signed(self.store, session.row.id)
            if signed[session.row.id]:
                applied[action["id"]] = "the session is signed off: its record is read-only"
                continue
            if action["kind"] == "tick":  # a replay's clock: timers run up to its position
                fired = session.engine.timers_fired
                final = action["detail"] == "end"
                transitions = session.engine.advance(action["offset_s"], inclusive=final)
                self._record(session, transitions, touched=session.engine.timers_fired != fired or final)
                if final:  # the replay finished or was stopped: its session ends (no discharge: no new alarm)
                    self._pending.batch.ended[session.row.id] = now
            else:
                self._apply(session, action_item(action), now)
            applied[action["id"]] = None
            if action["kind"] == "measure_now" and self.on_measure_now is not None:
                self.on_measure_now(session.row.chair)

    def _apply(self, session: LiveSession, item: Item, now: float, newest: float | None = None) -> None:
        """Fold one item into its session; `newest`: the newest received time of the submission it came in (a
        device's message), which tells a batch's older reading from one that only waited in ingest's queue."""
        engine = session.engine
        received = item.received_time if item.received_time is not None else now
        offset = item.offset_s if item.offset_s is not None else session.session_time(received)
        if self._is_late(session, item, offset, received, newest):
            self._apply_late(session, dataclasses.replace(item, offset_s=offset, received_time=received), received)
            return
        # Store the session time the engine used, so a rebuild folds exactly the same stream.
        item = dataclasses.replace(item, offset_s=engine.fold_time(offset), received_time=received)
        session.seq += 1
        transitions = engine.apply(item)
        batch = self._pending.batch
        if isinstance(item, Reading):
            batch.readings.append((session.row.id, session.seq, item))
        else:
            batch.events.append((session.row.id, session.seq, item))
        self._record(session, transitions, received=received)

    def _is_late(self, session: LiveSession, item: Item, offset: float, received: float,
                 newest: float | None) -> bool:
        """A reading taken (a batch's older one) more than LATE_AFTER_S before the engine's clock (beyond the lag its
        timers keep behind the wall clock), and not before the session's pre-session window: it is folded in at that
        time (engine/late.py), not at the engine's clock. A simulated session's readings come in order: never late.
        From a device's submission (`newest` given), only a reading older than the newest of its own message is: one
        that merely waited in ingest's queue (a slow commit, a busy machine) is applied at the clock like any other,
        so a backlog never turns into a refold of the whole session for every reading."""
        behind = (TIMER_LAG_WALL_S + LATE_AFTER_S) * session.row.speed
        return (isinstance(item, Reading) and not session.row.is_simulated and not session.engine.fresh
                and (newest is None or received < newest - LATE_AFTER_S)
                and offset < session.engine.now - behind and offset >= -self.pre_session_s * session.row.speed)

    def _apply_late(self, session: LiveSession, item: Item, received: float) -> None:
        """Refold the session with the late reading in its place (engine/late.py): its items and alarm history from
        the store and this step's batch; the transitions the stored history lacks are stored, none rewritten."""
        sid, batch = session.row.id, self._pending.batch
        items = [*self.store.session_items(sid), *(i for s, _, i in batch.readings if s == sid),
                 *(i for s, _, i in batch.events if s == sid), item]
        twin, history = refold(session.engine, items)
        known = Counter(_history_key(row) for row in self.store.alarms_of(sid))
        known.update(_history_key(row) for row in batch.transitions if row["session_id"] == sid)
        added = []
        for transition in history:
            key = _history_key(transition.to_dict())
            if known[key]:
                known[key] -= 1
            else:
                added.append(transition)
        session.engine = twin
        session.seq += 1
        batch.readings.append((sid, session.seq, item))
        self._record(session, added, received=received)

    def _advance(self, now: float) -> None:
        for session in list(self._live.values()):
            if session.row.clock == "feed":
                continue  # a replay moves this session's clock with its ticks
            due = session.session_time(now - TIMER_LAG_WALL_S)
            if due > session.engine.now:
                fired = session.engine.timers_fired
                transitions = session.engine.advance(due)
                self._record(session, transitions, touched=session.engine.timers_fired != fired)

    def _record(self, session: LiveSession, transitions: list[Transition], touched: bool = True,
                received: float | None = None) -> None:
        """Queue the transitions for the commit; `received`: when the input that caused them reached ingest (None
        for a timer), so each stored alarm tells its signal generation delay."""
        sid = session.row.id
        self._pending.batch.transitions.extend({"session_id": sid, **t.to_dict(), "received_at": received}
                                               for t in transitions)
        if touched or transitions:
            self._pending.touched.add(sid)

    def _snapshot(self) -> None:
        """Status of each touched session, computed once per commit rather than per item."""
        batch = self._pending.batch
        for sid in self._pending.touched:
            session = self._live.get(sid)
            if session is None:
                continue
            batch.statuses[sid] = session_status(session.engine)
            if session.engine.phase == "discharged" and sid not in batch.ended:
                batch.ended[sid] = self.clock()

    def _commit(self) -> None:
        pending = self._pending
        now = self.clock()
        if now - self._last_heartbeat >= HEARTBEAT_S:
            pending.batch.heartbeat = (self.node, now, len(pending.batch.readings), self.demo)
        if not pending.touched and not pending.tickets and not pending.batch:
            return
        self._snapshot()
        for transition in pending.batch.transitions:
            transition["stored_at"] = now  # this attempt's: a retried batch is stored when it finally commits
        try:
            self.store.write_batch(pending.batch)
        except Exception as exc:  # the database is the edge: keep the batch (bounded) and try again next step
            if self._failing_since is None:
                self._failing_since = now
                log.error("store cannot be written (%s: %s); holding readings to retry", exc.__class__.__name__, exc)
            return
        if self._failing_since is not None:
            log.warning("store writable again after %.0f s: wrote %d held readings", now - self._failing_since,
                        len(pending.batch.readings))
            self._failing_since = None
        self._last_heartbeat = now if pending.batch.heartbeat else self._last_heartbeat
        for sid in pending.batch.ended:
            self._live.pop(sid, None)
        if self._messages is not None:
            self._messages.update(pending.batch.messages)
        self._pending = Pending()
        for ticket in pending.tickets:
            ticket.resolve()


class SimulatorSink:
    """`Ingest.simulator()`: the simulated clinic's way in, every submission marked as simulated."""

    def __init__(self, ingest: Ingest) -> None:
        self.ingest = ingest

    def submit(self, chair: str, items: Sequence[Item], message: str | None = None) -> Ticket:
        return self.ingest.submit(chair, items, message, simulated=True)

    def submit_device(self, device: str, items: Sequence[Item], message: str | None = None) -> Ticket:
        return self.ingest.submit(None, items, message, device=device, simulated=True)

    def refuse(self, source: str, raw: bytes, reason: str) -> None:
        self.ingest.refuse(source, raw, reason)

    def tally(self, sender: str, peer: str, counts: Mapping[str, int]) -> None:
        self.ingest.tally(sender, peer, counts)
