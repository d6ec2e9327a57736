"""The alarm vocabulary (docs/alarms.md) and the alarm lifecycle (IEC 60601-1-8 conventions).

Codes are stable; priorities and limits come from the configuration. The
session engine decides when a condition holds; `AlarmBoard` decides what that
means for the people watching: a high-priority physiological alarm latches
until acknowledged, an acknowledgement silences the sound while the condition
lasts and the alarm sounds again after `alarm.realarm_after`, and an
unacknowledged high alarm escalates after `alarm.escalate_after`. All of it
runs on session time through the engine's timers, so a replay gives the same
history.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Callable, Literal

PHYSIOLOGICAL = frozenset({
    "bp.predose_high", "bp.high", "bp.severe", "bp.rise", "hr.high", "hr.low", "spo2.low",
})
TECHNICAL = frozenset({"data.stale", "reading.implausible", "device.disconnected", "nibp.failed", "spo2.unmonitored"})
REMINDERS = frozenset({"bp.check_due"})
ALARM_CODES = PHYSIOLOGICAL | TECHNICAL | REMINDERS
EVENT_CODES = frozenset({"observation.ready", "observation.complete", "audio.paused", "override"})

PRIORITY_RANK = {"high": 3, "medium": 2, "low": 1, "info": 0}

# raised/cleared: the condition began/ended (docs/feed-format.md); event: observation.ready etc.;
# latched, acknowledged, realarm, escalated: the annunciation lifecycle on top of the condition.
State = Literal["raised", "cleared", "event", "latched", "acknowledged", "realarm", "escalated"]


@dataclass(frozen=True, slots=True)
class Transition:
    """An alarm raised or cleared, a lifecycle step, or a session event such as observation.ready.

    `source` names which instance of a code this is (data.stale for `nibp` vs
    `continuous`, device.disconnected per device); empty where a code has one.
    """

    offset_s: float
    code: str
    priority: str
    state: State
    value: str = ""
    message: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ActiveAlarm:
    code: str
    source: str
    priority: str
    since_s: float
    value: str
    message: str
    condition: bool = True  # False once the condition ended: only a latched alarm stays so
    acked_by: str = ""
    acked_at: float | None = None
    escalated: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.code, self.source)

    @property
    def is_technical(self) -> bool:
        return self.code in TECHNICAL

    @property
    def latched(self) -> bool:
        return not self.condition

    @property
    def acknowledged(self) -> bool:
        return self.acked_at is not None

    @property
    def latches(self) -> bool:
        """High-priority physiological alarms latch; technical alarms never do."""
        return self.priority == "high" and self.code in PHYSIOLOGICAL


Emit = Callable[[float, str, str, str, str, str, str], None]


class AlarmBoard:
    """The active alarms of one session and their annunciation state. Pure: timers are the engine's."""

    def __init__(self, realarm_s: float, escalate_s: float, timers: dict[str, float], emit: Emit) -> None:
        self.realarm_s, self.escalate_s = realarm_s, escalate_s
        self.active: dict[tuple[str, str], ActiveAlarm] = {}
        self._timers = timers
        self._emit = emit

    def raise_(self, code: str, source: str, priority: str, t: float, value: str, message: str) -> None:
        current = self.active.get((code, source))
        if current is not None and current.condition and (
                current.priority == priority or (current.latches and not current.acknowledged
                                                 and PRIORITY_RANK[priority] < PRIORITY_RANK[current.priority])):
            return  # unchanged, or an unacknowledged high alarm easing to a lower level: it stays high until seen
        self.active[(code, source)] = ActiveAlarm(code, source, priority, t, value, message,
                                                  escalated=bool(current and current.escalated and current.latched))
        self._emit(t, code, priority, "raised", value, message, source)
        self._timers.pop(_timer("realarm", code, source), None)
        if priority == "high" and not (current and current.latched):
            self._timers[_timer("escalate", code, source)] = t + self.escalate_s

    def clear(self, code: str, source: str, t: float, value: str, why: str) -> None:
        current = self.active.get((code, source))
        if current is None or not current.condition:
            return
        self._emit(t, code, current.priority, "cleared", value, why, source)
        self._timers.pop(_timer("realarm", code, source), None)
        if current.latches and not current.acknowledged:
            self.active[(code, source)] = replace(current, condition=False)
            self._emit(t, code, current.priority, "latched", value, "stays shown until acknowledged", source)
        else:
            self._drop(current)

    def acknowledge(self, code: str, source: str, t: float, who: str) -> bool:
        """Silence (and, if latched, remove) the alarm; False when there is nothing to acknowledge."""
        current = self.active.get((code, source))
        if current is None or current.acknowledged:
            return False
        self._emit(t, code, current.priority, "acknowledged", who, f"acknowledged by {who}", source)
        if current.latched:
            self._drop(current)
            return True
        self.active[(code, source)] = replace(current, acked_by=who, acked_at=t, escalated=False)
        self._timers.pop(_timer("escalate", code, source), None)
        self._timers[_timer("realarm", code, source)] = t + self.realarm_s
        return True

    def on_timer(self, name: str, t: float) -> bool:
        """Handle a realarm/escalate timer; False if the name is not one of ours."""
        kind, _, rest = name.partition(":")
        if kind not in ("realarm", "escalate"):
            return False
        code, _, source = rest.partition("|")
        current = self.active.get((code, source))
        if current is None:
            return True
        if kind == "realarm" and current.condition and current.acknowledged:
            self.active[current.key] = replace(current, acked_by="", acked_at=None)
            self._emit(t, code, current.priority, "realarm", current.value,
                       f"still active {int(self.realarm_s)} s after acknowledgement", source)
            if current.priority == "high":
                self._timers[_timer("escalate", code, source)] = t + self.escalate_s
        elif kind == "escalate" and not current.acknowledged and current.priority == "high":
            self.active[current.key] = replace(current, escalated=True)
            self._emit(t, code, current.priority, "escalated", current.value,
                       f"not acknowledged within {int(self.escalate_s)} s", source)
        return True

    def clear_all(self, t: float, why: str) -> None:
        """Everything ends (discharge): conditions clear, and a latched alarm is logged as left unacknowledged."""
        for alarm in list(self.active.values()):
            reason = why if alarm.condition else f"{why} with the latched alarm unacknowledged"
            self._emit(t, alarm.code, alarm.priority, "cleared", alarm.value, reason, alarm.source)
            self._drop(alarm)

    def any_shown(self, codes: frozenset[str]) -> bool:
        """An alarm of these codes is shown: its condition holds, or it is latched awaiting acknowledgement."""
        return any(a.code in codes for a in self.active.values())

    def _drop(self, alarm: ActiveAlarm) -> None:
        del self.active[alarm.key]
        self._timers.pop(_timer("realarm", alarm.code, alarm.source), None)
        self._timers.pop(_timer("escalate", alarm.code, alarm.source), None)


def _timer(kind: str, code: str, source: str) -> str:
    return f"{kind}:{code}|{source}"


def reconcile(before: dict[tuple[str, str], ActiveAlarm], after: dict[tuple[str, str], ActiveAlarm], t: float,
              why: str) -> list[Transition]:
    """The raises and clears that take the conditions shown in `before` to those in `after`, at session time `t`.

    For a session folded again with readings that joined it late (a device associated while the session was open):
    the new fold's alarms are stated at the time they became known, so the stored history stays a true account."""
    out: list[Transition] = []
    for key, alarm in after.items():
        old = before.get(key)
        if alarm.condition and (old is None or not old.condition or old.priority != alarm.priority):
            out.append(Transition(t, alarm.code, alarm.priority, "raised", alarm.value, f"{alarm.message} ({why})",
                                  alarm.source))
    for key, old in before.items():
        alarm = after.get(key)
        if old.condition and (alarm is None or not alarm.condition):
            out.append(Transition(t, old.code, old.priority, "cleared", old.value, why, old.source))
    return out
