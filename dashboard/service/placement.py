"""Where each submitted item goes (docs/placement.md): the half of `Ingest` that places items.

Demo/test data is kept apart; a submission with no chair goes to the chair its device is associated with, else it is
kept as unassociated device data; the rest goes to its chair's open session, waiting one refresh for a session just
opened elsewhere, else it is kept for the chair (device_data) until a session opens there and takes it. A session that
opens adopts what was about to be kept for it; a device a nurse associates brings its recent readings along.

Test data never takes a real chair: a real device's reading goes only to the chair's real session, never to a
tester's replay (whose items come through the store's inbox, never from a device) or a simulated session on that
chair; with no real session it is kept for the chair as real pre-session data, so the nurses' board shows the chair.
What the simulated clinic submits (`Submitted.simulated`) goes only to its simulated session, else is kept as demo data.
"""
from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

from devices.readings import Item

from ..engine import Config, Transition, reconcile
from ..store import Store, device_data
from ..store.test_data import kind
from .device_keeper import DeviceKeeper, is_connection_event, is_demo
from .live import TICK_S, LiveSession, Parked, Pending, Submitted, fold_session

log = logging.getLogger(__name__)


class Placement:
    """Mixed into `Ingest` (ingest.py), whose state it works on."""

    store: Store
    config: Config
    devices: DeviceKeeper
    pre_session_s: float
    kept: int
    unplaced: int
    _live: dict[int, LiveSession]
    _pending: Pending
    _parked: deque[Parked]
    _to_join: dict[str, str]
    _last_refresh: float

    if TYPE_CHECKING:  # Ingest's own, called from here
        def refresh(self, now: float | None = None) -> None: ...
        def _apply(self, session: LiveSession, item: Item, now: float, newest: float | None = None) -> None: ...
        def _record(self, session: LiveSession, transitions: list[Transition], touched: bool = True,
                    received: float | None = None) -> None: ...

    def _adopt_kept(self, session: LiveSession) -> None:
        """Rows this commit was about to keep for the chair (no session was seen a moment ago): the session takes
        them instead, as it took the stored ones."""
        if session.row.is_simulated:
            return
        writes, since = self._pending.batch.devices, session.row.started_at - self.pre_session_s
        mine = [row for row in writes.rows if row["chair"] == session.row.chair and not row["demo"]
                and row["received_time"] >= since]
        if mine:
            writes.rows[:] = [row for row in writes.rows if not any(row is taken for taken in mine)]
            for row in mine:
                self._apply(session, device_data.item_from(row), row["received_time"])

    def _follow_associations(self, now: float) -> None:
        """Devices a nurse associated with a chair since the last look: their unassociated readings from the
        pre-session window take that chair, and join its open session if it has one. Done between commits: a
        session folded again must find everything it folded in the store."""
        if not self._to_join or self._pending.batch:
            return
        since = now - self.pre_session_s
        for device, chair in list(self._to_join.items()):
            placed = device_data.place_device(self.store.engine, self.store.site, device, chair, since)
            self.devices.place(self._pending.batch.devices, device, chair)
            session = self._live_on(chair)
            if placed and session is not None and not session.row.is_simulated:
                self._join_late(session, max(since, session.row.started_at - self.pre_session_s), device)
            del self._to_join[device]

    def _join_late(self, session: LiveSession, since: float, device: str) -> None:
        """Readings that join an open session from before now: the session is folded again in session-time order,
        and the alarms that differ are raised or cleared now (the stored history says when they became known)."""
        if not device_data.join_waiting(self.store.engine, session.row.id, since):
            return
        old = session.engine
        live = fold_session(self.store, self.config, session.row, resume_at=old.now)
        self._live[session.row.id] = live
        self._record(live, reconcile(old.active, live.engine.active, old.now,
                                     f"readings of {device} joined the session when it was associated"))

    def _session_on(self, chair: str, now: float, simulated: bool = False) -> LiveSession | None:
        found = self._live_on(chair, simulated)
        if found is None and now - self._last_refresh > TICK_S:
            self.refresh(now)
            found = self._live_on(chair, simulated)
        return found

    def _live_on(self, chair: str, simulated: bool = False) -> LiveSession | None:
        """The chair's open session that takes device data of this kind: a real device's, its real session only; the
        simulated clinic's, its simulated session only. A replay takes none (its feed comes through the inbox)."""
        wanted = "simulated" if simulated else "real"
        return next((s for s in self._live.values() if s.row.chair == chair and kind(s.row) == wanted), None)

    def _route(self, submitted: Submitted, now: float) -> None:
        """Demo/test data is kept apart; a chair-less submission goes to its device's associated chair, else is kept
        as unassociated device data; the rest goes to its chair's session, waiting a refresh for one if needed."""
        if submitted.chair is None:
            submitted.chair = self.devices.chair_of(submitted.device)
        demo = [item for item in submitted.items if is_demo(item)]
        if demo:
            for item in demo:
                self._keep(submitted.chair, item, now, submitted.device, demo=True)
            submitted.items = [item for item in submitted.items if not is_demo(item)]
        if submitted.chair is None or not submitted.items:
            for item in submitted.items:
                if not is_connection_event(item):  # our link's state, not data: nothing to tell without a chair
                    self._keep(None, item, now, submitted.device, demo=submitted.simulated)
            self._done(submitted, now)
            return
        chair = submitted.chair
        parked = self._is_parked(chair)  # parked first: in order
        session = None if parked else self._session_on(chair, now, submitted.simulated)
        if session is None:
            self._parked.append(Parked(now, submitted))
            return
        self._place(session, submitted, now)

    def _place(self, session: LiveSession, submitted: Submitted, now: float) -> None:
        times = [item.received_time for item in submitted.items if item.received_time is not None]
        newest = max(times, default=now)  # the message's own "now": what is older than it is a batch's older cycle
        for item in submitted.items:
            self._apply(session, item, now, newest)
        self._done(submitted, now)

    def _done(self, submitted: Submitted, now: float) -> None:
        """Its items are in the batch: the ticket resolves, and its message id is stored, with the commit."""
        if submitted.message is not None:
            self._pending.batch.messages[submitted.message] = now
        self._pending.tickets.append(submitted.ticket)

    def _keep(self, chair: str | None, item: Item, now: float, device: str = "", demo: bool = False) -> None:
        """Keep the item outside any session; `demo`: test data (a demo device's, the simulated clinic's)."""
        received = item.received_time if item.received_time is not None else now
        self.devices.keep(self._pending.batch.devices, chair, item, received, device, demo=demo)
        self.kept += 1

    def _keep_waiting(self, submitted: Submitted, since: float) -> None:
        """No session opened on the chair: its readings and device events wait in the store for one. Connection
        events alone are refused: they tell of our link, and the adapter repeats them once a session is open."""
        kept = [item for item in submitted.items if not is_connection_event(item)]
        if not kept:
            self.unplaced += len(submitted.items)
            log.info("%d connection event(s) from %s: no open session on that chair", len(submitted.items),
                     submitted.chair)
            submitted.ticket.resolve(f"no open session on chair {submitted.chair}")
            return
        for item in kept:
            self._keep(submitted.chair, item, since, submitted.device, demo=submitted.simulated)
        self._done(submitted, since)

    def _is_parked(self, chair: str) -> bool:
        return any(parked.submitted.chair == chair for parked in self._parked)

    def _place_parked(self, now: float) -> None:
        """Items that came for a chair before its session was seen (opened a moment before, between two refreshes):
        placed once a session is open there, in their order, or kept for the chair once a refresh since they came
        found none."""
        if self._parked and now - self._last_refresh > TICK_S:
            self.refresh(now)
        waiting: deque[Parked] = deque()
        for parked in self._parked:
            submitted = parked.submitted
            session = self._live_on(submitted.chair, submitted.simulated)
            if session is not None and not any(w.submitted.chair == submitted.chair for w in waiting):
                self._place(session, submitted, parked.since)
            elif self._last_refresh > parked.since:
                self._keep_waiting(submitted, parked.since)
            else:
                waiting.append(parked)
        self._parked = waiting
