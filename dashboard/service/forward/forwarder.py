"""The alarm forwarder: every alarm transition of a real patient's session, to the alarm manager, once, in order.

A thread (started by dashboard/cli/runner.py when the devices file has `[alarm_forward]`, never on import) tails
the alarm history the engine writes (store/forwarding.py): every `poll_s` one cheap look at the newest id; when
there is something new, each transition after the cursor, oldest first:

- test data (a replay, a simulated session: store/test_data.py), session events and reminders are passed over;
- the rest becomes an IHE PCD-04 ORU^R40 (devices/hl7/alarm_report.py; the phase and states: lifecycle.py) sent
  over MLLP; the cursor moves past it only on the manager's AA/CA, in the store, so a restart resends at most
  the one transition whose ACK was lost, with the same MSH-10 (the manager drops the copy);
- no answer (the manager down, a timeout): retried after retry_initial_s, doubling to retry_max_s, for as long as
  it takes, and nothing behind it overtakes it: order holds, per chair and overall;
- AE/AR (the manager refuses it): retried like a failure, and after `max_rejects` answers of refusal skipped,
  logged and counted (`rejected`): one message a manager will never take must not hold back every later alarm.

Its health is published in the store (`alarm_forwarding`), so every web process shows a failure as a technical
alarm on every screen (dashboard/ui/shell.py). `report_technical` sends technical alarms that are not in the
alarm history (e.g. a chair no sounding screen covers).
"""
from __future__ import annotations

import logging
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

from devices.config import AlarmForwardSettings
from devices.hl7.alarm_link import Ack, AlarmLink, LinkError
from devices.hl7.alarm_report import PRIORITIES, AlarmReport, compose_alarm

from ...engine import PHYSIOLOGICAL, TECHNICAL
from ...store import Store
from ...store import forwarding as rows
from .lifecycle import step_of

log = logging.getLogger(__name__)

FORWARDED = PHYSIOLOGICAL | TECHNICAL  # reminders (bp.check_due) and session events stay on the screens
HEALTH_EVERY_S = 2.0  # how often the health row is renewed while nothing changes (the screens' liveness of it)
BATCH = 100  # transitions read at a time


@dataclass(frozen=True, slots=True)
class SystemAlarm:
    """A technical alarm that is not in the alarm history, e.g. a chair no sounding screen covers."""

    key: str  # the same for every update of one alarm, e.g. "coverage|Chair 3"
    chair: str
    text: str
    active: bool  # True: raised or still on; False: ended
    since: float  # epoch seconds it began
    at: float  # epoch seconds of this update
    session_id: int | None = None  # the chair's session, for the patient and the link
    priority: str = "medium"


class Forwarder:
    def __init__(self, store: Store, settings: AlarmForwardSettings, clock: Callable[[], float] = time.time) -> None:
        self.store, self.settings, self.clock = store, settings, clock
        self._link = AlarmLink(settings.link)
        self._extra: deque[tuple[SystemAlarm, str]] = deque()  # each with its phase, fixed when it was said
        self._started: set[str] = set()  # keys of the system alarms raised and not yet ended (their first is "start")
        self._lock = threading.Lock()
        self._refusals: dict[str, int] = {}  # control id -> AE/AR answers so far
        self._delay = settings.retry_initial_s
        self._last_health = float("-inf")
        self.cursor: int | None = None
        self.failing_since: float | None = None
        self.last_error = ""

    # ---- the public side -----------------------------------------------------

    def report_technical(self, alarm: SystemAlarm) -> None:
        """Queue a technical alarm that is not in the alarm history; it goes out before the next transition.
        Thread-safe. Kept in memory only: whoever raises it says it again after a restart."""
        with self._lock:
            self._extra.append((alarm, self._phase(alarm)))

    def run(self, stop: threading.Event) -> None:
        """Forward until `stop`; then say so in the store (a clean stop is not a failure)."""
        try:
            while not stop.is_set():
                stop.wait(self._guarded_step())
        finally:
            self._link.close()
            try:
                rows.publish(self.store, failing_since=None, waiting=0, last_error="", running=False, now=self.clock())
            except Exception as exc:  # the store is gone too: nothing more to tell
                log.debug("could not record the forwarder's stop: %s", exc)

    def step(self) -> float:
        """One pass: send what is due; return how long to wait before the next."""
        now = self.clock()
        if self.cursor is None:
            self.cursor = rows.start_cursor(self.store, now)
        if not self._send_extras():
            return self._failed(now)
        if rows.newest_id(self.store) > self.cursor:
            batch = rows.after(self.store, self.cursor, BATCH)
            for row in batch:
                if not self._deliver(row):
                    return self._failed(now)
            if len(batch) == BATCH:
                return 0.0  # more behind it: straight on
        self._healthy(now)
        return self.settings.poll_s

    # ---- sending -------------------------------------------------------------

    def _guarded_step(self) -> float:
        try:
            return self.step()
        except Exception as exc:  # the store unreadable, a bug: logged, retried with backoff, never fatal
            if self.failing_since is None:
                log.exception("alarm forwarding failed")
            self.last_error = f"{exc.__class__.__name__}: {exc}"
            return self._failed(self.clock(), publish=False)

    def _deliver(self, row: dict[str, Any]) -> bool:
        """Send one stored transition (or pass it over); True when the cursor may move past it."""
        assert self.cursor is not None
        report = self._report_for(row) if row["real"] and row["code"] in FORWARDED \
            and row["priority"] in PRIORITIES else None
        if report is None:
            self._done(row["id"])
            return True
        ack = self._send(report)
        if ack is None:
            return False
        if ack.accepted:
            self._done(row["id"], sent=1)
            return True
        return self._refused(report, ack, row["id"])

    def _send_extras(self) -> bool:
        while True:
            with self._lock:
                if not self._extra:
                    return True
                alarm, phase = self._extra[0]
            report = self._system_report(alarm, phase)
            ack = self._send(report)
            if ack is None or not (ack.accepted or self._refused(report, ack, None)):
                return False
            with self._lock:
                self._extra.popleft()

    def _send(self, report: AlarmReport) -> Ack | None:
        message = compose_alarm(report, self.settings.reporter, sent_at=self.clock())
        try:
            return self._link.send(message, report.control_id)
        except LinkError as exc:
            self.last_error = str(exc)
            return None

    def _refused(self, report: AlarmReport, ack: Ack, row_id: int | None) -> bool:
        """AE/AR: True once refused `max_rejects` times (then skipped and counted), else False (retried)."""
        count = self._refusals.get(report.control_id, 0) + 1
        self._refusals[report.control_id] = count
        self.last_error = f"the alarm manager answered {ack.code} to {report.control_id}: {ack.text or 'no reason'}"
        if count < self.settings.max_rejects:
            return False
        log.error("alarm forwarding: %s refused %d times (%s); skipped", report.control_id, count, ack.text)
        del self._refusals[report.control_id]
        if row_id is not None:
            self._done(row_id, rejected=1)
        return True

    def _done(self, row_id: int, *, sent: int = 0, rejected: int = 0) -> None:
        rows.advance(self.store, row_id, self.clock(), sent=sent, rejected=rejected)
        self.cursor = row_id
        if sent:
            self._refusals.clear()

    # ---- health ----------------------------------------------------------------

    def _failed(self, now: float, publish: bool = True) -> float:
        first = self.failing_since is None
        if first:
            self.failing_since = now
            log.warning("alarm forwarding failing: %s; retrying with backoff", self.last_error)
        if publish and (first or now - self._last_health >= HEALTH_EVERY_S):
            self._publish(now)
        wait, self._delay = self._delay, min(self._delay * 2, self.settings.retry_max_s)
        return wait

    def _healthy(self, now: float) -> None:
        if self.failing_since is not None:
            log.warning("alarm forwarding works again after %.0f s", now - self.failing_since)
            self.failing_since, self.last_error = None, ""
            self._publish(now)
        elif now - self._last_health >= HEALTH_EVERY_S:
            self._publish(now)
        self._delay = self.settings.retry_initial_s

    def _publish(self, now: float) -> None:
        assert self.cursor is not None
        with self._lock:
            extra = len(self._extra)
        waiting = rows.waiting(self.store, self.cursor) + extra if self.failing_since is not None else 0
        rows.publish(self.store, failing_since=self.failing_since, waiting=waiting, last_error=self.last_error,
                     running=True, now=now)
        self._last_health = now

    # ---- reports -----------------------------------------------------------------

    def _report_for(self, row: dict[str, Any]) -> AlarmReport | None:
        history = rows.key_history(self.store, row["session_id"], row["code"], row["source"])
        step = step_of(history, row["id"])
        if step is None:
            return None
        return AlarmReport(
            control_id=f"R40-{row['id']}", alarm_id=f"ALARM-{step.alarm_id}", update_id=f"T{row['id']}",
            code=row["code"], text=_text(row), priority=row["priority"], technical=row["code"] in TECHNICAL,
            phase=step.phase, state=step.state, inactivation=step.inactivation, chair=row["chair"],
            started_at=_wall(row, step.started_offset_s), at=_wall(row, row["offset_s"]),
            value=_value(history, row), patient_id=row["patient_identifier"] or "",
            patient_label=row["patient_label"], link=self._link_to(row["session_id"]))

    def _system_report(self, alarm: SystemAlarm, phase: str) -> AlarmReport:
        key = f"{zlib.crc32(alarm.key.encode()):08x}-{int(alarm.since)}"
        session = self.store.session(alarm.session_id) if alarm.session_id is not None else None
        return AlarmReport(
            control_id=f"SYS-{key}-{int(alarm.at * 1000) % 10**12}-{int(alarm.active)}", alarm_id=f"SYS-{key}",
            update_id=f"SYS-{int(alarm.at * 1000) % 10**12}", code="system", text=f"{alarm.chair}: {alarm.text}",
            priority=alarm.priority, technical=True,
            phase=phase,
            state="active" if alarm.active else "inactive", inactivation="enabled", chair=alarm.chair,
            started_at=alarm.since, at=alarm.at, patient_id=session.patient_identifier if session else "",
            patient_label=session.patient_label if session else "",
            link=self._link_to(session.id) if session else "")

    def _phase(self, alarm: SystemAlarm) -> str:
        """'start' for the first report of an alarm (whenever its condition began), 'update' after, 'end'. Called
        once per report, under the lock: a report re-sent after a failure keeps its phase."""
        if not alarm.active:
            self._started.discard(alarm.key)
            return "end"
        if alarm.key in self._started:
            return "update"
        self._started.add(alarm.key)
        return "start"

    def _link_to(self, session_id: int) -> str:
        return f"{self.settings.link_base}/session/{session_id}"  # the session id only: no patient identifier


def _wall(row: dict[str, Any], offset_s: float) -> float:
    """Epoch seconds of a session time (a real session runs on the wall clock, at its speed)."""
    return float(row["started_at"]) + float(offset_s) / float(row["speed"] or 1.0)


def _value(history: list[dict[str, Any]], row: dict[str, Any]) -> str:
    """The alarm's measured value at this update: an acknowledgement's stored value is who acknowledged."""
    if row["state"] != "acknowledged":
        return row["value"] or ""
    earlier = [h for h in history if h["id"] < row["id"] and h["state"] != "acknowledged"]
    return earlier[-1]["value"] if earlier else ""


def _text(row: dict[str, Any]) -> str:
    words = {"raised": "", "cleared": " ended", "latched": " latched, awaits acknowledgement",
             "acknowledged": " acknowledged", "realarm": " again", "escalated": " ESCALATED, not acknowledged"}
    return f"{row['chair']}: {row['code']}{words.get(row['state'], '')}: {row['message']}".strip()

