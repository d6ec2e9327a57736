"""Chairs no live, sounding screen covers, sent on as technical alarms (service/coverage.py -> the forwarder).

The coverage alarm is the one a screen cannot sound for itself: a screen whose sound is on and whose board holds
the chair covers it. Its audible path is the alarm manager. A thread beside the forwarder looks every `every_s`
and reports each change: a chair newly uncovered is raised, a chair covered again (or its session ended) is ended.
Only real patients' chairs go out (test data never does, as for every forwarded alarm). The state is kept in
memory: after a restart the chairs still uncovered are raised again, as `report_technical` asks.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from ...store import Store
from ...store.screens import sounding_by_role
from ...store.test_data import kind
from ..coverage import CoverageSettings, Uncovered, uncovered_among
from .forwarder import Forwarder, SystemAlarm

log = logging.getLogger(__name__)

KEY = "coverage|{session_id}"  # one alarm per session over its life, so the manager can update and cancel it
TEXT = "No live screen with sound covers {chair}: nobody is hearing its alarms at the board"


class CoverageAlarms:
    def __init__(self, store: Store, forwarder: Forwarder, settings: CoverageSettings,
                 clock: Callable[[], float] = time.time) -> None:
        self.store, self.forwarder, self.settings, self.clock = store, forwarder, settings, clock
        self._raised: dict[int, Uncovered] = {}  # session id -> what was raised

    def step(self) -> None:
        """Look once; report what changed since the last look."""
        now = self.clock()
        real = [row for row in self.store.open_sessions() if kind(row) == "real"]
        # demo=False: whether a demo runs decides only about simulated chairs, and none of these is one
        found = uncovered_among(real, sounding_by_role(self.store), False, self.store.site, now, self.settings)
        current = {item.session_id: item for item in found}
        for sid, found in current.items():
            if sid not in self._raised:
                self.forwarder.report_technical(self._alarm(found, True, now))
        for sid, found in list(self._raised.items()):
            if sid not in current:
                self.forwarder.report_technical(self._alarm(found, False, now))
        self._raised = current

    def run(self, stop: threading.Event, every_s: float = 2.0) -> None:
        while not stop.is_set():
            try:
                self.step()
            except Exception:  # the store away for a moment: the next look tries again; the forwarder shows outages
                log.exception("coverage look failed")
            stop.wait(every_s)

    @staticmethod
    def _alarm(found: Uncovered, active: bool, now: float) -> SystemAlarm:
        return SystemAlarm(key=KEY.format(session_id=found.session_id), chair=found.chair,
                           text=TEXT.format(chair=found.chair), active=active, since=found.since, at=now,
                           session_id=found.session_id)
