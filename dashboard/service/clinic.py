"""The simulated clinic: demo chairs driven by the simulator through the real ingest path.

Each chair is a `SimulatedChair` adapter submitting into the same `Ingest` real
devices use, through its simulator sink: what the clinic sends is never taken for a real
device's reading (placement.py). Sessions carry their scenario and seed, so a restart on the same
database resumes them where the store left off, and a chair whose patient was
discharged takes a new simulated patient a minute later. A demo chair that a real device fed
lately, or that has a real session, gets no simulated patient (test_chairs.py): it is said once in the log.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from devices.adapter import Adapter
from devices.simulator import SimulatedChair, scenario, session_items

from ..store import SessionRow, Store
from .ingest import Ingest
from .test_chairs import ChairRule

if TYPE_CHECKING:
    from devices.emulators.rig import DeviceRig

log = logging.getLogger(__name__)

NEXT_PATIENT_AFTER_S = 60.0  # a simulated chair takes its next patient a minute (wall) after discharge


@dataclass(frozen=True, slots=True)
class ChairPlan:
    """One chair of the demo clinic and how far its session is at start-up."""

    chair: str
    patient_label: str
    scenario: str
    minutes_after_dose: float  # where the session stands at start; negative = before the dose


DEMO_CLINIC: tuple[ChairPlan, ...] = (
    ChairPlan("Chair 1", "Demo 01", "iv-quiet", 20),  # IV infusion in progress
    ChairPlan("Chair 2", "Demo 02", "esketamine-84-quiet", 65),  # in post-dose observation
    ChairPlan("Chair 3", "Demo 03", "esketamine-84-severe", 18),  # rising; severe peak near 40 min
    ChairPlan("Chair 4", "Demo 04", "esketamine-56-predose-wait", -8),  # waiting before the dose
)


class Clinic:
    """The simulated chairs: started, resumed after a restart, and refilled after discharge."""

    def __init__(self, store: Store, ingest: Ingest, speed: float, seed: int,
                 plans: tuple[ChairPlan, ...] = DEMO_CLINIC, devices: DeviceRig | None = None) -> None:
        self.store, self.ingest, self.speed, self.seed, self.plans = store, ingest, speed, seed, plans
        self.devices = devices  # --via-devices: device readings go through emulators and the real adapters
        self._threads: dict[str, threading.Thread] = {}
        self.rule = ChairRule(store, ingest.pre_session_s)
        self._refused: dict[str, str] = {}  # chair -> why it got no simulated patient (logged once)

    def open(self) -> list[SessionRow]:
        """Open the demo sessions unless the store already has simulated ones open."""
        rows = [row for row in self.store.open_sessions() if row.scenario]
        if rows:
            return rows
        now = time.time()
        for index, plan in enumerate(self.plans):
            if self._may_start(plan.chair):
                self._create(plan.chair, plan.patient_label, plan.scenario, self.seed + index,
                             elapsed_s=scenario(plan.scenario).dose_at_s + plan.minutes_after_dose * 60, now=now)
        return [row for row in self.store.open_sessions() if row.scenario]

    def _may_start(self, chair: str) -> bool:
        """Test data never takes a real chair (test_chairs.py): a refusal is logged once, until the chair is free."""
        why = self.rule.refusal(chair)
        if why is None:
            self._refused.pop(chair, None)
            return True
        if self._refused.get(chair) is None:
            log.warning("simulated clinic: no simulated patient on %s: %s", chair, why)
        self._refused[chair] = why
        return False

    def _create(self, chair: str, label: str, scenario_name: str, seed: int, elapsed_s: float, now: float) -> int:
        scn = scenario(scenario_name)
        return self.store.create_session(
            chair=chair, patient_label=label, protocol=scn.protocol, started_at=now - elapsed_s / self.speed,
            speed=self.speed, scenario=scn.name, seed=seed, dose=scn.dose_detail)

    def catch_up(self) -> int:
        """Fold every simulated item already due (a session begun before start-up, or the time the process
        was down) before anything runs live; returns how many. Live pacing then starts from there."""
        now = time.time()
        count = 0
        for row in self.store.open_sessions():
            if row.scenario:
                chair = SimulatedChair(row.chair, row.scenario, row.seed or 0, started_at=row.started_at,
                                       speed=row.speed, skip=self._stored(row), config=self.ingest.config)
                items = chair.due_now(now)
                self.ingest.submit(row.chair, items, simulated=True)
                count += len(items)
        self.ingest.flush()
        return count

    def start(self, stop: threading.Event) -> None:
        for row in self.store.open_sessions():
            if row.scenario:
                self._start_chair(row, stop)

    def _start_chair(self, row: SessionRow, stop: threading.Event) -> None:
        chair = self._player(row)
        thread = threading.Thread(target=chair.run, args=(self.ingest.simulator(), stop), name=f"sim {row.chair}",
                                  daemon=True)
        self._threads[row.chair] = thread
        thread.start()

    def _player(self, row: SessionRow) -> Adapter:
        if self.devices is None:
            return SimulatedChair(row.chair, row.scenario or "", row.seed or 0, started_at=row.started_at,
                                  speed=row.speed, skip=self._stored(row), config=self.ingest.config)
        return self.devices.chair_for(row.chair, row.scenario or "", row.seed or 0, row.started_at, row.speed,
                                      skip=self._stored(row), config=self.ingest.config)

    def _stored(self, row: SessionRow) -> int:
        """How many of the session's simulated items are already stored: where its stream resumes."""
        if self.devices is None:
            return self.store.simulated_count(row.id)
        # Through devices, readings and the events adapters make do not match the simulator's items one
        # for one: count the simulated items up to the latest stored session time instead.
        offsets = [item.offset_s for item in self.store.session_items(row.id) if item.offset_s is not None]
        if not offsets:
            return 0
        last = max(offsets)
        return sum(1 for item in session_items(row.scenario or "", row.seed or 0, self.ingest.config)
                   if (item.offset_s or 0.0) <= last)

    def refill(self, stop: threading.Event) -> None:
        """Give each chair whose patient left a new simulated patient: the demo never runs dry."""
        open_chairs = {row.chair for row in self.store.open_sessions()}
        for index, plan in enumerate(self.plans):
            thread = self._threads.get(plan.chair)
            if plan.chair in open_chairs or (thread is not None and thread.is_alive()):
                continue
            last = self.store.last_session_on(plan.chair)
            if last is not None and last.ended_at is not None and time.time() - last.ended_at < NEXT_PATIENT_AFTER_S:
                continue
            if not self._may_start(plan.chair):
                continue
            seed = (last.seed or self.seed) + len(self.plans) if last else self.seed + index
            sid = self._create(plan.chair, plan.patient_label, plan.scenario, seed, elapsed_s=0.0, now=time.time())
            row = self.store.session(sid)
            if row is not None:
                self._start_chair(row, stop)

    def supervise(self, stop: threading.Event, every_s: float = 5.0) -> None:
        while not stop.wait(every_s):
            try:
                self.refill(stop)
            except Exception:  # the clinic demo must not take the dashboard down with it
                log.exception("simulated clinic could not refill a chair")


def demo_logins(store: Store) -> dict[str, str]:
    """One-off passwords for demo-nurse, demo-clinician, demo-tester, demo-admin and demo-display (the simulated
    clinic only).

    Accounts are shared by every site of a database: another site's demo clinic gets accounts of its own
    (demo-nurse-north, ...), so starting it never resets, and signs out, the demo accounts of the others."""
    import secrets

    from ..auth import ROLES, AuthError, add_user, record, set_password
    from ..store import DEFAULT_SITE

    logins = {}
    suffix = "" if store.site == DEFAULT_SITE else f"-{store.site}"
    for role in ROLES:
        name, password = f"demo-{role}{suffix}", secrets.token_urlsafe(12)  # 16 random characters
        try:
            add_user(store, name, role, password)
        except AuthError:
            set_password(store, name, password, role=role)
        logins[name] = password
    record(store, "command line", "demo_logins", "one-off passwords for the demo accounts")
    return logins
